"""The cluster SIL's cost: board-seconds per CPU second, lockstep overhead, node memory.

Nodes of 256 busy boards (the default node and its workload, relay service on; no
archive and no plots: the SIL, not SQLite) are run twice in this process (``inline``:
the same windows and exchange as on Dask, without Dask) with CPU time measured by
``time.process_time`` (one core):

- in lockstep, in windows of ``WINDOW_S`` with the ISL/GEO exchange between them;
- independently: the same nodes, one window each, nothing exchanged.

``cluster_lockstep_vs_independent_<n>`` is the ratio of the two CPU times (goal at most
1.20). ``cluster_board_s_per_cpu_s_<n>`` is simulated board-seconds per CPU second of
the lockstep run (per core). ``cluster_dask_wall_vs_busy`` runs the 4 nodes on a local
Dask cluster of one worker and divides the runner's wall time by the time the worker
spent advancing nodes (what Dask's round trips per window add; goal at most 1.20).
``cluster_heap_mb_per_node`` is the Python heap a node took when built (tracemalloc),
``cluster_rss_mb_per_node`` the growth of the peak resident set over the lockstep run
divided by the nodes (an upper bound: it includes the run's own records).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.sil.cluster import ClusterOptions, run_cluster

BOARDS = 256
WINDOW_S = 10.0


def _run(out: Path, nodes: int, duration: float, window: float, **kw: Any) -> dict[str, Any]:
    opts = ClusterOptions(
        nodes=nodes,
        duration_s=duration,
        window_s=window,
        boards=BOARDS,
        out_dir=out,
        archive=False,
        plots=False,
        progress=False,
        **kw,
    )
    return run_cluster(
        opts, wall=time.process_time if kw.get("scheduler") == "inline" else time.perf_counter
    )


def run(quick: bool) -> dict[str, Any]:
    sizes = (4,) if quick else (4, 16)
    duration = 60.0 if quick else 200.0
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in sizes:
            w0 = time.perf_counter()
            rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            lock = _run(root / f"l{n}", n, duration, WINDOW_S, scheduler="inline")
            rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            alone = _run(root / f"i{n}", n, duration, duration, scheduler="inline")
            lock_cpu = lock["host_profile"]["run_seconds"]
            alone_cpu = alone["host_profile"]["run_seconds"]
            out[f"cluster_lockstep_vs_independent_{n}"] = round(lock_cpu / alone_cpu, 3)
            out[f"cluster_board_s_per_cpu_s_{n}"] = round(
                n * BOARDS * lock["sim_seconds"] / lock_cpu, 1
            )
            out[f"cluster_heap_mb_per_node_{n}"] = round(
                lock["host_profile"]["heap_bytes_per_node"] / 1e6, 2
            )
            # Peak resident set growth over the run (KiB on Linux), per node: what the
            # nodes, their outputs' buffers and the run's records took (an upper bound).
            out[f"cluster_rss_mb_per_node_{n}"] = round((rss1 - rss0) / 1024 / n, 2)
            out[f"cluster_utilization_{n}"] = lock["utilization"]
            out[f"cluster_bench_wall_s_{n}"] = round(time.perf_counter() - w0, 1)
        w0 = time.perf_counter()
        dask = _run(root / "dask", 4, duration, WINDOW_S, scheduler=None, workers=1)
        hp = dask["host_profile"]
        out["cluster_dask_wall_vs_busy"] = round(hp["run_seconds"] / hp["shard_busy_seconds"], 3)
        out["cluster_dask_bench_wall_s"] = round(time.perf_counter() - w0, 1)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=1))
