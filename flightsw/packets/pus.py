"""ECSS PUS-C (ECSS-E-ST-70-41C) telecommand and telemetry packets.

A PUS packet is a space packet whose data field starts with a secondary header and
ends with a CRC-16/CCITT-FALSE over everything before it (the packet error control).

TC secondary header (5 octets): PUS version (4 bits, 2 for PUS-C), acknowledgement
flags (4 bits: acceptance, start, progress, completion), service, subservice, source id.

TM secondary header (7 octets + time): PUS version (4 bits), spacecraft time reference
status (4 bits), service, subservice, message type counter (16), destination id (16),
time (CUC 4+2 by default; the length is a mission constant, so decoders take it).

``PUS_TC`` and :func:`pus_tm_declaration` are the declarations. Each class has one
encoder, a ``struct`` fast path the tests prove byte-equal to them; when it cannot pack,
:func:`~flightsw.packets.spacepacket.bad_field` names the field from the declaration's
ranges. ``encode_tm`` is the on-board fast path for a TM (tested equal to ``PusTm``).
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass

from construct import BitsInteger, BitStruct, Bytes, Int8ub, Int16ub, Struct, this

from flightsw.base.crc import check_trailing_crc, crc16
from flightsw.base.errors import DecodeError, EncodeError
from flightsw.packets.spacepacket import (
    HEADER_LEN,
    PRIMARY_HEADER,
    SEQ_UNSEGMENTED,
    TC,
    TM,
    as_bytes,
    bad_field,
    declared_limits,
    unpack_header,
)

PUS_C_VERSION = 2
TC_SEC_LEN = 5
TM_SEC_FIXED_LEN = 7
CRC_LEN = 2
DEFAULT_TIME_LEN = 6
ACK_ALL = 0b1111

TC_SECONDARY_HEADER = BitStruct(
    "pus_version" / BitsInteger(4),
    "ack_flags" / BitsInteger(4),
    "service" / BitsInteger(8),
    "subservice" / BitsInteger(8),
    "source_id" / BitsInteger(16),
)
PUS_TC = Struct(
    "primary" / PRIMARY_HEADER,
    "secondary" / TC_SECONDARY_HEADER,
    "app_data" / Bytes(this.primary.data_length + 1 - TC_SEC_LEN - CRC_LEN),
    "crc" / Int16ub,
)


def tm_secondary_header_declaration(time_len: int = DEFAULT_TIME_LEN) -> Struct:
    """The TM secondary header with a ``time_len``-octet time field."""
    return Struct(
        "version_status"
        / BitStruct("pus_version" / BitsInteger(4), "time_ref_status" / BitsInteger(4)),
        "service" / Int8ub,
        "subservice" / Int8ub,
        "msg_counter" / Int16ub,
        "dest_id" / Int16ub,
        "time" / Bytes(time_len),
    )


def pus_tm_declaration(time_len: int = DEFAULT_TIME_LEN) -> Struct:
    """A whole PUS-C TM packet with a ``time_len``-octet time field."""
    overhead = TM_SEC_FIXED_LEN + time_len + CRC_LEN
    return Struct(
        "primary" / PRIMARY_HEADER,
        "secondary" / tm_secondary_header_declaration(time_len),
        "app_data" / Bytes(this.primary.data_length + 1 - overhead),
        "crc" / Int16ub,
    )


PUS_TM = pus_tm_declaration()
_TC_LIMITS = declared_limits(PUS_TC)
_TM_LIMITS = declared_limits(PUS_TM)

_TC_SEC = struct.Struct(">BBBH")
_TM_SEC = struct.Struct(">BBBHH")
_TM_HEAD = struct.Struct(">HHHBBBHH")
_TC_HEAD = struct.Struct(">HHHBBBH")
_CRC = struct.Struct(">H")


def request_id_of(apid: int, seq_flags: int, seq_count: int, sec_hdr_flag: int = 1) -> int:
    """The PUS request id: the TC's first four octets (version, type, flag, APID, sequence)."""
    return (((TC << 12) | (sec_hdr_flag << 11) | apid) << 16) | (seq_flags << 14) | seq_count


def tc_request_id_from_bytes(raw: bytes | bytearray | memoryview) -> int:
    """The request id of whatever arrived, zero-padded if shorter than four octets."""
    return int.from_bytes(bytes(raw[:4]).ljust(4, b"\x00"), "big")


def _check_common(buf: bytes, want_type: int, min_len: int) -> tuple[int, ...]:
    """Primary-header checks shared by TC and TM; returns the unpacked header."""
    header = unpack_header(buf)
    version, ptype, shf, _apid, _flags, _count, length = header
    if version != 0:
        raise DecodeError("version", 0, f"packet version {version}, expected 0")
    if ptype != want_type:
        kinds = ("TM", "TC")
        raise DecodeError(
            "packet_type", 0, f"{kinds[ptype]} packet where {kinds[want_type]} expected"
        )
    if not shf:
        raise DecodeError("sec_hdr_flag", 0, "PUS packets carry a secondary header")
    total = HEADER_LEN + length + 1
    if len(buf) != total:
        raise DecodeError(
            "data_length", 4, f"header says {total} octets in all, buffer holds {len(buf)}"
        )
    if total < min_len:
        raise DecodeError("data_length", 4, f"{total} octets, a PUS packet here needs {min_len}")
    check_trailing_crc(buf, "crc")
    return header


@dataclass(slots=True)
class PusTc:
    """A PUS-C telecommand. ``crc`` None means compute it; a value is written verbatim."""

    apid: int
    service: int
    subservice: int
    app_data: bytes = b""
    seq_count: int = 0
    seq_flags: int = SEQ_UNSEGMENTED
    ack_flags: int = ACK_ALL
    source_id: int = 0
    pus_version: int = PUS_C_VERSION
    crc: int | None = None

    @property
    def request_id(self) -> int:
        return request_id_of(self.apid, self.seq_flags, self.seq_count)

    def encode(self) -> bytes:
        """The packet bytes; any bad field gives an :class:`EncodeError` naming it."""
        try:
            data = self.app_data
            apid, flags, count = self.apid, self.seq_flags, self.seq_count
            pv, ack, crc = self.pus_version, self.ack_flags, self.crc
            if type(data) is not bytes or apid >> 11 or flags >> 2 or count >> 14 or pv >> 4:
                raise ValueError
            if ack >> 4:
                raise ValueError
            body = (
                _TC_HEAD.pack(
                    0x1800 | apid,
                    (flags << 14) | count,
                    TC_SEC_LEN + len(data) + CRC_LEN - 1,
                    (pv << 4) | ack,
                    self.service,
                    self.subservice,
                    self.source_id,
                )
                + data
            )
            return body + _CRC.pack(crc16(body) if crc is None else crc)
        except (TypeError, ValueError, struct.error):
            return _not_packed(self, TC_SEC_LEN, _TC_LIMITS)

    @classmethod
    def decode(cls, raw: bytes | bytearray | memoryview) -> PusTc:
        """One whole TC; raises :class:`DecodeError` naming the first bad field."""
        buf = bytes(raw)
        _v, _t, _s, apid, flags, count, _l = _check_common(
            buf, TC, HEADER_LEN + TC_SEC_LEN + CRC_LEN
        )
        vflags, service, subservice, source = _TC_SEC.unpack_from(buf, HEADER_LEN)
        if vflags >> 4 != PUS_C_VERSION:
            raise DecodeError("pus_version", HEADER_LEN, f"PUS version {vflags >> 4}, expected 2")
        return cls(
            apid,
            service,
            subservice,
            buf[HEADER_LEN + TC_SEC_LEN : -CRC_LEN],
            count,
            flags,
            vflags & 0xF,
            source,
            PUS_C_VERSION,
            _CRC.unpack_from(buf, len(buf) - CRC_LEN)[0],
        )


@dataclass(slots=True)
class PusTm:
    """A PUS-C telemetry packet. ``crc`` None means compute it; a value is written verbatim."""

    apid: int
    service: int
    subservice: int
    app_data: bytes = b""
    seq_count: int = 0
    seq_flags: int = SEQ_UNSEGMENTED
    msg_counter: int = 0
    dest_id: int = 0
    time: bytes = bytes(DEFAULT_TIME_LEN)
    time_ref_status: int = 0
    pus_version: int = PUS_C_VERSION
    crc: int | None = None

    def encode(self) -> bytes:
        """The packet bytes; any bad field gives an :class:`EncodeError` naming it."""
        try:
            data, time = self.app_data, self.time
            apid, flags, count = self.apid, self.seq_flags, self.seq_count
            pv, status, crc = self.pus_version, self.time_ref_status, self.crc
            if type(data) is not bytes or type(time) is not bytes:
                raise ValueError
            if apid >> 11 or flags >> 2 or count >> 14 or pv >> 4 or status >> 4:
                raise ValueError
            body = (
                _TM_HEAD.pack(
                    0x0800 | apid,
                    (flags << 14) | count,
                    TM_SEC_FIXED_LEN + len(time) + len(data) + CRC_LEN - 1,
                    (pv << 4) | status,
                    self.service,
                    self.subservice,
                    self.msg_counter,
                    self.dest_id,
                )
                + time
                + data
            )
            return body + _CRC.pack(crc16(body) if crc is None else crc)
        except (TypeError, ValueError, struct.error):
            return _not_packed(self, TM_SEC_FIXED_LEN, _TM_LIMITS)

    @classmethod
    def decode(cls, raw: bytes | bytearray | memoryview, time_len: int = DEFAULT_TIME_LEN) -> PusTm:
        """One whole TM with a ``time_len``-octet time field."""
        if not 0 <= time_len <= 64:
            raise DecodeError("time", HEADER_LEN + TM_SEC_FIXED_LEN, f"time length {time_len}")
        buf = bytes(raw)
        _v, _t, _s, apid, flags, count, _l = _check_common(
            buf, TM, HEADER_LEN + TM_SEC_FIXED_LEN + time_len + CRC_LEN
        )
        vstatus, service, subservice, counter, dest = _TM_SEC.unpack_from(buf, HEADER_LEN)
        if vstatus >> 4 != PUS_C_VERSION:
            raise DecodeError("pus_version", HEADER_LEN, f"PUS version {vstatus >> 4}, expected 2")
        t0 = HEADER_LEN + TM_SEC_FIXED_LEN
        return cls(
            apid,
            service,
            subservice,
            buf[t0 + time_len : -CRC_LEN],
            count,
            flags,
            counter,
            dest,
            buf[t0 : t0 + time_len],
            vstatus & 0xF,
            PUS_C_VERSION,
            _CRC.unpack_from(buf, len(buf) - CRC_LEN)[0],
        )


def _not_packed(packet: PusTc | PusTm, fixed: int, limits: dict[str, int]) -> bytes:
    """Why an encoder's fast path could not pack ``packet``: bytes-like fields are packed
    as bytes (by the same encoder); otherwise the :class:`EncodeError` names the field,
    its range read from the declaration. Nothing here packs a packet."""
    octets = {"app_data": packet.app_data}
    if isinstance(packet, PusTm):
        octets["time"] = packet.time
    if any(type(v) is not bytes for v in octets.values()):
        octets = {name: as_bytes(name, value) for name, value in octets.items()}
        return dataclasses.replace(packet, **octets).encode()  # type: ignore[arg-type]
    if fixed + sum(len(v) for v in octets.values()) + CRC_LEN - 1 > 0xFFFF:
        raise EncodeError("app_data", f"{len(packet.app_data)} octets do not fit one packet")
    raise bad_field(packet, limits, optional=("crc",))


def encode_tm(
    apid: int,
    seq_count: int,
    service: int,
    subservice: int,
    msg_counter: int,
    dest_id: int,
    time: bytes,
    app_data: bytes,
    time_ref_status: int = 0,
) -> bytes:
    """The on-board TM fast path: an unsegmented PUS-C TM, equal to ``PusTm(...).encode()``
    (the tests prove it); what it cannot pack, ``PusTm.encode`` names."""
    length = TM_SEC_FIXED_LEN + len(time) + len(app_data) + CRC_LEN - 1
    try:
        if apid >> 11 or seq_count >> 14 or length > 0xFFFF or time_ref_status >> 4:
            raise ValueError
        body = (
            _TM_HEAD.pack(
                0x0800 | apid,
                0xC000 | seq_count,
                length,
                (PUS_C_VERSION << 4) | time_ref_status,
                service,
                subservice,
                msg_counter,
                dest_id,
            )
            + time
            + app_data
        )
    except (TypeError, ValueError, struct.error):
        tm = PusTm(
            apid,
            service,
            subservice,
            app_data,
            seq_count,
            msg_counter=msg_counter,
            dest_id=dest_id,
            time=time,
            time_ref_status=time_ref_status,
        )
        return tm.encode()  # raises the EncodeError naming the field
    return body + _CRC.pack(crc16(body))
