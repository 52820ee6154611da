"""The cluster's jobs placed by headroom: none to a node that cannot run, most to the
emptiest, deterministic; and in the cluster SIL every node gets work and runs it."""

from __future__ import annotations

from pathlib import Path

from flightsw.dictionary import build_dictionary
from flightsw.ground.commanding import CommandEncoder
from flightsw.sil.cluster import ClusterOptions, run_cluster
from flightsw.sil.cluster_jobs import ClusterJobs, NodeView
from flightsw.sil.cluster_node import SCID_BASE, NodeSpec, node_mission
from flightsw.sil.workload import WorkloadConfig

NS = 1_000_000_000


def _jobs(seed: int = 1, nodes: int = 3) -> ClusterJobs:
    spec = NodeSpec(0, "n", None, 1, 0.0, SCID_BASE, "/tmp/unused")
    enc = CommandEncoder(build_dictionary(node_mission(spec)))
    cfg = WorkloadConfig(backlog_per_board=4.0, jobs_per_tc=4, tcs_per_s=8)
    return ClusterJobs(cfg, 8, nodes, seed, enc)


def _placed(plan: dict[int, list[tuple[int, bytes]]]) -> dict[int, int]:
    return {i: len(tcs) for i, tcs in sorted(plan.items())}


def test_placement_follows_headroom_and_skips_nodes_that_cannot_run() -> None:
    j = _jobs()
    views = {0: NodeView(0, 8), 1: NodeView(0, 0), 2: NodeView(14, 8)}
    plan = j.plan(0, 3 * NS, views)
    placed = _placed(plan)
    assert 1 not in placed  # safe mode / shed: nothing
    assert placed[0] > placed.get(2, 0)  # the empty node first
    # Headroom is (1 + queue_per_board) x target - jobs: node 0 has 16, node 2 has 2 (TCs
    # carry a quarter of a node's boards: 2 jobs); the rest waits on the ground.
    assert j.placed == [16, 0, 2]
    assert j.summary()["jobs_waiting_on_ground"] > 0
    again = _jobs()
    assert again.plan(0, 3 * NS, views) == plan  # same seed, same placement
    # No node can run: the TCs stay on the ground, counted, none lost.
    stuck = _jobs()
    assert stuck.plan(0, 5 * NS, dict.fromkeys(range(3), NodeView(0, 0))) == {}
    s = stuck.summary()
    assert s["tcs_refused"] > 0 and s["jobs_placed_per_node"] == [0, 0, 0]
    assert s["jobs_uplinked"] == 0  # none left the ground (it counted the outbox's)
    assert s["jobs_waiting_on_ground"] + s["jobs_in_outbox"] == s["jobs_arrived"]


def test_cluster_jobs_keep_every_node_busy_in_the_sil(tmp_path: Path) -> None:
    out = run_cluster(
        ClusterOptions(
            nodes=2,
            duration_s=60.0,
            window_s=10.0,
            boards=8,
            out_dir=tmp_path,
            plots=False,
            archive=False,
            progress=False,
            scheduler="inline",
            cluster_jobs=True,
        )
    )
    placed = out["cluster_jobs"]["jobs_placed_per_node"]
    assert all(p >= 8 for p in placed)
    assert out["utilization"] > 0.8
    assert out["cluster_jobs"]["jobs_uplinked"] == sum(placed)
