"""The vocabulary the bench protocol's messages are declared in, and the codec derived
from a declaration.

A message payload is declared once, as a construct ``Struct`` of named fields made of
construct's big-endian integers and floats and the few constructs here: a strict
boolean (:class:`Bool8`), an enumeration (:class:`Enum8`), a bounded integer
(:class:`AtMost`), a finite float (:class:`Finite`), a counter that wraps
(:class:`Wrapping`), a short printable name (:class:`Name`), unique array elements
(:class:`Unique`), bit flags in one octet (:class:`Bits8`), and a rule between fields
(:class:`Rule`), plus ``Array(this.<count>, ...)`` for counted arrays.

:func:`derive` turns that declaration into the codec the protocol runs: ``struct`` for
scalars and numpy for arrays, each check done once and named (field and offset). It
accepts exactly what the declaration parses and builds exactly what it builds; the
tests prove both with Hypothesis, garbage included. The declaration also gives the
documentation (:func:`describe`, used by ``tools/serial_protocol_doc.py``).

The Python view of a message is a frozen dataclass with the declaration's field names.
Two rules map one onto the other: a count field that is not a field of the dataclass is
the length of the arrays that follow it (derived when encoding), and an array of
:class:`Bits8` gives the dataclass one sequence per flag. A dataclass field annotated
``NDArray`` holds a numpy array, any other array field a tuple.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any

import numpy as np
from construct import (
    Adapter,
    Array,
    Check,
    Construct,
    Container,
    FormatField,
    GreedyBytes,
    Int8ub,
    Prefixed,
    Renamed,
    Struct,
    ValidationError,
    Validator,
)
from numpy.typing import NDArray

from flightsw.base.errors import DecodeError, EncodeError

# --- the vocabulary ---------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


class Bool8(Adapter):  # type: ignore[misc]
    """One octet, 0 or 1; any other value does not parse. Builds any truthy value as 1."""

    def __init__(self) -> None:
        super().__init__(Int8ub)

    def _decode(self, obj: int, context: Any, path: str) -> bool:
        if obj > 1:
            raise ValidationError(f"{obj} is not a boolean (0 or 1)", path=path)
        return obj == 1

    def _encode(self, obj: object, context: Any, path: str) -> int:
        return 1 if obj else 0


class Enum8(Adapter):  # type: ignore[misc]
    """One octet holding a member of ``enum``; other values neither parse nor build."""

    def __init__(self, enum: type[IntEnum]) -> None:
        super().__init__(Int8ub)
        self.enum = enum

    def _decode(self, obj: int, context: Any, path: str) -> IntEnum:
        if obj not in self.enum._value2member_map_:
            raise ValidationError(f"{obj} is not a {self.enum.__name__}", path=path)
        return self.enum(obj)

    def _encode(self, obj: Any, context: Any, path: str) -> int:
        if not _is_int(obj) or int(obj) not in self.enum._value2member_map_:
            raise ValidationError(f"{obj!r} is not a {self.enum.__name__}", path=path)
        return int(obj)


class AtMost(Validator):  # type: ignore[misc]
    """An unsigned integer field with a smaller upper bound than its width allows."""

    def __init__(self, subcon: Construct, limit: int) -> None:
        super().__init__(subcon)
        self.limit = limit

    def _validate(self, obj: int, context: Any, path: str) -> bool:
        return 0 <= obj <= self.limit


class Finite(Validator):  # type: ignore[misc]
    """A float field whose value must be finite (no NaN, no infinity)."""

    def _validate(self, obj: float, context: Any, path: str) -> bool:
        return math.isfinite(obj)


class Wrapping(Adapter):  # type: ignore[misc]
    """An unsigned counter that wraps: any integer builds as its value modulo 2**bits."""

    def __init__(self, subcon: Construct) -> None:
        super().__init__(subcon)
        self.mask: int = (1 << (8 * subcon.length)) - 1

    def _decode(self, obj: int, context: Any, path: str) -> int:
        return obj

    def _encode(self, obj: int, context: Any, path: str) -> int:
        return int(obj) & self.mask


def printable(raw: bytes, max_len: int) -> bool:
    """1..``max_len`` octets, each printable ASCII without space (0x21..0x7E)."""
    return 1 <= len(raw) <= max_len and all(0x21 <= c <= 0x7E for c in raw)


class Name(Adapter):  # type: ignore[misc]
    """A length octet and 1..``max_len`` printable ASCII characters (0x21..0x7E)."""

    def __init__(self, max_len: int) -> None:
        super().__init__(Prefixed(Int8ub, GreedyBytes))
        self.max_len = max_len

    def _decode(self, obj: bytes, context: Any, path: str) -> str:
        if not printable(obj, self.max_len):
            raise ValidationError(f"not 1..{self.max_len} printable ASCII", path=path)
        return obj.decode("ascii")

    def _encode(self, obj: object, context: Any, path: str) -> bytes:
        raw = obj.encode("ascii", "replace") if isinstance(obj, str) else b""
        if not printable(raw, self.max_len) or raw.decode() != obj:
            raise ValidationError(f"{obj!r} is not 1..{self.max_len} printable ASCII", path=path)
        return raw


class Unique(Validator):  # type: ignore[misc]
    """An array whose elements are all different."""

    def _validate(self, obj: list[Any], context: Any, path: str) -> bool:
        return len(set(obj)) == len(obj)


class Bits8(Adapter):  # type: ignore[misc]
    """One octet of named flags, ``name=mask``; a set bit no flag names does not parse."""

    def __init__(self, **masks: int) -> None:
        super().__init__(Int8ub)
        self.masks = masks
        self.all = 0
        for m in masks.values():
            self.all |= m

    def _decode(self, obj: int, context: Any, path: str) -> Container:
        if obj & ~self.all:
            raise ValidationError(f"undefined flag bits in {obj:#04x}", path=path)
        return Container({name: bool(obj & m) for name, m in self.masks.items()})

    def _encode(self, obj: Any, context: Any, path: str) -> int:
        return sum(m for name, m in self.masks.items() if obj[name])


class Rule(Check):  # type: ignore[misc]
    """A condition between fields (a construct expression over ``this``); a violation is
    reported against ``field``."""

    def __init__(self, field: str, func: Callable[[Any], bool], text: str) -> None:
        super().__init__(func)
        self.field = field
        self.text = text


# --- leaves: one field's wire type and checks --------------------------------------------

_DTYPE = {"B": "u1", "H": ">u2", "L": ">u4", "f": ">f4", "d": ">f8"}
_C_TYPE = {"B": "u8", "H": "u16", "L": "u32", "f": "f32", "d": "f64"}


@dataclass(frozen=True)
class Leaf:
    """What one field or array element is on the wire and what it must satisfy."""

    kind: str  # "uint", "float", "bool", "enum", "bits", "name"
    fmt: str = "B"  # struct format character ("" for a name)
    limit: int = 0  # uint: the largest value
    finite: bool = False
    wrap: bool = False
    enum: type[IntEnum] | None = None
    masks: tuple[tuple[str, int], ...] = ()
    max_len: int = 0  # name
    size: int = field(init=False)  # octets (0 for a name)
    dtype: np.dtype[Any] = field(init=False)  # numpy's view of the wire type

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", struct.calcsize(">" + self.fmt) if self.fmt else 0)
        object.__setattr__(self, "dtype", np.dtype(_DTYPE.get(self.fmt, "u1")))


def leaf_of(node: Construct) -> Leaf:
    """The :class:`Leaf` a construct node declares; anything outside the vocabulary is a
    ``TypeError`` (the declaration cannot be turned into a codec)."""
    if isinstance(node, Bool8):
        return Leaf("bool")
    if isinstance(node, Enum8):
        return Leaf("enum", enum=node.enum)
    if isinstance(node, Bits8):
        return Leaf("bits", masks=tuple(node.masks.items()))
    if isinstance(node, Name):
        return Leaf("name", fmt="", max_len=node.max_len)
    if isinstance(node, AtMost | Finite | Wrapping):
        inner = leaf_of(node.subcon)
        if isinstance(node, Finite) and inner.kind == "float":
            return Leaf("float", inner.fmt, finite=True)
        if inner.kind == "uint" and not inner.wrap:
            if isinstance(node, AtMost):
                return Leaf("uint", inner.fmt, limit=min(inner.limit, node.limit))
            if isinstance(node, Wrapping):
                return Leaf("uint", inner.fmt, limit=inner.limit, wrap=True)
    if isinstance(node, FormatField) and node.fmtstr[:1] == ">" and node.fmtstr[1:] in _DTYPE:
        fmt = node.fmtstr[1:]
        if fmt in "fd":
            return Leaf("float", fmt)
        return Leaf("uint", fmt, limit=(1 << (8 * node.length)) - 1)
    raise TypeError(f"no codec for {node!r}")


def describe(leaf: Leaf) -> tuple[str, str]:
    """(wire type, what it must satisfy) of one field or array element, for the document."""
    if leaf.kind == "bool":
        return "u8", "0/1"
    if leaf.kind == "enum":
        assert leaf.enum is not None
        return "u8", ", ".join(f"{m.value} {m.name.lower()}" for m in leaf.enum)
    if leaf.kind == "bits":
        bits = ", ".join(f"bit {m.bit_length() - 1} {name}" for name, m in leaf.masks)
        return "u8", f"{bits}, other bits 0"
    if leaf.kind == "name":
        return "name", f"length u8, then 1..{leaf.max_len} printable ASCII octets (0x21..0x7E)"
    notes = []
    if leaf.kind == "uint" and leaf.limit != (1 << (8 * leaf.size)) - 1:
        notes.append(f"≤ {leaf.limit}")
    if leaf.finite:
        notes.append("finite")
    if leaf.wrap:
        notes.append(f"wraps at 2^{8 * leaf.size}")
    return _C_TYPE[leaf.fmt], ", ".join(notes)


def _names(node: Construct) -> tuple[str, str, Construct]:
    """(name, docs, subcon) of a named field; nested ``Renamed`` (``"x" / T * "doc"``)."""
    name, docs = "", ""
    while isinstance(node, Renamed):
        name = name or (node.name or "")
        docs = docs or (node.docs or "")
        node = node.subcon
    return name, docs, node


# --- fields as a declaration sees them ---------------------------------------------------


@dataclass(frozen=True)
class FieldDecl:
    """One entry of a declaration, for the codec and the documentation."""

    name: str
    docs: str
    leaf: Leaf | None  # None for a rule
    count: str = ""  # an array: the field that counts it
    unique: bool = False
    derived: bool = False  # a count the Python view does not carry
    rule: Rule | None = None


def fields_of(schema: Struct, python_fields: tuple[str, ...]) -> list[FieldDecl]:
    """The declaration's entries in wire order; raises ``TypeError`` if it leaves the
    vocabulary or does not match the Python view's ``python_fields``."""
    out: list[FieldDecl] = []
    counts: list[str] = []
    for sub in schema.subcons:
        if isinstance(sub, Rule):
            out.append(FieldDecl("", sub.text, None, rule=sub))
            continue
        name, docs, node = _names(sub)
        if not name:
            raise TypeError(f"unnamed field {sub!r}")
        unique = isinstance(node, Unique)
        if unique:
            node = node.subcon
        if isinstance(node, Array):
            count = _counted_by(node, counts)
            out.append(FieldDecl(name, docs, leaf_of(node.subcon), count, unique))
            continue
        if unique:
            raise TypeError(f"{name}: Unique applies to arrays")
        leaf = leaf_of(node)
        if leaf.kind == "uint":
            counts.append(name)
        out.append(FieldDecl(name, docs, leaf, derived=name not in python_fields))
    covered: list[str] = []
    for f in out:
        if f.leaf is None or f.derived:
            continue
        if f.count and f.leaf.kind == "bits":
            covered += [n for n, _ in f.leaf.masks]
        else:
            covered.append(f.name)
    if tuple(sorted(covered)) != tuple(sorted(python_fields)):
        raise TypeError(f"declaration gives {covered}, the class has {list(python_fields)}")
    for f in out:
        if f.derived and not any(a.count == f.name for a in out):
            raise TypeError(f"{f.name} is neither a field of the class nor a count")
    return out


def _counted_by(array: Array, candidates: list[str]) -> str:
    """Which earlier field ``array`` takes its length from (``Array(this.<field>, ...)``)."""
    probe = 7919
    for name in candidates:
        try:
            if callable(array.count) and array.count({name: probe}) == probe:
                return name
        except (KeyError, AttributeError, TypeError):
            continue
    raise TypeError(f"{array!r}: an array is counted by an earlier integer field")


# --- the derived codec ------------------------------------------------------------------
#
# A Codec compiles its declaration once into steps: consecutive scalars become one
# ``struct`` pack/unpack with the checks their leaves need, each array one numpy
# conversion. Encoding runs the array steps first (they fix the derived counts), then
# the scalar steps and rules in wire order; decoding runs every step in wire order.

Encoder = Callable[[object, dict[str, Any]], bytes]
Decoder = Callable[[bytes, int, dict[str, Any], dict[str, Any]], int]


def _array(name: str, value: object) -> NDArray[Any]:
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        raise EncodeError(name, f"{type(value).__name__} is not an array") from None


def _truth_array(name: str, value: object) -> NDArray[np.bool_]:
    """A 1-D array of booleans (from booleans or integers), or an EncodeError."""
    arr = _array(name, value)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "biu"):
        raise EncodeError(name, f"{name} must be a 1-D sequence of booleans")
    return arr.astype(np.bool_)


def _scalar_check(name: str, leaf: Leaf) -> Callable[[Any], Any]:
    """Value to pack for one scalar field, or an EncodeError naming it."""
    kind, limit = leaf.kind, leaf.limit
    if kind == "uint":

        def uint(value: Any) -> Any:
            if leaf.wrap and _is_int(value):
                value = int(value) & limit
            if not _is_int(value) or not 0 <= value <= limit:
                raise EncodeError(name, f"{value!r} is not an integer in 0..{limit}")
            return value

        return uint
    if kind == "float":
        one = struct.Struct(">" + leaf.fmt)

        def real(value: Any) -> Any:
            if leaf.finite and not (isinstance(value, int | float) and math.isfinite(value)):
                raise EncodeError(name, f"{value!r} is not a finite number")
            try:
                one.pack(value)
            except (struct.error, OverflowError, TypeError) as exc:
                raise EncodeError(name, f"{value!r} does not fit {_C_TYPE[leaf.fmt]}") from exc
            return value

        return real
    if kind == "bool":

        def boolean(value: Any) -> int:
            if not isinstance(value, bool | int | np.bool_ | np.integer):
                raise EncodeError(name, f"{value!r} is not a boolean")
            return 1 if value else 0

        return boolean
    if kind == "enum":
        assert leaf.enum is not None
        members = leaf.enum._value2member_map_
        enum_name = leaf.enum.__name__

        def member(value: Any) -> int:
            if not _is_int(value) or int(value) not in members:
                raise EncodeError(name, f"{value!r} is not a {enum_name}")
            return int(value)

        return member
    raise TypeError(f"{name}: no scalar codec for {kind}")


def _scalar_post(where: str, leaf: Leaf) -> Callable[[Any, int], Any] | None:
    """The check and conversion of one unpacked scalar (None: the value is final)."""
    kind, limit = leaf.kind, leaf.limit
    if kind == "uint" and limit != (1 << (8 * leaf.size)) - 1:

        def bounded(value: int, pos: int) -> int:
            if value > limit:
                raise DecodeError(where, pos, f"{value}, at most {limit}")
            return value

        return bounded
    if kind == "float" and leaf.finite:

        def finite(value: float, pos: int) -> float:
            if not math.isfinite(value):
                raise DecodeError(where, pos, "not a finite number")
            return value

        return finite
    if kind == "bool":

        def boolean(value: int, pos: int) -> bool:
            if value > 1:
                raise DecodeError(where, pos, f"{value} is not a boolean (0 or 1)")
            return value == 1

        return boolean
    if kind == "enum":
        assert leaf.enum is not None
        enum = leaf.enum

        def member(value: int, pos: int) -> IntEnum:
            if value not in enum._value2member_map_:
                raise DecodeError(where, pos, f"{value} is not a {enum.__name__}")
            return enum(value)

        return member
    return None


class Codec:
    """Encode and decode one message class from its declaration (see module doc)."""

    def __init__(self, cls: type, schema: Struct) -> None:
        self.cls = cls
        self.msg = cls.__name__
        py = fields(cls)
        self.python_fields = tuple(f.name for f in py)
        self.as_array = {f.name: "NDArray" in str(f.type) for f in py}
        self.decls = fields_of(schema, self.python_fields)
        self._count_limit = {
            d.name: d.leaf.limit for d in self.decls if d.leaf is not None and d.leaf.kind == "uint"
        }
        self._array_encoders: list[tuple[int, Encoder]] = []
        self._wire_encoders: list[tuple[int, Encoder]] = []
        self._decoders: list[Decoder] = []
        self._float_arrays = any(
            d.count and d.leaf is not None and d.leaf.kind == "float" for d in self.decls
        )
        run: list[FieldDecl] = []
        for d in self.decls:
            if d.rule is None and not d.count:
                run.append(d)
                continue
            self._add_run(run)
            run = []
            if d.rule is not None:
                self._add_rule(d.rule)
            else:
                self._add_array(d)
        self._add_run(run)
        self._parts = len(self._array_encoders) + len(self._wire_encoders)

    # -- the whole message

    def encode(self, msg: object) -> bytes:
        """The payload octets of ``msg``; an EncodeError names the first bad field."""
        ctx: dict[str, Any] = {}
        parts = [b""] * self._parts
        if self._float_arrays:
            with np.errstate(over="ignore", invalid="ignore"):
                for i, enc in self._array_encoders:
                    parts[i] = enc(msg, ctx)
        else:
            for i, enc in self._array_encoders:
                parts[i] = enc(msg, ctx)
        for i, enc in self._wire_encoders:
            parts[i] = enc(msg, ctx)
        return b"".join(parts)

    def decode(self, payload: bytes | bytearray | memoryview) -> Any:
        """The message in ``payload`` (all of it); a DecodeError names field and offset."""
        buf = bytes(payload)
        pos = 0
        ctx: dict[str, Any] = {}
        values: dict[str, Any] = {}
        if self._float_arrays:
            with np.errstate(invalid="ignore"):  # a signalling NaN stays a NaN, quietly
                for dec in self._decoders:
                    pos = dec(buf, pos, ctx, values)
        else:
            for dec in self._decoders:
                pos = dec(buf, pos, ctx, values)
        if pos != len(buf):
            raise DecodeError(self.msg, pos, f"{len(buf) - pos} trailing octets")
        return self.cls(**values)

    def _short(self, name: str, buf: bytes, pos: int, n: int) -> DecodeError:
        return DecodeError(f"{self.msg}.{name}", pos, f"needs {n} octets, {len(buf) - pos} left")

    # -- consecutive scalars: one struct

    def _add_run(self, run: list[FieldDecl]) -> None:
        if not run:
            return
        leaves = [d.leaf for d in run if d.leaf is not None]
        packer = struct.Struct(">" + "".join(leaf.fmt for leaf in leaves))
        names = [d.name for d in run]
        derived = [d.derived for d in run]
        offsets = [0]
        for leaf in leaves:
            offsets.append(offsets[-1] + leaf.size)
        checks = [_scalar_check(d.name, leaf) for d, leaf in zip(run, leaves, strict=True)]
        posts = [
            (i, post)
            for i, leaf in enumerate(leaves)
            if (post := _scalar_post(f"{self.msg}.{names[i]}", leaf)) is not None
        ]
        python = [(i, n) for i, (n, der) in enumerate(zip(names, derived, strict=True)) if not der]
        fields_ = list(zip(names, derived, checks, strict=True))

        def encode(msg: object, ctx: dict[str, Any]) -> bytes:
            out = []
            for name, is_derived, check in fields_:
                value = ctx[name] if is_derived else getattr(msg, name)
                ctx[name] = value
                out.append(check(value))
            return packer.pack(*out)

        def decode(buf: bytes, pos: int, ctx: dict[str, Any], values: dict[str, Any]) -> int:
            if len(buf) - pos < packer.size:
                i = next(i for i, off in enumerate(offsets[1:]) if pos + off > len(buf))
                raise self._short(names[i], buf, pos + offsets[i], leaves[i].size)
            got = list(packer.unpack_from(buf, pos))
            for i, post in posts:
                got[i] = post(got[i], pos + offsets[i])
            for i, name in enumerate(names):
                ctx[name] = got[i]
            for i, name in python:
                values[name] = got[i]
            return pos + packer.size

        self._wire_encoders.append((len(self._array_encoders) + len(self._wire_encoders), encode))
        self._decoders.append(decode)

    def _add_rule(self, rule: Rule) -> None:
        where = f"{self.msg}.{rule.field}"
        field_offset = 0
        for d in self.decls:  # rules follow scalars of fixed size from the start
            if d.name == rule.field or d.leaf is None:
                break
            field_offset += d.leaf.size

        def encode(msg: object, ctx: dict[str, Any]) -> bytes:
            if not rule.func(ctx):
                raise EncodeError(rule.field, rule.text)
            return b""

        def decode(buf: bytes, pos: int, ctx: dict[str, Any], values: dict[str, Any]) -> int:
            if not rule.func(ctx):
                raise DecodeError(where, field_offset, rule.text)
            return pos

        self._wire_encoders.append((len(self._array_encoders) + len(self._wire_encoders), encode))
        self._decoders.append(decode)

    # -- arrays

    def _add_array(self, d: FieldDecl) -> None:
        leaf = d.leaf
        assert leaf is not None
        if leaf.kind == "name":
            enc, dec = self._name_array(d, leaf)
        elif leaf.kind == "bits":
            enc, dec = self._bits_array(d, leaf)
        elif d.unique:
            raise TypeError(f"{d.name}: Unique applies to arrays of names")
        else:
            enc, dec = self._numeric_array(d, leaf)
        self._array_encoders.append((len(self._array_encoders) + len(self._wire_encoders), enc))
        self._decoders.append(dec)

    def _counted(self, d: FieldDecl) -> Callable[[str, int, dict[str, Any]], None]:
        """Checks one array's length against its count (or sets a derived count)."""
        count, limit = d.count, self._count_limit[d.count]

        def check(name: str, n: int, ctx: dict[str, Any]) -> None:
            if count in ctx:
                if n != ctx[count]:
                    raise EncodeError(name, f"{n} values where the other arrays have {ctx[count]}")
                return
            if n > limit:
                raise EncodeError(name, f"{n} entries, at most {limit}")
            ctx[count] = n

        return check

    def _numeric_array(self, d: FieldDecl, leaf: Leaf) -> tuple[Encoder, Decoder]:
        name, count, kind = d.name, d.count, leaf.kind
        where = f"{self.msg}.{name}"
        dtype, item, limit = leaf.dtype, leaf.size, leaf.limit
        full_range = limit == (1 << (8 * item)) - 1
        counted = self._counted(d)
        as_array = self.as_array[name]

        def encode(msg: object, ctx: dict[str, Any]) -> bytes:
            arr = _array(name, getattr(msg, name))
            if arr.ndim != 1:
                raise EncodeError(name, f"{name} must be a 1-D array, not shape {arr.shape}")
            counted(name, arr.size, ctx)
            if kind == "bool":
                return _truth_array(name, arr).astype("u1").tobytes()
            if kind == "uint":
                integral = arr.dtype.kind in "iu"
                if arr.size and not (integral or (leaf.wrap and arr.dtype.kind in "iuf")):
                    raise EncodeError(name, f"{name} must be a 1-D integer array")
                if leaf.wrap:
                    arr = arr.astype(np.int64, copy=False) & limit
                elif arr.size and (arr.min() < 0 or arr.max() > limit):
                    raise EncodeError(name, f"{name} must be in 0..{limit}")
                return arr.astype(dtype).tobytes()
            try:
                arr = arr.astype(np.float64, copy=False)
            except (TypeError, ValueError):
                raise EncodeError(name, f"{name} must be numbers") from None
            wire = arr.astype(dtype)
            if not np.isfinite(wire).all():
                if leaf.finite:
                    raise EncodeError(name, f"{name} must be finite and fit {_C_TYPE[leaf.fmt]}")
                if (np.isinf(wire) & np.isfinite(arr)).any():
                    raise EncodeError(name, f"a value of {name} does not fit {_C_TYPE[leaf.fmt]}")
            return wire.tobytes()

        def decode(buf: bytes, pos: int, ctx: dict[str, Any], values: dict[str, Any]) -> int:
            n: int = ctx[count]
            size = item * n
            if len(buf) - pos < size:
                raise self._short(name, buf, pos, size)
            raw = np.frombuffer(buf, dtype, n, pos)
            out: NDArray[Any]
            if kind == "bool":
                if n and raw.max() > 1:
                    i = int(np.flatnonzero(raw > 1)[0])
                    raise DecodeError(where, pos + i, f"{raw[i]} is not a boolean")
                out = raw.astype(np.bool_)
            elif kind == "uint":
                out = raw.astype(np.int64)
                if not full_range and n and out.max() > limit:
                    i = int(np.flatnonzero(out > limit)[0])
                    raise DecodeError(where, pos + item * i, f"{out[i]}, at most {limit}")
            else:
                out = raw.astype(np.float64)
                if leaf.finite and not np.isfinite(out).all():
                    i = int(np.flatnonzero(~np.isfinite(out))[0])
                    raise DecodeError(where, pos + item * i, "not a finite number")
            values[name] = out if as_array else tuple(out.tolist())
            return pos + size

        return encode, decode

    def _bits_array(self, d: FieldDecl, leaf: Leaf) -> tuple[Encoder, Decoder]:
        name, count, masks = d.name, d.count, leaf.masks
        where = f"{self.msg}.{name}"
        undefined = np.uint8(0xFF & ~sum(m for _, m in masks))
        counted = self._counted(d)
        views = [(member, np.uint8(mask), self.as_array[member]) for member, mask in masks]

        def encode(msg: object, ctx: dict[str, Any]) -> bytes:
            flags: NDArray[np.uint8] | None = None
            for member, mask, _ in views:
                truth = _truth_array(member, getattr(msg, member))
                counted(member, truth.size, ctx)
                bits = truth.astype(np.uint8) * mask
                flags = bits if flags is None else flags | bits
            return b"" if flags is None else flags.tobytes()

        def decode(buf: bytes, pos: int, ctx: dict[str, Any], values: dict[str, Any]) -> int:
            n: int = ctx[count]
            if len(buf) - pos < n:
                raise self._short(name, buf, pos, n)
            raw = np.frombuffer(buf, np.uint8, n, pos)
            bad = np.flatnonzero(raw & undefined)
            if bad.size:
                raise DecodeError(where, pos + int(bad[0]), "undefined flag bits")
            for member, mask, as_array in views:
                truth = (raw & mask) != 0
                values[member] = truth if as_array else tuple(truth.tolist())
            return pos + n

        return encode, decode

    def _name_array(self, d: FieldDecl, leaf: Leaf) -> tuple[Encoder, Decoder]:
        name, count, max_len, unique = d.name, d.count, leaf.max_len, d.unique
        where = f"{self.msg}.{name}"
        counted = self._counted(d)

        def encode(msg: object, ctx: dict[str, Any]) -> bytes:
            value = getattr(msg, name)
            try:
                items = list(value)
            except TypeError:
                raise EncodeError(name, f"{type(value).__name__} is not a sequence") from None
            counted(name, len(items), ctx)
            out = bytearray()
            for i, text in enumerate(items):
                raw = text.encode("ascii", "replace") if isinstance(text, str) else b""
                if not printable(raw, max_len) or raw.decode() != text:
                    raise EncodeError(
                        f"{name}[{i}]", f"{text!r} is not 1..{max_len} printable ASCII"
                    )
                out += bytes((len(raw),)) + raw
            if unique and len(set(items)) != len(items):
                raise EncodeError(name, f"{name} must be unique")
            return bytes(out)

        def decode(buf: bytes, pos: int, ctx: dict[str, Any], values: dict[str, Any]) -> int:
            names: list[str] = []
            for i in range(ctx[count]):
                if pos >= len(buf):
                    raise self._short(f"{name}[{i}].length", buf, pos, 1)
                size = buf[pos]
                if len(buf) - pos - 1 < size:
                    raise self._short(f"{name}[{i}]", buf, pos + 1, size)
                octets = buf[pos + 1 : pos + 1 + size]
                if not printable(octets, max_len):
                    raise DecodeError(f"{where}[{i}]", pos, f"not 1..{max_len} printable ASCII")
                text = octets.decode("ascii")
                if unique and text in names:
                    raise DecodeError(f"{where}[{i}]", pos, f"duplicate name {text!r}")
                names.append(text)
                pos += 1 + size
            values[name] = tuple(names)
            return pos

        return encode, decode
