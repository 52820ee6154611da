"""AOS Transfer Frame (CCSDS 732.0-B-4) carrying space packets in an M_PDU.

AOS is the frame format of high-rate downlinks: a 6-octet primary header (version 0b01,
8-bit spacecraft id, 6-bit virtual channel id, 24-bit virtual channel frame count and a
signaling field with the replay flag, the frame count usage flag, two spare bits and a
4-bit frame count cycle), then the data field, an optional OCF (4 octets, the CLCW) and
an optional FECF (CRC-16/CCITT-FALSE).

Scope: the data field is always a Multiplexing PDU (packet service): 5 spare bits and
an 11-bit first header pointer, then the packet zone. The optional Frame Header Error
Control (Reed-Solomon over the header) and the Insert Zone are out of scope: frames
with them do not decode here. Whether a frame has an OCF or a FECF is a mission constant
the bytes do not carry, so decoders take both.

``AOS_PRIMARY_HEADER``, ``MPDU_HEADER`` and :func:`aos_frame_declaration` are the
declarations; :class:`AosFrame` packs and unpacks with ``struct`` (tested equal).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from construct import BitsInteger, BitStruct, Bytes, If, Int16ub, Struct

from flightsw.base.crc import check_trailing_crc
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.link.tm_frame import (
    FECF_LEN,
    FHP_IDLE,
    OCF_LEN,
    check_frame_len,
    checked_trailer,
    seal_frame,
)
from flightsw.packets.spacepacket import as_bytes, check_field

AOS_PRIMARY_HEADER = BitStruct(
    "version" / BitsInteger(2),
    "scid" / BitsInteger(8),
    "vcid" / BitsInteger(6),
    "vc_count" / BitsInteger(24),
    "replay_flag" / BitsInteger(1),
    "vc_count_usage_flag" / BitsInteger(1),
    "spare" / BitsInteger(2),
    "vc_count_cycle" / BitsInteger(4),
)
MPDU_HEADER = BitStruct("mpdu_spare" / BitsInteger(5), "first_header_pointer" / BitsInteger(11))

AOS_VERSION = 0b01
AOS_HEADER_LEN = 6
MPDU_HEADER_LEN = 2
AOS_MAX_FRAME_LEN = 2048
AOS_IDLE_VCID = 63

_HDR = struct.Struct(">HIH")  # primary header (w0, count << 8 | signaling) + M_PDU header
_FECF = struct.Struct(">H")


def aos_frame_declaration(frame_len: int, has_ocf: bool, has_fecf: bool) -> Struct:
    """A whole AOS frame of ``frame_len`` octets with an M_PDU data field."""
    overhead = (
        AOS_HEADER_LEN
        + MPDU_HEADER_LEN
        + (OCF_LEN if has_ocf else 0)
        + (FECF_LEN if has_fecf else 0)
    )
    return Struct(
        "header" / AOS_PRIMARY_HEADER,
        "mpdu" / MPDU_HEADER,
        "data" / Bytes(frame_len - overhead),
        "ocf" / If(has_ocf, Bytes(OCF_LEN)),
        "fecf" / If(has_fecf, Int16ub),
    )


def pack_aos_header(scid: int, vcid: int, vc_count: int, fhp: int, cycle: int = -1) -> bytes:
    """Primary plus M_PDU header; ``cycle`` >= 0 sets the count usage flag and the cycle.

    The framer's hot path: no range checks, so callers pass values already in range.
    """
    signaling = 0 if cycle < 0 else 0x40 | cycle
    return _HDR.pack(0x4000 | (scid << 6) | vcid, (vc_count << 8) | signaling, fhp)


@dataclass(slots=True)
class AosFrame:
    """One AOS transfer frame with an M_PDU. ``data`` is the M_PDU packet zone.

    ``ocf`` None means no OCF; ``fecf`` None means compute it when encoding with a FECF,
    a value is written verbatim.
    """

    scid: int
    vcid: int
    data: bytes
    vc_count: int = 0
    first_header_pointer: int = 0
    ocf: bytes | None = None
    fecf: int | None = None
    replay_flag: int = 0
    vc_count_usage_flag: int = 0
    vc_count_cycle: int = 0
    spare: int = 0
    mpdu_spare: int = 0
    version: int = AOS_VERSION

    @property
    def is_idle(self) -> bool:
        """An idle frame: the idle virtual channel, or a packet zone of idle data only."""
        return self.vcid == AOS_IDLE_VCID or self.first_header_pointer == FHP_IDLE

    def encode(self, has_fecf: bool = True, frame_len: int | None = None) -> bytes:
        """The frame bytes; its length follows from the fields (``frame_len`` checks it)."""
        data = as_bytes("data", self.data)
        if self.version != AOS_VERSION:
            raise EncodeError("version", f"{self.version!r}; AOS frames are version 0b01")
        check_field("scid", self.scid, 0xFF)
        check_field("vcid", self.vcid, 63)
        check_field("vc_count", self.vc_count, 0xFFFFFF)
        check_field("replay_flag", self.replay_flag, 1)
        check_field("vc_count_usage_flag", self.vc_count_usage_flag, 1)
        check_field("spare", self.spare, 3)
        check_field("vc_count_cycle", self.vc_count_cycle, 15)
        check_field("mpdu_spare", self.mpdu_spare, 31)
        fhp = check_field("first_header_pointer", self.first_header_pointer, 0x7FF)
        if not data:
            raise EncodeError("data", "the packet zone holds at least one octet")
        if fhp < FHP_IDLE and fhp >= len(data):
            raise EncodeError(
                "first_header_pointer", f"{fhp} points past the {len(data)}-octet packet zone"
            )
        ocf = checked_trailer(self.ocf, has_fecf, self.fecf)
        signaling = (
            (self.replay_flag << 7)
            | (self.vc_count_usage_flag << 6)
            | (self.spare << 4)
            | self.vc_count_cycle
        )
        body = (
            _HDR.pack(
                (AOS_VERSION << 14) | (self.scid << 6) | self.vcid,
                (self.vc_count << 8) | signaling,
                (self.mpdu_spare << 11) | fhp,
            )
            + data
            + ocf
        )
        return seal_frame(body, has_fecf, self.fecf, AOS_MAX_FRAME_LEN, frame_len)

    @classmethod
    def decode(
        cls,
        buf: bytes | bytearray | memoryview,
        frame_len: int | None = None,
        has_ocf: bool = False,
        has_fecf: bool = True,
    ) -> AosFrame:
        """One whole frame; ``frame_len`` None accepts the buffer's length."""
        raw = bytes(buf)
        n = len(raw)
        check_frame_len(n, frame_len)
        fecf_len = FECF_LEN if has_fecf else 0
        ocf_len = OCF_LEN if has_ocf else 0
        least = AOS_HEADER_LEN + MPDU_HEADER_LEN + ocf_len + fecf_len + 1
        if n < least or n > AOS_MAX_FRAME_LEN:
            raise DecodeError("frame", 0, f"{n} octets; a frame has {least}..{AOS_MAX_FRAME_LEN}")
        fecf: int | None = None
        if has_fecf:
            fecf = check_trailing_crc(raw, "fecf")
        w0, w1, mpdu = _HDR.unpack_from(raw)
        if w0 >> 14 != AOS_VERSION:
            raise DecodeError("version", 0, f"frame version {w0 >> 14}, expected 1 (AOS)")
        end = n - fecf_len - ocf_len
        zone = end - AOS_HEADER_LEN - MPDU_HEADER_LEN
        fhp = mpdu & 0x7FF
        if fhp < FHP_IDLE and fhp >= zone:
            raise DecodeError(
                "first_header_pointer",
                AOS_HEADER_LEN,
                f"{fhp} points past the {zone}-octet packet zone",
            )
        signaling = w1 & 0xFF
        return cls(
            (w0 >> 6) & 0xFF,
            w0 & 0x3F,
            raw[AOS_HEADER_LEN + MPDU_HEADER_LEN : end],
            w1 >> 8,
            fhp,
            raw[end : end + OCF_LEN] if has_ocf else None,
            fecf,
            signaling >> 7,
            (signaling >> 6) & 1,
            signaling & 0xF,
            (signaling >> 4) & 3,
            mpdu >> 11,
            AOS_VERSION,
        )
