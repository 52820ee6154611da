"""tools/bench_cluster.py: the lockstep overhead is the least CPU time of the lockstep
runs over the least of the same nodes run alone (one pair of sub-second runs measured
the machine's load), the alone runs build the same nodes, and --quick stays cheap."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import bench_cluster


def test_overhead_is_least_over_least_of_runs_in_turn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lock_cpu = iter([1.15, 0.60, 0.90])  # the noise of one 4-node run on this machine
    alone_cpu = iter([0.80, 0.57, 1.10])
    calls: list[tuple[float, dict[str, Any]]] = []

    def fake_run(out: Path, nodes: int, duration: float, window: float, **kw: Any) -> dict:
        calls.append((window, kw))
        cpu = next(lock_cpu) if window < duration else next(alone_cpu)
        hp = {
            "run_seconds": cpu,
            "exchange_seconds": 0.01,
            "build_seconds": 1.0,
            "heap_bytes_per_node": 1e6,
            "rss_bytes_per_node": 2e6 + cpu,
        }
        return {"sim_seconds": duration, "utilization": 1.0, "host_profile": hp}

    monkeypatch.setattr(bench_cluster, "_run", fake_run)
    got = bench_cluster.lockstep_vs_independent(tmp_path, 4, 120.0, 3)
    assert got["cluster_lockstep_vs_independent_4"] == round(0.60 / 0.57, 3)
    assert got["cluster_lockstep_spread_4"] == round(1.15 / 0.60, 3)
    assert got["cluster_board_s_per_cpu_s_4"] == round(4 * 256 * 120.0 / 0.60, 1)
    assert got["cluster_rss_mb_per_node_4"] == round((2e6 + 1.15) / 1e6, 2)  # the first run
    windows = [w for w, _ in calls]
    assert windows == [bench_cluster.WINDOW_S, 120.0] * 3  # in turn
    alone_kw = [kw for w, kw in calls if w == 120.0]
    lock_kw = [kw for w, kw in calls if w != 120.0]
    # the same nodes: the alone runs keep the lockstep runs' relay timer
    assert all(kw["ack_timeout_s"] == bench_cluster.ACK_TIMEOUT_S for kw in alone_kw)
    assert all("ack_timeout_s" not in kw for kw in lock_kw)
    assert bench_cluster.ACK_TIMEOUT_S == 2.0 * bench_cluster.WINDOW_S + 10.0


def test_quick_builds_few_nodes_and_the_full_bench_keeps_4_16_64() -> None:
    builds = sum(n * 2 * reps for n, _span, reps in bench_cluster.QUICK_SIZES)
    assert builds <= 100  # ~0.3-0.7 CPU-s each: the quick bench stays a few minutes
    assert [n for n, _, _ in bench_cluster.SIZES] == [4, 16, 64]
    assert all(reps >= 2 for _, _, reps in (*bench_cluster.SIZES, *bench_cluster.QUICK_SIZES))
