"""The packet store's record format: self-delimiting, so no payload can pass for a record.

A record on the medium is one frame, delimited and byte-stuffed as in SLIP (RFC 1055):

    frame = END | stuff(body) | END           END = 0xC0, ESC = 0xDB
    stuff:  0xDB -> 0xDB 0xDD, then 0xC0 -> 0xDB 0xDC

    body  = version u8 (1) | seq u64 | length u32 | header CRC-32 u32
            | payload (length octets) | payload CRC-32 u32

The delimiter never occurs inside a stuffed body, so the only END octets on the medium
are the ones the writer put there: splitting a segment at END gives back exactly the
bodies that were written, whatever the payloads contain (a payload that embeds a whole
record, stuffed or not, stays inside its own body). A write torn by a crash leaves a
body with no closing END, which recovery never reads. Inside a body the header CRC is
checked before the length is trusted, the length must match the body, the payload CRC
must match, and the sequence numbers must increase: anything else is not a record.
``BODY`` is the declaration; ``pack_body``/``unpack_body`` are the hot path, tested
equal to it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from construct import Bytes, Checksum, Const, Int8ub, Int32ub, Int64ub, RawCopy, Struct, this

from flightsw.base.errors import DecodeError

END = 0xC0
ESC = 0xDB
ESC_END = 0xDC
ESC_ESC = 0xDD
VERSION = 1
MAX_PAYLOAD = 65536 + 16

_END = bytes([END])
_ESC = bytes([ESC])

BODY_HEADER = Struct(
    "version" / Const(VERSION, Int8ub),
    "seq" / Int64ub,
    "length" / Int32ub,
)
BODY = Struct(
    "header" / RawCopy(BODY_HEADER),
    "header_crc" / Checksum(Int32ub, zlib.crc32, this.header.data),
    "payload" / Bytes(this.header.value.length),
    "payload_crc" / Checksum(Int32ub, zlib.crc32, this.payload),
)

_HEAD = struct.Struct(">BQI")
_CRC = struct.Struct(">I")
HEAD_LEN = _HEAD.size + _CRC.size
BODY_OVERHEAD = HEAD_LEN + _CRC.size


def pack_body(seq: int, payload: bytes) -> bytes:
    """The record body (not yet stuffed) of ``payload`` with sequence number ``seq``."""
    head = _HEAD.pack(VERSION, seq, len(payload))
    return b"".join((head, _CRC.pack(zlib.crc32(head)), payload, _CRC.pack(zlib.crc32(payload))))


def unpack_body(body: bytes) -> tuple[int, bytes]:
    """(seq, payload) of a record body; DecodeError naming the field otherwise."""
    if len(body) < BODY_OVERHEAD:
        raise DecodeError("record", 0, f"{len(body)} octets, a record has {BODY_OVERHEAD}")
    version, seq, length = _HEAD.unpack_from(body)
    (header_crc,) = _CRC.unpack_from(body, _HEAD.size)
    if zlib.crc32(body[: _HEAD.size]) != header_crc:
        raise DecodeError("header_crc", _HEAD.size, "header CRC does not match")
    if version != VERSION:
        raise DecodeError("version", 0, f"record version {version}, expected {VERSION}")
    if length > MAX_PAYLOAD or len(body) != BODY_OVERHEAD + length:
        raise DecodeError(
            "length",
            9,
            f"header says {length} payload octets, body holds {len(body) - BODY_OVERHEAD}",
        )
    payload = body[HEAD_LEN : HEAD_LEN + length]
    (payload_crc,) = _CRC.unpack_from(body, HEAD_LEN + length)
    if zlib.crc32(payload) != payload_crc:
        raise DecodeError("payload_crc", HEAD_LEN + length, "payload CRC does not match")
    return seq, payload


def stuff(body: bytes) -> bytes:
    """Escape ESC then END so that END never occurs in the result."""
    return body.replace(_ESC, bytes([ESC, ESC_ESC])).replace(_END, bytes([ESC, ESC_END]))


def unstuff(data: bytes) -> bytes:
    """Undo ``stuff``; DecodeError on an END or on an ESC not followed by ESC_END/ESC_ESC."""
    if _END in data:
        raise DecodeError("frame", data.index(_END), "delimiter inside a frame")
    if _ESC not in data:
        return data
    parts = data.split(_ESC)
    out = [parts[0]]
    offset = len(parts[0])
    for part in parts[1:]:
        if not part or part[0] not in (ESC_END, ESC_ESC):
            raise DecodeError("frame", offset, "escape octet not followed by 0xDC or 0xDD")
        out.append(_END if part[0] == ESC_END else _ESC)
        out.append(part[1:])
        offset += 1 + len(part)
    return b"".join(out)


def encode_record(seq: int, payload: bytes) -> bytes:
    """One record as written to the medium: END, the stuffed body, END."""
    return _END + stuff(pack_body(seq, payload)) + _END


def decode_frame(frame: bytes) -> tuple[int, bytes]:
    """(seq, payload) from the octets between two delimiters; DecodeError otherwise."""
    return unpack_body(unstuff(frame))


@dataclass
class SegmentScan:
    """What one segment image holds.

    ``records``: (seq, payload, offset just past the record's closing END), in order.
    ``corrupt``: (start, end) of closed frames between records that are not records.
    ``valid_end``: offset just past the last record (0 if none); everything after it is
    the torn tail (an unclosed frame, or closed frames that are not records).
    """

    records: list[tuple[int, bytes, int]] = field(default_factory=list)
    corrupt: list[tuple[int, int]] = field(default_factory=list)
    valid_end: int = 0


def scan_segment(data: bytes, after_seq: int = -1, start: int = 0) -> SegmentScan:
    """The records of a segment image from ``start`` on, whose seq exceeds ``after_seq``.

    Only closed frames are read; a frame that fails to decode, or whose sequence number
    does not increase, is not a record. Bad frames before the last record are
    ``corrupt``; after it they are part of the torn tail.
    """
    scan = SegmentScan(valid_end=start)
    pending: list[tuple[int, int]] = []
    last = after_seq
    pos = start
    n = len(data)
    while pos < n:
        close = data.find(_END, pos)
        if close < 0:
            break  # an unclosed frame: the torn tail
        if close > pos:
            try:
                seq, payload = decode_frame(data[pos:close])
            except DecodeError:
                pending.append((pos, close))
            else:
                if seq > last:
                    scan.corrupt.extend(pending)
                    pending.clear()
                    scan.records.append((seq, payload, close + 1))
                    scan.valid_end = close + 1
                    last = seq
                else:
                    pending.append((pos, close))
        pos = close + 1
    return scan
