"""Variable TC and TM layouts declared once with construct: codec and dictionary entry.

A command with a variable layout (lists, strings, nested records) declares it as a
construct structure (``@command(layout=...)``) instead of a hand-written parser; the
dispatcher decodes the application data with it at acceptance and the dictionary
exports its description (:func:`describe`), so the ground knows the layout without
reading flight code. A TM report an app sends declares its layout the same way
(``ReportDef``) and is built from it (``App.send_report``).

Decoding never raises anything but ``CommandError`` (for TCs, with a PUS-1 code) or
``DecodeError``: construct's own exceptions stop here. Times are declared as
:class:`CucTime` (integer ns, sub-seconds kept).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import construct as c

from flightsw.errors import CommandError, DecodeError, EncodeError
from flightsw.packets.time_codes import cuc_decode, cuc_encode

BAD_LENGTH = 2  # FailureCode.BAD_LENGTH (flightsw.app imports this module)
BAD_APP_DATA = 7  # FailureCode.BAD_APP_DATA

_FORMATS = {
    ">B": "u8",
    ">H": "u16",
    ">I": "u32",
    ">L": "u32",
    ">l": "i32",
    ">Q": "u64",
    ">b": "i8",
    ">h": "i16",
    ">i": "i32",
    ">q": "i64",
    ">f": "f32",
    ">d": "f64",
}


class CucTime(c.Adapter):  # type: ignore[misc]
    """A CUC time field (4 coarse + 2 fine octets by default) as integer ns since epoch.

    Decoding gives the start of the fine tick, so sub-seconds survive a round trip.
    """

    def __init__(self, coarse: int = 4, fine: int = 2) -> None:
        super().__init__(c.Bytes(coarse + fine))
        self.coarse = coarse
        self.fine = fine

    def _decode(self, obj: bytes, context: Any, path: str) -> int:
        return cuc_decode(obj, self.coarse)

    def _encode(self, obj: int, context: Any, path: str) -> bytes:
        return cuc_encode(int(obj), self.coarse, self.fine)


@dataclass(frozen=True)
class ReportDef:
    """A TM report an app sends: PUS (service, subservice) and its construct layout."""

    name: str
    service: int
    subservice: int
    layout: Any  # a construct Construct
    doc: str = ""


def plain(obj: Any) -> Any:
    """A construct Container/ListContainer as plain dicts and lists (no ``_io`` keys)."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    if isinstance(obj, c.EnumIntegerString):
        return str(obj)
    return obj


def parse_tc(layout: Any, data: bytes, where: str) -> dict[str, Any]:
    """Application data decoded with its declared layout into handler keyword arguments;
    ``CommandError`` (BAD_LENGTH for short or long data, BAD_APP_DATA otherwise)."""
    try:
        stream = io.BytesIO(data)
        value = layout.parse_stream(stream)
        used = stream.tell()
    except c.StreamError as exc:
        raise CommandError(BAD_LENGTH, f"{where}: truncated ({_short(exc)})") from None
    except Exception as exc:  # construct's errors and anything a validator raises
        raise CommandError(BAD_APP_DATA, f"{where}: {_short(exc)}") from None
    if used != len(data):
        raise CommandError(BAD_LENGTH, f"{where}: {len(data) - used} trailing octets")
    out = plain(value)
    if not isinstance(out, dict):
        raise CommandError(BAD_APP_DATA, f"{where}: layout is not a structure")
    return out


def decode(layout: Any, data: bytes, where: str) -> Any:
    """Decode a report or table image; ``DecodeError`` naming ``where`` on any failure."""
    try:
        stream = io.BytesIO(data)
        value = layout.parse_stream(stream)
        used = stream.tell()
    except Exception as exc:
        raise DecodeError(where, 0, _short(exc)) from None
    if used != len(data):
        raise DecodeError(where, used, f"{len(data) - used} trailing octets")
    return plain(value)


def parse(layout: Any, data: bytes, where: str) -> dict[str, Any]:
    """:func:`decode` as a mapping (a layout that is not a structure gives ``{"value": ...}``)."""
    out = decode(layout, data, where)
    return out if isinstance(out, dict) else {"value": out}


def encode(layout: Any, value: Any, where: str) -> bytes:
    """Build with the declared layout; ``EncodeError`` naming ``where`` on any failure."""
    try:
        out: bytes = layout.build(value)
    except Exception as exc:
        raise EncodeError(where, _short(exc)) from None
    return out


build = encode  # the name the sequence format and the scheduler use


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__)[:120]


def describe(node: Any) -> Any:
    """A JSON-able description of a construct layout for the dictionary.

    Fields are ``{"name", "type"}`` with ``type`` one of the scalar names (u8 ... f64),
    ``"struct"`` (``fields``), ``"array"`` (``count``: the prefix type or a number,
    ``items``), ``"string"``/``"bytes"`` (``length``: prefix type, number or
    ``"rest"``) and ``"enum"`` (``base``, ``values``).
    """
    name = getattr(node, "name", None)
    body = _describe(node)
    if name and isinstance(body, dict) and "name" not in body:
        body = {"name": name, **body}
    return body


def _describe(node: Any) -> Any:
    if isinstance(node, CucTime):
        return {"type": "cuc", "coarse": node.coarse, "fine": node.fine}
    if isinstance(node, c.Renamed):
        inner = _describe(node.subcon)
        return {"name": node.name, **inner}
    if isinstance(node, c.FormatField):
        return {"type": _FORMATS.get(node.fmtstr, node.fmtstr)}
    if isinstance(node, c.Struct):
        return {"type": "struct", "fields": [describe(s) for s in node.subcons]}
    if isinstance(node, c.FocusedSeq):  # PrefixedArray: count, then items
        count, items = node.subcons[0], node.subcons[1]
        prefix = _describe(count.subcon.subcon)  # Rebuild(countfield) inside Renamed
        return {
            "type": "array",
            "count": prefix["type"],
            "items": _describe(items.subcon.subcon),  # Renamed(Array(subcon))
        }
    if isinstance(node, c.Array):
        return {"type": "array", "count": node.count, "items": _describe(node.subcon)}
    if isinstance(node, c.StringEncoded):
        inner = node.subcon
        if isinstance(inner, c.Prefixed):
            return {
                "type": "string",
                "encoding": node.encoding,
                "length": _describe(inner.lengthfield)["type"],
            }
        return {"type": "string", "encoding": node.encoding, "length": "rest"}
    if isinstance(node, c.Prefixed):
        return {"type": "bytes", "length": _describe(node.lengthfield)["type"]}
    if isinstance(node, c.Bytes):
        return {"type": "bytes", "length": node.length}
    if node is c.GreedyBytes:
        return {"type": "bytes", "length": "rest"}
    if isinstance(node, c.Enum):
        return {
            "type": "enum",
            "base": _describe(node.subcon)["type"],
            "values": {str(k): int(v) for k, v in node.encmapping.items()},
        }
    if isinstance(node, c.Subconstruct):
        return _describe(node.subcon)
    return {"type": type(node).__name__}
