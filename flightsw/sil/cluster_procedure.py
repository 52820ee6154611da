"""A procedure against one node of an in-process cluster SIL, by name, through the links.

``flightsw ground run PROC.py --cluster N --node node01`` runs the same procedure API
(:class:`flightsw.ground.procedure.Procedure`) as against one build, but the build is
one node of a cluster of N flying in the string of pearls, and everything between the
procedure and the node goes through the cluster's link model, as in ``flightsw
cluster``:

- a TC leaves the ground by the route the ground's uplink chooses when it leaves (the
  node's pass, a GEO relay, or the nearest node with a way down, over ISL hops:
  :class:`flightsw.sil.cluster_uplink.GroundUplink`), resent if PUS-1 does not verify
  it in time;
- the procedure sees the node's TM that reached the ground: over the node's own pass
  (its RF link) and by relay (GEO, or neighbours with a way down), as it arrives.

One step is one lockstep window (``window_s``, 1 s by default): a procedure's timeouts
are in simulated time. The other nodes run their own builds (no workload), so they relay
and beat as in a cluster run. Faults are not injected here (``inject`` refuses).
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.ground.backend_console import BackendConsole
from flightsw.ground.commanding import CommandEncoder
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.executive import NS_PER_S
from flightsw.runtime.mission import load_mission
from flightsw.sil.cluster import ClusterOptions, cluster_orbits, ground_links, node_specs
from flightsw.sil.cluster_ground import GroundRelayEndpoint
from flightsw.sil.cluster_node import SCID_BASE, Shard, node_mission

MAX_HORIZON_S = 86_400.0  # the contact plan is computed this far ahead


def node_index(name: str, nodes: int) -> int:
    """A node by its name (``node01``, ``node-1``) or index (``1``)."""
    text = name.strip().lower()
    digits = text[4:].removeprefix("-").removeprefix("_") if text.startswith("node") else text
    if not digits.isdigit() or not 0 <= int(digits) < nodes:
        known = [f"node{i:02d}" for i in range(nodes)]
        shown = ", ".join(known) if nodes <= 16 else f"{known[0]}..{known[-1]}"
        raise FlightswError(f"--node {name!r}: not a node of a {nodes}-node cluster ({shown})")
    return int(digits)


class ClusterBackend:
    """A procedure's view of node ``node`` of an in-process cluster; see the module."""

    kind = "cluster"

    def __init__(self, opts: ClusterOptions, node: str, horizon_s: float = 7_200.0) -> None:
        opts = replace(opts, workload=False, cluster_jobs=False, plots=False)
        self.opts = opts
        self.index = i = node_index(node, opts.nodes)
        base = load_mission(opts.mission, seed=opts.seed)
        orbits = cluster_orbits(opts, base)
        self.frame_ns = round(NS_PER_S / base.executive.minor_frame_hz)
        self.window_ns = max(1, round(opts.window_s * NS_PER_S / self.frame_ns)) * self.frame_ns
        start_ns = (
            base.executive.start_ns if opts.start_s is None else round(opts.start_s * NS_PER_S)
        )
        self.now_ns = start_ns
        opts.out_dir.mkdir(parents=True, exist_ok=True)
        specs = node_specs(opts, [o.phase_deg for o in orbits], start_ns)
        t0 = start_ns / NS_PER_S
        t1 = t0 + min(max(horizon_s, opts.window_s), MAX_HORIZON_S)
        self.end_ns = round(t1 * NS_PER_S)
        self.ground = GroundRelayEndpoint()
        self.router, self.uplink = ground_links(opts, base, orbits, t0, t1, self.ground)
        self.dictionary = build_dictionary(node_mission(specs[i]))
        self.encoder = CommandEncoder(self.dictionary)
        self.shard = Shard(specs)
        self.shard.build()
        self.shard.nodes[i].keep_rx = True
        self.heard: list[tuple[int, bytes]] = []  # this node's TM that reached the ground
        self.ground.listener = self._heard
        self.inbound: dict[int, list[tuple[int, int, int, bytes]]] = {}
        self.window = 0
        self.sink: Callable[[bytes], None] | None = None  # e.g. the ground's TM archive
        # The node's packet-store playback heard over its pass: not real time, so not
        # in what step() returns; here (e.g. the console, marked PLAYBACK) if set.
        self.on_playback: Callable[[bytes], None] | None = None

    def _heard(self, origin: int, t_ns: int, pkt: bytes) -> None:
        self.uplink.on_report(origin - SCID_BASE, pkt, t_ns)
        if origin - SCID_BASE == self.index:
            self.heard.append((t_ns, pkt))

    def now_s(self) -> float:
        return self.now_ns / NS_PER_S

    def send(self, tc: bytes) -> None:
        """The TC leaves the ground at the end of the current window (the next one run)."""
        self.uplink.submit(self.now_ns, self.index, tc)

    def step(self) -> list[bytes]:
        """One window of the cluster; the node's TM that reached the ground in it."""
        if self.now_ns >= self.end_ns:
            raise FlightswError(f"the cluster's contact plan ends at {self.end_ns / NS_PER_S} s")
        begin, end = self.now_ns, self.now_ns + self.window_ns
        status = self.router.status(begin / NS_PER_S)
        out = self.shard.run_window(end, status, self.inbound)
        sent: dict[int, list[tuple[int, int, bytes]]] = {}
        for n, (frames, _view, (_rx_ns, reports)) in out.items():
            sent[n] = frames
            for t_ns, pkt in reports:  # over the node's own pass (its RF link)
                self.uplink.on_report(n, pkt, t_ns)
                if n == self.index:
                    self.heard.append((t_ns, pkt))
        node = self.shard.nodes[self.index]
        playback, node.rx_playback = node.rx_playback, []
        for t_ns, pkt in playback:
            self.uplink.on_report(self.index, pkt, t_ns)  # PUS-1 seen late is still seen
        self.inbound = self.router.route(self.window, end, sent)
        self.uplink.send_due(begin, end, status, self.inbound)
        self.window += 1
        self.now_ns = end
        got = [pkt for _t, pkt in sorted(self.heard, key=lambda item: item[0])]
        self.heard = []
        for pkt in [*got, *(p for _t, p in playback)]:
            if self.sink is not None:
                self.sink(pkt)
        if self.on_playback is not None:
            for _t, pkt in playback:
                self.on_playback(pkt)
        return got

    def inject(self, kind: str, target: int | str, detail: dict[str, Any]) -> float:
        raise FlightswError("fault injection is not offered against a cluster node")

    def summary(self) -> dict[str, Any]:
        return {
            "node": f"node{self.index:02d}",
            "uplink": self.uplink.summary(),
            "ground_relayed": self.ground.summary(),
            "links": self.router.summary(),
        }

    def close(self) -> None:
        self.shard.finish()


def cluster_backend(
    nodes: int, node: str, out_dir: Path, mission: str | None = None, **kw: Any
) -> ClusterBackend:
    """``--cluster N --node NAME``: a backend with the cluster's usual options."""
    opts = ClusterOptions(nodes=nodes, mission=mission, out_dir=out_dir, window_s=1.0, **kw)
    return ClusterBackend(opts, node)


def cli_backend(args: argparse.Namespace, archive_path: Path) -> tuple[ClusterBackend, Any]:
    """``flightsw ground run PROC --cluster N --node NAME [--start S] [--boards B]``: the
    backend, and the ground's archive of the node's TM that reached the ground."""
    from flightsw.ground.archive import TmArchive

    out = archive_path.parent / "cluster-procedure"
    backend = cluster_backend(
        args.cluster,
        args.node,
        out,
        mission=args.mission,
        boards=args.boards,
        start_s=args.start,
        archive=False,
    )
    try:
        archive = TmArchive(archive_path, backend.dictionary)
    except sqlite3.Error as exc:
        backend.close()
        raise FlightswError(f"--archive {archive_path}: {exc}") from None
    backend.sink = archive.ingest
    return backend, archive


def cluster_console(
    backend: ClusterBackend, out: Callable[[str], None] = print, listen_s: float = 5.0
) -> BackendConsole:
    """``flightsw ground --cluster N --node NAME``: the console's line mode on the node's
    TM that reached the ground, its packet-store playback marked ``PLAYBACK``."""
    console = BackendConsole(backend, out=out, listen_s=listen_s)
    backend.on_playback = lambda pkt: console.ingest(pkt, playback=True)
    return console
