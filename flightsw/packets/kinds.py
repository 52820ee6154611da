"""Named packet kinds for the ``flightsw packet`` CLI and ground tools: dict <-> bytes.

Each kind maps a JSON object to encoded bytes and back. Its fields are not listed here:
:func:`declared_kind` reads them from the format's construct declaration (its named
fields, in order, that the format's class carries), and their JSON types from the
class's annotations: ``bytes`` fields are lowercase hex, others integers; a field with
a default may be null, as if omitted (computed, left out or its default), a
field the class computes (a property such as ``ocf_flag``) is shown when decoding and,
when given, must agree. So whatever ``decode`` prints, ``encode`` takes back to the same
bytes. Derived fields (``data_length``, ``crc``) are computed when null or omitted and
written verbatim when given, so a test engineer can build a deliberately bad packet.
Later layers (transfer frames, CLTUs) add their kinds with :func:`register`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from construct import Construct, IfThenElse, Renamed

from flightsw.base.errors import EncodeError
from flightsw.packets.pus import DEFAULT_TIME_LEN, PUS_TC, PusTc, PusTm, pus_tm_declaration
from flightsw.packets.spacepacket import SPACE_PACKET, SpacePacket


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
    nullable: tuple[str, ...] = ()  # fields that may be null


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
        if value is None:
            if name not in kind.nullable:
                raise EncodeError(name, "may not be null")
            out[name] = None
        elif name in kind.byte_fields:
            if not isinstance(value, str):
                raise EncodeError(name, "byte fields are hex strings")
            try:
                out[name] = bytes.fromhex(value)
            except ValueError as exc:
                raise EncodeError(name, f"not hex: {exc}") from None
        elif isinstance(value, int) and not isinstance(value, bool):
            out[name] = value
        else:
            raise EncodeError(name, f"{value!r} is not an integer")
    return out


# --- kinds from declarations ------------------------------------------------------------


def declared_fields(declaration: Construct, cls: type) -> tuple[str, ...]:
    """The named fields of ``declaration``, in order, that ``cls`` carries (a dataclass
    field or a property). A named part the class does not carry is looked into (a header
    structure); a part the declaration leaves out for this use (``If(False, ...)``) is
    skipped."""
    out: list[str] = []

    def left_out(node: Construct) -> bool:
        while isinstance(node, Renamed):
            node = node.subcon
        return isinstance(node, IfThenElse) and node.condfunc is False

    def walk(node: Construct) -> None:
        if left_out(node):
            return
        if isinstance(node, Renamed) and node.name and hasattr(cls, node.name):
            if node.name not in out:
                out.append(node.name)
            return
        for attr in ("subcon", "thensubcon"):
            sub = getattr(node, attr, None)
            if sub is not None:
                walk(sub)
        for sub in getattr(node, "subcons", ()):
            walk(sub)

    walk(declaration)
    return tuple(out)


def to_json(value: object) -> object:
    """A field value as the CLI prints it: bytes as hex, integers and null as they are."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


@dataclass(frozen=True)
class _Shape:
    """How a class's fields look in JSON (from its annotations)."""

    init: tuple[str, ...]  # constructor arguments
    computed: tuple[str, ...]  # properties: shown, and checked when given
    required: tuple[str, ...]
    byte_fields: tuple[str, ...]
    nullable: tuple[str, ...]  # all but the required: null is the same as omitted


def _shape(cls: type, names: tuple[str, ...]) -> _Shape:
    info = {f.name: f for f in dataclasses.fields(cls)}
    init = tuple(n for n in names if n in info)
    no_default = dataclasses.MISSING

    def ann(n: str) -> str:
        return str(info[n].type)

    required = tuple(
        n for n in init if info[n].default is no_default and info[n].default_factory is no_default
    )
    return _Shape(
        init,
        tuple(n for n in names if n not in info),
        required,
        tuple(n for n in init if "bytes" in ann(n)),
        tuple(n for n in names if n not in required),
    )


def declared_kind(
    name: str,
    declaration: Construct,
    cls: type,
    doc: str,
    *,
    decode: Callable[[bytes, KindOptions], Any] | None = None,
    encode: Callable[[Any, KindOptions], bytes] | None = None,
    prepare: Callable[[dict[str, Any], KindOptions], dict[str, Any]] | None = None,
) -> Kind:
    """A kind whose fields come from ``declaration`` and ``cls`` (see the module doc).

    ``decode(raw, opts)`` gives an instance of ``cls`` (default ``cls.decode(raw)``);
    ``encode(instance, opts)`` its bytes (default ``instance.encode()``);
    ``prepare(fields, opts)``, if given, fills in what the format's conventions say
    about omitted fields before the instance is built.
    """
    names = declared_fields(declaration, cls)
    shape = _shape(cls, names)
    if decode is None:
        decode = _default_decode(cls)
    if encode is None:
        encode = _default_encode

    from_bytes, to_bytes = decode, encode

    def to_dict(raw: bytes, opts: KindOptions) -> dict[str, Any]:
        obj = from_bytes(raw, opts)
        return {n: to_json(getattr(obj, n)) for n in names}

    def from_dict(fields: dict[str, Any], opts: KindOptions) -> bytes:
        given = dict(fields)
        if prepare is not None:
            given = prepare(given, opts)
        kwargs = {n: given[n] for n in shape.init if n in given and given[n] is not None}
        try:
            obj = cls(**kwargs)
        except TypeError as exc:
            raise EncodeError(name, str(exc)) from None
        for n in shape.computed:
            want = given.get(n)
            if want is not None and want != getattr(obj, n):
                raise EncodeError(n, f"{want!r} does not match the other fields")
        return to_bytes(obj, opts)

    return Kind(
        name,
        names,
        shape.required,
        shape.byte_fields,
        to_dict,
        from_dict,
        doc,
        shape.nullable,
    )


# --- space-packet, pus-tc, pus-tm -------------------------------------------------------


def _tm_time(fields: dict[str, Any], opts: KindOptions) -> dict[str, Any]:
    if fields.get("time") is None:
        fields["time"] = bytes(opts.time_len)
    if len(fields["time"]) != opts.time_len:
        raise EncodeError("time", f"{len(fields['time'])} octets, --time-len is {opts.time_len}")
    return fields


def _default_decode(cls: Any) -> Callable[[bytes, KindOptions], Any]:
    return lambda raw, _opts: cls.decode(raw)


def _default_encode(obj: Any, _opts: KindOptions) -> bytes:
    return bytes(obj.encode())


_SP_DOC = "CCSDS 133.0-B-2 space packet; data_length is the header field (octets - 1)"
register(declared_kind("space-packet", SPACE_PACKET, SpacePacket, _SP_DOC))
register(declared_kind("pus-tc", PUS_TC, PusTc, "ECSS PUS-C telecommand with CRC-16/CCITT-FALSE"))
register(
    declared_kind(
        "pus-tm",
        pus_tm_declaration(),
        PusTm,
        "ECSS PUS-C telemetry; time is --time-len octets (CUC 4+2 by default)",
        decode=lambda raw, opts: PusTm.decode(raw, time_len=opts.time_len),
        prepare=_tm_time,
    )
)
