"""TC Transfer Frame (CCSDS 232.0-B-4): the variable-length frame that carries commands up.

A frame is a 5-octet primary header (version, bypass flag, control command flag, spare,
spacecraft id; virtual channel id, frame length = total octets - 1; frame sequence
number N(S)), an optional 1-octet segment header (sequence flags, MAP id) when the
virtual channel uses MAP/segmentation, the data field and the Frame Error Control Field
(CRC-16/CCITT-FALSE over everything before it; optional per mission, on by default).
A frame is at most 1024 octets.

Control command frames (control flag 1, sent with bypass 1) carry a COP-1 control
command instead of user data, and never a segment header: ``unlock`` (one octet 00) and
``set V(R)`` (82 00 and the new V(R)).

Whether a VC uses segment headers and whether frames carry a FECF are mission
constants, so :meth:`TcFrame.decode` takes both. ``TC_PRIMARY_HEADER`` and
:func:`tc_frame_declaration` are the declarations; :class:`TcFrame` packs and unpacks
with ``struct`` (the tests prove both give the same bytes and fields), and names a field
out of its declared range from the declaration (one encoder, no checked twin).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from construct import BitsInteger, BitStruct, Bytes, If, Int16ub, Struct

from flightsw.base.crc import check_trailing_crc, crc16
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.packets.kinds import declared_fields, to_json
from flightsw.packets.spacepacket import bad_field, check_field, declared_limits

TC_PRIMARY_HEADER = BitStruct(
    "version" / BitsInteger(2),
    "bypass" / BitsInteger(1),
    "control" / BitsInteger(1),
    "spare" / BitsInteger(2),
    "scid" / BitsInteger(10),
    "vcid" / BitsInteger(6),
    "frame_length" / BitsInteger(10),
    "seq" / BitsInteger(8),
)
SEGMENT_HEADER = BitStruct("seq_flags" / BitsInteger(2), "map_id" / BitsInteger(6))

HEADER_LEN = 5
SEGMENT_HEADER_LEN = 1
FECF_LEN = 2
MAX_FRAME_LEN = 1024
VERSION = 0

UNLOCK = 0x00
SET_VR = 0x82

_HEAD = struct.Struct(">HHB")
_FECF = struct.Struct(">H")


def tc_frame_declaration(has_segment_header: bool = False, has_fecf: bool = True) -> Struct:
    """A whole TC frame; the segment header appears only in data frames (control 0)."""
    overhead = HEADER_LEN + FECF_LEN * has_fecf
    return Struct(
        "header" / TC_PRIMARY_HEADER,
        "segment_header"
        / If(lambda ctx: has_segment_header and not ctx.header.control, SEGMENT_HEADER),
        "data"
        / Bytes(
            lambda ctx: (
                ctx.header.frame_length
                + 1
                - overhead
                - (SEGMENT_HEADER_LEN if ctx.segment_header is not None else 0)
            )
        ),
        "fecf" / If(has_fecf, Int16ub),
    )


TC_FRAME = tc_frame_declaration()
_LIMITS = declared_limits(tc_frame_declaration(has_segment_header=True))
_OPTIONAL = ("frame_length", "fecf", "seq_flags", "map_id")


def unlock_command() -> bytes:
    """The COP-1 Unlock control command (232.0-B-4 4.1.3.3): one octet 00."""
    return bytes((UNLOCK,))


def set_vr_command(vr: int) -> bytes:
    """The COP-1 Set V(R) control command: 82 00 and the new receiver frame sequence number."""
    check_field("vr", vr, 0xFF)
    return bytes((SET_VR, 0x00, vr))


def parse_control_command(data: bytes, offset: int = HEADER_LEN) -> tuple[str, int | None]:
    """("unlock", None) or ("set_vr", V(R)) from a control frame's data field."""
    if data == b"\x00":
        return ("unlock", None)
    if len(data) == 3 and data[0] == SET_VR and data[1] == 0:
        return ("set_vr", data[2])
    raise DecodeError("data", offset, f"{data[:8].hex()} is not a COP-1 control command")


@dataclass(slots=True)
class TcFrame:
    """One TC transfer frame.

    ``frame_length`` and ``fecf`` None mean compute them; values are written verbatim
    (to make deliberately bad frames). A segment header is written when ``seq_flags``
    or ``map_id`` is not None (the other then defaults to 0 or 3 respectively: an
    unsegmented MAP 0 frame). ``has_fecf`` False leaves the FECF out (``fecf`` is then
    None on decode and must be None on encode).
    """

    scid: int
    vcid: int
    data: bytes
    seq: int = 0
    bypass: int = 0
    control: int = 0
    seq_flags: int | None = None
    map_id: int | None = None
    spare: int = 0
    version: int = VERSION
    frame_length: int | None = None
    fecf: int | None = None
    has_fecf: bool = True

    @property
    def has_segment_header(self) -> bool:
        return self.seq_flags is not None or self.map_id is not None

    def encode(self) -> bytes:
        """The frame bytes; any bad field gives an :class:`EncodeError` naming it."""
        data = self.data
        if type(data) is not bytes:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise EncodeError("data", f"{type(data).__name__} where bytes were expected")
            data = bytes(data)
        if not data:
            raise EncodeError("data", "a TC frame carries at least one data octet")
        segment = b""
        if not (self.seq_flags is None and self.map_id is None):
            if self.control:
                raise EncodeError("seq_flags", "control command frames have no segment header")
            flags = 3 if self.seq_flags is None else check_field("seq_flags", self.seq_flags, 3)
            map_id = 0 if self.map_id is None else check_field("map_id", self.map_id, 0x3F)
            segment = bytes(((flags << 6) | map_id,))
        has_fecf, fecf = self.has_fecf, self.fecf
        total = HEADER_LEN + len(segment) + len(data) + (FECF_LEN if has_fecf else 0)
        if total > MAX_FRAME_LEN:
            raise EncodeError("data", f"{total} octets in all, a TC frame has at most 1024")
        if not has_fecf and fecf is not None:
            raise EncodeError("fecf", "given, but has_fecf is False")
        try:
            length = self.frame_length
            if length is None:
                length = total - 1
            bypass = self.bypass
            control = self.control
            scid = self.scid
            vcid = self.vcid
            w0 = (self.version << 14) | (bypass << 13) | (control << 12) | (self.spare << 10) | scid
            # one test for every range: a field too wide or negative spills out of its bits
            if w0 >> 16 or (bypass | control) >> 1 or (self.spare | scid >> 8) >> 2:
                raise ValueError
            if vcid >> 6 or length >> 10:
                raise ValueError
            head = _HEAD.pack(w0, (vcid << 10) | length, self.seq)
            body = head + segment + data if segment else head + data
            if not has_fecf:
                return body
            return body + _FECF.pack(crc16(body) if fecf is None else fecf)
        except (TypeError, ValueError, struct.error):
            raise bad_field(self, _LIMITS, optional=_OPTIONAL) from None

    @classmethod
    def decode(
        cls,
        raw: bytes | bytearray | memoryview,
        has_segment_header: bool = False,
        has_fecf: bool = True,
        trailing_ok: bool = False,
    ) -> TcFrame:
        """One whole frame; raises :class:`DecodeError` naming the first bad field.

        The frame length field must match ``len(raw)``, unless ``trailing_ok``: then
        ``raw`` may run on past the frame (CLTU fill octets) and the rest is ignored.
        """
        buf = bytes(raw)
        if len(buf) < HEADER_LEN:
            raise DecodeError(
                "primary_header", 0, f"{len(buf)} octets, the header needs {HEADER_LEN}"
            )
        w0, w1, seq = _HEAD.unpack_from(buf)
        version = w0 >> 14
        if version != VERSION:
            raise DecodeError("version", 0, f"frame version {version}, expected 0")
        length = w1 & 0x3FF
        total = length + 1
        control = (w0 >> 12) & 1
        segmented = has_segment_header and not control
        minimum = HEADER_LEN + segmented + 1 + FECF_LEN * has_fecf
        if total < minimum:
            raise DecodeError("frame_length", 2, f"{total} octets, a frame here needs {minimum}")
        if total > len(buf) or (total < len(buf) and not trailing_ok):
            raise DecodeError(
                "frame_length", 2, f"header says {total} octets, buffer holds {len(buf)}"
            )
        frame = buf[:total]
        fecf: int | None = None
        end = total
        if has_fecf:
            end = total - FECF_LEN
            fecf = check_trailing_crc(frame, "fecf")
        seq_flags: int | None = None
        map_id: int | None = None
        start = HEADER_LEN
        if segmented:
            seg = frame[HEADER_LEN]
            seq_flags, map_id = seg >> 6, seg & 0x3F
            start += SEGMENT_HEADER_LEN
        return cls(
            w0 & 0x3FF,
            w1 >> 10,
            frame[start:end],
            seq,
            (w0 >> 13) & 1,
            control,
            seq_flags,
            map_id,
            (w0 >> 10) & 3,
            version,
            length,
            fecf,
            has_fecf,
        )


def frame_length_of(raw: bytes | bytearray | memoryview) -> int:
    """Total octets of the frame that starts ``raw``, from its header (no checks beyond)."""
    if len(raw) < HEADER_LEN:
        raise DecodeError("primary_header", 0, f"{len(raw)} octets, the header needs 5")
    return int(_HEAD.unpack_from(raw)[1] & 0x3FF) + 1


def as_fields(frame: TcFrame) -> dict[str, Any]:
    """The frame as a JSON-ready dict (data as hex) under the declaration's field names,
    as the CLI kinds show it."""
    return {name: to_json(getattr(frame, name)) for name in _FIELDS}


_FIELDS = declared_fields(TC_FRAME, TcFrame)
