"""The on-board ends of the space link: uplink (CLTU to TC packets) and downlink (TM
packets to CADUs).

Uplink, in order: CLTU decoding (BCH, optional TC derandomizing) -> TC frame (FECF,
spacecraft and virtual channel id) -> SDLS verification when the mission configures
security associations -> FARM-1 (COP-1 sequence control) -> the space packets in the
frame data, handed on in order. A frame that fails any step is counted by reason and
never reaches the dispatcher; SDLS refusals are also kept (bounded) for events.

Back-pressure, so nothing acknowledged is lost: with a consumer (:class:`TcSink`, the
dispatcher) the chain takes an FDU out of FARM-1 only when the consumer has room for
its packets. Until then the FDU waits in FARM-1's bounded buffer; when that is full
FARM-1 enters Wait and FOP-1 on the ground retransmits once the CLCW clears it. What
the CLCW acknowledged (V(R)) is in the FARM buffer or already with the consumer.

Bounded work: octets from the radio wait in a bounded backlog (``accept``; beyond it
they are dropped and counted) and :meth:`UplinkChain.process` decodes at most a given
number of octets and frames per call; the rest stays for the next call (counted).

Downlink: packets go into virtual channels by priority (VC0 real-time, VC1 playback),
frames carry the FARM's CLCW in their OCF, and each frame leaves as a CADU (attached
sync marker + randomized frame).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from flightsw.base.errors import DecodeError
from flightsw.link.clcw import Clcw
from flightsw.link.cltu import CltuDecoder
from flightsw.link.farm import Farm
from flightsw.link.framer import FrameProtector, TmFramer, VirtualChannel
from flightsw.link.sdls import SdlsError, SdlsTc
from flightsw.link.sync import encode_cadu
from flightsw.link.tc_frame import TcFrame
from flightsw.packets import iter_packets

TC_HEADER_LEN = 5
VC_REALTIME = 0
VC_PLAYBACK = 1
SLICE_OCTETS = 512  # octets decoded between two checks of the per-call frame limit


@dataclass
class LinkConfig:
    """Link parameters shared by the flight side and a ground station."""

    scid: int = 0x2A
    tc_vcid: int = 0
    tc_randomize: bool = True
    tm_frame_len: int = 1024
    farm_window: int = 10
    vc_depth: int = 2048
    farm_buffer: int = 8  # AD FDUs FARM-1 holds for a busy consumer before it enters Wait
    uplink_backlog: int = 65_536  # octets received and not yet decoded, at most
    uplink_octets_per_step: int = 8_192  # decoded per comms step, at most
    uplink_frames_per_step: int = 32  # TC frames handled per comms step (+ one slice)


class TcSink(Protocol):
    """Where TC packets go: a consumer that says how much room it has."""

    uplink_depth: int

    def room(self) -> int:
        """How many more TCs it takes now."""
        ...

    def submit(self, tc: bytes) -> bool:
        """Take one TC; False (and reported by the sink) when it refused it."""
        ...


@dataclass
class UplinkCounters:
    cltu_frames: int = 0
    frame_errors: int = 0
    wrong_scid: int = 0
    wrong_vcid: int = 0
    sdls_rejected: dict[str, int] = field(default_factory=dict)
    key_commands: int = 0
    farm_rejected: int = 0
    packets: int = 0
    packet_errors: int = 0  # FDUs whose data did not split into whole packets (tail lost)
    backlog_dropped: int = 0  # octets refused because the backlog was full
    limited_calls: int = 0  # process() calls that stopped at a limit with octets left
    cltu_rejected_before: int = 0  # CLTUs rejected by decoders replaced by a reset


def split_packets(data: bytes) -> tuple[list[bytes], bool]:
    """The whole packets at the start of an FDU, and whether a broken tail followed."""
    packets: list[bytes] = []
    try:
        for pkt in iter_packets(data):
            packets.append(pkt)
    except DecodeError:
        return packets, True
    return packets, False


class UplinkChain:
    """CLTU octets in, TC space packets out (see the module docstring for the steps).

    With ``sink`` the packets go to it as it has room (back-pressure through FARM-1);
    without, :meth:`feed` returns them all (a consumer that is always ready).
    """

    def __init__(
        self,
        cfg: LinkConfig,
        sdls: SdlsTc | None = None,
        event_limit: int = 64,
        sink: TcSink | None = None,
    ) -> None:
        self.cfg = cfg
        self.cltu = CltuDecoder(randomize=cfg.tc_randomize)
        self.farm = Farm(vcid=cfg.tc_vcid, window=cfg.farm_window, buffer_limit=cfg.farm_buffer)
        self.sdls = sdls
        self.sink = sink
        self.counters = UplinkCounters()
        self.refusals: deque[str] = deque(maxlen=event_limit)  # for events, newest kept
        self._backlog: deque[bytes] = deque()
        self._backlog_octets = 0
        self._head = 0  # octets of the first backlog chunk already decoded
        self._out: list[bytes] = []
        self._clcw: tuple[Clcw, bytes] | None = None

    # --- octets in -------------------------------------------------------------
    def feed(self, data: bytes) -> list[bytes]:
        """Octets from the receiver, decoded at once; the TC packets not taken by a sink."""
        for raw in self.cltu.feed(data):
            self.counters.cltu_frames += 1
            self._frame(raw)
            self.deliver()
        return self.take()

    def take(self) -> list[bytes]:
        """The TC packets delivered with no sink since the last call, in order."""
        out, self._out = self._out, []
        return out

    def accept(self, data: bytes) -> bool:
        """Queue octets for :meth:`process`; False (counted) when the backlog is full."""
        if self._backlog_octets + len(data) > self.cfg.uplink_backlog:
            self.counters.backlog_dropped += len(data)
            return False
        if data:
            self._backlog.append(bytes(data))
            self._backlog_octets += len(data)
        return True

    @property
    def backlog(self) -> int:
        """Octets accepted and not yet decoded."""
        return self._backlog_octets

    def process(self, max_octets: int | None = None, max_frames: int | None = None) -> int:
        """Decode backlog octets, at most ``max_octets`` of them and, once ``max_frames``
        frames are reached, no further slice; returns the frames handled. The packets go
        to the sink (with no sink they are kept for the next :meth:`feed` return)."""
        octets = self.cfg.uplink_octets_per_step if max_octets is None else max_octets
        limit = self.cfg.uplink_frames_per_step if max_frames is None else max_frames
        frames = used = 0
        backlog = self._backlog
        while backlog and used < octets and frames < limit:
            chunk = backlog[0]
            take = min(len(chunk) - self._head, SLICE_OCTETS, octets - used)
            piece = chunk[self._head : self._head + take]
            self._head += take
            if self._head >= len(chunk):
                backlog.popleft()
                self._head = 0
            self._backlog_octets -= take
            used += take
            for raw in self.cltu.feed(piece):
                frames += 1
                self.counters.cltu_frames += 1
                self._frame(raw)
                self.deliver()
        if backlog:
            self.counters.limited_calls += 1
        return frames

    # --- frames ----------------------------------------------------------------
    def _frame(self, raw: bytes) -> None:
        c = self.counters
        try:
            frame = TcFrame.decode(raw, trailing_ok=True)
        except DecodeError:
            c.frame_errors += 1
            self.farm.invalid_frame()
            return
        if frame.scid != self.cfg.scid:
            c.wrong_scid += 1
            return
        if frame.vcid != self.cfg.tc_vcid:
            c.wrong_vcid += 1
            return
        data = frame.data
        if self.sdls is not None:
            header = raw[:TC_HEADER_LEN]
            try:
                token = self.sdls.verify_authenticated(header, data)
                if token.key_management:
                    self.sdls.handle_key_command(token)
                    c.key_commands += 1
                    return
            except SdlsError as exc:
                reason = exc.reason.value
                c.sdls_rejected[reason] = c.sdls_rejected.get(reason, 0) + 1
                self.refusals.append(reason)
                return
            data = token.data
        result = self.farm.receive(bool(frame.bypass), bool(frame.control), frame.seq, data)
        if not result.accepted:
            c.farm_rejected += 1

    # --- packets out -----------------------------------------------------------
    def deliver(self) -> int:
        """Hand FDUs waiting in FARM-1 to the consumer while it has room for their
        packets; returns the packets handed on. An FDU with more packets than the
        consumer can ever hold goes when it is empty (the sink refuses, and reports,
        what does not fit)."""
        farm = self.farm
        sink = self.sink
        c = self.counters
        handed = 0
        while (item := farm.peek()) is not None:
            packets, broken = split_packets(item.data)
            if sink is not None:
                room = sink.room()
                if len(packets) > room and room < sink.uplink_depth:
                    break  # wait for room: FARM-1 keeps it (and enters Wait when full)
            farm.pull()
            if broken:
                c.packet_errors += 1
            c.packets += len(packets)
            handed += len(packets)
            if sink is None:
                self._out.extend(packets)
            else:
                for pkt in packets:
                    sink.submit(pkt)
        return handed

    # --- state -------------------------------------------------------------------
    def reset(self) -> None:
        """A link-layer reset: CLTU decoder and backlog start afresh and FARM-1 leaves
        Lockout (:meth:`Farm.reset`: V(R) is kept, so the CLCW never acknowledges a frame
        FARM-1 did not accept); FDUs FARM-1 already accepted (acknowledged) are still
        delivered; SDLS and the counters are kept."""
        self.counters.cltu_rejected_before += self.cltu.cltus_rejected
        self.cltu = CltuDecoder(randomize=self.cfg.tc_randomize)
        self.counters.backlog_dropped += self._backlog_octets
        self._backlog.clear()
        self._backlog_octets = 0
        self._head = 0
        self.farm.reset()

    @property
    def cltu_rejected(self) -> int:
        """CLTUs refused (uncorrectable, too long, truncated) since start."""
        return self.counters.cltu_rejected_before + self.cltu.cltus_rejected

    def clcw(self) -> bytes:
        """FARM-1's CLCW as 4 octets. Asked every frame on the downlink; encoded again
        only when the CLCW FARM-1 reports differs from the one encoded last."""
        report = self.farm.clcw()
        cached = self._clcw
        if cached is not None and cached[0] == report:
            return cached[1]
        word = report.encode()
        self._clcw = (report, word)
        return word


class DownlinkChain:
    """TM packets in by channel, CADUs out; idle frames only when asked for.

    ``security`` (SDLS on TM) authenticates every frame.
    """

    def __init__(
        self,
        cfg: LinkConfig,
        clcw: UplinkChain | None = None,
        security: FrameProtector | None = None,
    ) -> None:
        self.cfg = cfg
        self.vcs = [
            VirtualChannel(VC_REALTIME, 0, cfg.vc_depth),
            VirtualChannel(VC_PLAYBACK, 1, cfg.vc_depth),
        ]
        self.framer = TmFramer(
            scid=cfg.scid,
            frame_len=cfg.tm_frame_len,
            vcs=self.vcs,
            has_ocf=True,
            clcw_source=clcw.clcw if clcw is not None else None,
            security=security,
        )
        self.cadu_len = 4 + cfg.tm_frame_len
        self.frames_sent = 0
        self.idle_frames_sent = 0

    def push(self, packet: bytes, playback: bool = False) -> bool:
        """Queue a packet; False (counted in its channel) when the channel is full."""
        return self.framer.push(VC_PLAYBACK if playback else VC_REALTIME, packet)

    @property
    def dropped(self) -> int:
        return sum(vc.dropped for vc in self.vcs)

    def has_data(self) -> bool:
        return self.framer.has_data

    def next_cadu(self) -> bytes:
        """The next frame as a CADU: the highest-priority data, or an idle frame."""
        idle = not self.framer.has_data
        frame = self.framer.next_frame()
        self.frames_sent += 1
        self.idle_frames_sent += idle
        return encode_cadu(frame)
