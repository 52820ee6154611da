"""A cluster node keeps what grows with simulated time off the heap or packed: the
world's per-step truth series goes to a file each window, the 10 s samples are packed
float64, and what a run returns to the runner carries none of the series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from flightsw.sil.cluster_node import (
    SCID_BASE,
    ClusterNode,
    FlatRows,
    NodeSpec,
    node_seed,
    truth_series,
)
from hal.interfaces import CrosslinkStatus
from sim_hw.spacecraft import TRUTH_SERIES

QUIET = CrosslinkStatus(frozenset(), False, False, frozenset())


@given(st.lists(st.tuples(*[st.floats(allow_nan=False)] * 3), max_size=20))
def test_flat_rows_read_back_as_the_rows_they_were_given(rows: list[tuple[float, ...]]) -> None:
    flat = FlatRows()
    for row in rows:
        flat.append(row)
    got = np.array(flat, dtype=np.float64).reshape(-1, 3)
    assert got.tolist() == [list(r) for r in rows]


def test_a_node_spills_its_truth_series_each_window(tmp_path: Path) -> None:
    seed = node_seed(3, 0)  # the physics is seeded: vary what the check does not fix
    spec = NodeSpec(0, "node00", None, seed, 0.0, SCID_BASE, str(tmp_path / "n"), boards=8)
    node = ClusterNode(spec)
    node.run_window(node.now_ns + 15_000_000_000, QUIET, [])
    assert len(node.spacecraft.truth_rows) == 0  # nothing of the series stays on the heap
    first = node.truth_rows
    assert first >= 14  # one row a physics step (1 s)
    node.run_window(node.now_ns + 15_000_000_000, QUIET, [])
    assert len(node.spacecraft.truth_rows) == 0 and node.truth_rows >= first + 14
    assert isinstance(node.recorder.rows, FlatRows) and isinstance(node.meter.series, FlatRows)
    summary = node.finish(0.0)
    assert "series" not in summary["truth"]
    assert summary["truth"]["series_rows"] == node.truth_rows
    series = truth_series(tmp_path / "n")
    assert series.shape == (node.truth_rows, len(TRUTH_SERIES))
    t = series[:, 0]
    assert np.all(np.diff(t) > 0) and t[-1] <= node.now_ns / 1e9  # in order, nothing twice
    assert 0.0 < series[:, 1].min() <= series[:, 1].max() <= 1.0  # state of charge


def test_a_shard_traces_one_nodes_build_and_stops_tracing(tmp_path: Path) -> None:
    import tracemalloc

    from flightsw.sil.cluster_node import Shard

    specs = [
        NodeSpec(
            i,
            f"node{i:02d}",
            None,
            node_seed(1, i),
            2.0 * i,
            SCID_BASE + i,
            str(tmp_path / f"n{i}"),
            boards=8,
        )
        for i in range(2)
    ]
    shard = Shard(specs)
    per_node = shard.build()
    assert sorted(shard.nodes) == [0, 1] and not tracemalloc.is_tracing()
    assert 50_000 < per_node < 50_000_000  # one node's heap, not the pair's nor nothing
