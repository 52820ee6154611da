"""The ground's side of cluster jobs: the ledger (hand-backs, results checked against the
job's record, duplicates), the ground's cluster FDIR (silence counted only while a way
down exists), and in the cluster SIL a node forced into safe mode whose jobs resume on
other nodes from their checkpoints: none lost, results identical to the same jobs run
without the safe mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flightsw.apps.payload.handover import (
    ClusterJob,
    advance,
    encode_jobs,
    encode_results,
    expected_result,
    initial_state,
)
from flightsw.packets import PusTm
from flightsw.sil.cluster import ClusterOptions, run_cluster
from flightsw.sil.cluster_handover import GroundWatch, JobLedger

NS = 1_000_000_000


def _tm(sub: int, data: bytes) -> bytes:
    return PusTm(apid=1, service=130, subservice=sub, app_data=data).encode()


def test_ledger_takes_hand_backs_from_the_node_it_placed_and_checks_every_result() -> None:
    led = JobLedger()
    hours = float(np.float32(0.05))
    a, b = led.new(hours, 1, 0, 20.0), led.new(hours, 2, 0, 20.0)
    led.placed(a.tag, 0)
    led.placed(b.tag, 0)
    ck = ClusterJob(a.tag, hours, 1, 0, 20.0, 65.0, 1, advance(initial_state(a.tag), 0, 1))
    led.on_packet(1, _tm(4, encode_jobs([ck])), 5 * NS)  # not from where it was placed
    assert led.stale_reports == 1 and not led.pending
    led.on_packet(0, _tm(4, encode_jobs([ck])), 5 * NS)
    assert led.take_pending(10) == [ck]  # to be placed again from that checkpoint
    led.placed(a.tag, 2)
    good, bad = expected_result(a.tag, hours), expected_result(b.tag, hours) ^ 4
    led.on_packet(2, _tm(5, encode_results([(a.tag, 9, good), (b.tag, 3, bad)])), 9 * NS)
    led.on_packet(0, _tm(5, encode_results([(a.tag, 1, good ^ 1)])), 9 * NS)  # twice, differing
    led.on_packet(0, _tm(5, b"\x00\x05"), 9 * NS)  # garbage: counted, nothing else
    s = led.summary()
    assert s["delivered"] == 2 and s["results_wrong"] == 1
    assert s["duplicate_results"] == 1 and s["duplicate_results_differing"] == 1
    assert s["bad_reports"] == 1 and s["resumed_from_checkpoint"] == 1
    # A silent node's unfinished jobs wait on the ground; its finished ones do not move.
    c = led.new(hours, 0, 0, 20.0)
    led.placed(c.tag, 2)
    assert led.node_silent(2) == 1 and led.take_pending(5) == [c]


def test_the_ground_counts_silence_only_while_a_node_has_a_way_down() -> None:
    w = GroundWatch(2, 30.0, 0)
    t = 0
    for k in range(12):  # node 1 has no route for 60 s, then one: silent 30 s later
        t += 10 * NS
        w.heard(0, t)
        newly = w.window(t, 10.0, [True, k >= 6])
        assert [n for n, _ in newly] == ([1] if k == 8 else [])
    w.heard(1, t + NS)
    w.window(t + 10 * NS, 10.0, [True, True])
    assert [e["event"] for e in w.events] == ["NODE_SILENT", "NODE_BACK"]
    assert w.silent == set()


def _run(tmp: Path, seed: int, safe: tuple[tuple[int, float], ...]) -> dict[str, Any]:
    return run_cluster(
        ClusterOptions(
            nodes=3,
            duration_s=400.0,
            boards=8,
            seed=seed,
            out_dir=tmp,
            plots=False,
            archive=False,
            progress=False,
            scheduler="inline",
            cluster_jobs=True,
            workload_overrides={
                "mean_board_hours": 0.03,
                "min_board_hours": 0.015,
                "max_board_hours": 0.06,
                "checkpoint_s": 20.0,
                "load": 0.9,
            },
            safe_modes=safe,
        )
    )


def _results(tmp: Path) -> dict[int, tuple[float, str]]:
    """Each delivered job: (its size, its result): the same tag is the same job."""
    rows = json.loads((tmp / "job_ledger.json").read_text())
    return {r["tag"]: (r["board_hours"], r["result"]) for r in rows if r["result"] is not None}


@pytest.mark.slow  # two 3-node cluster runs of 400 s: ~40 s
@pytest.mark.parametrize("seed", [1, 2])
def test_a_node_forced_into_safe_mode_hands_its_jobs_over_none_lost_results_identical(
    tmp_path: Path, seed: int
) -> None:
    """The seed picks the node and the time; the same seed without the safe mode is the
    reference. Jobs lost and the work done twice are read from the nodes' state and the
    simulated boards' work counters, results from what reached the ground."""
    node, at = seed % 3, 90.0 + 37.0 * seed
    forced = _run(tmp_path / "safe", seed, ((node, at),))
    ref = _run(tmp_path / "ref", seed, ())
    led, truth = forced["cluster_jobs"]["ledger"], forced["job_truth"]
    assert forced["cluster_faults"]["safe_mode"] == [{"node": node, "t_s": at}]
    assert led["jobs_handed_back"] > 0 and led["resumed_from_checkpoint"] > 0
    assert led["moved_and_delivered"] > 0  # handed-over jobs finished elsewhere
    assert truth["lost"] == 0 and ref["job_truth"]["lost"] == 0
    assert led["results_wrong"] == 0 and led["duplicate_results"] == 0
    # Resumed from checkpoints: what the boards did beyond the work delivered and in
    # progress is each job's last 1 s step at most (no work redone from the start).
    assert truth["work_redone_s"] <= 1.5 * truth["placed"] + 2.0 * 3
    a, b = _results(tmp_path / "safe"), _results(tmp_path / "ref")
    both = set(a) & set(b)
    moved = {
        r["tag"]
        for r in json.loads((tmp_path / "safe" / "job_ledger.json").read_text())
        if r["handed_back"]
    }
    assert both & moved  # jobs that moved are among those compared
    assert {t: a[t] for t in both} == {t: b[t] for t in both}
    assert forced["ground_fdir"]["events"] == []  # safe mode is not silence
    assert forced["goodput"] is not None and forced["utilization"] > 0.5
