"""The cluster's jobs placed by headroom: none to a node that cannot run, most to the
emptiest, deterministic; and in the cluster SIL every node gets work and runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flightsw.ground.commanding import CommandEncoder
from flightsw.runtime.dictionary import build_dictionary
from flightsw.sil.cluster import ClusterOptions, run_cluster
from flightsw.sil.cluster_jobs import ClusterJobs, NodeView
from flightsw.sil.cluster_node import SCID_BASE, NodeSpec, node_mission
from flightsw.sil.workload import WorkloadConfig
from sim_hw.environment import DEFAULT_STATIONS, contact_windows
from sim_hw.isl import LinkOutage, formation, geo_relays
from sim_hw.orbit import CircularOrbit

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
    up = out["ground_uplink"]
    # Every job TC went through the link model and was verified by the node's PUS-1.
    assert up["jobs_accepted"] == up["jobs_sent"] == sum(placed) and up["lost"] == 0
    assert out["cluster_jobs"]["views_heard"] >= 2 * 5  # TM(130,6) every 10 s a node


@pytest.mark.slow  # two nodes for 30 s: ~4-20 s loaded
def test_a_ground_cut_off_from_the_cluster_places_nothing_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """No node has a pass and every GEO relay is down: the ground hears no view, sends
    no TC and no job reaches a node; the jobs wait on the ground, none lost."""
    orbits = formation(CircularOrbit(day_of_year=172.0), 2, 2.0)
    wins = [w for o in orbits for w in contact_windows(o, DEFAULT_STATIONS, 0.0, 20_000.0)]
    t0 = next(
        float(t)
        for t in range(100, 20_000, 50)
        if all(w.end_s <= t - 10.0 or w.start_s >= t + 60.0 for w in wins)
    )
    out = run_cluster(
        ClusterOptions(
            nodes=2,
            duration_s=30.0,
            window_s=10.0,
            boards=4,
            start_s=t0,
            out_dir=tmp_path,
            plots=False,
            archive=False,
            progress=False,
            scheduler="inline",
            cluster_jobs=True,
            outages=tuple(LinkOutage(f"geo:{r.name}", 0.0, 1e6) for r in geo_relays(172.0)),
        )
    )
    up, truth, cj = out["ground_uplink"], out["job_truth"], out["cluster_jobs"]
    assert up["sent"] == 0 and cj["views_heard"] == 0 and cj["jobs_uplinked"] == 0
    assert truth["live_on_nodes"] == 0 and truth["lost"] == 0 and out["jobs_completed"] == 0
    assert cj["jobs_waiting_on_ground"] + cj["jobs_in_outbox"] == cj["jobs_arrived"] > 0


@pytest.mark.slow  # two runs of two nodes for 60 s: ~20-40 s loaded
def test_cluster_jobs_through_the_links_are_deterministic_on_one_or_two_shards(
    tmp_path: Path,
) -> None:
    """The ground's uplink (its routes, its draws of frames lost, its resends) and the
    views from TM(130,6) give the same TM per node, byte for byte, however the nodes
    are spread over shards."""
    runs = []
    for workers in (1, 2):
        out = run_cluster(
            ClusterOptions(
                nodes=2,
                duration_s=60.0,
                window_s=10.0,
                boards=8,
                seed=7,
                out_dir=tmp_path / str(workers),
                plots=False,
                archive=False,
                progress=False,
                scheduler="inline",
                workers=workers,
                cluster_jobs=True,
            )
        )
        runs.append(out)
    a, b = runs
    assert {n: v["tm_sha256"] for n, v in a["per_node"].items()} == {
        n: v["tm_sha256"] for n, v in b["per_node"].items()
    }
    assert a["ground_uplink"] == b["ground_uplink"] and a["job_truth"] == b["job_truth"]
    assert a["ground_uplink"]["sent"] > 0
