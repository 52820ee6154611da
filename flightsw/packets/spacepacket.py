"""CCSDS Space Packet (133.0-B-2): primary header, packets, idle packets, splitting streams.

``PRIMARY_HEADER`` and ``SPACE_PACKET`` are the declarations. The hot path packs and
unpacks the 6-octet header with ``struct`` (about 70x faster than construct's BitStruct);
tests prove both give the same bytes and the same fields.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from construct import (
    BitsInteger,
    BitStruct,
    Bytes,
    Construct,
    FormatField,
    IfThenElse,
    Renamed,
    Restreamed,
    Struct,
    Transformed,
    this,
)

from flightsw.base.errors import DecodeError, EncodeError

PRIMARY_HEADER = BitStruct(
    "version" / BitsInteger(3),
    "packet_type" / BitsInteger(1),
    "sec_hdr_flag" / BitsInteger(1),
    "apid" / BitsInteger(11),
    "seq_flags" / BitsInteger(2),
    "seq_count" / BitsInteger(14),
    "data_length" / BitsInteger(16),
)
SPACE_PACKET = Struct("header" / PRIMARY_HEADER, "data" / Bytes(this.header.data_length + 1))

HEADER_LEN = 6
MAX_PACKET_LEN = HEADER_LEN + 65536
IDLE_APID = 0x7FF
TM = 0
TC = 1
SEQ_CONTINUATION, SEQ_FIRST, SEQ_LAST, SEQ_UNSEGMENTED = 0, 1, 2, 3

_HDR = struct.Struct(">HHH")


def declared_limits(*declarations: Construct) -> dict[str, int]:
    """The largest value of every named unsigned integer of construct declarations, in
    declaration order (``BitsInteger`` and big-endian integer fields, nested structures
    included): the ranges an encoder must check, read from the declaration."""
    out: dict[str, int] = {}

    def walk(node: Construct, name: str = "") -> None:
        if isinstance(node, Renamed):
            walk(node.subcon, node.name or name)
        elif isinstance(node, Struct):
            for sub in node.subcons:
                walk(sub)
        elif isinstance(node, Transformed | Restreamed):
            walk(node.subcon, name)
        elif isinstance(node, IfThenElse):
            walk(node.thensubcon, name)
        elif name and isinstance(node, BitsInteger) and not node.signed:
            out[name] = (1 << node.length) - 1
        elif name and isinstance(node, FormatField) and node.fmtstr in (">B", ">H", ">L", ">Q"):
            out[name] = (1 << (8 * node.length)) - 1

    for declaration in declarations:
        walk(declaration)
    return out


_LIMITS = declared_limits(PRIMARY_HEADER)


def as_bytes(name: str, value: object) -> bytes:
    """``value`` as bytes, or an :class:`EncodeError` naming the field."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise EncodeError(name, f"{type(value).__name__} where bytes were expected")


def check_field(name: str, value: int, limit: int) -> int:
    """``value`` if it is an int in 0..limit, else an :class:`EncodeError` naming the field."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
        raise EncodeError(name, f"{value!r} is not an integer in 0..{limit}")
    return value


def bad_field(obj: object, limits: dict[str, int], optional: tuple[str, ...] = ()) -> EncodeError:
    """The error for the first field of ``obj`` outside its declared range (fields in
    ``optional`` may also be None). An encoder's fast path packs without naming what is
    wrong; when it fails, this names the field from the same declaration."""
    for name, limit in limits.items():
        if not hasattr(obj, name):
            continue
        value = getattr(obj, name)
        if value is None and name in optional:
            continue
        try:
            check_field(name, value, limit)
        except EncodeError as exc:
            return exc
    return EncodeError(type(obj).__name__, "a field does not fit its declaration")


def pack_header(
    packet_type: int,
    sec_hdr_flag: int,
    apid: int,
    seq_flags: int,
    seq_count: int,
    data_length: int,
    version: int = 0,
) -> bytes:
    """The 6-octet primary header; every field is range-checked."""
    fields = {
        "version": version,
        "packet_type": packet_type,
        "sec_hdr_flag": sec_hdr_flag,
        "apid": apid,
        "seq_flags": seq_flags,
        "seq_count": seq_count,
        "data_length": data_length,
    }
    for name, value in fields.items():
        check_field(name, value, _LIMITS[name])
    return _HDR.pack(
        (version << 13) | (packet_type << 12) | (sec_hdr_flag << 11) | apid,
        (seq_flags << 14) | seq_count,
        data_length,
    )


def unpack_header(buf: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, ...]:
    """(version, packet_type, sec_hdr_flag, apid, seq_flags, seq_count, data_length)."""
    if len(buf) - offset < HEADER_LEN:
        raise DecodeError(
            "primary_header", offset, f"{len(buf) - offset} octets, a header needs {HEADER_LEN}"
        )
    w0, w1, length = _HDR.unpack_from(buf, offset)
    return (w0 >> 13, (w0 >> 12) & 1, (w0 >> 11) & 1, w0 & 0x7FF, w1 >> 14, w1 & 0x3FFF, length)


@dataclass(slots=True)
class SpacePacket:
    """One space packet; ``data`` is everything after the primary header."""

    apid: int
    data: bytes = b""
    packet_type: int = TM
    sec_hdr_flag: int = 0
    seq_flags: int = SEQ_UNSEGMENTED
    seq_count: int = 0
    version: int = 0
    data_length: int | None = None  # None: derived from ``data`` on encode

    def encode(self) -> bytes:
        """Header plus data; an explicit ``data_length`` is written verbatim."""
        if not self.data:
            raise EncodeError("data", "a space packet carries at least one data octet")
        if len(self.data) > 65536:
            raise EncodeError("data", f"{len(self.data)} octets, at most 65536")
        length = len(self.data) - 1 if self.data_length is None else self.data_length
        header = pack_header(
            self.packet_type,
            self.sec_hdr_flag,
            self.apid,
            self.seq_flags,
            self.seq_count,
            length,
            self.version,
        )
        return header + bytes(self.data)

    @classmethod
    def decode(cls, buf: bytes | bytearray | memoryview) -> SpacePacket:
        """Exactly one packet: the header's length must match the buffer."""
        version, ptype, shf, apid, flags, count, length = unpack_header(buf)
        if version != 0:
            raise DecodeError("version", 0, f"packet version {version}, expected 0")
        if len(buf) != HEADER_LEN + length + 1:
            raise DecodeError(
                "data_length",
                4,
                f"header says {length + 1} data octets, buffer holds {len(buf) - HEADER_LEN}",
            )
        return cls(apid, bytes(buf[HEADER_LEN:]), ptype, shf, flags, count, version, length)

    @property
    def is_idle(self) -> bool:
        return self.apid == IDLE_APID


def idle_packet(length: int, seq_count: int = 0, fill: int = 0x55) -> bytes:
    """An idle packet (APID 0x7FF) of ``length`` octets in total, at least 7."""
    if length < HEADER_LEN + 1 or length > MAX_PACKET_LEN:
        raise EncodeError("length", f"idle packet of {length} octets; allowed 7..{MAX_PACKET_LEN}")
    body = bytes([fill]) * (length - HEADER_LEN)
    return pack_header(TM, 0, IDLE_APID, SEQ_UNSEGMENTED, seq_count, len(body) - 1) + body


def packet_length_at(buf: bytes | bytearray | memoryview, offset: int = 0) -> int:
    """Total length of the packet whose header starts at ``offset`` (header must be there)."""
    if len(buf) - offset < HEADER_LEN:
        raise DecodeError("primary_header", offset, "truncated header")
    return HEADER_LEN + ((buf[offset + 4] << 8) | buf[offset + 5]) + 1


def iter_packets(buf: bytes | bytearray | memoryview) -> Iterator[bytes]:
    """Split concatenated packets; a truncated tail raises :class:`DecodeError`."""
    offset = 0
    end = len(buf)
    while offset < end:
        if buf[offset] >> 5:
            raise DecodeError("version", offset, f"packet version {buf[offset] >> 5}, expected 0")
        total = packet_length_at(buf, offset)
        if offset + total > end:
            raise DecodeError(
                "data_length", offset + 4, f"packet of {total} octets runs past the end"
            )
        yield bytes(buf[offset : offset + total])
        offset += total
