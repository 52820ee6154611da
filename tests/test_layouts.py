"""Declared TC/TM layouts: round trips, garbage refused with our errors, descriptions."""

from __future__ import annotations

import contextlib
from typing import Any

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
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.errors import CommandError, DecodeError, EncodeError
from flightsw.layouts import CucTime, build, decode, describe, encode, parse, parse_tc
from flightsw.services import event_action, monitoring, tables

_ASCII = st.text(alphabet="abcdefghijklmnopqrstuvwxyz._0123456789", min_size=1, max_size=40)
_F64 = st.floats(allow_nan=False, width=64)

definitions = st.fixed_dictionaries(
    {
        "pmon_id": st.integers(0, 0xFFFF),
        "point": _ASCII,
        "check": st.sampled_from(["limit", "expected", "delta"]),
        "persistence": st.integers(0, 255),
        "mode": st.sampled_from(["report_only", "active"]),
        "enabled": st.integers(0, 1),
        "low": _F64,
        "high": _F64,
        "mask": st.integers(0, 0xFFFFFFFF),
        "expected": st.integers(0, 0xFFFFFFFF),
    }
)
actions = st.fixed_dictionaries(
    {
        "ea_id": st.integers(0, 0xFFFF),
        "event_id": st.integers(0, 0xFFFF),
        "match_arg": st.integers(0, 1),
        "arg_value": st.integers(0, 0xFFFFFFFF),
        "enabled": st.integers(0, 1),
        "action": st.sampled_from(["tc", "sequence"]),
        "tc": st.binary(max_size=64),
        "sequence": _ASCII,
    }
)

TC_LAYOUTS = [
    monitoring.DEFINITIONS_TC,
    monitoring.IDS_TC,
    event_action.DEFINITIONS_TC,
    event_action.IDS_TC,
    tables.LOAD_TC,
    tables.NAME_TC,
]


@settings(max_examples=25)
@given(st.lists(definitions, max_size=5), st.lists(actions, max_size=5))
def test_definitions_round_trip_through_the_declared_layouts(
    mons: list[dict[str, Any]], eas: list[dict[str, Any]]
) -> None:
    for layout, value in (
        (monitoring.DEFINITIONS_TC, {"definitions": mons}),
        (monitoring.TABLE, {"definitions": mons}),
        (event_action.DEFINITIONS_TC, {"definitions": eas}),
    ):
        raw = encode(layout, value, "test")
        assert parse_tc(layout, raw, "test") == value
        assert decode(layout, raw, "test") == value


@settings(max_examples=100)
@given(st.sampled_from(TC_LAYOUTS), st.binary(max_size=80))
def test_garbage_application_data_gives_only_our_error(layout: Any, junk: bytes) -> None:
    try:
        parse_tc(layout, junk, "tc")
    except CommandError as exc:
        assert exc.code in (2, 7) and exc.reason.startswith("tc: ")


@settings(max_examples=100)
@given(st.binary(max_size=120))
def test_garbage_table_images_and_reports_give_decode_errors(junk: bytes) -> None:
    for layout in (monitoring.TABLE, monitoring.TRANSITIONS_TM, tables.STATUS_TM):
        try:
            decode(layout, junk, "image")
        except DecodeError as exc:
            assert exc.field == "image"


def test_trailing_octets_are_refused() -> None:
    raw = encode(monitoring.IDS_TC, {"pmon_ids": [1, 2]}, "x")
    with pytest.raises(CommandError, match="trailing"):
        parse_tc(monitoring.IDS_TC, raw + b"\x00", "x")
    with pytest.raises(DecodeError):
        decode(monitoring.IDS_TC, raw + b"\x00", "x")


def test_values_outside_the_layout_are_encode_errors() -> None:
    with pytest.raises(EncodeError):
        encode(monitoring.IDS_TC, {"pmon_ids": [70000]}, "x")
    with pytest.raises(EncodeError):
        encode(monitoring.DEFINITIONS_TC, {"definitions": [{"pmon_id": 1}]}, "x")


def test_describe_names_fields_types_counts_and_enums() -> None:
    layout = Struct(
        "ids" / PrefixedArray(Int16ub, Int16ub), "name" / PascalString(Int16ub, "ascii")
    )
    assert describe(layout) == {
        "type": "struct",
        "fields": [
            {"name": "ids", "type": "array", "count": "u16", "items": {"type": "u16"}},
            {"name": "name", "type": "string", "encoding": "ascii", "length": "u16"},
        ],
    }
    check = describe(monitoring.DEFINITION)["fields"][2]
    assert check == {
        "name": "check",
        "type": "enum",
        "base": "u8",
        "values": {"limit": 1, "expected": 2, "delta": 3},
    }


SCHED_LAYOUT = Struct(
    "name" / PascalString(Int8ub, "ascii"),
    "when" / CucTime(),
    "ids" / PrefixedArray(Int16ub, Int32ub),
    "blob" / Prefixed(Int16ub, GreedyBytes),
)


def test_describe_names_every_field_and_type_cuc_times_too() -> None:
    d = describe(SCHED_LAYOUT)
    assert d["type"] == "struct"
    assert [f["name"] for f in d["fields"]] == ["name", "when", "ids", "blob"]
    assert d["fields"][1] == {"name": "when", "type": "cuc", "coarse": 4, "fine": 2}
    assert d["fields"][2] == {
        "name": "ids",
        "type": "array",
        "count": "u16",
        "items": {"type": "u32"},
    }
    assert d["fields"][3] == {"name": "blob", "type": "bytes", "length": "u16"}
    assert d["fields"][0]["type"] == "string"


def test_short_long_and_bad_data_raise_our_error_naming_the_place() -> None:
    good = build(
        SCHED_LAYOUT, {"name": "ab", "when": 5_000_000_000, "ids": [1, 2], "blob": b"x"}, "t"
    )
    assert parse(SCHED_LAYOUT, good, "t")["ids"] == [1, 2]
    for bad in (good[:-1], good + b"\x00", b"\xff"):
        with pytest.raises(DecodeError) as info:
            parse(SCHED_LAYOUT, bad, "t")
        assert info.value.field == "t"
    with pytest.raises(EncodeError):
        build(SCHED_LAYOUT, {"name": "ab"}, "t")


@given(st.binary(max_size=80))
def test_garbage_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse(SCHED_LAYOUT, data, "g")
