"""Named packet kinds for the ``flightsw packet`` CLI and ground tools: dict <-> bytes.

Each kind maps a JSON object with documented field names (integers, byte fields as
lowercase hex) to encoded bytes and back. Derived fields (``data_length``, ``crc``) are
computed when omitted and written verbatim when given, so a test engineer can build a
deliberately bad packet. Later layers (transfer frames, CLTUs) add their kinds with
:func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flightsw.errors import EncodeError
from flightsw.packets.pus import DEFAULT_TIME_LEN, PusTc, PusTm
from flightsw.packets.spacepacket import SpacePacket


@dataclass(frozen=True)
class KindOptions:
    """Options that a format needs but the bytes do not carry."""

    time_len: int = DEFAULT_TIME_LEN


@dataclass(frozen=True)
class Kind:
    """A packet or frame format the CLI can decode and encode."""

    name: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    byte_fields: tuple[str, ...]
    decode: Callable[[bytes, KindOptions], dict[str, Any]]
    encode: Callable[[dict[str, Any], KindOptions], bytes]
    doc: str


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Make ``kind`` available by name; a second kind with the same name is an error."""
    if kind.name in KINDS:
        raise ValueError(f"packet kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind


def fields_from_json(kind: Kind, obj: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a JSON object against ``kind``: known names, required present, types right."""
    if not isinstance(obj, Mapping):
        raise EncodeError(kind.name, "expected a JSON object")
    unknown = sorted(set(obj) - set(kind.fields))
    if unknown:
        raise EncodeError(
            unknown[0], f"not a field of {kind.name}; fields: {', '.join(kind.fields)}"
        )
    missing = [f for f in kind.required if f not in obj]
    if missing:
        raise EncodeError(missing[0], "required field missing")
    out: dict[str, Any] = {}
    for name, value in obj.items():
        if name in kind.byte_fields:
            if not isinstance(value, str):
                raise EncodeError(name, "byte fields are hex strings")
            try:
                out[name] = bytes.fromhex(value)
            except ValueError as exc:
                raise EncodeError(name, f"not hex: {exc}") from None
        elif value is None:
            out[name] = None
        elif isinstance(value, int) and not isinstance(value, bool):
            out[name] = value
        else:
            raise EncodeError(name, f"{value!r} is not an integer")
    return out


# --- space-packet -----------------------------------------------------------------------


def _sp_decode(raw: bytes, _opts: KindOptions) -> dict[str, Any]:
    p = SpacePacket.decode(raw)
    return {
        "version": p.version,
        "packet_type": p.packet_type,
        "sec_hdr_flag": p.sec_hdr_flag,
        "apid": p.apid,
        "seq_flags": p.seq_flags,
        "seq_count": p.seq_count,
        "data_length": p.data_length,
        "data": p.data.hex(),
    }


def _sp_encode(obj: dict[str, Any], _opts: KindOptions) -> bytes:
    return SpacePacket(**obj).encode()


# --- pus-tc ----------------------------------------------------------------------------


def _tc_decode(raw: bytes, _opts: KindOptions) -> dict[str, Any]:
    tc = PusTc.decode(raw)
    return {
        "apid": tc.apid,
        "seq_flags": tc.seq_flags,
        "seq_count": tc.seq_count,
        "pus_version": tc.pus_version,
        "ack_flags": tc.ack_flags,
        "service": tc.service,
        "subservice": tc.subservice,
        "source_id": tc.source_id,
        "app_data": tc.app_data.hex(),
        "crc": tc.crc,
    }


def _tc_encode(obj: dict[str, Any], _opts: KindOptions) -> bytes:
    return PusTc(**obj).encode()


# --- pus-tm ----------------------------------------------------------------------------


def _tm_decode(raw: bytes, opts: KindOptions) -> dict[str, Any]:
    tm = PusTm.decode(raw, time_len=opts.time_len)
    return {
        "apid": tm.apid,
        "seq_flags": tm.seq_flags,
        "seq_count": tm.seq_count,
        "pus_version": tm.pus_version,
        "time_ref_status": tm.time_ref_status,
        "service": tm.service,
        "subservice": tm.subservice,
        "msg_counter": tm.msg_counter,
        "dest_id": tm.dest_id,
        "time": tm.time.hex(),
        "app_data": tm.app_data.hex(),
        "crc": tm.crc,
    }


def _tm_encode(obj: dict[str, Any], opts: KindOptions) -> bytes:
    fields = dict(obj)
    fields.setdefault("time", bytes(opts.time_len))
    if len(fields["time"]) != opts.time_len:
        raise EncodeError("time", f"{len(fields['time'])} octets, --time-len is {opts.time_len}")
    return PusTm(**fields).encode()


register(
    Kind(
        "space-packet",
        (
            "version",
            "packet_type",
            "sec_hdr_flag",
            "apid",
            "seq_flags",
            "seq_count",
            "data_length",
            "data",
        ),
        ("apid", "data"),
        ("data",),
        _sp_decode,
        _sp_encode,
        "CCSDS 133.0-B-2 space packet; data_length is the header field (octets - 1)",
    )
)
register(
    Kind(
        "pus-tc",
        (
            "apid",
            "seq_flags",
            "seq_count",
            "pus_version",
            "ack_flags",
            "service",
            "subservice",
            "source_id",
            "app_data",
            "crc",
        ),
        ("apid", "service", "subservice"),
        ("app_data",),
        _tc_decode,
        _tc_encode,
        "ECSS PUS-C telecommand with CRC-16/CCITT-FALSE",
    )
)
register(
    Kind(
        "pus-tm",
        (
            "apid",
            "seq_flags",
            "seq_count",
            "pus_version",
            "time_ref_status",
            "service",
            "subservice",
            "msg_counter",
            "dest_id",
            "time",
            "app_data",
            "crc",
        ),
        ("apid", "service", "subservice"),
        ("time", "app_data"),
        _tm_decode,
        _tm_encode,
        "ECSS PUS-C telemetry; time is --time-len octets (CUC 4+2 by default)",
    )
)
