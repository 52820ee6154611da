"""Campaigns on Dask: a local cluster, and a separately started scheduler and worker."""

import json
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from flightsw.base.errors import FlightswError
from flightsw.sil.campaign import (
    aggregate,
    campaign_names,
    cluster_run_as_scored,
    crashed_run,
    run_campaign,
)
from tests.support.dask_cluster import separate_scheduler_and_worker


def _comparable(report: dict) -> list[dict]:
    # wall time is the host's; everything else must be equal
    return [{k: v for k, v in r.items() if k != "wall_seconds"} for r in report["runs"]]


def test_short_campaign_on_a_local_cluster(tmp_path: Path) -> None:
    report = run_campaign(["sel", "sefi", "seu"], 2, tmp_path, workers=2, progress=False)
    t = report["totals"]
    assert t["runs"] == 6 and t["passed"] == 6 and t["false_alarms"] == 0
    assert t["kinds"]["sel"]["detected_fraction"] == 1.0
    # per scenario, the seeds drew different faults
    assert all(s["distinct_fault_draws"] == 2 for s in t["by_scenario"].values())
    # ... struck different boards (3 faults on 2 seeds: more than 3 distinct), and the
    # states they met are reported
    assert all(s["distinct_targets"] > 3 for s in t["by_scenario"].values())
    assert all(s["states_struck"] for s in t["by_scenario"].values())
    saved = json.loads((tmp_path / "campaign.json").read_text())
    assert saved["totals"]["runs"] == 6
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert sorted((r["scenario"], r["seed"]) for r in map(json.loads, lines)) == sorted(
        (r["scenario"], r["seed"]) for r in saved["runs"]
    )
    assert (tmp_path / "campaign_outcomes.png").stat().st_size > 1000
    assert (tmp_path / "campaign_times.png").stat().st_size > 1000


def _sometimes_raises(name: str, seed: int) -> dict:
    if seed == 2:
        raise RuntimeError("a bug in one run")
    return crashed_run(name, seed, ValueError("stub")) | {"passed": True, "checks": {}}


@pytest.mark.slow  # a Dask cluster of its own: seconds, more on a loaded machine
def test_a_run_that_raises_fails_itself_not_the_campaign(tmp_path: Path) -> None:
    """Was: one exception out of one run ended a 1,000-run campaign with no totals."""
    report = run_campaign(["sel"], 3, tmp_path, workers=1, progress=False, runner=_sometimes_raises)
    t = report["totals"]
    assert t["runs"] == 3 and t["passed"] == 2
    assert t["failures"] == [
        {
            "scenario": "sel",
            "seed": 2,
            "failed": ["ran"],
            "why": ["run raised RuntimeError: a bug in one run"],
        }
    ]
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 3


def test_same_results_on_a_separate_scheduler_and_worker(tmp_path: Path) -> None:
    with separate_scheduler_and_worker(tmp_path) as address:
        remote = run_campaign(
            ["sel", "seu"], 2, tmp_path / "remote", scheduler=address, progress=False
        )
    local = run_campaign(["sel", "seu"], 2, tmp_path / "local", workers=1, progress=False)
    assert remote["cluster"] == address
    assert _comparable(remote) == _comparable(local)
    assert remote["totals"]["passed"] == 4


@pytest.mark.slow
def test_thousand_run_campaign(tmp_path: Path) -> None:
    """The acceptance campaign: 1,000 seeded runs over the scenario library."""
    from flightsw.sil.scenario import scenario_names

    seeds = -(-1000 // len(scenario_names()))
    report = run_campaign(None, seeds, tmp_path, workers=2, progress=False)
    t = report["totals"]
    assert t["runs"] >= 1000 and t["nominal_orbits"] >= 100
    assert t["passed"] == t["runs"], t["failures"][:5]
    assert all(
        k["detected_fraction"] in (1.0, None) and k["recovered_fraction"] in (1.0, None)
        for k in t["kinds"].values()
    )
    assert t["false_alarms"] == 0 and t["tm_dropped"] == 0 and t["lost_jobs"] == 0
    assert all(
        s["distinct_fault_draws"] == s["runs"]
        for n, s in t["by_scenario"].items()
        if n != "nominal"
    )


def _cluster_score(seed: int, **checks: bool) -> dict:
    return {
        "scenario": "cluster_silent",
        "seed": seed,
        "passed": all(checks.values()),
        "checks": checks,
        "measured": {"node": seed % 3, "at_s": 60.0 + seed, "target": "", "work_redone_s": 4.0},
        "jobs": {"placed": 10, "delivered": 9, "lost": 0 if checks.get("no_job_lost") else 1},
    }


def test_a_cluster_run_counts_in_the_campaign_like_a_node_run() -> None:
    """A failed check of a cluster scenario fails the run, a lost job and a false silence
    reach the campaign's totals, and seeds that drew other nodes count as other draws."""
    good = cluster_run_as_scored(_cluster_score(1, no_job_lost=True, no_false_silence=True), 0.07)
    bad = cluster_run_as_scored(_cluster_score(2, no_job_lost=False, no_false_silence=False), 0.07)
    assert good["passed"] and not bad["passed"]
    assert bad["failures"] == ["check no_job_lost failed", "check no_false_silence failed"]
    t = aggregate([good, bad])
    assert (t["runs"], t["passed"], t["lost_jobs"], t["false_alarms"]) == (2, 1, 1, 1)
    assert t["failures"][0]["failed"] == ["no_job_lost", "no_false_silence"]
    spread = t["by_scenario"]["cluster_silent"]
    assert spread["distinct_fault_draws"] == 2 and spread["failed_checks"] == {
        "no_false_silence": 1,
        "no_job_lost": 1,
    }
    # a score with no checks at all is not a pass
    assert not cluster_run_as_scored(_cluster_score(3), 0.07)["passed"]


def test_campaign_names_take_cluster_scenarios_by_name_or_all_at_once() -> None:
    assert "cluster_safe" not in campaign_names(None)  # minutes each: never by default
    assert campaign_names(["sel", "cluster_geo"]) == ["sel", "cluster_geo"]
    assert {"cluster_safe", "cluster_silent", "cluster_isl"} <= set(campaign_names(["cluster"]))
    with pytest.raises(FlightswError, match="cluster_nope"):
        campaign_names(["cluster_nope"])


@pytest.mark.slow  # two short cluster runs (two nodes each) on a Dask cluster of its own
def test_cluster_scenario_in_a_campaign(tmp_path: Path) -> None:
    report = run_campaign(["cluster_safe"], 2, tmp_path, workers=2, progress=False)
    t = report["totals"]
    assert (t["runs"], t["passed"], t["lost_jobs"], t["false_alarms"]) == (2, 2, 0, 0), t
    assert t["by_scenario"]["cluster_safe"]["distinct_fault_draws"] == 2
    assert all(r["checks"]["jobs_handed_over"] for r in report["runs"])
