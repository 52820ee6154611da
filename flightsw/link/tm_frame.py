"""TM Transfer Frame (CCSDS 132.0-B-3): the fixed-length frame that carries telemetry down.

A frame is a 6-octet primary header (master channel: version and spacecraft id; virtual
channel id; OCF flag; master- and virtual-channel frame counters; data field status with
the first header pointer), an optional secondary header, the data field, an optional
Operational Control Field (4 octets, the CLCW) and an optional Frame Error Control Field
(CRC-16/CCITT-FALSE over everything before it).

The frame length is a mission constant that the bytes do not carry, and so is the
presence of the FECF; decoders take both. ``TM_PRIMARY_HEADER`` and
:func:`tm_frame_declaration` are the declarations; :class:`TmFrame` packs and unpacks with
``struct`` (the tests prove both give the same bytes and fields). Every decoder raises only
:class:`~flightsw.base.errors.DecodeError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from construct import BitsInteger, BitStruct, Bytes, If, Int16ub, Struct, this

from flightsw.base.crc import append_crc, check_trailing_crc
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.packets.spacepacket import as_bytes, check_field

TM_PRIMARY_HEADER = BitStruct(
    "version" / BitsInteger(2),
    "scid" / BitsInteger(10),
    "vcid" / BitsInteger(3),
    "ocf_flag" / BitsInteger(1),
    "mc_count" / BitsInteger(8),
    "vc_count" / BitsInteger(8),
    "sec_hdr_flag" / BitsInteger(1),
    "sync_flag" / BitsInteger(1),
    "packet_order" / BitsInteger(1),
    "segment_length_id" / BitsInteger(2),
    "first_header_pointer" / BitsInteger(11),
)
TM_SECONDARY_HEADER = Struct(
    "id" / BitStruct("version" / BitsInteger(2), "length" / BitsInteger(6)),
    "data" / Bytes(this.id.length),
)

TM_HEADER_LEN = 6
OCF_LEN = 4
FECF_LEN = 2
TM_MAX_FRAME_LEN = 2048
DEFAULT_FRAME_LEN = 1024
TM_IDLE_VCID = 7
SEGMENT_NONE = 0b11  # segment length id when sync_flag is 0 (packets, not segments)
FHP_NO_PACKET_START = 0x7FF  # no packet header starts in this frame
FHP_IDLE = 0x7FE  # the data field holds only idle data
MAX_SEC_HDR_DATA = 63

_HDR = struct.Struct(">HBBH")
_FECF = struct.Struct(">H")


def tm_frame_declaration(frame_len: int, has_fecf: bool) -> Struct:
    """A whole TM frame of ``frame_len`` octets; the OCF follows the header's flag."""

    def data_len(ctx: Any) -> int:
        sec = ctx.sec_hdr.id.length + 1 if ctx.header.sec_hdr_flag else 0
        ocf = OCF_LEN if ctx.header.ocf_flag else 0
        return frame_len - TM_HEADER_LEN - sec - ocf - (FECF_LEN if has_fecf else 0)

    return Struct(
        "header" / TM_PRIMARY_HEADER,
        "sec_hdr" / If(this.header.sec_hdr_flag == 1, TM_SECONDARY_HEADER),
        "data" / Bytes(data_len),
        "ocf" / If(this.header.ocf_flag == 1, Bytes(OCF_LEN)),
        "fecf" / If(has_fecf, Int16ub),
    )


def pack_tm_header(
    scid: int, vcid: int, ocf_flag: int, mc_count: int, vc_count: int, fhp: int
) -> bytes:
    """The primary header for packet data (no secondary header, sync 0, order 0, SLI 0b11).

    The framer's hot path: no range checks, so callers pass values already in range.
    """
    return _HDR.pack((scid << 4) | (vcid << 1) | ocf_flag, mc_count, vc_count, 0x1800 | fhp)


def checked_trailer(ocf: Any, has_fecf: bool, fecf: int | None) -> bytes:
    """The OCF octets of a TM or AOS frame (none: ``ocf`` None), checked, and a FECF value
    refused for a frame without FECF."""
    out = b""
    if ocf is not None:
        out = as_bytes("ocf", ocf)
        if len(out) != OCF_LEN:
            raise EncodeError("ocf", f"{len(out)} octets, the OCF has {OCF_LEN}")
    if not has_fecf and fecf is not None:
        raise EncodeError("fecf", "a FECF value given for a frame without FECF")
    return out


def seal_frame(
    body: bytes, has_fecf: bool, fecf: int | None, max_len: int, frame_len: int | None
) -> bytes:
    """A TM or AOS frame finished: its FECF appended when the mission has one (``fecf``
    None: computed), then checked against the longest frame and the mission's length."""
    if has_fecf:
        body = append_crc(body, fecf, "fecf")
    if len(body) > max_len:
        raise EncodeError("data", f"frame of {len(body)} octets, at most {max_len}")
    if frame_len is not None and len(body) != frame_len:
        raise EncodeError("data", f"frame of {len(body)} octets, the mission uses {frame_len}")
    return body


def check_frame_len(n: int, frame_len: int | None) -> None:
    """A received frame of ``n`` octets against the mission's length (None: any)."""
    if frame_len is not None and n != frame_len:
        raise DecodeError("frame", 0, f"{n} octets, the mission frame has {frame_len}")


@dataclass(slots=True)
class TmFrame:
    """One TM transfer frame.

    ``ocf`` None means no OCF (the header's OCF flag follows it). ``sec_hdr`` is the
    secondary header's data field (the identification octet is derived from its length).
    ``fecf`` None means compute it when encoding with a FECF; a value is written verbatim,
    so a test engineer can build a deliberately bad frame.
    """

    scid: int
    vcid: int
    data: bytes
    mc_count: int = 0
    vc_count: int = 0
    first_header_pointer: int = 0
    ocf: bytes | None = None
    fecf: int | None = None
    sec_hdr_flag: int = 0
    sync_flag: int = 0
    packet_order: int = 0
    segment_length_id: int = SEGMENT_NONE
    sec_hdr: bytes = b""
    version: int = 0

    @property
    def ocf_flag(self) -> int:
        return 0 if self.ocf is None else 1

    @property
    def is_idle(self) -> bool:
        """An idle frame: only idle data (first header pointer 0x7FE)."""
        return self.sync_flag == 0 and self.first_header_pointer == FHP_IDLE

    def encode(self, has_fecf: bool = True, frame_len: int | None = None) -> bytes:
        """The frame bytes; its length follows from the fields (``frame_len`` checks it)."""
        data = as_bytes("data", self.data)
        sec = as_bytes("sec_hdr", self.sec_hdr)
        check_field("version", self.version, 0)
        check_field("scid", self.scid, 0x3FF)
        check_field("vcid", self.vcid, 7)
        check_field("mc_count", self.mc_count, 0xFF)
        check_field("vc_count", self.vc_count, 0xFF)
        check_field("sec_hdr_flag", self.sec_hdr_flag, 1)
        check_field("sync_flag", self.sync_flag, 1)
        check_field("packet_order", self.packet_order, 1)
        check_field("segment_length_id", self.segment_length_id, 3)
        check_field("first_header_pointer", self.first_header_pointer, 0x7FF)
        if self.sync_flag == 0 and self.segment_length_id != SEGMENT_NONE:
            raise EncodeError("segment_length_id", "must be 0b11 when sync_flag is 0")
        if self.sec_hdr_flag == 0 and sec:
            raise EncodeError("sec_hdr", "secondary header data given but sec_hdr_flag is 0")
        if len(sec) > MAX_SEC_HDR_DATA:
            raise EncodeError("sec_hdr", f"{len(sec)} octets, at most {MAX_SEC_HDR_DATA}")
        if not data:
            raise EncodeError("data", "the data field holds at least one octet")
        fhp = self.first_header_pointer
        if self.sync_flag == 0 and fhp < FHP_IDLE and fhp >= len(data):
            raise EncodeError(
                "first_header_pointer", f"{fhp} points past the {len(data)}-octet data field"
            )
        ocf = checked_trailer(self.ocf, has_fecf, self.fecf)
        body = b"".join(
            (
                _HDR.pack(
                    (self.scid << 4) | (self.vcid << 1) | self.ocf_flag,
                    self.mc_count,
                    self.vc_count,
                    (self.sec_hdr_flag << 15)
                    | (self.sync_flag << 14)
                    | (self.packet_order << 13)
                    | (self.segment_length_id << 11)
                    | fhp,
                ),
                bytes([len(sec)]) + sec if self.sec_hdr_flag else b"",
                data,
                ocf,
            )
        )
        return seal_frame(body, has_fecf, self.fecf, TM_MAX_FRAME_LEN, frame_len)

    @classmethod
    def decode(
        cls,
        buf: bytes | bytearray | memoryview,
        frame_len: int | None = None,
        has_ocf: bool | None = None,
        has_fecf: bool = True,
    ) -> TmFrame:
        """One whole frame. ``frame_len`` None accepts the buffer's length; ``has_ocf`` None
        trusts the header's OCF flag, a bool requires the flag to match it."""
        raw = bytes(buf)
        n = len(raw)
        check_frame_len(n, frame_len)
        fecf_len = FECF_LEN if has_fecf else 0
        if n < TM_HEADER_LEN + fecf_len + 1 or n > TM_MAX_FRAME_LEN:
            raise DecodeError(
                "frame",
                0,
                f"{n} octets; a frame has {TM_HEADER_LEN + fecf_len + 1}..{TM_MAX_FRAME_LEN}",
            )
        fecf: int | None = None
        if has_fecf:
            fecf = check_trailing_crc(raw, "fecf")
        w0, mc_count, vc_count, status = _HDR.unpack_from(raw)
        if w0 >> 14:
            raise DecodeError("version", 0, f"frame version {w0 >> 14}, expected 0 (TM)")
        ocf_flag = w0 & 1
        if has_ocf is not None and ocf_flag != has_ocf:
            raise DecodeError("ocf_flag", 1, f"OCF flag {ocf_flag}, the mission says {has_ocf:d}")
        shf = status >> 15
        sync = (status >> 14) & 1
        sli = (status >> 11) & 3
        fhp = status & 0x7FF
        if sync == 0 and sli != SEGMENT_NONE:
            raise DecodeError("segment_length_id", 4, f"0b{sli:02b} with sync_flag 0, need 0b11")
        pos = TM_HEADER_LEN
        end = n - fecf_len - (OCF_LEN if ocf_flag else 0)
        sec = b""
        if shf:
            if pos >= end:
                raise DecodeError("sec_hdr", pos, "no room for the secondary header")
            sec_id = raw[pos]
            if sec_id >> 6:
                raise DecodeError("sec_hdr", pos, f"secondary header version {sec_id >> 6}")
            sec = raw[pos + 1 : pos + 1 + (sec_id & 0x3F)]
            pos += 1 + (sec_id & 0x3F)
        if end - pos < 1:
            raise DecodeError("data", pos, "no room left for the data field")
        if sync == 0 and fhp < FHP_IDLE and fhp >= end - pos:
            raise DecodeError(
                "first_header_pointer", 4, f"{fhp} points past the {end - pos}-octet data field"
            )
        return cls(
            (w0 >> 4) & 0x3FF,
            (w0 >> 1) & 7,
            raw[pos:end],
            mc_count,
            vc_count,
            fhp,
            raw[end : end + OCF_LEN] if ocf_flag else None,
            fecf,
            shf,
            sync,
            (status >> 13) & 1,
            sli,
            sec,
            0,
        )
