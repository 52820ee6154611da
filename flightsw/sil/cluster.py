"""``flightsw cluster``: N complete flight builds in lockstep windows on Dask.

Each node is a whole ``flightsw sim`` node (:class:`flightsw.sil.cluster_node.ClusterNode`)
flying in a string of pearls in the dawn-dusk plane (``spacing_deg`` apart). Nodes
live in Dask actors (:class:`~flightsw.sil.cluster_node.Shard`, one per worker, many
nodes each): a local cluster by default, ``scheduler`` for a real one. The runner
advances every shard to the end of a window of simulated time, collects the frames the
nodes queued on their crosslink terminals, carries them through the link model
(:class:`flightsw.sil.cluster_links.LinkRouter`: optical ISLs, GEO relays, passes)
and delivers them in the next window.

Determinism: no host time reaches a node or the router; a node's seed comes from the
cluster seed and its index; a frame's fate is drawn from (seed, window, sender) in the
sender's order; frames are delivered sorted by (arrival, sender, sequence). So the TM of
every node is the same, byte for byte, for a seed, however many workers there are and
whichever finishes first.

Outputs: ``nodes/<name>/`` as ``flightsw sim`` writes them, ``cluster_summary.json``
(power, utilization, jobs, relay traffic and latency rolled up; host timing apart in
``host_profile``) and ``cluster.png``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.runtime.executive import NS_PER_S
from flightsw.runtime.mission import Mission, load_mission
from flightsw.sil.cluster_faults import ClusterFaults
from flightsw.sil.cluster_ground import GroundRelayEndpoint
from flightsw.sil.cluster_handover import Completions, GroundWatch, heard_gaps, job_truth
from flightsw.sil.cluster_jobs import ClusterJobs, NodeView
from flightsw.sil.cluster_links import LinkRouter
from flightsw.sil.cluster_node import SCID_BASE, NodeSpec, Shard, node_mission, node_seed
from flightsw.sil.cluster_uplink import GroundUplink
from flightsw.sil.progress import Progress
from flightsw.sil.simulate import orbit_period_s
from hal.sim.backend import ground_stations, spacecraft_config
from sim_hw.environment import contact_windows
from sim_hw.isl import ClusterLinks, LinkOutage, formation, geo_relays
from sim_hw.orbit import CircularOrbit

MAX_NODES = 4096


@dataclass
class ClusterOptions:
    """What ``flightsw cluster`` was asked to do."""

    nodes: int = 4
    orbits: float | None = None
    duration_s: float | None = None
    window_s: float = 10.0
    start_s: float | None = None  # None: the mission's start
    seed: int = 1
    mission: str | None = None
    boards: int | None = None
    spacing_deg: float = 2.0  # ~250 km between neighbours at 750 km
    neighbours: int = 2  # terminals per side along the string
    out_dir: Path = Path("runs/cluster")
    scheduler: str | None = None
    workers: int = 2
    relay: bool = True
    workload: bool = True
    archive: bool = True
    plots: bool = True
    node_plots: bool = True  # False: cluster.png only (big runs)
    progress_every: int = 30  # windows between lines of progress.log (0: none)
    outages: tuple[LinkOutage, ...] = ()
    tc_script: tuple[tuple[float, int, bytes], ...] = ()  # (t_s, node, TC) by the best route
    geo_tc_script: tuple[tuple[float, int, bytes], ...] = ()  # (t_s, node, TC) by GEO relay
    status_report_s: float = 10.0  # each node's TM(130,6) to the ground (cluster jobs)
    uplink_verify_s: float | None = None  # a TC not accepted this long is sent again
    uplink_tries: int = 3  # sends of a TC before the ground counts it lost
    cluster_jobs: bool = False  # one job stream placed by headroom, not a workload per node
    workload_overrides: dict[str, Any] = field(default_factory=dict)  # over [workload]
    ground_beat_s: float = 20.0  # each node's heartbeat to the ground (0: none)
    ack_timeout_s: float | None = None  # the relay's resend timer; None: 2 windows + 10 s
    ground_silent_after_s: float = 60.0  # the ground's cluster FDIR: unheard this long
    halts: tuple[tuple[int, float], ...] = ()  # (node, s from start): the node dies
    safe_modes: tuple[tuple[int, float], ...] = ()  # (node, s from start): forced safe mode
    progress: bool | None = None
    ground: GroundRelayEndpoint | None = None  # what keeps frames reaching the ground
    client: Any = None  # an existing dask Client (kept open); None: make one
    extra: dict[str, Any] = field(default_factory=dict)


class _Done:
    """A result that is already there (what a Dask future's ``result`` gives)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class _InlineActor:
    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def __getattr__(self, name: str) -> Callable[..., _Done]:
        method = getattr(self._obj, name)
        return lambda *args, **kwargs: _Done(method(*args, **kwargs))


class InlineClient:
    """Shards in this process, one after the other (``--scheduler inline``): the same
    windows and exchange as on Dask, for tests and for a baseline without Dask."""

    def __init__(self, shards: int = 1) -> None:
        self.shards = shards

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": {f"inline-{i}": {} for i in range(self.shards)}}

    def submit(self, cls: Any, *args: Any, **_kwargs: Any) -> _Done:
        return _Done(_InlineActor(cls(*args)))

    def close(self) -> None:
        pass


def stop_worker_profiler(dask_worker: Any) -> bool:
    """Stop a Dask worker's statistical profiler (run on every worker by ``client.run``
    before the nodes are built) and drop what it kept. It samples the stack of the thread
    running the nodes every 10 ms and keeps a call tree a second for the last 1,000
    seconds: flight software's deep, varied stacks made that ~20 MB a worker per 1,200
    simulated seconds of 2 nodes (traced in the worker: distributed/profile.py), the
    growth a worker showed over an orbit that the nodes themselves did not. The workers
    of a scheduler given by ``--scheduler`` stop profiling too."""
    for name in ("profile", "profile-cycle"):
        callback = dask_worker.periodic_callbacks.get(name)
        if callback is not None:
            callback.stop()
    for kept in ("profile_history", "profile_keys_history", "profile_keys"):
        getattr(dask_worker, kept, {}).clear()
    return True


def _check(opts: ClusterOptions) -> None:
    if not 1 <= opts.nodes <= MAX_NODES:
        raise FlightswError(f"--nodes must be within 1..{MAX_NODES}")
    if opts.orbits is not None and opts.duration_s is not None:
        raise FlightswError("give --duration or --orbits, not both")
    if not (math.isfinite(opts.window_s) and 0.1 <= opts.window_s <= 600.0):
        raise FlightswError("--window must be within 0.1..600 s")
    ack = opts.ack_timeout_s
    if ack is not None and not (math.isfinite(ack) and ack > 0):
        raise FlightswError("the relay's ack timeout must be a positive number of seconds")
    for t, node, _tc in (*opts.tc_script, *opts.geo_tc_script):
        if not 0 <= node < opts.nodes or not math.isfinite(t):
            raise FlightswError(f"TC script: node {node} at {t} s is not in the cluster")
    for node, t in (*opts.halts, *opts.safe_modes):
        if not 0 <= node < opts.nodes or not (math.isfinite(t) and t >= 0):
            raise FlightswError(f"cluster fault: node {node} at {t} s is not in the cluster")


def _ack_timeout_s(opts: ClusterOptions) -> float:
    """The relay's resend timer: above two windows (a frame's ack comes back at the
    earliest a window after it was sent) unless the caller fixed it (a bench building
    the same nodes for runs with different windows)."""
    return opts.ack_timeout_s if opts.ack_timeout_s is not None else 2.0 * opts.window_s + 10.0


def _cluster_jobs(opts: ClusterOptions, first: NodeSpec) -> ClusterJobs:
    """The cluster's job stream from the mission's [workload], sized to all its boards."""
    from flightsw.ground.commanding import CommandEncoder
    from flightsw.runtime.dictionary import build_dictionary
    from flightsw.sil.workload import WorkloadConfig

    mission = node_mission(first)
    table = {**(mission.workload or {}), **opts.workload_overrides}
    cfg = WorkloadConfig.from_table(table, mission.path)
    boards = int(mission.hal.get("spacecraft", {}).get("boards", 256))
    encoder = CommandEncoder(build_dictionary(mission))
    return ClusterJobs(cfg, boards, opts.nodes, opts.seed, encoder)


def node_specs(opts: ClusterOptions, phases: list[float], start_ns: int) -> list[NodeSpec]:
    """The nodes of the cluster as a worker builds them (``phases``: their places in the
    string, degrees)."""
    out = opts.out_dir
    return [
        NodeSpec(
            index=i,
            name=f"node{i:02d}",
            mission=opts.mission,
            seed=node_seed(opts.seed, i),
            phase_deg=phase,
            scid=SCID_BASE + i,
            out_dir=str(out / "nodes" / f"node{i:02d}"),
            boards=opts.boards,
            relay=opts.relay,
            workload=opts.workload and not opts.cluster_jobs,
            archive=opts.archive,
            plots=opts.plots and opts.node_plots,
            # With a relay service the ground's TCs go through the link model (below).
            tc_script=() if opts.relay else tuple((t, tc) for t, n, tc in opts.tc_script if n == i),
            ack_timeout_s=_ack_timeout_s(opts),
            start_ns=None if opts.start_s is None else start_ns,
            ground_beat_s=opts.ground_beat_s,
            status_s=opts.status_report_s if opts.cluster_jobs else 0.0,
        )
        for i, phase in enumerate(phases)
    ]


def jobs_ledger_unplace(jobs: ClusterJobs | None, tags: tuple[int, ...], node: int) -> None:
    """A job TC the ground's uplink could not take: its jobs wait on the ground again."""
    if jobs is not None:
        jobs.ledger.unplace(tags, node)


def cluster_orbits(opts: ClusterOptions, base: Mission) -> list[CircularOrbit]:
    """The nodes' orbits: ``opts.nodes`` in the mission's plane, ``spacing_deg`` apart."""
    cfg = spacecraft_config(base.hal_config())
    plane = CircularOrbit(cfg.altitude_km, ltan_h=cfg.ltan_h, day_of_year=cfg.day_of_year)
    return formation(plane, opts.nodes, opts.spacing_deg)


def ground_links(
    opts: ClusterOptions,
    base: Mission,
    orbits: list[CircularOrbit],
    t0_s: float,
    t1_s: float,
    ground: GroundRelayEndpoint,
) -> tuple[LinkRouter, GroundUplink]:
    """The link model of the cluster from ``t0_s`` to ``t1_s`` (the mission's ground
    stations and each node's passes, ISLs and GEO relays with the run's outages) and the
    ground's uplink over it, which sends TCs again until PUS-1 verifies them."""
    cfg = spacecraft_config(base.hal_config())
    stations = ground_stations(base.hal.get("ground_stations"))
    links = ClusterLinks(orbits, geo_relays(cfg.day_of_year), outages=opts.outages)
    contacts = [contact_windows(o, stations, t0_s - 1.0, t1_s) for o in orbits]
    router = LinkRouter(links, contacts, stations, SCID_BASE, opts.seed, ground, opts.neighbours)
    verify_s = opts.uplink_verify_s or 6.0 * opts.window_s + 30.0
    return router, GroundUplink(router, opts.seed, verify_s, opts.uplink_tries)


def run_cluster(
    opts: ClusterOptions, wall: Callable[[], float] = time.perf_counter
) -> dict[str, Any]:
    """Run the cluster; returns the roll-up (also written to cluster_summary.json)."""
    _check(opts)
    base = load_mission(opts.mission, seed=opts.seed)
    orbits = cluster_orbits(opts, base)
    period = orbit_period_s(base)
    duration = opts.duration_s if opts.duration_s is not None else (opts.orbits or 1.0) * period
    frame_ns = round(NS_PER_S / base.executive.minor_frame_hz)
    start_ns = base.executive.start_ns if opts.start_s is None else round(opts.start_s * NS_PER_S)
    frames = max(1, round(duration * NS_PER_S / frame_ns))
    window_frames = max(1, round(opts.window_s * NS_PER_S / frame_ns))
    out = opts.out_dir
    out.mkdir(parents=True, exist_ok=True)
    specs = node_specs(opts, [o.phase_deg for o in orbits], start_ns)
    t0_s, t1_s = start_ns / NS_PER_S, start_ns / NS_PER_S + duration + opts.window_s
    ground = opts.ground if opts.ground is not None else GroundRelayEndpoint()
    # Every TC of the ground goes through the link model, verified by PUS-1 (not the
    # safe-mode TCs of ClusterFaults: they stand for the node's own FDIR).
    router, uplink = ground_links(opts, base, orbits, t0_s, t1_s, ground)
    for t_s, i, tc in sorted(opts.tc_script, key=lambda x: (x[0], x[1])) if opts.relay else ():
        uplink.submit(round(t_s * NS_PER_S), i, tc)
    for t_s, i, tc in sorted(opts.geo_tc_script, key=lambda x: (x[0], x[1])):
        uplink.submit(round(t_s * NS_PER_S), i, tc, only="geo")
    jobs = _cluster_jobs(opts, specs[0]) if opts.cluster_jobs else None
    if jobs is not None and opts.relay:  # views and verification from TM that came down
        jobs.outstanding = uplink.outstanding_jobs
        uplink.on_lost = lambda u: jobs_ledger_unplace(jobs, u.tags, u.node)
    views: dict[int, NodeView] = {}
    # The ground's operations: its cluster FDIR hears every packet that reaches it (by
    # relay here, over each node's own pass below); the ledger reads the job reports.
    watch = GroundWatch(opts.nodes, opts.ground_silent_after_s, start_ns)

    completions = Completions()

    def heard(origin: int, t_ns: int, pkt: bytes) -> None:
        watch.heard(origin - SCID_BASE, t_ns)
        heard_log.append((origin - SCID_BASE, t_ns))
        completions.on_packet(origin - SCID_BASE, pkt, t_ns)
        uplink.on_report(origin - SCID_BASE, pkt, t_ns)
        if jobs is not None:
            jobs.on_packet(origin - SCID_BASE, pkt, t_ns)

    heard_log: list[tuple[int, int]] = []  # what reached the ground by relay (bounded below)

    ground.listener = heard
    faults = ClusterFaults(opts, start_ns, specs[0])
    client = opts.client
    own_client = client is None
    if own_client and opts.scheduler == "inline":
        client = InlineClient(opts.workers)
    elif own_client:
        from flightsw.sil.campaign import _client

        client = _client(opts.scheduler, opts.workers)
    w_start = wall()
    try:
        if not isinstance(client, InlineClient):
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise FlightswError("no Dask worker joined the scheduler in 60 s") from None
            client.run(stop_worker_profiler)
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise FlightswError("the Dask cluster has no workers")
        n_shards = min(len(workers), opts.nodes)
        groups = [specs[s::n_shards] for s in range(n_shards)]
        shards = [
            client.submit(Shard, group, actor=True, workers=[workers[s]]).result()
            for s, group in enumerate(groups)
        ]
        heap = [sh.build() for sh in shards]
        per_shard = [(h.result(), len(g)) for h, g in zip(heap, groups, strict=True)]
        node_heap_bytes = sum(b * k for b, k in per_shard) / opts.nodes
        built_s = wall() - w_start
        log = _ProgressLog(out / "progress.log", opts.progress_every, frames, wall)
        inbound: dict[int, list[tuple[int, int, int, bytes]]] = {}
        bar = Progress(frames, "cluster", opts.progress)
        done = 0
        window = 0
        exchange_s = 0.0
        while done < frames:
            n = min(window_frames, frames - done)
            begin_ns = start_ns + done * frame_ns
            end_ns = begin_ns + n * frame_ns
            status = router.status(begin_ns / NS_PER_S)
            way_down = [st.ground or st.geo or bool(st.peers_with_ground) for st in status.values()]
            if jobs is not None:
                jobs.path, jobs.blocked = way_down, watch.silent
            tcs = jobs.plan(begin_ns, end_ns, views) if jobs is not None else {}
            if jobs is not None and opts.relay:  # the jobs leave by the uplink, arrive by link
                for i, sends in sorted(tcs.items()):
                    for t_ns, tc in sends:
                        if uplink.submit(t_ns, i, tc, jobs.tags_of(tc)) is None:
                            jobs.ledger.unplace(jobs.tags_of(tc), i)
                tcs = {}
            halted = faults.due(begin_ns, end_ns, tcs)
            calls = [
                sh.run_window(
                    end_ns,
                    {s.index: status[s.index] for s in group},
                    {s.index: inbound.get(s.index, []) for s in group},
                    {s.index: tcs[s.index] for s in group if s.index in tcs},
                    halted,
                )
                for sh, group in zip(shards, groups, strict=True)
            ]
            sent: dict[int, list[tuple[int, int, bytes]]] = {}
            for call in calls:
                for i, (frames_out, (n_jobs, target), (rx_ns, reports)) in call.result().items():
                    sent[i] = frames_out
                    if i not in halted and not opts.relay:  # else from TM(130,6) that came down
                        views[i] = NodeView(n_jobs, target)
                    if rx_ns is not None:
                        watch.heard(i, rx_ns)
                        heard_log.append((i, rx_ns))
                    for t_ns, pkt in reports:
                        completions.on_packet(i, pkt, t_ns)
                        uplink.on_report(i, pkt, t_ns)
                        if jobs is not None:
                            jobs.on_packet(i, pkt, t_ns)
            if len(heard_log) > 1_000_000:  # bounded: the oldest half goes
                del heard_log[:500_000]
            e0 = wall()
            inbound = router.route(window, end_ns, sent)
            uplink.send_due(begin_ns, end_ns, status, inbound)
            faults.drop_for_halted(inbound, halted)
            exchange_s += wall() - e0
            for i, event in watch.window(end_ns, n * frame_ns / NS_PER_S, way_down):
                event["tcs_cancelled"] = uplink.cancel_node(i)
                event["jobs_moved"] = jobs.ledger.node_silent(i) if jobs is not None else 0
            done += n
            window += 1
            bar.update(done)
            if log.due(window, done):
                rss = _rss_per_node([sh.memory().result() for sh in shards])
                log.update(window, done, (done * frame_ns) / NS_PER_S, exchange_s, rss)
        bar.close()
        run_s = wall() - w_start - built_s
        end_run_ns = start_ns + done * frame_ns
        memory = _per_node_memory([sh.memory().result() for sh in shards])
        node_summaries: dict[int, dict[str, Any]] = {}
        for sh in shards:
            node_summaries.update(sh.finish().result())
        where = opts.scheduler or f"local cluster ({len(workers)} workers)"
    finally:
        if own_client:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()
    summary = rollup(
        [node_summaries[i] for i in range(opts.nodes)], router, frames * frame_ns / NS_PER_S
    )
    summary["ground_relayed"] = ground.summary()
    summary["ground_uplink"] = uplink.summary()
    summary["ground_fdir"] = watch.summary()
    summary["cluster_faults"] = faults.summary()
    summary["ground_unheard"] = heard_gaps(
        heard_log, opts.nodes, start_ns, end_run_ns, 2.0 * max(opts.ground_beat_s, opts.window_s)
    )
    summary["tc_completed"] = sorted(
        [n, f"{rid:08x}", (t - start_ns) / NS_PER_S] for (n, rid), t in completions.done.items()
    )
    if jobs is not None:
        summary["cluster_jobs"] = jobs.summary()
        summary["job_truth"] = job_truth(jobs.ledger, node_summaries, inbound, uplink.held_tags())
        summary["goodput"] = summary["job_truth"]["goodput"]
        (out / "job_ledger.json").write_text(json.dumps(jobs.ledger.records(), indent=0) + "\n")
    for node_summary in node_summaries.values():
        node_summary.pop("jobs_truth", None)
    with (out / "ground_relayed.bin").open("wb") as f:
        for _origin, _t, _route, pkt in ground.packets:
            f.write(pkt)
    summary.update(
        nodes=opts.nodes,
        seed=opts.seed,
        window_s=window_frames * frame_ns / NS_PER_S,
        ground_beat_s=opts.ground_beat_s,
        status_report_s=opts.status_report_s if opts.cluster_jobs else 0.0,
        windows=window,
        spacing_deg=opts.spacing_deg,
    )
    summary["host_profile"] = {
        "cluster": where,
        "shards": n_shards,
        "build_seconds": round(built_s, 3),
        "heap_bytes_per_node": round(node_heap_bytes),
        **memory,
        "run_seconds": round(run_s, 3),
        "exchange_seconds": round(exchange_s, 3),
        "shard_busy_seconds": round(
            max(float(n["host_profile"]["wall_seconds"]) for n in node_summaries.values()), 3
        ),
        "realtime_factor": round(summary["sim_seconds"] / run_s, 2) if run_s > 0 else None,
    }
    (out / "cluster_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if opts.plots:
        summary["plots"] = plot(summary, router, out)
    return summary


class _ProgressLog:
    """``progress.log``: a line every ``every`` windows (simulated seconds done, host
    seconds, the exchange's share, an estimate of the host time left, and the resident
    set the nodes' processes grew by since before their nodes were built, MB per node),
    flushed, for watching a long run from outside (``tail -f``): a node whose memory
    grows with simulated time shows here. Host measures only: nothing here reaches a
    node."""

    def __init__(self, path: Path, every: int, frames: int, wall: Callable[[], float]) -> None:
        self.path, self.every, self.frames, self.wall = path, every, frames, wall
        self.t0 = wall()
        if every > 0:
            path.write_text("window sim_s host_s exchange_s left_s_estimate rss_mb_per_node\n")

    def due(self, window: int, done: int) -> bool:
        return self.every > 0 and (window % self.every == 0 or done >= self.frames)

    def update(
        self, window: int, done: int, sim_s: float, exchange_s: float, rss_per_node: int | None
    ) -> None:
        host = self.wall() - self.t0
        left = host * (self.frames - done) / done if done else 0.0
        rss = "-" if rss_per_node is None else f"{rss_per_node / 1e6:.2f}"
        with self.path.open("a") as f:
            f.write(f"{window} {sim_s:.1f} {host:.1f} {exchange_s:.2f} {left:.0f} {rss}\n")


def _rss_per_node(reports: list[dict[str, int]], what: str = "rss") -> int | None:
    """The growth of each worker process's resident set since before its nodes were
    built (``what``: ``rss`` now, ``peak_rss`` at its peak), summed over the processes
    (shards sharing a process count once), per node."""
    by_pid: dict[int, list[dict[str, int]]] = {}
    for r in reports:
        by_pid.setdefault(r["pid"], []).append(r)
    nodes = sum(r["nodes"] for r in reports)
    grown = sum(
        max(r[what] for r in rs) - min(r["rss_before"] for r in rs) for rs in by_pid.values()
    )
    return round(grown / nodes) if nodes else None


def _per_node_memory(reports: list[dict[str, int]]) -> dict[str, int | None]:
    """What the nodes hold after the run, per node: the peak growth of their processes'
    resident set (:func:`_rss_per_node`), and the Python heap they hold when the run
    traced it (tracemalloc started by the caller, as tools/bench_cluster.py does)."""
    nodes = sum(r["nodes"] for r in reports)
    heaps = [r["heap"] for r in reports if r["heap"] >= 0]
    return {
        "rss_bytes_per_node": _rss_per_node(reports, "peak_rss"),
        "heap_bytes_per_node_end": round(sum(heaps) / nodes) if heaps and nodes else None,
    }


def rollup(nodes: list[dict[str, Any]], router: LinkRouter, sim_s: float) -> dict[str, Any]:
    """The cluster's totals from its nodes' summaries and the router's counts."""
    busy = sum(float(n.get("busy_board_hours", 0.0)) for n in nodes)
    avail = sum(float(n.get("available_board_hours", 0.0)) for n in nodes)
    relay = {
        k: sum(int(n.get("relay", {}).get(k, 0)) for n in nodes)
        for k in sorted({k for n in nodes for k in n.get("relay", {})})
    }
    return {
        "sim_seconds": sim_s,
        "boards": sum(int(n.get("boards", 0)) for n in nodes),
        "payload_w_mean": round(sum(float(n.get("payload_w_mean", 0.0)) for n in nodes), 1),
        "utilization": round(busy / avail, 5) if avail > 0 else None,
        "busy_board_hours": round(busy, 4),
        "jobs_completed": sum(int(n.get("jobs_completed", 0)) for n in nodes),
        "jobs_failed": sum(int(n.get("jobs_failed", 0)) for n in nodes),
        "goodput": _goodput(nodes),
        "min_soc": min((float(n["min_soc"]) for n in nodes if "min_soc" in n), default=None),
        "tm_packets": sum(int(n.get("tm_packets", 0)) for n in nodes),
        "links": router.summary(),
        "relay_service": relay,
        "per_node": {
            n["node"]: {
                "scid": n["scid"],
                "tm_sha256": n["tm_sha256"],
                "tm_packets": n.get("tm_packets"),
                "utilization": n.get("utilization"),
                "payload_w_mean": n.get("payload_w_mean"),
                "min_soc": n.get("min_soc"),
                "crosslink": n.get("crosslink"),
            }
            for n in nodes
        },
    }


def _goodput(nodes: list[dict[str, Any]]) -> float | None:
    """The cluster's goodput: work kept over work kept plus work rolled back, summed
    over the nodes (each node's ``goodput`` is the same ratio of its own sums)."""
    lost = sum(float(n.get("lost_board_hours", 0.0)) for n in nodes)
    work = sum(float(n.get("work_board_hours", 0.0)) for n in nodes)
    return round((work - lost) / work, 5) if work > 0 else None


def plot(summary: dict[str, Any], router: LinkRouter, out: Path) -> list[str]:
    """cluster.png: per-node power and utilization, relay traffic per window, latency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(summary["per_node"])
    per = summary["per_node"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    x = np.arange(len(names))
    axes[0, 0].bar(x, [float(per[n]["payload_w_mean"] or 0.0) / 1e3 for n in names])
    axes[0, 0].set_title(f"payload power, cluster {summary['payload_w_mean'] / 1e3:.1f} kW mean")
    axes[0, 0].set_ylabel("kW")
    axes[0, 1].bar(x, [float(per[n]["utilization"] or 0.0) for n in names])
    axes[0, 1].set_title(f"utilization, cluster {summary['utilization']}")
    for ax in (axes[0, 0], axes[0, 1]):
        ax.set_xticks(x, names, rotation=90, fontsize=7)
    windows = np.arange(len(router.per_window)) * summary["window_s"]
    for route in ("isl", "geo", "ground"):
        axes[1, 0].plot(windows, [w[route] for w in router.per_window], label=route)
    axes[1, 0].set_title("relay frames sent per window")
    axes[1, 0].set_xlabel("s")
    axes[1, 0].legend()
    for route, stats in router.stats.items():
        if stats.latency_s:
            axes[1, 1].hist(np.asarray(stats.latency_s) * 1e3, bins=30, alpha=0.6, label=route)
    axes[1, 1].set_title("one-way latency (physical)")
    axes[1, 1].set_xlabel("ms")
    axes[1, 1].legend()
    fig.tight_layout()
    fig.savefig(out / "cluster.png", dpi=100)
    plt.close(fig)
    return ["cluster.png"]
