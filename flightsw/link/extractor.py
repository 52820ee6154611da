"""Ground-side packet extractor: TM or AOS frames in, the space packets they carried out.

The ground station hands over frames as they come off the radio, some corrupted, some
missing. The extractor rebuilds each virtual channel's packet stream: packets that span
frames are reassembled; the virtual channel frame count shows lost frames; a lost or
bad frame costs only the packet that was in progress across it, and extraction resumes
at the first packet header that the next good frame points to. Idle frames and idle
packets (APID 0x7FF) are counted and dropped.

It never raises on a bad frame: everything goes into counters, so a ground tool can
run it on a noisy link for hours and report what was lost.

* ``frames``: frames fed; ``frames_bad``: frames that did not decode (length, FECF,
  header; ``last_error`` keeps the latest reason) or that carry no packets (TM sync
  flag 1); ``frames_other_scid``: good frames from another spacecraft, ignored.
* ``frames_lost``: frames missing from the virtual channel frame counts (a bad frame
  is missing too, so it is counted here as well once the next frame of its channel
  arrives; a repeated frame looks like a gap of almost a whole counter cycle and is
  counted so); ``idle_frames``: idle frames (or frames of idle data only).
* ``frames_unauthenticated``: TM frames refused by SDLS (``security`` given: a bad or
  missing MAC, a replayed or unknown ARSN/SPI; ``last_auth_error`` keeps the reason).
  Such a frame is dropped before anything in it is used, its CLCW included, and
  counts as missing from its channel when the next good frame arrives.
* ``packets``: packets delivered; ``idle_packets``: idle packets dropped;
  ``packets_lost_partial``: packets begun but not finished because frames were lost,
  bad, or disagreed with the first header pointer; ``resyncs``: times a channel
  restarted from a first header pointer after losing track.

The partial packet per channel is bounded by the largest space packet (65542 octets).
"""

from __future__ import annotations

from typing import Literal, Protocol

from flightsw.base.errors import DecodeError, FlightswError
from flightsw.link.aos_frame import AOS_IDLE_VCID, AosFrame
from flightsw.link.tm_frame import (
    DEFAULT_FRAME_LEN,
    FHP_IDLE,
    FHP_NO_PACKET_START,
    TM_HEADER_LEN,
    TmFrame,
)
from flightsw.packets.spacepacket import HEADER_LEN, IDLE_APID

COUNTERS = (
    "frames",
    "frames_bad",
    "frames_other_scid",
    "frames_unauthenticated",
    "frames_lost",
    "idle_frames",
    "packets",
    "idle_packets",
    "packets_lost_partial",
    "resyncs",
)


class FrameVerifier(Protocol):
    """Checks a TM frame's SDLS security header and MAC (:class:`flightsw.link.sdls.SdlsTm`)."""

    def verify_frame(self, header: bytes, body: bytes) -> bytes: ...


class _Channel:
    """Reassembly state of one virtual channel."""

    __slots__ = ("expected", "partial", "synced")

    def __init__(self) -> None:
        self.expected: int | None = None  # the frame count the next frame should carry
        self.partial = bytearray()  # octets of a packet that began in an earlier frame
        self.synced = False  # True once we know where packets start in this stream


def _is_idle_start(buf: bytes | bytearray) -> bool:
    return len(buf) >= 2 and (((buf[0] & 7) << 8) | buf[1]) == IDLE_APID


class PacketExtractor:
    """Reassembles space packets from TM (``kind="tm"``) or AOS (``kind="aos"``) frames.

    ``has_ocf`` None (TM only) trusts each frame's OCF flag; for AOS None means no OCF.
    ``scid`` None accepts every spacecraft; ``frame_len`` None accepts any frame length.
    ``security`` (TM only) authenticates every frame before anything in it is used.
    """

    def __init__(
        self,
        frame_len: int | None = DEFAULT_FRAME_LEN,
        has_ocf: bool | None = None,
        has_fecf: bool = True,
        kind: Literal["tm", "aos"] = "tm",
        scid: int | None = None,
        security: FrameVerifier | None = None,
    ) -> None:
        if kind not in ("tm", "aos"):
            raise ValueError(f"kind {kind!r}: 'tm' or 'aos'")
        if security is not None and kind != "tm":
            raise ValueError("SDLS is supported on TM frames only")
        self.security = security
        self.last_auth_error: FlightswError | None = None
        self.frames_unauthenticated = 0
        self.frame_len = frame_len
        self.has_ocf = has_ocf
        self.has_fecf = has_fecf
        self.kind = kind
        self.scid = scid
        self._channels: dict[int, _Channel] = {}
        self.last_clcw: bytes | None = None  # the OCF of the latest good frame that had one
        self.last_vcid: int | None = None  # the channel of the latest good frame
        self.last_error: DecodeError | None = None
        self.frames = 0
        self.frames_bad = 0
        self.frames_other_scid = 0
        self.frames_lost = 0
        self.idle_frames = 0
        self.packets = 0
        self.idle_packets = 0
        self.packets_lost_partial = 0
        self.resyncs = 0

    def counters(self) -> dict[str, int]:
        """Every counter by name."""
        return {name: getattr(self, name) for name in COUNTERS}

    def feed_frame(self, frame: bytes | bytearray | memoryview) -> list[bytes]:
        """The packets completed by ``frame``, in order; idle packets left out."""
        self.frames += 1
        vcid, count, modulus, fhp, data, idle = self._decode(frame)
        if vcid < 0:
            return []
        ch = self._channels.get(vcid)
        if ch is None:
            ch = self._channels[vcid] = _Channel()
        if ch.expected is not None and count != ch.expected:
            self.frames_lost += (count - ch.expected) % modulus
            self._lose(ch)
        ch.expected = (count + 1) % modulus
        if idle:
            self.idle_frames += 1
            return []
        return self._consume(ch, data, fhp)

    def _decode(
        self, frame: bytes | bytearray | memoryview
    ) -> tuple[int, int, int, int, bytes, bool]:
        """(vcid, count, count modulus, FHP, packet zone, idle); vcid -1 for a skipped frame."""
        try:
            if self.kind == "tm":
                tm = TmFrame.decode(frame, self.frame_len, self.has_ocf, self.has_fecf)
                if tm.sync_flag:
                    raise DecodeError("sync_flag", 4, "not packet data (sync flag 1)")
                scid, vcid, count, modulus = tm.scid, tm.vcid, tm.vc_count, 256
                fhp, data, ocf = tm.first_header_pointer, tm.data, tm.ocf
                idle = fhp == FHP_IDLE
                header_len = TM_HEADER_LEN + (1 + len(tm.sec_hdr) if tm.sec_hdr_flag else 0)
            else:
                header_len = 0
                aos = AosFrame.decode(frame, self.frame_len, bool(self.has_ocf), self.has_fecf)
                scid, vcid, fhp, data, ocf = (
                    aos.scid,
                    aos.vcid,
                    aos.first_header_pointer,
                    aos.data,
                    aos.ocf,
                )
                if aos.vc_count_usage_flag:
                    count, modulus = (aos.vc_count_cycle << 24) | aos.vc_count, 1 << 28
                else:
                    count, modulus = aos.vc_count, 1 << 24
                idle = vcid == AOS_IDLE_VCID or fhp == FHP_IDLE
        except DecodeError as exc:
            self.frames_bad += 1
            self.last_error = exc
            return -1, 0, 1, 0, b"", False
        if self.scid is not None and scid != self.scid:
            self.frames_other_scid += 1
            return -1, 0, 1, 0, b"", False
        if self.security is not None:
            try:
                data = self.security.verify_frame(bytes(frame[:header_len]), data)
            except FlightswError as exc:
                self.frames_unauthenticated += 1
                self.last_auth_error = exc
                return -1, 0, 1, 0, b"", False
        if ocf is not None:
            self.last_clcw = ocf
        self.last_vcid = vcid
        return vcid, count, modulus, fhp, data, idle

    def _lose(self, ch: _Channel) -> None:
        """Forget the packet in progress (counted unless it was idle fill)."""
        if ch.partial and not _is_idle_start(ch.partial):
            self.packets_lost_partial += 1
        ch.partial.clear()
        ch.synced = False

    def _consume(self, ch: _Channel, data: bytes, fhp: int) -> list[bytes]:
        out: list[bytes] = []
        n = len(data)
        pos = 0
        if ch.synced:
            p = ch.partial
            end: int | None = 0  # offset in this frame where the packet in progress ends
            if p:
                head = bytes(p[:HEADER_LEN]) + data[: max(0, HEADER_LEN - len(p))]
                end = (
                    HEADER_LEN + ((head[4] << 8) | head[5]) + 1 - len(p)
                    if len(head) >= HEADER_LEN
                    else None
                )
            expected_fhp = end if end is not None and end < n else FHP_NO_PACKET_START
            if fhp != expected_fhp:
                self.resyncs += 1
                self._lose(ch)
            elif end is None or end > n:
                p += data
                return out
            else:
                if p:
                    p += data[:end]
                    self._emit(bytes(p), out)
                    p.clear()
                pos = end
        if not ch.synced:
            if fhp == FHP_NO_PACKET_START:
                return out
            pos = fhp
            ch.synced = True
        while pos < n:
            if data[pos] >> 5:
                # not a version-0 packet header where one must start: lost track
                self.resyncs += 1
                ch.synced = False
                break
            if n - pos < HEADER_LEN:
                ch.partial += data[pos:]
                break
            total = HEADER_LEN + ((data[pos + 4] << 8) | data[pos + 5]) + 1
            if pos + total > n:
                ch.partial += data[pos:]
                break
            self._emit(data[pos : pos + total], out)
            pos += total
        return out

    def _emit(self, packet: bytes, out: list[bytes]) -> None:
        if ((packet[0] & 7) << 8) | packet[1] == IDLE_APID:
            self.idle_packets += 1
        else:
            self.packets += 1
            out.append(packet)
