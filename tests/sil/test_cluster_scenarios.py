"""Cluster fault scenarios scored from the world's truth: the short one passes (the
seed draws the node and time) and each of its checks fails when what it reads is
broken; the longer ones (a node that dies, a GEO relay down, an ISL down) are slow."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from flightsw.base.errors import FlightswError
from flightsw.sil.cluster_scenarios import (
    load_cluster_scenario,
    plan_and_options,
    run_cluster_scenario,
    score,
)

QUIET: dict[str, Any] = {"scheduler": "inline", "plots": False, "archive": False, "progress": False}


def _outputs(out: Path, n: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    summary = json.loads((out / "cluster_summary.json").read_text())
    nodes = {
        f"node{i:02d}": json.loads((out / "nodes" / f"node{i:02d}" / "summary.json").read_text())
        for i in range(n)
    }
    return summary, nodes


def test_a_safe_mode_scenario_passes_and_each_of_its_checks_can_fail(tmp_path: Path) -> None:
    result = run_cluster_scenario("cluster_safe", 3, tmp_path, **QUIET)
    assert result["passed"], result
    assert result["measured"]["jobs_moved"] > 0
    plan, _opts = plan_and_options(load_cluster_scenario("cluster_safe"), 3, tmp_path)
    summary, nodes = _outputs(tmp_path, 2)
    # job_truth is in the summary the runner returned; cluster_summary.json has it too
    assert score(plan, summary, nodes)["checks"] == result["checks"]

    def broken(edit: Any) -> dict[str, bool]:
        s, n = copy.deepcopy(summary), copy.deepcopy(nodes)
        edit(s, n)
        checks: dict[str, bool] = score(plan, s, n)["checks"]
        return checks

    name = f"node{plan.node:02d}"
    led = "cluster_jobs"
    for check, edit in {
        "no_job_lost": lambda s, n: s["job_truth"].update(lost=1),
        "results_correct": lambda s, n: s[led]["ledger"].update(results_wrong=1),
        "jobs_delivered": lambda s, n: s["job_truth"].update(delivered=0),
        "resumed_from_checkpoints": lambda s, n: s["job_truth"].update(work_redone_s=1e6),
        "no_false_silence": lambda s, n: s["ground_fdir"]["events"].append(
            {"event": "NODE_SILENT", "node": 0, "t_s": 50.0}
        ),
        "safe_mode_took_effect": lambda s, n: n[name]["truth"].update(powered_at_end=[0]),
        "jobs_handed_over": lambda s, n: s[led]["ledger"].update(resumed_from_checkpoint=0),
    }.items():
        checks = broken(edit)
        assert not checks[check], check
        assert all(v for k, v in checks.items() if k != check), check


def test_the_seed_draws_the_node_and_the_time_and_a_bad_name_is_refused(tmp_path: Path) -> None:
    sc = load_cluster_scenario("cluster_safe")
    plans = {(p.node, p.at_s) for p, _ in (plan_and_options(sc, s, tmp_path) for s in range(8))}
    assert len(plans) >= 6 and all(30.0 <= t <= 60.0 for _, t in plans)
    with pytest.raises(FlightswError, match="no cluster scenario"):
        load_cluster_scenario("nope")


@pytest.mark.slow  # 3-4 nodes of 8 boards for 400 s each: ~30-60 s a run
@pytest.mark.parametrize("name", ["cluster_silent", "cluster_geo", "cluster_isl"])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_longer_cluster_scenarios_pass(tmp_path: Path, name: str, seed: int) -> None:
    result = run_cluster_scenario(name, seed, tmp_path, **QUIET)
    assert result["passed"], result
    if name == "cluster_silent":
        m = result["measured"]
        assert m["detection_latency_s"] <= m["detection_bound_s"] and m["jobs_moved"] > 0
    # The checks these scenarios add fail when what they read is broken.
    plan, opts = plan_and_options(load_cluster_scenario(name), seed, tmp_path)
    summary, nodes = _outputs(tmp_path, opts.nodes)
    if name == "cluster_silent":  # moved from their start, not from a checkpoint
        summary["job_truth"]["dead_node_jobs_resumed_behind_s"]["max"] = 1e3
        assert not score(plan, summary, nodes)["checks"]["resumed_from_reported_checkpoints"]
    if name == "cluster_isl":  # the middle node carried nothing: not over two hops
        nodes[f"node{plan.node:02d}"]["relay"]["relayed_for_others"] = 0
        assert not score(plan, summary, nodes)["checks"]["relayed_over_two_hops"]


def test_the_plan_names_no_path_outside_the_run(tmp_path: Path, monkeypatch: Any) -> None:
    """The plan's node dictionary was built for a node under the hard-coded ``/tmp/x``."""
    import flightsw.sil.cluster_node as cluster_node

    seen: list[str] = []
    real = cluster_node.node_mission

    def spy(spec: Any) -> Any:
        seen.append(spec.out_dir)
        return real(spec)

    monkeypatch.setattr(cluster_node, "node_mission", spy)
    for name in ("cluster_safe", "cluster_isl"):
        plan_and_options(load_cluster_scenario(name), 1, tmp_path / name)
    assert len(seen) == 2 and all(p.startswith(str(tmp_path)) for p in seen), seen
