"""Flight-side framer: space packets in, a continuous stream of TM or AOS frames out.

The radio wants one fixed-length frame every frame time, whether or not there is
telemetry to send. The framer keeps one bounded packet queue per virtual channel and,
on each :meth:`next_frame`, fills a frame from the highest-priority channel that has
data, so live telemetry is never stuck behind a long packet-store dump.

Policies (each is a choice a mission may want to revisit):

* Priority is strict: the channel with the lowest ``priority`` number that has data
  goes first; ties go to the lower VCID. The defaults are VC0 real-time HK and events
  (priority 0) and VC1 packet-store playback (priority 1); VC7 (TM) or VC63 (AOS) is
  reserved for idle frames.
* Packets are packed back to back; a packet that does not fit continues in the next
  frame of the same virtual channel, and the first header pointer gives the offset of
  the first packet header that starts in a frame (0x7FF when none starts).
* A frame goes out now rather than waiting for more packets: when a channel's queue
  runs dry part-way through a frame, the rest is filled with an idle packet (APID
  0x7FF). When fewer than 7 octets are left (an idle packet's minimum) the idle packet
  is 7 octets long and its tail opens that channel's next frame.
* With nothing to send, an idle frame goes out on the idle channel: first header
  pointer 0x7FE (only idle data) and the idle fill pattern.
* A full queue rejects the newest packet: :meth:`push` returns False and the channel's
  ``dropped`` counter counts it.
* Every frame, idle ones included, carries the CLCW from ``clcw_source`` in its OCF
  when the mission has an OCF (four zero octets when there is no source).
* With a ``security`` function (SDLS on TM, :class:`flightsw.link.sdls.SdlsTm`), every
  TM frame, idle ones included, carries a security header before its packet zone and a
  MAC after it (before the OCF); the zone shrinks by ``security.overhead`` octets and
  the first header pointer counts from the start of the zone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from flightsw.base.crc import crc16
from flightsw.base.errors import EncodeError
from flightsw.link.aos_frame import (
    AOS_HEADER_LEN,
    AOS_IDLE_VCID,
    AOS_MAX_FRAME_LEN,
    MPDU_HEADER_LEN,
    pack_aos_header,
)
from flightsw.link.tm_frame import (
    DEFAULT_FRAME_LEN,
    FECF_LEN,
    FHP_IDLE,
    FHP_NO_PACKET_START,
    OCF_LEN,
    TM_HEADER_LEN,
    TM_IDLE_VCID,
    TM_MAX_FRAME_LEN,
    pack_tm_header,
)
from flightsw.packets.spacepacket import HEADER_LEN, idle_packet

VC_REALTIME = 0
VC_PLAYBACK = 1
DEFAULT_VC_DEPTH = 256
MIN_IDLE_PACKET = HEADER_LEN + 1


class VirtualChannel:
    """One virtual channel's bounded packet queue, frame counter and partial packet.

    ``priority`` 0 is the highest. ``depth`` is the most packets the queue holds.
    """

    __slots__ = (
        "accepted",
        "depth",
        "dropped",
        "frames",
        "pending",
        "pending_idle",
        "priority",
        "queue",
        "vc_count",
        "vcid",
    )

    def __init__(self, vcid: int, priority: int, depth: int = DEFAULT_VC_DEPTH) -> None:
        if not isinstance(depth, int) or depth < 1:
            raise EncodeError("depth", f"{depth!r}; a queue holds at least one packet")
        self.vcid = vcid
        self.priority = priority
        self.depth = depth
        self.queue: deque[bytes] = deque()
        self.dropped = 0  # packets rejected because the queue was full
        self.accepted = 0  # packets queued
        self.frames = 0  # frames sent on this channel
        self.vc_count = 0  # the frame count the next frame carries
        self.pending: memoryview | None = None  # tail of a packet spanning into the next frame
        self.pending_idle = False  # the tail belongs to an idle packet

    @property
    def has_data(self) -> bool:
        """Real packet octets are waiting (an idle packet's tail alone does not count)."""
        return bool(self.queue) or (self.pending is not None and not self.pending_idle)

    def __repr__(self) -> str:
        return (
            f"VirtualChannel(vcid={self.vcid}, priority={self.priority}, depth={self.depth}, "
            f"queued={len(self.queue)}, dropped={self.dropped})"
        )


class FrameProtector(Protocol):
    """Authenticates a frame's data field (SDLS): what goes between header and OCF."""

    overhead: int

    def protect_frame(self, header: bytes, data: bytes) -> bytes: ...


def default_vcs(depth: int = DEFAULT_VC_DEPTH) -> list[VirtualChannel]:
    """VC0 real-time HK and events (priority 0), VC1 packet-store playback (priority 1)."""
    return [VirtualChannel(VC_REALTIME, 0, depth), VirtualChannel(VC_PLAYBACK, 1, depth)]


def check_packet(packet: bytes | bytearray | memoryview) -> bytes:
    """``packet`` as bytes if it is one whole space packet, else an :class:`EncodeError`."""
    if not isinstance(packet, bytes | bytearray | memoryview):
        raise EncodeError("packet", f"{type(packet).__name__} where bytes were expected")
    raw = bytes(packet)
    if len(raw) < MIN_IDLE_PACKET:
        raise EncodeError("packet", f"{len(raw)} octets, a space packet has at least 7")
    if raw[0] >> 5:
        raise EncodeError("packet", f"packet version {raw[0] >> 5}, expected 0")
    total = HEADER_LEN + ((raw[4] << 8) | raw[5]) + 1
    if total != len(raw):
        raise EncodeError("packet", f"header says {total} octets, {len(raw)} given")
    return raw


class PacketFramer:
    """The frame-format-independent part: queues, priorities, packing, idle fill.

    Subclasses say how long their headers are and build the frame around a packet zone.
    """

    header_len = 0
    idle_vcid = 0
    max_vcid = 0
    max_frame_len = 0
    count_modulus = 1

    def __init__(
        self,
        frame_len: int,
        vcs: Iterable[VirtualChannel] | None,
        has_ocf: bool,
        has_fecf: bool,
        clcw_source: Callable[[], bytes] | None,
        idle_fill: int,
        overhead: int = 0,
    ) -> None:
        self.frame_len = frame_len
        self.has_ocf = has_ocf
        self.has_fecf = has_fecf
        self.clcw_source = clcw_source
        self.zone_len = (
            frame_len
            - self.header_len
            - overhead
            - (OCF_LEN if has_ocf else 0)
            - (FECF_LEN if has_fecf else 0)
        )
        if not isinstance(frame_len, int) or frame_len > self.max_frame_len or self.zone_len < 1:
            raise EncodeError(
                "frame_len", f"{frame_len!r}: no room for data or more than {self.max_frame_len}"
            )
        if not 0 <= idle_fill <= 0xFF:
            raise EncodeError("idle_fill", f"{idle_fill!r} is not an octet")
        self.idle_fill = idle_fill
        self.vcs: dict[int, VirtualChannel] = {}
        for vc in default_vcs() if vcs is None else vcs:
            if not 0 <= vc.vcid <= self.max_vcid or vc.vcid == self.idle_vcid:
                raise EncodeError(
                    "vcid", f"{vc.vcid}: data channels are 0..{self.max_vcid} but not the idle one"
                )
            if vc.vcid in self.vcs:
                raise EncodeError("vcid", f"virtual channel {vc.vcid} configured twice")
            self.vcs[vc.vcid] = vc
        self._order = sorted(self.vcs.values(), key=lambda v: (v.priority, v.vcid))
        self.idle_vc = VirtualChannel(self.idle_vcid, 1 << 30, 1)
        self._idle_zone = bytes([idle_fill]) * self.zone_len
        self._ocf = bytes(OCF_LEN) if has_ocf else b""
        self.frames = 0  # frames built, idle ones included
        self.idle_frames = 0
        self.idle_packets = 0  # idle packets inserted to fill frames

    def push(self, vcid: int, packet: bytes | bytearray | memoryview) -> bool:
        """Queue one space packet on ``vcid``; False (and a counted drop) when full."""
        vc = self.vcs.get(vcid)
        if vc is None:
            raise EncodeError("vcid", f"no virtual channel {vcid}; have {sorted(self.vcs)}")
        raw = check_packet(packet)
        if len(vc.queue) >= vc.depth:
            vc.dropped += 1
            return False
        vc.queue.append(raw)
        vc.accepted += 1
        return True

    @property
    def has_data(self) -> bool:
        """Some channel has real packet octets waiting."""
        return any(vc.has_data for vc in self._order)

    def next_frame(self) -> bytes:
        """The next frame: from the highest-priority channel with data, else idle."""
        for vc in self._order:
            if vc.queue or (vc.pending is not None and not vc.pending_idle):
                fhp, zone = self._fill(vc)
                break
        else:
            vc, fhp, zone = self.idle_vc, FHP_IDLE, self._idle_zone
            self.idle_frames += 1
        if self.has_ocf:
            ocf = self.clcw_source() if self.clcw_source is not None else self._ocf
            if len(ocf) != OCF_LEN:
                raise EncodeError("ocf", f"clcw_source gave {len(ocf)} octets, need {OCF_LEN}")
        else:
            ocf = b""
        body = self._build(vc, fhp, zone, ocf)
        vc.vc_count = (vc.vc_count + 1) % self.count_modulus
        vc.frames += 1
        self.frames += 1
        if self.has_fecf:
            return body + crc16(body).to_bytes(2, "big")
        return body

    def _fill(self, vc: VirtualChannel) -> tuple[int, bytes]:
        """The packet zone of ``vc``'s next frame and its first header pointer."""
        need = self.zone_len
        parts: list[bytes | memoryview] = []
        fhp = FHP_NO_PACKET_START
        pending = vc.pending
        if pending is not None:
            if len(pending) > need:
                vc.pending = pending[need:]
                return fhp, bytes(pending[:need])
            parts.append(pending)
            need -= len(pending)
            vc.pending = None
            vc.pending_idle = False
        queue = vc.queue
        while need and queue:
            if fhp == FHP_NO_PACKET_START:
                fhp = self.zone_len - need
            packet = queue.popleft()
            if len(packet) <= need:
                parts.append(packet)
                need -= len(packet)
            else:
                view = memoryview(packet)
                parts.append(view[:need])
                vc.pending = view[need:]
                need = 0
        if need:
            if fhp == FHP_NO_PACKET_START:
                fhp = self.zone_len - need
            self.idle_packets += 1
            if need >= MIN_IDLE_PACKET:
                parts.append(idle_packet(need, fill=self.idle_fill))
            else:
                idle = memoryview(idle_packet(MIN_IDLE_PACKET, fill=self.idle_fill))
                parts.append(idle[:need])
                vc.pending = idle[need:]
                vc.pending_idle = True
        return fhp, b"".join(parts)

    def _build(self, vc: VirtualChannel, fhp: int, zone: bytes, ocf: bytes) -> bytes:
        raise NotImplementedError


class TmFramer(PacketFramer):
    """Packets into TM transfer frames (CCSDS 132.0-B-3); idle frames on VC7.

    The master channel frame count runs over every frame; each virtual channel has its
    own frame count; both wrap at 8 bits. ``security`` authenticates every frame (SDLS).
    """

    header_len = TM_HEADER_LEN
    idle_vcid = TM_IDLE_VCID
    max_vcid = 7
    max_frame_len = TM_MAX_FRAME_LEN
    count_modulus = 256

    def __init__(
        self,
        scid: int,
        frame_len: int = DEFAULT_FRAME_LEN,
        vcs: Iterable[VirtualChannel] | None = None,
        has_ocf: bool = False,
        has_fecf: bool = True,
        clcw_source: Callable[[], bytes] | None = None,
        idle_fill: int = 0x55,
        security: FrameProtector | None = None,
    ) -> None:
        if not isinstance(scid, int) or not 0 <= scid <= 0x3FF:
            raise EncodeError("scid", f"{scid!r} is not an integer in 0..1023")
        overhead = 0 if security is None else security.overhead
        super().__init__(frame_len, vcs, has_ocf, has_fecf, clcw_source, idle_fill, overhead)
        self.scid = scid
        self.security = security
        self.mc_count = 0  # the master channel frame count the next frame carries

    def _build(self, vc: VirtualChannel, fhp: int, zone: bytes, ocf: bytes) -> bytes:
        header = pack_tm_header(
            self.scid, vc.vcid, int(self.has_ocf), self.mc_count, vc.vc_count, fhp
        )
        self.mc_count = (self.mc_count + 1) & 0xFF
        if self.security is not None:
            zone = self.security.protect_frame(header, zone)
        return header + zone + ocf


class AosFramer(PacketFramer):
    """Packets into AOS transfer frames (CCSDS 732.0-B-4) with an M_PDU; idle on VC63.

    Virtual channel frame counts wrap at 24 bits, or at 28 bits with ``use_count_cycle``
    (the frame count usage flag set and the 4-bit cycle counting the wraps).
    """

    header_len = AOS_HEADER_LEN + MPDU_HEADER_LEN
    idle_vcid = AOS_IDLE_VCID
    max_vcid = 63
    max_frame_len = AOS_MAX_FRAME_LEN
    count_modulus = 1 << 24

    def __init__(
        self,
        scid: int,
        frame_len: int = DEFAULT_FRAME_LEN,
        vcs: Iterable[VirtualChannel] | None = None,
        has_ocf: bool = False,
        has_fecf: bool = True,
        clcw_source: Callable[[], bytes] | None = None,
        idle_fill: int = 0x55,
        use_count_cycle: bool = False,
    ) -> None:
        if not isinstance(scid, int) or not 0 <= scid <= 0xFF:
            raise EncodeError("scid", f"{scid!r} is not an integer in 0..255")
        self.count_modulus = 1 << 28 if use_count_cycle else 1 << 24
        super().__init__(frame_len, vcs, has_ocf, has_fecf, clcw_source, idle_fill)
        self.scid = scid
        self.use_count_cycle = use_count_cycle

    def _build(self, vc: VirtualChannel, fhp: int, zone: bytes, ocf: bytes) -> bytes:
        count = vc.vc_count
        cycle = count >> 24 if self.use_count_cycle else -1
        return pack_aos_header(self.scid, vc.vcid, count & 0xFFFFFF, fhp, cycle) + zone + ocf
