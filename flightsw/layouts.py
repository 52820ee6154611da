"""Variable TC and TM layouts declared with construct: decoding and dictionary export.

A command or TM report whose application data is not a fixed list of typed arguments
(N x entries, embedded TCs, strings) declares its layout once as a construct structure.
The same declaration decodes uplinked TCs (``parse``), encodes on the ground side
(``layout.build``) and is exported in the dictionary (``describe``) so the ground knows
the layout without importing flight code.

``describe`` turns a construct into plain JSON-able data: ``{"type": "u16"}``,
``{"type": "struct", "fields": [...]}``, ``{"type": "array", "count": "u16", "item":
...}``, ``{"type": "prefixed", "length": "u16", "item": ...}``, ``{"type": "bytes"}``
(to the end, or with a ``length``), ``{"type": "string", "encoding": ...}`` and
``{"type": "cuc", "coarse": 4, "fine": 2}`` for times.
"""

from __future__ import annotations

import io
from typing import Any

from construct import (
    Adapter,
    Array,
    Bytes,
    Construct,
    ConstructError,
    Container,
    FocusedSeq,
    FormatField,
    GreedyBytes,
    ListContainer,
    Prefixed,
    Rebuild,
    Renamed,
    StringEncoded,
    Struct,
)

from flightsw.errors import DecodeError, EncodeError
from flightsw.packets.time_codes import cuc_decode, cuc_encode

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


class CucTime(Adapter):  # type: ignore[misc]
    """A CUC time field (4 coarse + 2 fine octets by default) as integer ns since epoch.

    Decoding gives the start of the fine tick, so sub-seconds survive a round trip.
    """

    def __init__(self, coarse: int = 4, fine: int = 2) -> None:
        super().__init__(Bytes(coarse + fine))
        self.coarse = coarse
        self.fine = fine

    def _decode(self, obj: bytes, context: Any, path: str) -> int:
        return cuc_decode(obj, self.coarse)

    def _encode(self, obj: int, context: Any, path: str) -> bytes:
        return cuc_encode(int(obj), self.coarse, self.fine)


def describe(con: Construct) -> dict[str, Any]:
    """A construct declaration as plain data for the dictionary."""
    if isinstance(con, Renamed):
        return {"name": con.name, **describe(con.subcon)}
    if isinstance(con, CucTime):
        return {"type": "cuc", "coarse": con.coarse, "fine": con.fine}
    if isinstance(con, FormatField):
        return {"type": _FORMATS.get(con.fmtstr, con.fmtstr)}
    if isinstance(con, Struct):
        return {"type": "struct", "fields": [describe(s) for s in con.subcons]}
    if isinstance(con, FocusedSeq) and len(con.subcons) == 2:
        count, items = con.subcons
        if isinstance(count.subcon, Rebuild) and isinstance(items.subcon, Array):
            return {
                "type": "array",
                "count": describe(count.subcon.subcon)["type"],
                "item": describe(items.subcon.subcon),
            }
    if isinstance(con, Prefixed):
        return {
            "type": "prefixed",
            "length": describe(con.lengthfield)["type"],
            "item": describe(con.subcon),
        }
    if isinstance(con, StringEncoded):
        return {"type": "string", "encoding": con.encoding, "item": describe(con.subcon)}
    if con is GreedyBytes:
        return {"type": "bytes"}
    if isinstance(con, Bytes) and isinstance(con.length, int):
        return {"type": "bytes", "length": con.length}
    return {"type": type(con).__name__}


def _plain(value: Any) -> Any:
    if isinstance(value, Container):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, ListContainer):
        return [_plain(v) for v in value]
    return value


def parse(layout: Construct, data: bytes, where: str) -> dict[str, Any]:
    """Decode ``data`` as ``layout`` exactly (no octet left over) into plain dicts/lists.

    DecodeError (naming ``where``) for short, long or malformed data.
    """
    stream = io.BytesIO(data)
    try:
        value = layout.parse_stream(stream)
    except (ConstructError, DecodeError, ValueError, OverflowError, UnicodeError) as exc:
        raise DecodeError(where, stream.tell(), f"{type(exc).__name__}: {exc}") from None
    if stream.tell() != len(data):
        raise DecodeError(where, stream.tell(), f"{len(data) - stream.tell()} octets left over")
    out = _plain(value)
    if not isinstance(out, dict):
        return {"value": out}
    return out


def build(layout: Construct, value: Any, where: str) -> bytes:
    """Encode ``value`` as ``layout``; EncodeError naming ``where`` when it does not fit."""
    try:
        data: bytes = layout.build(value)
    except (ConstructError, EncodeError, ValueError, OverflowError, TypeError, KeyError) as exc:
        raise EncodeError(where, f"{type(exc).__name__}: {exc}") from None
    return data
