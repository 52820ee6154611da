"""Campaigns on Dask: a local cluster, and a separately started scheduler and worker."""

import json
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from flightsw.sil.campaign import crashed_run, run_campaign
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
