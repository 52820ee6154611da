"""Relay: forwards TCs and TM addressed to other spacecraft over the crosslink terminals.

A node of a cluster is often out of ground contact while a neighbour has a pass or a
GEO data relay sees it. This service carries space packets hop by hop in relay frames
(:data:`RELAY_FRAME`: kind, origin SCID, destination SCID or the ground, the sending
hop's SCID, priority, the hop's sequence number, the packet):

- ``relay.forward`` (a TC to this node) asks it to carry a TC to another spacecraft
  by SCID; a frame for this node whose packet is a TC goes to the dispatcher (PUS-1
  reports come from the node that executes it).
- Out of ground contact, this node's own verification (PUS-1) and event (PUS-5)
  reports, and any TM ``capture_services`` names, go to the ground by relay.
- Store and forward: a frame waits in a bounded queue per priority (0 commands and FDIR
  events, 1 other TM, 2 payload data; the oldest of a full priority is dropped and
  counted) until a next hop is up; each hop keeps a frame until the next hop
  acknowledges it (custody) and sends it again after ``ack_timeout_s``, so a link that
  drops mid-transfer loses nothing; duplicates are recognised by (hop, sequence).
- Route choice (deterministic): to the ground over this node's own pass, else a GEO
  relay, else the lowest-SCID neighbour with a way down; to a node directly when its
  link is up, else the neighbour nearest to it (by SCID, along the string). The route
  to the ground is explained in TM: event ``GROUND_ROUTE`` when it changes, and
  per-route counts in housekeeping.
- Cluster FDIR: heartbeats to linked neighbours; one linked but unheard for
  ``silent_after_s`` is silent (``NODE_SILENT``) and is never a next hop until heard
  again (a failed relay node is routed around). With ``ground_beat_s`` the node also
  sends TM(131,1) to the ground every so often over whatever route it has, so the
  ground notices a node it no longer hears on any route.
"""

from __future__ import annotations

import struct
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import CommandError, DecodeError
from flightsw.base.schema import REQUIRED, Opt, Schema
from flightsw.framework import layouts as L
from flightsw.framework.app import (
    App,
    Arg,
    EventDef,
    FailureCode,
    HkDef,
    ParameterDef,
    ReportDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.exec_services import CommandPath, TmTap
from flightsw.framework.ports import OptionalDevice, Service
from hal.interfaces import HOP_GEO, HOP_GROUND, Crosslink, CrosslinkStatus

NS_PER_S = 1_000_000_000
GROUND_SCID = 0xFFFF  # a frame's destination (or hop) that is the ground
KIND_DATA, KIND_ACK, KIND_HEARTBEAT = 1, 2, 3
PRIORITIES = 3  # 0 commands and FDIR events, 1 other TM, 2 payload data
ROUTE_NONE, ROUTE_PASS, ROUTE_GEO, ROUTE_NEIGHBOUR = 0, 1, 2, 3

RELAY_FRAME = L.Struct(
    "kind" / L.U8,
    "origin" / L.U16,
    "dest" / L.U16,
    "hop" / L.U16,
    "priority" / L.U8,
    "seq" / L.U32,
    "packet" / L.REST,
)
_HEAD = struct.Struct(">BHHHBI")  # the hot path, tested equal to RELAY_FRAME
FORWARD = L.Struct("dest" / L.U16, "packet" / L.REST)
BEAT_SERVICE = 131  # mission-specific: the node's heartbeat to the ground, TM(131,1)
BEAT = L.Struct("count" / L.U32, "route" / L.U8, "peers_silent" / L.U8)


@dataclass(frozen=True)
class RelayFrame:
    kind: int
    origin: int
    dest: int
    hop: int
    priority: int
    seq: int
    packet: bytes

    def encode(self) -> bytes:
        return (
            _HEAD.pack(self.kind, self.origin, self.dest, self.hop, self.priority, self.seq)
            + self.packet
        )

    @classmethod
    def decode(cls, data: bytes) -> RelayFrame:
        """A frame from its octets; DecodeError naming what is wrong."""
        if len(data) < _HEAD.size:
            raise DecodeError("relay_frame", len(data), f"header needs {_HEAD.size} octets")
        kind, origin, dest, hop, prio, seq = _HEAD.unpack_from(data)
        if kind not in (KIND_DATA, KIND_ACK, KIND_HEARTBEAT):
            raise DecodeError("relay_frame.kind", 0, f"{kind}: not 1 data, 2 ack, 3 heartbeat")
        if prio >= PRIORITIES:
            raise DecodeError("relay_frame.priority", 7, f"{prio} is not below {PRIORITIES}")
        packet = bytes(data[_HEAD.size :])
        if kind == KIND_DATA and len(packet) < 7:
            raise DecodeError("relay_frame.packet", _HEAD.size, "shorter than a space packet")
        return cls(kind, origin, dest, hop, prio, seq, packet)


def heartbeat_frame(sender: int, count: int) -> bytes:
    """The heartbeat a node sends its neighbours every ``heartbeat_s`` (not acknowledged)."""
    return RelayFrame(KIND_HEARTBEAT, sender, 0, sender, 0, count & 0xFFFFFFFF, b"").encode()


def ack_frame(sender: int, to_seq: int) -> bytes:
    """The acknowledgement a hop (or the ground: ``GROUND_SCID``) sends for a frame."""
    return RelayFrame(KIND_ACK, sender, 0, sender, 0, to_seq, b"").encode()


def is_tc(packet: bytes) -> bool:
    """The space packet's type bit: 1 for a telecommand."""
    return bool(packet and packet[0] & 0x10)


def tm_priority(packet: bytes) -> int:
    """Priority of a PUS TM packet: verification and events first, HK next, the rest last."""
    service = packet[7] if len(packet) > 7 else 0
    if service in (1, 5, BEAT_SERVICE):
        return 0
    return 1 if service == 3 else 2


OPTIONS = Schema(
    Opt("scid", "int", REQUIRED, min=0, max=1023, doc="this spacecraft's id (as comms)"),
    Opt(
        "capture_services",
        "list",
        [1, 5],
        max=32,
        items=Opt("service", "int", min=0, max=255),
        doc="PUS services of this node's TM relayed to the ground out of contact",
    ),
    Opt(
        "custody_services",
        "list",
        [],
        max=32,
        items=Opt("service", "int", min=0, max=255),
        doc="PUS services relayed to the ground in contact too, with custody (the real-time"
        " downlink loses what a bit error hits; these must arrive)",
    ),
)


class RelayService(App):
    """Store-and-forward relay of packets between spacecraft and to the ground."""

    crosslink = OptionalDevice(Crosslink)  # absent on a node flying alone
    commands = Service(CommandPath)  # where relayed TCs for this node go
    node_tm = Service(TmTap)  # this node's real-time TM, relayed out of contact
    DEFAULT_RATE_HZ = 10.0
    OPTIONS = OPTIONS
    PARAMETERS = (
        ParameterDef(1, "queue_depth", "u32", 512, 1, 1 << 20, "frames", "per priority"),
        ParameterDef(2, "ack_timeout_s", "f32", 30.0, 0.1, 3600.0, "s", "resend after"),
        ParameterDef(3, "max_unacked", "u32", 256, 1, 1 << 16, "frames", "in flight"),
        ParameterDef(4, "frames_per_step", "u32", 64, 1, 1 << 16, "frames", "sent per step"),
        ParameterDef(5, "heartbeat_s", "f32", 10.0, 0.1, 3600.0, "s", "to each neighbour"),
        ParameterDef(
            6, "silent_after_s", "f32", 60.0, 1.0, 86400.0, "s", "a linked peer unheard: silent"
        ),
        ParameterDef(
            7, "ground_beat_s", "f32", 0.0, 0.0, 3600.0, "s", "heartbeat to the ground, 0: none"
        ),
    )
    REPORTS = (
        ReportDef(BEAT_SERVICE, 1, "relay_beat", BEAT, "heartbeat to the ground (any route)"),
    )
    TELEMETRY = (
        TelemetryDef("queued_p0", "u32", "", "commands and FDIR events waiting"),
        TelemetryDef("queued_p1", "u32", "", "other TM waiting"),
        TelemetryDef("queued_p2", "u32", "", "payload data waiting"),
        TelemetryDef("dropped_p0", "u32", "", "priority-0 frames dropped: queue full"),
        TelemetryDef("dropped_p1", "u32"),
        TelemetryDef("dropped_p2", "u32"),
        TelemetryDef("unacked", "u32", "", "frames sent, not yet acknowledged"),
        TelemetryDef("frames_sent", "u32"),
        TelemetryDef("frames_received", "u32"),
        TelemetryDef("frames_bad", "u32", "", "frames that did not decode"),
        TelemetryDef("duplicates", "u32", "", "frames received again (acknowledged again)"),
        TelemetryDef("retransmits", "u32"),
        TelemetryDef("tx_refused", "u32", "", "frames the terminal refused"),
        TelemetryDef("tc_forwarded", "u32", "", "TCs accepted by relay.forward"),
        TelemetryDef("tc_delivered", "u32", "", "relayed TCs handed to this dispatcher"),
        TelemetryDef("tm_captured", "u32", "", "own TM queued for relay to the ground"),
        TelemetryDef("relayed_for_others", "u32", "", "frames forwarded for other origins"),
        TelemetryDef("via_pass", "u32", "", "frames sent down over this node's pass"),
        TelemetryDef("via_geo", "u32", "", "frames sent through a GEO relay"),
        TelemetryDef("via_neighbour", "u32", "", "frames for the ground sent to a neighbour"),
        TelemetryDef("direct_isl", "u32", "", "frames sent to a node over its own link"),
        TelemetryDef("ground_route", "u8", "", "0 none, 1 pass, 2 GEO, 3 neighbour"),
        TelemetryDef("ground_route_hop", "u16", "", "SCID of the neighbour used (route 3)"),
        TelemetryDef("peers_silent", "u8", "", "linked neighbours not heard for silent_after_s"),
        TelemetryDef("heartbeats_received", "u32"),
        TelemetryDef("silences", "u32", "", "NODE_SILENT raised since start"),
    )
    HOUSEKEEPING = (HkDef(1, "relay", tuple(t.name for t in TELEMETRY), interval_s=10.0),)
    EVENTS = (
        EventDef(
            1,
            "GROUND_ROUTE",
            Severity.INFO,
            (Arg("route", "u8"), Arg("hop", "u16")),
            "route to the ground now {route} (0 none, 1 pass, 2 GEO, 3 via SCID {hop})",
        ),
        EventDef(
            2,
            "RELAY_DROPPED",
            Severity.MEDIUM,
            (Arg("priority", "u8"), Arg("count", "u32")),
            "relay queue of priority {priority} full: {count} dropped so far",
        ),
        EventDef(
            3,
            "NODE_SILENT",
            Severity.HIGH,
            (Arg("scid", "u16"),),
            "neighbour {scid} linked but silent (no heartbeat for silent_after_s)",
        ),
        EventDef(
            4, "NODE_BACK", Severity.INFO, (Arg("scid", "u16"),), "neighbour {scid} heard again"
        ),
    )

    def init(self) -> None:
        self.scid = int(self.ctx.options["scid"])
        self.capture = {int(s) for s in self.ctx.options.get("capture_services", [1, 5])}
        self.custody = {int(s) for s in self.ctx.options.get("custody_services", [])}
        self.link: Crosslink | None = self.crosslink
        kept = self.ctx.retained  # queues and custody survive a restart of this app
        if "queues" not in kept:
            kept["queues"] = [deque() for _ in range(PRIORITIES)]
            kept["unacked"] = OrderedDict()
            kept["seen"] = OrderedDict()
            kept["seq"] = 0
            kept["delivered"] = OrderedDict()
            kept["counts"] = dict.fromkeys((t.name for t in self.TELEMETRY), 0)
        self.kept = kept
        self.queues: list[deque[RelayFrame]] = kept["queues"]
        self.unacked: OrderedDict[int, tuple[int, int, RelayFrame]] = kept["unacked"]
        self.seen: OrderedDict[tuple[int, int], None] = kept["seen"]
        self.counts: dict[str, int] = kept["counts"]
        self.delivered: OrderedDict[bytes, None] = kept["delivered"]
        self.status = CrosslinkStatus(frozenset(), False, False, frozenset())
        self.route = (-1, 0)
        # Heartbeats: when each linked peer was last heard (or its link came up).
        self.heard: dict[int, int] = {}
        self.silent: set[int] = set()
        self.next_beat = 0
        self.beats = 0
        self.next_ground_beat = 0
        self.ground_beats = 0
        self.node_tm.tap(self.name, self._tap)

    # --- what goes in ------------------------------------------------------------------
    def _enqueue(self, frame: RelayFrame) -> bool:
        """Queue a frame at its priority; a full queue drops its oldest (counted). The
        event about it is sent after the queue is back in bounds (it may come back here
        through the TM tap)."""
        q = self.queues[frame.priority]
        q.append(frame)
        key = f"dropped_p{frame.priority}"
        dropped = 0
        while len(q) > int(self.param("queue_depth")):
            q.popleft()
            dropped += 1
        if dropped:
            before = self.counts[key]
            self.counts[key] = after = before + dropped
            if after.bit_length() > before.bit_length():  # at 1, 2, 4, ...: no flood
                self.emit("RELAY_DROPPED", priority=frame.priority, count=after & 0xFFFFFFFF)
        return not dropped

    def _tap(self, pkt: bytes) -> None:
        """This node's own TM: what ``capture_services`` names goes down by relay while
        the node has no pass (in contact, comms sends it); what ``custody_services``
        names always goes by relay too, acknowledged hop by hop."""
        if len(pkt) < 8:
            return
        if pkt[7] not in self.custody and (self.status.ground or pkt[7] not in self.capture):
            return
        self.counts["tm_captured"] += 1
        self._enqueue(
            RelayFrame(KIND_DATA, self.scid, GROUND_SCID, self.scid, tm_priority(pkt), 0, pkt)
        )

    @command(function_id=1, layout=FORWARD)
    def cmd_forward(self, dest: int, packet: bytes) -> None:
        """Carry a space packet (a TC) to spacecraft ``dest`` (store and forward)."""
        if dest == self.scid or dest > 1023:
            raise CommandError(FailureCode.ARG_OUT_OF_RANGE, f"dest {dest}")
        if len(packet) < 7 or not is_tc(packet):
            raise CommandError(FailureCode.BAD_APP_DATA, "packet is not a TC space packet")
        if len(self.queues[0]) >= int(self.param("queue_depth")):
            raise CommandError(FailureCode.QUEUE_FULL, "relay queue for commands full")
        self._enqueue(RelayFrame(KIND_DATA, self.scid, dest, self.scid, 0, 0, bytes(packet)))
        self.counts["tc_forwarded"] += 1

    # --- each step -----------------------------------------------------------------------
    def step(self, now_ns: int) -> None:
        link = self.link
        if link is None:
            return
        self.status = link.status()
        self._receive(link)
        self._resend(now_ns)
        self._send(link, now_ns)
        self._explain_route()
        self._heartbeats(link, now_ns)
        self._ground_beat(now_ns)
        self._telemetry()

    def _receive(self, link: Crosslink) -> None:
        dispatcher = self.commands
        for raw in link.receive():
            try:
                f = RelayFrame.decode(raw)
            except DecodeError:
                self.counts["frames_bad"] += 1
                continue
            self.counts["frames_received"] += 1
            if f.kind == KIND_HEARTBEAT:
                self.heard[f.hop] = self.ctx.now_ns()
                self.counts["heartbeats_received"] += 1
                if f.hop in self.silent:
                    self.silent.discard(f.hop)
                    self.emit("NODE_BACK", scid=f.hop)
                continue
            if f.kind == KIND_ACK:
                self.unacked.pop(f.seq, None)
                continue
            key = (f.hop, f.seq)
            if key in self.seen:
                self.counts["duplicates"] += 1
                self._ack(link, f)
                continue
            if f.dest == self.scid:
                if not is_tc(f.packet) or dispatcher is None:
                    self.counts["frames_bad"] += 1
                elif dispatcher.room() <= 0:
                    continue  # not acknowledged: the hop sends it again later
                elif f.packet in self.delivered:  # came twice by two routes: run once
                    self.counts["duplicates"] += 1
                else:
                    dispatcher.submit(f.packet)
                    self.counts["tc_delivered"] += 1
                    self.delivered[f.packet] = None
                    while len(self.delivered) > 1024:
                        self.delivered.popitem(last=False)
            else:
                # A full queue drops its oldest (counted in dropped_p<priority>).
                self._enqueue(
                    RelayFrame(KIND_DATA, f.origin, f.dest, self.scid, f.priority, 0, f.packet)
                )
                self.counts["relayed_for_others"] += 1
            self._remember(key)
            self._ack(link, f)

    def _remember(self, key: tuple[int, int]) -> None:
        self.seen[key] = None
        while len(self.seen) > 4096:  # bounded: a resend older than this is long acked
            self.seen.popitem(last=False)

    def _ack(self, link: Crosslink, f: RelayFrame) -> None:
        if f.hop != GROUND_SCID:
            link.send(f.hop, ack_frame(self.scid, f.seq))

    def _resend(self, now_ns: int) -> None:
        """Frames not acknowledged in time go back to the front of their queue."""
        timeout = int(float(self.param("ack_timeout_s")) * NS_PER_S)
        late = [s for s, (sent, _, _) in self.unacked.items() if now_ns - sent >= timeout]
        for seq in reversed(late):
            _, _, frame = self.unacked.pop(seq)
            self.queues[frame.priority].appendleft(frame)
            self.counts["retransmits"] += 1

    def _ground_hop(self) -> tuple[int, int] | None:
        """(route code, next hop) to the ground now, or None: stay queued."""
        st = self.status
        if st.ground:
            return ROUTE_PASS, HOP_GROUND
        if st.geo:
            return ROUTE_GEO, HOP_GEO
        usable = st.peers_with_ground - self.silent  # a silent neighbour is routed around
        if usable:
            return ROUTE_NEIGHBOUR, min(usable)
        return None

    def _hop_to(self, dest: int) -> int | None:
        """Next hop to a node: itself when its link is up, else the neighbour nearest to
        it along the string (closer than this node), else None."""
        peers = self.status.peers - self.silent  # a silent neighbour is routed around
        if dest in peers:
            return dest
        closer = [p for p in peers if abs(p - dest) < abs(self.scid - dest)]
        return min(closer, key=lambda p: (abs(p - dest), p)) if closer else None

    def _send(self, link: Crosslink, now_ns: int) -> None:
        budget = int(self.param("frames_per_step"))
        max_unacked = int(self.param("max_unacked"))
        ground = self._ground_hop()
        for q in self.queues:
            held: deque[RelayFrame] = deque()
            while q and budget > 0 and len(self.unacked) < max_unacked:
                f = q.popleft()
                if f.dest == GROUND_SCID:
                    hop = None if ground is None else ground[1]
                    route = (
                        ""
                        if ground is None
                        else ("via_pass", "via_geo", "via_neighbour")[ground[0] - 1]
                    )
                else:
                    hop = self._hop_to(f.dest)
                    route = "direct_isl" if hop == f.dest else "via_neighbour"
                if hop is None:
                    held.append(f)  # no way there now: stays, in its order
                    continue
                seq = f.seq  # a resend keeps its number: the hop knows it if it got it
                if seq == 0:
                    self.kept["seq"] = seq = self.kept["seq"] % 0xFFFFFFFF + 1
                out = RelayFrame(KIND_DATA, f.origin, f.dest, self.scid, f.priority, seq, f.packet)
                if not link.send(hop, out.encode()):
                    self.counts["tx_refused"] += 1
                    held.append(f)
                    budget = 0
                    break
                self.unacked[seq] = (now_ns, hop, out)
                self.counts["frames_sent"] += 1
                self.counts[route] += 1
                budget -= 1
            held.extend(q)
            q.clear()
            q.extend(held)

    def _heartbeats(self, link: Crosslink, now_ns: int) -> None:
        """Beat to every linked neighbour; a neighbour whose link is up but that was not
        heard for ``silent_after_s`` is silent (an event; counted in HK). A link that is
        down by geometry or outage says nothing about the node: its clock restarts."""
        peers = self.status.peers
        for p in [p for p in self.heard if p not in peers]:
            del self.heard[p]  # out of reach: no evidence either way
        for p in peers:
            self.heard.setdefault(p, now_ns)
        if now_ns >= self.next_beat:
            self.next_beat = now_ns + int(float(self.param("heartbeat_s")) * NS_PER_S)
            self.beats += 1
            for p in sorted(peers):
                link.send(p, heartbeat_frame(self.scid, self.beats))
        limit = int(float(self.param("silent_after_s")) * NS_PER_S)
        for p in sorted(peers):
            if now_ns - self.heard[p] >= limit and p not in self.silent:
                self.silent.add(p)
                self.counts["silences"] = self.counts.get("silences", 0) + 1
                self.emit("NODE_SILENT", scid=p)
        self.counts["peers_silent"] = len(self.silent)

    def _ground_beat(self, now_ns: int) -> None:
        """TM(131,1) every ``ground_beat_s``: in contact comms sends it down, out of
        contact this service relays it (priority 0), so the ground hears the node over
        whatever route it has and notices when it hears nothing."""
        period = float(self.param("ground_beat_s"))
        if period <= 0.0 or now_ns < self.next_ground_beat:
            return
        self.next_ground_beat = now_ns + int(period * NS_PER_S)
        self.ground_beats += 1
        body = struct.pack(
            ">IBB", self.ground_beats & 0xFFFFFFFF, max(0, self.route[0]), len(self.silent) & 0xFF
        )
        self.send_tm(BEAT_SERVICE, 1, body)

    def _explain_route(self) -> None:
        g = self._ground_hop()
        route = (ROUTE_NONE, 0) if g is None else (g[0], g[1] if g[0] == ROUTE_NEIGHBOUR else 0)
        if route != self.route:
            self.route = route
            self.emit("GROUND_ROUTE", route=route[0], hop=route[1])

    def _telemetry(self) -> None:
        c = self.counts
        for p in range(PRIORITIES):
            c[f"queued_p{p}"] = len(self.queues[p])
        c["unacked"] = len(self.unacked)
        c["ground_route"], c["ground_route_hop"] = self.route
        self.tlm.update({k: v & 0xFFFFFFFF for k, v in c.items()})

    def pending(self) -> dict[str, Any]:
        """Frames still held by this node (queued or in custody), for scoring."""
        return {
            "queued": sum(len(q) for q in self.queues),
            "unacked": len(self.unacked),
        }
