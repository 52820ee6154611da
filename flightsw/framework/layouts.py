"""Variable layouts of command arguments and TM reports: construct structures that the
dictionary exports as data and the ground builds back into the same codec.

A fixed argument list is a row of typed values (:class:`flightsw.framework.app.Arg`); what varies
in length (a list of ids, a name, a segment of a file, parameter values of several types)
is declared with construct, from the pieces below, so that one declaration is the codec on
board, the dictionary entry, and, rebuilt from the dictionary by :func:`build`, the codec
on the ground (which imports no flight service to decode a report).

The pieces and their JSON form (``describe``; ``build`` is its inverse):

- ``U8`` .. ``F64`` (construct's big-endian ``Int8ub`` .. ``Float64b``): ``{"type": "u16"}``;
- ``Bytes(n)``: ``{"type": "bytes", "length": n}``; :data:`REST` (all that is left, at the
  end of a layout only): ``{"type": "bytes", "length": "rest"}``;
- :func:`text`: ASCII after a u8 length: ``{"type": "string", "prefix": "u8"}``;
- :func:`counted`: a count then that many items:
  ``{"type": "array", "count": "u16", "item": {...}}``;
- ``Struct`` of named fields: ``{"type": "struct", "fields": [{"name": ..., "layout": ...}]}``;
- :func:`by_id`: a value whose layout the dictionary gives by an id in a field before it:
  ``{"type": "by_id", "table": "parameters", "key": "id"}``. Tables: ``parameters`` (one
  value of the parameter's type), ``events`` (the event's arguments) and
  ``housekeeping`` (the structure's points). The codec looks the id up in the
  ``tables`` passed to ``parse``/``build`` (:func:`tables_from_dictionary`); an id the
  table lacks is a :class:`~flightsw.base.errors.DecodeError`;
- :class:`CucTime`: a CUC time as integer ns (sub-seconds kept):
  ``{"type": "cuc", "coarse": 4, "fine": 2}``;
- construct's own ``PascalString``, ``PrefixedArray``, ``Array``, ``Enum`` and
  ``Prefixed(prefix, GreedyBytes)`` are described as ``string``, ``array`` (``count`` a
  prefix type or a number), ``enum`` (``base``, ``values``) and ``bytes`` with a
  ``prefix``, and built back the same.

Decoding a TC's application data for its handler (:func:`parse_tc`) raises only
``CommandError`` with a PUS-1 code; everything else raises only ``DecodeError`` or
``EncodeError``: construct's own exceptions stop here.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from typing import Any

from construct import (
    Adapter,
    Array,
    Bytes,
    Construct,
    ConstructError,
    Enum,
    EnumIntegerString,
    Float32b,
    Float64b,
    FocusedSeq,
    FormatField,
    GreedyBytes,
    Int8sb,
    Int8ub,
    Int16sb,
    Int16ub,
    Int32sb,
    Int32ub,
    Int64sb,
    Int64ub,
    PascalString,
    Prefixed,
    PrefixedArray,
    Renamed,
    StreamError,
    StringEncoded,
    Struct,
    stream_read,
    stream_write,
)

from flightsw.base.errors import CommandError, DecodeError, EncodeError
from flightsw.framework.datatypes import TYPES
from flightsw.packets.time_codes import cuc_decode, cuc_encode

BAD_LENGTH = 2  # FailureCode.BAD_LENGTH (flightsw.framework.app imports this module)
BAD_APP_DATA = 7  # FailureCode.BAD_APP_DATA

__all__ = [
    "F32",
    "F64",
    "I8",
    "I16",
    "I32",
    "I64",
    "REST",
    "U8",
    "U16",
    "U32",
    "U64",
    "Bytes",
    "CucTime",
    "Struct",
    "build",
    "by_id",
    "counted",
    "decode",
    "describe",
    "encode",
    "parse",
    "parse_fields",
    "parse_tc",
    "plain",
    "tables_from_dictionary",
    "text",
]

U8, U16, U32, U64 = Int8ub, Int16ub, Int32ub, Int64ub
I8, I16, I32, I64 = Int8sb, Int16sb, Int32sb, Int64sb
F32, F64 = Float32b, Float64b
REST = GreedyBytes

_SCALARS: dict[str, Construct] = {
    "u8": U8,
    "u16": U16,
    "u32": U32,
    "u64": U64,
    "i8": I8,
    "i16": I16,
    "i32": I32,
    "i64": I64,
    "f32": F32,
    "f64": F64,
}
_SCALAR_BY_FMT = {c.fmtstr: name for name, c in _SCALARS.items()}
_TABLES = ("parameters", "events", "housekeeping")

Tables = Mapping[str, Mapping[int, tuple[str, ...]]]
"""Per table, per id, the value types in order (what :func:`by_id` needs)."""


def text(prefix: Construct = U8) -> Construct:
    """ASCII text after its length."""
    con = PascalString(prefix, "ascii")
    con.flightsw_layout = {"type": "string", "prefix": _scalar_name(prefix)}
    return con


def counted(count: Construct, item: Construct) -> Construct:
    """``count`` then that many ``item``."""
    con = PrefixedArray(count, item)
    con.flightsw_layout = {"type": "array", "count": _scalar_name(count), "item": describe(item)}
    return con


class _ById(Construct):  # type: ignore[misc]
    """Values whose types a dictionary table gives by the id in field ``key``."""

    def __init__(self, table: str, key: str) -> None:
        super().__init__()
        if table not in _TABLES:
            raise ValueError(f"by_id: unknown table {table!r}; tables: {', '.join(_TABLES)}")
        self.table, self.key = table, key
        self.flightsw_layout = {"type": "by_id", "table": table, "key": key}

    def _types(self, context: Any, path: str) -> tuple[str, ...]:
        tables = context._params.get("tables")
        ident = context[self.key]
        types = None if tables is None else tables.get(self.table, {}).get(ident)
        if types is None:
            raise DecodeError(path, 0, f"{self.table}: no id 0x{ident:04x} in the dictionary")
        return tuple(types)

    def _parse(self, stream: Any, context: Any, path: str) -> Any:
        st = _struct(self._types(context, path))
        values = st.unpack(stream_read(stream, st.size, path))
        return values[0] if self.table == "parameters" else list(values)

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        types = self._types(context, path)
        values = [obj] if self.table == "parameters" else list(obj)
        try:
            stream_write(stream, _struct(types).pack(*values), _struct(types).size, path)
        except struct.error as exc:
            raise EncodeError(path, str(exc)) from None
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        return _struct(self._types(context, path)).size


def by_id(table: str, key: str) -> Construct:
    """A value (``parameters``) or list of values (``events``, ``housekeeping``) whose
    types the dictionary's ``table`` gives for the id in the earlier field ``key``."""
    return _ById(table, key)


class CucTime(Adapter):  # type: ignore[misc]
    """A CUC time field (4 coarse + 2 fine octets by default) as integer ns since epoch.

    Decoding gives the start of the fine tick, so sub-seconds survive a round trip.
    """

    def __init__(self, coarse: int = 4, fine: int = 2) -> None:
        super().__init__(Bytes(coarse + fine))
        self.coarse = coarse
        self.fine = fine
        self.flightsw_layout = {"type": "cuc", "coarse": coarse, "fine": fine}

    def _decode(self, obj: bytes, context: Any, path: str) -> int:
        return cuc_decode(obj, self.coarse)

    def _encode(self, obj: int, context: Any, path: str) -> bytes:
        return cuc_encode(int(obj), self.coarse, self.fine)


def _struct(types: tuple[str, ...]) -> struct.Struct:
    return struct.Struct(">" + "".join(TYPES[t].code for t in types))


def _scalar_name(con: Construct) -> str:
    name = (
        _SCALAR_BY_FMT.get(getattr(con, "fmtstr", None)) if isinstance(con, FormatField) else None
    )
    if name is None:
        raise ValueError(f"not a scalar of a layout: {con!r}")
    return name


def describe(con: Construct) -> dict[str, Any]:
    """The JSON form of a layout made of this module's pieces (see the module doc)."""
    tagged = getattr(con, "flightsw_layout", None)
    if tagged is not None:
        return dict(tagged)
    if isinstance(con, FormatField):
        return {"type": _scalar_name(con)}
    if isinstance(con, Bytes) and isinstance(con.length, int):
        return {"type": "bytes", "length": con.length}
    if con is GreedyBytes:
        return {"type": "bytes", "length": "rest"}
    if isinstance(con, StringEncoded) and isinstance(con.subcon, Prefixed):
        return {
            "type": "string",
            "prefix": _scalar_name(con.subcon.lengthfield),
            **({} if con.encoding == "ascii" else {"encoding": con.encoding}),
        }
    if isinstance(con, Prefixed) and con.subcon is GreedyBytes:
        return {"type": "bytes", "prefix": _scalar_name(con.lengthfield)}
    if isinstance(con, FocusedSeq) and len(con.subcons) == 2:  # construct's PrefixedArray
        count, items = con.subcons
        return {
            "type": "array",
            "count": _scalar_name(count.subcon.subcon),
            "item": describe(items.subcon.subcon),
        }
    if isinstance(con, Array) and isinstance(con.count, int):
        return {"type": "array", "count": con.count, "item": describe(con.subcon)}
    if isinstance(con, Enum):
        values = {str(k): int(v) for k, v in con.encmapping.items()}
        return {"type": "enum", "base": _scalar_name(con.subcon), "values": values}
    if isinstance(con, Struct):
        fields = []
        for sub in con.subcons:
            if not isinstance(sub, Renamed) or not sub.name:
                raise ValueError(f"a layout's struct has only named fields: {sub!r}")
            fields.append({"name": sub.name, "layout": describe(sub.subcon)})
        return {"type": "struct", "fields": fields}
    raise ValueError(f"not a piece of a layout: {con!r}")


def build(layout: Mapping[str, Any]) -> Construct:
    """The codec of a layout's JSON form (the inverse of :func:`describe`)."""
    kind = layout.get("type")
    if kind in _SCALARS:
        return _SCALARS[str(kind)]
    if kind == "bytes":
        if "prefix" in layout:
            return Prefixed(_SCALARS[layout["prefix"]], GreedyBytes)
        length = layout.get("length")
        return REST if length == "rest" else Bytes(int(length))  # type: ignore[arg-type]
    if kind == "string":
        if "encoding" in layout:
            return PascalString(_SCALARS[layout["prefix"]], str(layout["encoding"]))
        return text(_SCALARS[layout["prefix"]])
    if kind == "array":
        if isinstance(layout["count"], int):
            return Array(layout["count"], build(layout["item"]))
        return counted(_SCALARS[layout["count"]], build(layout["item"]))
    if kind == "cuc":
        return CucTime(int(layout["coarse"]), int(layout["fine"]))
    if kind == "enum":
        return Enum(_SCALARS[layout["base"]], **{k: int(v) for k, v in layout["values"].items()})
    if kind == "struct":
        return Struct(*(f["name"] / build(f["layout"]) for f in layout["fields"]))
    if kind == "by_id":
        return by_id(str(layout["table"]), str(layout["key"]))
    raise DecodeError("layout", 0, f"unknown layout type {kind!r}")


def tables_from_dictionary(dictionary: Mapping[str, Any]) -> dict[str, dict[int, tuple[str, ...]]]:
    """The ``tables`` :func:`by_id` looks ids up in, from an exported dictionary."""
    return {
        "parameters": {p["id"]: (p["type"],) for p in dictionary.get("parameters", [])},
        "events": {
            e["id"]: tuple(a["type"] for a in e["args"]) for e in dictionary.get("events", [])
        },
        "housekeeping": {
            h["sid"]: tuple(p["type"] for p in h["points"])
            for h in dictionary.get("housekeeping", [])
        },
    }


def plain(value: Any) -> Any:
    """A parsed value as plain dicts and lists (construct's containers without ``_io``)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, EnumIntegerString):
        return str(value)
    return value


def parse(con: Construct, data: bytes, tables: Tables, where: str) -> Any:
    """All of ``data`` decoded by ``con``, as plain values; a :class:`DecodeError`
    naming ``where`` for anything that does not fit (short, trailing octets, unknown id)."""
    stream = io.BytesIO(data)
    try:
        value = con.parse_stream(stream, tables=tables)
    except DecodeError as exc:  # an id the dictionary lacks
        raise DecodeError(where, stream.tell(), exc.reason) from None
    except (ConstructError, UnicodeDecodeError, struct.error, ValueError, OverflowError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DecodeError(where, stream.tell(), reason) from None
    if stream.tell() != len(data):
        raise DecodeError(where, stream.tell(), f"{len(data) - stream.tell()} trailing octets")
    return plain(value)


def encode(con: Construct, value: Any, tables: Tables, where: str) -> bytes:
    """``value`` encoded by ``con``; an :class:`EncodeError` naming ``where`` otherwise."""
    try:
        return bytes(con.build(value, tables=tables))
    except EncodeError as exc:
        raise EncodeError(where, exc.reason) from None
    except (ConstructError, UnicodeEncodeError, struct.error, TypeError, KeyError) as exc:
        raise EncodeError(where, str(exc).strip() or type(exc).__name__) from None
    except (ValueError, OverflowError) as exc:
        raise EncodeError(where, str(exc).strip() or type(exc).__name__) from None


def decode(con: Construct, data: bytes, where: str) -> Any:
    """:func:`parse` of a layout that looks nothing up in the dictionary's tables."""
    return parse(con, data, {}, where)


def parse_fields(con: Construct, data: bytes, where: str) -> dict[str, Any]:
    """:func:`decode` as a mapping (a layout that is not a structure gives ``{"value": ...}``)."""
    out = decode(con, data, where)
    return out if isinstance(out, dict) else {"value": out}


def parse_tc(con: Construct, data: bytes, where: str) -> dict[str, Any]:
    """A TC's application data decoded with its declared layout into handler keyword
    arguments; ``CommandError`` (BAD_LENGTH for short or long data, BAD_APP_DATA otherwise)."""
    stream = io.BytesIO(data)
    try:
        value = con.parse_stream(stream, tables={})
    except StreamError as exc:
        raise CommandError(BAD_LENGTH, f"{where}: truncated ({_short(exc)})") from None
    except Exception as exc:  # construct's errors and anything a validator raises
        raise CommandError(BAD_APP_DATA, f"{where}: {_short(exc)}") from None
    if stream.tell() != len(data):
        raise CommandError(BAD_LENGTH, f"{where}: {len(data) - stream.tell()} trailing octets")
    out = plain(value)
    if not isinstance(out, dict):
        raise CommandError(BAD_APP_DATA, f"{where}: layout is not a structure")
    return out


def _short(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[-1] if lines else type(exc).__name__)[:120]
