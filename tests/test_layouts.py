"""Declared layouts: described for the dictionary, decoded exactly, garbage refused."""

from __future__ import annotations

import contextlib

import pytest
from construct import (
    GreedyBytes,
    Int8ub,
    Int16ub,
    Int32ub,
    PascalString,
    Prefixed,
    PrefixedArray,
    Struct,
)
from hypothesis import given
from hypothesis import strategies as st

from flightsw.errors import DecodeError, EncodeError
from flightsw.layouts import CucTime, build, describe, parse

LAYOUT = Struct(
    "name" / PascalString(Int8ub, "ascii"),
    "when" / CucTime(),
    "ids" / PrefixedArray(Int16ub, Int32ub),
    "blob" / Prefixed(Int16ub, GreedyBytes),
)


def test_describe_names_every_field_and_type() -> None:
    d = describe(LAYOUT)
    assert d["type"] == "struct"
    assert [f["name"] for f in d["fields"]] == ["name", "when", "ids", "blob"]
    assert d["fields"][1] == {"name": "when", "type": "cuc", "coarse": 4, "fine": 2}
    assert d["fields"][2] == {
        "name": "ids",
        "type": "array",
        "count": "u16",
        "item": {"type": "u32"},
    }
    assert d["fields"][3]["length"] == "u16" and d["fields"][3]["item"] == {"type": "bytes"}
    assert d["fields"][0]["type"] == "string"


def test_short_long_and_bad_data_raise_our_error_naming_the_place() -> None:
    good = build(LAYOUT, {"name": "ab", "when": 5_000_000_000, "ids": [1, 2], "blob": b"x"}, "t")
    assert parse(LAYOUT, good, "t")["ids"] == [1, 2]
    for bad in (good[:-1], good + b"\x00", b"\xff"):
        with pytest.raises(DecodeError) as info:
            parse(LAYOUT, bad, "t")
        assert info.value.field == "t"
    with pytest.raises(EncodeError):
        build(LAYOUT, {"name": "ab"}, "t")


@given(st.binary(max_size=80))
def test_garbage_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse(LAYOUT, data, "g")
