"""The cluster SIL's cost: board-seconds per CPU second, lockstep overhead, link model,
node memory.

Nodes of 256 busy boards (the default node and its workload, relay service on; no
archive and no plots: the SIL, not SQLite) are run twice in this process (``inline``:
the same windows and exchange as on Dask, without Dask) with CPU time measured by
``time.process_time`` (one core):

- in lockstep, in windows of ``WINDOW_S`` with the ISL/GEO exchange between them;
- independently: the same nodes, one window each, nothing exchanged.

At 4, 16 and 64 nodes (``--quick``: 4 and 64, 64 over a short span of
``QUICK_64_S``): ``cluster_lockstep_vs_independent_<n>`` is the ratio of the two CPU
times (goal at most 1.20); ``cluster_board_s_per_cpu_s_<n>`` is simulated board-seconds
per CPU second of the lockstep run (per core); ``cluster_exchange_share_<n>`` the part
of it the runner spent in the link model.

``cluster_link_ms_per_window_<n>`` is the link model alone (every node's terminal status
and the routing of a window's frames: each node sends one frame to each ISL peer and one
by GEO, as the nodes' heartbeats and reports do) and ``..._hop_by_hop_<n>`` the same
asked one hop at a time (how the router worked before it was vectorised):
``cluster_link_cost_64_vs_4`` says how the per-window cost grows with 16 times the
nodes (goal at most 8, half of linear; hop by hop it was 29).

Memory: ``cluster_heap_mb_per_node_<n>`` is the Python heap a node took when built
(tracemalloc); ``cluster_heap_mb_per_node_orbit`` the heap one node holds after an
orbit (``--quick``: a tenth of one) of state, traced; ``cluster_rss_mb_per_node_<n>``
the growth of this process's resident set over the lockstep run divided by the nodes
(an upper bound: it includes the run's own records).

``cluster_dask_wall_vs_busy`` runs the 4 nodes on a local Dask cluster of one worker
and divides the runner's wall time by the time the worker spent advancing nodes (what
Dask's round trips per window add; goal at most 1.20).
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.runtime.mission import load_mission
from flightsw.sil.cluster import ClusterOptions, run_cluster
from flightsw.sil.cluster_ground import GroundRelayEndpoint
from flightsw.sil.cluster_links import LinkRouter
from flightsw.sil.cluster_node import SCID_BASE
from flightsw.sil.simulate import orbit_period_s
from hal.interfaces import HOP_GEO, CrosslinkStatus
from hal.sim.backend import ground_stations, spacecraft_config
from sim_hw.environment import contact_windows
from sim_hw.isl import ClusterLinks, formation, geo_relays
from sim_hw.orbit import CircularOrbit

BOARDS = 256
WINDOW_S = 10.0
QUICK_64_S = 20.0  # --quick: 64 nodes over two windows only (building them dominates)
NS = 1_000_000_000


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
        progress_every=0,
        **kw,
    )
    return run_cluster(
        opts, wall=time.process_time if kw.get("scheduler") == "inline" else time.perf_counter
    )


def _router(n: int, t1_s: float) -> LinkRouter:
    base = load_mission(None, seed=1)
    cfg = spacecraft_config(base.hal_config())
    plane = CircularOrbit(cfg.altitude_km, ltan_h=cfg.ltan_h, day_of_year=cfg.day_of_year)
    orbits = formation(plane, n, 2.0)
    stations = ground_stations(base.hal.get("ground_stations"))
    contacts = [contact_windows(o, stations, -1.0, t1_s) for o in orbits]
    links = ClusterLinks(orbits, geo_relays(cfg.day_of_year))
    return LinkRouter(links, contacts, stations, SCID_BASE, 1, GroundRelayEndpoint(), 2)


def _status_hop_by_hop(router: LinkRouter, t_s: float) -> dict[int, CrosslinkStatus]:
    links, n = router.links, router.n
    ground = [router._pass(i, t_s) is not None for i in range(n)]
    geo = [links.best_geo(i, t_s) is not None for i in range(n)]
    out = {}
    for i in range(n):
        peers = [j for j in router.peers_of(i) if links.isl(i, j, t_s).up]
        out[i] = CrosslinkStatus(
            frozenset(SCID_BASE + j for j in peers),
            ground[i],
            geo[i],
            frozenset(SCID_BASE + j for j in peers if ground[j] or geo[j]),
        )
    return out


def link_ms_per_window(n: int, windows: int, hop_by_hop: bool) -> float:
    """CPU ms per window of the link model alone (status and routing) at n nodes."""
    router = _router(n, windows * WINDOW_S + WINDOW_S)
    if hop_by_hop:  # the router as it was: one hop at a time, cached per frame time
        router._evaluate = lambda sent: None  # type: ignore[method-assign]
    c0 = time.process_time()
    for w in range(windows):
        begin = round(w * WINDOW_S * NS)
        if hop_by_hop:
            _status_hop_by_hop(router, begin / NS)
        else:
            router.status(begin / NS)
        sent = {
            i: [
                *(
                    (begin + 100_000_000 * k, SCID_BASE + j, bytes(40))
                    for k, j in enumerate(router.peers_of(i))
                ),
                (begin + 500_000_000, HOP_GEO, bytes(60)),
            ]
            for i in range(n)
        }
        router.route(w, begin + round(WINDOW_S * NS), sent)
    return (time.process_time() - c0) / windows * 1e3


def node_heap_after(span_s: float, root: Path) -> tuple[float, float]:
    """(heap at build, heap after span_s) of one node, MB, traced by tracemalloc."""
    tracemalloc.start()
    try:
        r = _run(root, 1, span_s, WINDOW_S, scheduler="inline")
    finally:
        tracemalloc.stop()
    hp = r["host_profile"]
    return hp["heap_bytes_per_node"] / 1e6, hp["heap_bytes_per_node_end"] / 1e6


def run(quick: bool) -> dict[str, Any]:
    sizes = (4, 64) if quick else (4, 16, 64)
    duration = 60.0 if quick else 200.0
    out: dict[str, Any] = {}
    link_windows = 10 if quick else 30
    for n in (4, 16, 64):
        out[f"cluster_link_ms_per_window_{n}"] = round(
            link_ms_per_window(n, link_windows, False), 2
        )
        out[f"cluster_link_ms_per_window_hop_by_hop_{n}"] = round(
            link_ms_per_window(n, max(3, link_windows // 5), True), 2
        )
    out["cluster_link_cost_64_vs_4"] = round(
        out["cluster_link_ms_per_window_64"] / out["cluster_link_ms_per_window_4"], 2
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in sizes:
            span = QUICK_64_S if quick and n == 64 else duration
            w0 = time.perf_counter()
            lock = _run(root / f"l{n}", n, span, WINDOW_S, scheduler="inline")
            alone = _run(root / f"i{n}", n, span, span, scheduler="inline")
            hp = lock["host_profile"]
            lock_cpu = hp["run_seconds"]
            alone_cpu = alone["host_profile"]["run_seconds"]
            out[f"cluster_sim_s_{n}"] = lock["sim_seconds"]
            out[f"cluster_lockstep_vs_independent_{n}"] = round(lock_cpu / alone_cpu, 3)
            out[f"cluster_board_s_per_cpu_s_{n}"] = round(
                n * BOARDS * lock["sim_seconds"] / lock_cpu, 1
            )
            out[f"cluster_exchange_share_{n}"] = round(hp["exchange_seconds"] / lock_cpu, 4)
            out[f"cluster_build_cpu_s_per_node_{n}"] = round(hp["build_seconds"] / n, 3)
            out[f"cluster_heap_mb_per_node_{n}"] = round(hp["heap_bytes_per_node"] / 1e6, 2)
            out[f"cluster_rss_mb_per_node_{n}"] = round(hp["rss_bytes_per_node"] / 1e6, 2)
            out[f"cluster_utilization_{n}"] = lock["utilization"]
            out[f"cluster_bench_wall_s_{n}"] = round(time.perf_counter() - w0, 1)
        period = orbit_period_s(load_mission(None, seed=1))
        built, end = node_heap_after(period / 10 if quick else period, root / "heap")
        out["cluster_heap_mb_per_node_build"] = round(built, 2)
        out["cluster_heap_mb_per_node_orbit"] = round(end, 2)
        w0 = time.perf_counter()
        dask = _run(root / "dask", 4, duration, WINDOW_S, scheduler=None, workers=1)
        hp = dask["host_profile"]
        out["cluster_dask_wall_vs_busy"] = round(hp["run_seconds"] / hp["shard_busy_seconds"], 3)
        out["cluster_dask_bench_wall_s"] = round(time.perf_counter() - w0, 1)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=1))
