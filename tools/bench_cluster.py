"""The cluster SIL's cost: board-seconds per CPU second, lockstep overhead, link model,
node memory.

Nodes of 256 busy boards (the default node and its workload, relay service on; no
archive and no plots: the SIL, not SQLite) are run in this process (``inline``: the same
windows and exchange as on Dask, without Dask) with CPU time measured by
``time.process_time`` (one core):

- in lockstep, in windows of ``WINDOW_S`` with the ISL/GEO exchange between them;
- independently: the same nodes (the same build, the relay's resend timer included),
  one window each, nothing exchanged.

The two are run in turn ``reps`` times (lockstep, alone, lockstep, alone, ...) and
``cluster_lockstep_vs_independent_<n>`` is the ratio of the least CPU time of each (goal
at most 1.20): on this shared machine the same 4-node run took 0.57 to 1.15 CPU-s from
one run to the next (a profile of both counts the same 800k calls), so one pair of
sub-second runs measured the load, not the exchange. ``..._spread_<n>`` is the largest
over the least CPU time of the lockstep runs (how noisy the measurement was).
``cluster_board_s_per_cpu_s_<n>`` is simulated board-seconds per CPU second of the
fastest lockstep run (per core); ``cluster_exchange_share_<n>`` the part of it the
runner spent in the link model.

Sizes: 4, 16 and 64 nodes over ``SPAN_S`` (the full bench: ~15-25 min on a loaded
2-core machine; building the nodes costs ~0.3 CPU-s each and each size is built
``2 * reps`` times); ``--quick`` 4 and 16 nodes over shorter spans (a few minutes: the
same measurement at the sizes that are cheap to build; 64 nodes only in the full bench).

``cluster_link_ms_per_window_<n>`` is the link model alone (every node's terminal status
and the routing of a window's frames: each node sends one frame to each ISL peer and one
by GEO, as the nodes' heartbeats and reports do) and ``..._hop_by_hop_<n>`` the same
asked one hop at a time (how the router worked before it was vectorised):
``cluster_link_cost_64_vs_4`` says how the per-window cost grows with 16 times the
nodes (goal at most 8, half of linear; hop by hop it was 29). No nodes are built for it:
it runs at 4, 16 and 64 nodes in the quick bench too.

Memory: ``cluster_heap_mb_per_node_<n>`` is the Python heap a node took when built
(tracemalloc, one node a shard); ``cluster_heap_mb_per_node_orbit`` the heap one node
holds after an orbit (``--quick``: a tenth of one) of state, traced;
``cluster_rss_mb_per_node_<n>`` the growth of this process's resident set over the
first lockstep run of that size divided by the nodes (it includes the run's own
records, and is lower the later the size: the process reuses what earlier runs freed).

``cluster_dask_wall_vs_busy`` runs 4 nodes on a local Dask cluster of one worker and
divides the runner's wall time by the time the worker spent advancing nodes (what
Dask's round trips per window add; goal at most 1.20).
"""

from __future__ import annotations

import functools
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
ACK_TIMEOUT_S = 2.0 * WINDOW_S + 10.0  # the lockstep runs' relay timer, kept when alone
# (nodes, simulated span s, lockstep/alone pairs): full and --quick
SIZES = ((4, 200.0, 3), (16, 200.0, 2), (64, 200.0, 2))
QUICK_SIZES = ((4, 120.0, 3), (16, 40.0, 2))
NS = 1_000_000_000
LINK_SPAN_S = 31 * WINDOW_S  # the passes the link-model runs look up (30 windows at most)


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


@functools.cache
def _formation(n: int, t1_s: float) -> tuple[Any, Any, Any, Any]:
    """(orbits, stations, passes, day of year): the passes cost ~0.3 CPU-s a node, so
    the vectorised and the hop-by-hop routers share them."""
    base = load_mission(None, seed=1)
    cfg = spacecraft_config(base.hal_config())
    plane = CircularOrbit(cfg.altitude_km, ltan_h=cfg.ltan_h, day_of_year=cfg.day_of_year)
    orbits = formation(plane, n, 2.0)
    stations = ground_stations(base.hal.get("ground_stations"))
    contacts = [contact_windows(o, stations, -1.0, t1_s) for o in orbits]
    return orbits, stations, contacts, cfg.day_of_year


def _router(n: int, t1_s: float) -> LinkRouter:
    orbits, stations, contacts, day = _formation(n, t1_s)
    links = ClusterLinks(orbits, geo_relays(day))
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
    router = _router(n, LINK_SPAN_S)
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


def lockstep_vs_independent(root: Path, n: int, span: float, reps: int) -> dict[str, Any]:
    """The metrics of one size: ``reps`` lockstep and independent runs in turn, the
    least CPU time of each (see the module docstring)."""
    lock: list[dict[str, Any]] = []
    alone: list[float] = []
    for r in range(reps):
        lock.append(_run(root / f"l{r}", n, span, WINDOW_S, scheduler="inline"))
        a = _run(root / f"i{r}", n, span, span, scheduler="inline", ack_timeout_s=ACK_TIMEOUT_S)
        alone.append(a["host_profile"]["run_seconds"])
    cpu = [r["host_profile"]["run_seconds"] for r in lock]
    best = lock[cpu.index(min(cpu))]
    hp = best["host_profile"]
    lock_cpu = hp["run_seconds"]
    return {
        f"cluster_sim_s_{n}": best["sim_seconds"],
        f"cluster_lockstep_vs_independent_{n}": round(lock_cpu / min(alone), 3),
        f"cluster_lockstep_spread_{n}": round(max(cpu) / lock_cpu, 3),
        f"cluster_board_s_per_cpu_s_{n}": round(n * BOARDS * best["sim_seconds"] / lock_cpu, 1),
        f"cluster_exchange_share_{n}": round(hp["exchange_seconds"] / lock_cpu, 4),
        f"cluster_build_cpu_s_per_node_{n}": round(hp["build_seconds"] / n, 3),
        f"cluster_heap_mb_per_node_{n}": round(hp["heap_bytes_per_node"] / 1e6, 2),
        # the first run: later ones reuse what the earlier ones freed
        f"cluster_rss_mb_per_node_{n}": round(
            lock[0]["host_profile"]["rss_bytes_per_node"] / 1e6, 2
        ),
        f"cluster_utilization_{n}": best["utilization"],
    }


def run(quick: bool) -> dict[str, Any]:
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
        for n, span, reps in QUICK_SIZES if quick else SIZES:
            w0 = time.perf_counter()
            out.update(lockstep_vs_independent(root / f"n{n}", n, span, reps))
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
