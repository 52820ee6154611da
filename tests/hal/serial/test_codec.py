"""The codec derived from a message declaration equals the declaration, for every message.

The strategies here are derived from the declarations too, so a message added to the
protocol is covered without touching this file: round trips, bytes equal to construct's
``build``, and acceptance equal to construct's ``parse`` for payloads cut, changed or
grown at any octet (garbage is a DecodeError, and only what the declaration rejects).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from construct import Array, ConstructError, Int8ub, Int16ub, Struct, Terminated, this
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.typing import NDArray

from flightsw.base.errors import DecodeError, EncodeError
from hal.serial import protocol as p
from hal.serial.codec import AtMost, Bool8, Codec, Leaf

ALL: list[type[p.Message]] = sorted(
    {*p.REQUESTS.values(), *p.RESPONSES.values(), p.Nak}, key=lambda c: c.__name__
)


def _values(leaf: Leaf) -> st.SearchStrategy[Any]:
    if leaf.kind == "uint":
        return st.integers(0, leaf.limit)
    if leaf.kind == "float":
        finite = leaf.finite
        if leaf.fmt == "f":
            return st.floats(width=32, allow_nan=False, allow_infinity=not finite)
        return st.floats(allow_nan=False, allow_infinity=not finite)
    if leaf.kind == "bool":
        return st.booleans()
    if leaf.kind == "enum":
        assert leaf.enum is not None
        return st.sampled_from(list(leaf.enum))
    if leaf.kind == "name":
        printable = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
        return st.text(printable, min_size=1, max_size=leaf.max_len)
    raise AssertionError(leaf.kind)


@st.composite
def any_message(draw: st.DrawFn, cls: type[p.Message]) -> p.Message:
    """A valid message of ``cls``, drawn from its declaration alone."""
    codec = cls.CODEC
    values: dict[str, Any] = {}
    ctx: dict[str, Any] = {}
    for d in codec.decls:
        if d.rule is not None:
            assume(d.rule.func(ctx))
            continue
        assert d.leaf is not None
        if d.derived:
            ctx[d.name] = draw(st.integers(0, min(d.leaf.limit, 12)))
        elif not d.count:
            ctx[d.name] = values[d.name] = draw(_values(d.leaf))
        else:
            n = ctx[d.count]
            members = [m for m, _ in d.leaf.masks] if d.leaf.kind == "bits" else [d.name]
            for m in members:
                leaf = Leaf("bool") if d.leaf.kind == "bits" else d.leaf
                items = st.lists(_values(leaf), min_size=n, max_size=n, unique=d.unique)
                got = draw(items)
                values[m] = np.array(got) if codec.as_array[m] else tuple(got)
    return cls(**values)


messages = st.sampled_from(ALL).flatmap(any_message)


def wire_dict(msg: p.Message) -> dict[str, Any]:
    """The construct container that describes ``msg`` (counts and bit flags as declared)."""
    codec = type(msg).CODEC
    out: dict[str, Any] = {}
    for d in codec.decls:
        if d.rule is not None:
            continue
        assert d.leaf is not None
        if d.derived:
            first = next(a for a in codec.decls if a.count == d.name)
            name = (
                first.leaf.masks[0][0] if first.leaf and first.leaf.kind == "bits" else first.name
            )
            out[d.name] = len(getattr(msg, name))
        elif d.count and d.leaf.kind == "bits":
            cols = {m: getattr(msg, m) for m, _ in d.leaf.masks}
            n = len(next(iter(cols.values())))
            out[d.name] = [{m: bool(v[i]) for m, v in cols.items()} for i in range(n)]
        else:
            value = getattr(msg, d.name)
            out[d.name] = list(np.asarray(value).tolist()) if d.count else value
    return out


def strict(cls: type[p.Message]) -> Struct:
    """The declaration, with nothing allowed after it."""
    return Struct("m" / cls.SCHEMA, Terminated)


def test_strategies_cover_every_declared_message() -> None:
    assert len(ALL) == len(p.MsgType) + len({*p.RESPONSES.values()}) + 1
    for cls in ALL:
        assert isinstance(cls.CODEC, Codec) and cls.CODEC.cls is cls


@given(messages)
def test_round_trip_and_bytes_equal_the_declaration(msg: p.Message) -> None:
    raw = msg.encode()
    assert type(msg).decode(raw) == msg
    assert type(msg).SCHEMA.build(wire_dict(msg)) == raw
    back = strict(type(msg)).parse(raw).m
    assert type(msg).SCHEMA.build(back) == raw


@given(messages, st.integers(0, 10_000), st.integers(0, 255), st.sampled_from("cut set add"))
def test_acceptance_equals_the_declaration(msg: p.Message, pos: int, value: int, how: str) -> None:
    """Decoding a damaged payload as any message: the derived decoder fails (with a
    DecodeError) exactly when the declaration fails to parse it, else both agree."""
    buf = bytearray(msg.encode())
    if how == "cut" and buf:
        del buf[pos % len(buf) :]
    elif how == "set" and buf:
        buf[pos % len(buf)] = value
    elif how == "add":
        buf.insert(pos % (len(buf) + 1), value)
    raw = bytes(buf)
    for cls in ALL:
        try:
            parsed = strict(cls).parse(raw).m
        except ConstructError:
            parsed = None
        try:
            decoded = cls.decode(raw)
        except DecodeError:
            assert parsed is None, (cls.__name__, raw.hex())
            continue
        assert parsed is not None, (cls.__name__, raw.hex())
        assert decoded.encode() == cls.SCHEMA.build(parsed) == raw


@given(st.sampled_from(ALL), st.binary(max_size=200))
def test_garbage_is_a_decode_error_exactly_when_the_declaration_rejects_it(
    cls: type[p.Message], raw: bytes
) -> None:
    try:
        strict(cls).parse(raw)
        accepted = True
    except ConstructError:
        accepted = False
    try:
        cls.decode(raw)
    except DecodeError:
        assert not accepted
        return
    assert accepted


@given(messages)
def test_encode_checks_what_the_declaration_checks(msg: p.Message) -> None:
    """A value the declaration cannot build is an EncodeError naming a field, never
    another exception: break one field of a valid message at a time."""
    codec = type(msg).CODEC
    for name in codec.python_fields:
        for bad in (-1, 1 << 40, "x", None, np.zeros((2, 2)), 1e39, float("nan")):
            broken = type(msg)(**{**{n: getattr(msg, n) for n in codec.python_fields}, name: bad})
            with contextlib.suppress(EncodeError):
                raw = broken.encode()
                assert type(msg).SCHEMA.build(type(msg).SCHEMA.parse(raw)) == raw


# --- the vocabulary and its rules -----------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Pair(p.Message):
    flags: tuple[bool, ...]
    levels: NDArray[np.int64]


def test_a_declaration_must_match_the_class() -> None:
    good = Struct(
        "n" / AtMost(Int8ub, 9),
        "flags" / Array(this.n, Bool8()),
        "levels" / Array(this.n, Int16ub),
    )
    codec = Codec(_Pair, good)
    assert [d.name for d in codec.decls if d.derived] == ["n"]
    msg = _Pair((True, False), np.array([1, 2]))
    assert codec.encode(msg) == bytes([2, 1, 0, 0, 1, 0, 2])
    back = codec.decode(codec.encode(msg))
    assert back.flags == (True, False) and back.levels.tolist() == [1, 2]
    with pytest.raises(EncodeError) as exc:
        codec.encode(_Pair((True,) * 10, np.arange(10)))
    assert exc.value.field == "flags"  # the count is derived: the array is named
    bad_schemas = [
        Struct("n" / Int8ub, "flags" / Array(this.n, Bool8())),  # levels missing
        Struct("flags" / Array(2, Bool8()), "levels" / Array(2, Int16ub)),  # not counted
        Struct("n" / Int8ub, "m" / Int8ub, "flags" / Array(this.n, Bool8()), "levels" / Int8ub),
        Struct("n" / Int8ub, "flags" / Array(this.n, Bool8()), "levels" / Array(this.n, Int8ub[2])),
    ]
    for schema in bad_schemas:
        with pytest.raises(TypeError):
            Codec(_Pair, schema)


def test_decode_errors_name_the_message_field_and_offset() -> None:
    with pytest.raises(DecodeError) as exc:
        p.BoardPage.decode(bytes([0, 5, 0, 4, 0, 2]) + bytes(2 * 33))
    assert exc.value.field == "BoardPage.start" and exc.value.offset == 2
    with pytest.raises(DecodeError) as exc:
        p.SwitchStates.decode(bytes([2, 1, 4]) + bytes(8))
    assert exc.value.field == "SwitchStates.flags" and exc.value.offset == 2
    with pytest.raises(DecodeError) as exc:
        p.ListNames.decode(bytes([3]))
    assert exc.value.field == "ListNames.which" and "NameKind" in exc.value.reason
    with pytest.raises(DecodeError) as exc:
        p.PingReply.decode(bytes(10))
    assert exc.value.field.startswith("PingReply.") and "needs" in exc.value.reason


def test_registry_is_derived_from_the_declarations() -> None:
    for t, cls in p.REQUESTS.items():
        assert t == cls.TYPE and p.RESPONSES[t] is cls.RESPONSE
    assert p.RESPONSES[p.MsgType.READ_BOARDS] is p.BoardPage
    with pytest.raises(TypeError):
        p.request(p.MsgType.PING, p.PingReply)(p.Ping)
