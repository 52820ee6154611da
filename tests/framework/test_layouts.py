"""Layouts: the dictionary's JSON form builds the same codec; the services' hand-written
parsers read exactly what their declared layouts say; garbage gets our error."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import struct
from collections.abc import Mapping
from functools import cache
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

from flightsw.base.errors import CommandError, DecodeError, EncodeError
from flightsw.framework import layouts
from flightsw.framework.datatypes import TYPES
from flightsw.framework.layouts import CucTime, decode, describe, encode, parse_fields, parse_tc
from flightsw.runtime.dictionary import build_dictionary
from flightsw.services.event_action import app as event_action
from flightsw.services.monitoring import app as monitoring
from flightsw.services.tables import app as tables
from flightsw.sil.harness import SilHarness


@cache
def _harness() -> SilHarness:
    return SilHarness()


@cache
def _dictionary() -> dict[str, Any]:
    d: dict[str, Any] = json.loads(json.dumps(build_dictionary(_harness().mission)))
    return d


def _declared() -> list[tuple[str, Any, dict[str, Any]]]:
    """(name, flight construct, exported JSON) of every variable layout the build declares."""
    out = []
    for spec in _harness().mission.specs:
        decl = spec.cls.declarations()
        for c in decl.commands:
            if c.layout is not None:
                out.append((f"{spec.name}.{c.name}", c.layout, layouts.describe(c.layout)))
        for r in decl.reports:
            out.append((f"{spec.name}.{r.name}", r.layout, layouts.describe(r.layout)))
    return out


def _scalar(t: str) -> st.SearchStrategy[Any]:
    dt = TYPES[t]
    if dt.kind == "float":
        return st.floats(width=int(t[1:]), allow_nan=False)
    return st.integers(int(dt.min), int(dt.max))


def values(desc: Mapping[str, Any], tables: Mapping[str, Any], key: Any = None) -> Any:
    """A strategy for values of a layout's JSON form (ids of ``by_id`` from ``tables``)."""
    kind = desc["type"]
    if kind in layouts._SCALARS:
        return _scalar(kind)
    if kind == "bytes":
        if "prefix" in desc:
            return st.binary(max_size=40)
        n = desc["length"]
        return st.binary(max_size=40) if n == "rest" else st.binary(min_size=n, max_size=n)
    if kind == "string":
        return st.text("abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=64)
    if kind == "cuc":
        return st.integers(0, (1 << (8 * desc["coarse"])) - 1).map(lambda s: s * 1_000_000_000)
    if kind == "enum":
        return st.sampled_from(sorted(desc["values"]))
    if kind == "array" and isinstance(desc["count"], int):
        n = desc["count"]
        return st.lists(values(desc["item"], tables), min_size=n, max_size=n)
    if kind == "array":
        limit = min(8, (1 << (8 * struct.calcsize(TYPES[desc["count"]].code))) - 1)
        return st.lists(values(desc["item"], tables), max_size=limit)
    if kind == "by_id":
        raise AssertionError("by_id is drawn with its key, in the struct")
    fields = desc["fields"]
    keyed = {f["layout"]["key"]: f for f in fields if f["layout"]["type"] == "by_id"}

    @st.composite
    def draw_struct(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields:
            name, lay = f["name"], f["layout"]
            if name in keyed:
                table = tables[keyed[name]["layout"]["table"]]
                out[name] = draw(st.sampled_from(sorted(table)))
            elif lay["type"] == "by_id":
                types = tables[lay["table"]][out[lay["key"]]]
                vs = [draw(_scalar(t)) for t in types]
                out[name] = vs[0] if lay["table"] == "parameters" else vs
            else:
                out[name] = draw(values(lay, tables))
        return out

    return draw_struct()


def test_every_variable_command_declares_its_layout() -> None:
    """The dictionary has no command left as "variable; see the doc"."""
    undeclared = {c["name"] for c in _dictionary()["commands"] if isinstance(c.get("layout"), str)}
    assert undeclared == set()
    # 14 of the older services, 30 of PUS-11, PUS-18, PUS-12, PUS-19 and tables, 3 of
    # files (list_files, cfdp_pdu, downlink_file), 1 of the payload (run_cluster_jobs)
    assert sum(1 for c in _dictionary()["commands"] if isinstance(c.get("layout"), dict)) == 48


def test_the_json_form_builds_back_to_the_same_json() -> None:
    for name, _con, desc in _declared():
        assert layouts.describe(layouts.build(desc)) == desc, name


@settings(max_examples=40)
@given(st.data())
def test_ground_codec_equals_the_flight_declaration(data: st.DataObject) -> None:
    """The codec built from the dictionary's JSON encodes and decodes as the declaration."""
    tables = layouts.tables_from_dictionary(_dictionary())
    name, con, desc = data.draw(st.sampled_from(_declared()))
    value = data.draw(values(desc, tables))
    raw = layouts.encode(con, value, tables, name)
    ground = layouts.build(desc)
    assert layouts.encode(ground, value, tables, name) == raw
    back = layouts.parse(ground, raw, tables, name)
    assert back == layouts.parse(con, raw, tables, name)
    assert layouts.encode(con, back, tables, name) == raw


@settings(max_examples=40)
@given(st.data(), st.binary(max_size=64))
def test_garbage_is_our_decode_error(data: st.DataObject, raw: bytes) -> None:
    """Any bytes: a value, or a DecodeError naming the layout (never construct's own)."""
    tables = layouts.tables_from_dictionary(_dictionary())
    name, con, _desc = data.draw(st.sampled_from(_declared()))
    try:
        layouts.parse(con, raw, tables, name)
    except DecodeError as exc:
        assert exc.field == name


def test_a_value_that_does_not_fit_is_our_encode_error() -> None:
    tables = layouts.tables_from_dictionary(_dictionary())
    con = layouts.Struct("ids" / layouts.counted(layouts.U8, layouts.U16))
    with pytest.raises(EncodeError):
        layouts.encode(con, {"ids": [70000]}, tables, "ids")
    with pytest.raises(EncodeError):
        layouts.encode(con, {"ids": list(range(300))}, tables, "ids")
    with pytest.raises(DecodeError, match="no id"):
        layouts.parse(
            layouts.build(
                {
                    "type": "struct",
                    "fields": [
                        {"name": "id", "layout": {"type": "u16"}},
                        {
                            "name": "v",
                            "layout": {"type": "by_id", "table": "parameters", "key": "id"},
                        },
                    ],
                }
            ),
            b"\xff\xff\0",
            tables,
            "p",
        )


# --- the hand-written parsers read what the layouts declare --------------------------------


def _has_parser(cmd: str) -> bool:
    app, name = cmd.split(".")
    decl = _harness().exe.app(app).spec.cls.declarations()
    return next(c for c in decl.commands if c.name == name).parser is not None


def _parsed_by_service(cmd: str, raw: bytes) -> dict[str, Any]:
    app, name = cmd.split(".")
    h = _harness()
    loaded = h.exe.app(app)
    cdef = next(c for c in loaded.spec.cls.declarations().commands if c.name == name)
    assert cdef.parser is not None
    result: dict[str, Any] = getattr(loaded.instance, cdef.parser)(raw)
    return result


def _as_declared(cmd: str, parsed: dict[str, Any]) -> dict[str, Any]:
    """A parser's keyword arguments in the layout's terms (units and shapes differ)."""
    if cmd == "housekeeping.set_hk_interval":
        return {
            "changes": [{"sid": s, "interval_ms": ns // 1_000_000} for s, ns in parsed["changes"]]
        }
    if cmd == "parameters.set_parameters":
        return {"values": [{"id": i, "value": v} for i, v in parsed["updates"]]}
    if cmd == "payload.submit_jobs":
        names = ("board_hours", "priority", "deadline_s", "checkpoint_s")
        return {"jobs": [dict(zip(names, j, strict=True)) for j in parsed["jobs"]]}
    if cmd == "payload.run_cluster_jobs":  # ClusterJob records, named as the layout
        return {"jobs": [dataclasses.asdict(j) for j in parsed["jobs"]]}
    return parsed


@settings(max_examples=40)
@given(st.data())
def test_each_parser_reads_what_its_layout_declares(data: st.DataObject) -> None:
    """Bytes built by the declared layout, with ids the flight build knows and values in
    range, are what the service's parser accepts, read as the layout reads them."""
    d = _dictionary()
    tables = layouts.tables_from_dictionary(d)
    cmds = {
        c["name"]: c
        for c in d["commands"]
        if isinstance(c.get("layout"), dict)
        and c["name"] not in ("payload.submit_jobs_file", "files.cfdp_pdu")
        and _has_parser(c["name"])
    }  # submit_jobs_file: its layout is a file's name; its parser reads the file; cfdp_pdu:
    # its layout is the raw PDU, its parser decodes the CFDP PDU (tests/cfdp). Commands
    # with a layout and no parser are decoded by the layout itself (nothing to compare)
    name = data.draw(st.sampled_from(sorted(cmds)))
    desc = cmds[name]["layout"]
    value = _valid(data, name, desc, tables)
    raw = layouts.encode(layouts.build(desc), value, tables, name)
    parsed = _parsed_by_service(name, raw)
    assert _as_declared(name, parsed) == layouts.parse(layouts.build(desc), raw, tables, name)
    with pytest.raises(CommandError):  # one octet more or less: the parser refuses it too
        _parsed_by_service(name, raw + b"\0" if name != "files.write_file" else raw[:1])


def f32_in(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Values of an f32 in [lo, hi] (bounds need not be f32 values themselves)."""
    to32 = struct.Struct(">f")
    return (
        st.floats(lo, hi)
        .map(lambda x: to32.unpack(to32.pack(x))[0])
        .filter(lambda x: lo <= x <= hi)
    )


def _valid(data: st.DataObject, cmd: str, desc: dict[str, Any], tables: Any) -> dict[str, Any]:
    d = _dictionary()
    ids = {
        "housekeeping": [h["sid"] for h in d["housekeeping"]],
        "events": [e["id"] for e in d["events"]],
        "parameters": [p["id"] for p in d["parameters"]],
    }
    app = cmd.split(".")[0]
    if cmd == "housekeeping.set_hk_interval":
        ms = st.integers(1, 100).map(lambda k: k * 100)
        item = st.fixed_dictionaries(
            {"sid": st.sampled_from(ids["housekeeping"]), "interval_ms": ms}
        )
        return {"changes": data.draw(st.lists(item, max_size=5))}
    if cmd == "parameters.set_parameters":
        params = d["parameters"]
        chosen = data.draw(st.lists(st.sampled_from(params), max_size=5))
        out = []
        for p in chosen:
            lo = p["min"] if p["min"] is not None else TYPES[p["type"]].min
            hi = p["max"] if p["max"] is not None else TYPES[p["type"]].max
            if p["type"] == "f32":
                v: Any = data.draw(f32_in(lo, hi))
            elif p["type"] == "f64":
                v = data.draw(st.floats(lo, hi))
            else:
                v = data.draw(st.integers(int(lo), int(hi)))
            out.append({"id": p["id"], "value": v})
        return {"values": out}
    if cmd == "payload.submit_jobs":
        from flightsw.apps.payload.job_list import BOARD_HOURS, CHECKPOINT_S

        job = st.fixed_dictionaries(
            {
                "board_hours": f32_in(*BOARD_HOURS),
                "priority": st.integers(0, 255),
                "deadline_s": st.integers(0, 86_400),
                "checkpoint_s": f32_in(*CHECKPOINT_S),
            }
        )
        return {"jobs": data.draw(st.lists(job, max_size=5))}
    if cmd == "payload.run_cluster_jobs":
        from flightsw.apps.payload.handover import quanta_done
        from flightsw.apps.payload.job_list import BOARD_HOURS, CHECKPOINT_S

        def record(tag: int, hours: float, ckpt: float, frac: float, state: int) -> Any:
            done = frac * 0.999 * hours * 3600.0  # some work done, never all of it
            return {
                "tag": tag,
                "board_hours": hours,
                "priority": 1,
                "deadline_s": 0,
                "checkpoint_s": ckpt,
                "done_s": done,
                "quanta": quanta_done(done),
                "state": state,
            }

        rec = st.builds(
            record,
            st.integers(1, 2**32 - 1),
            f32_in(*BOARD_HOURS),
            f32_in(*CHECKPOINT_S),
            st.floats(0.0, 1.0),
            st.integers(0, 2**64 - 1),
        )
        return {"jobs": data.draw(st.lists(rec, max_size=5))}
    field = desc["fields"][0]["name"]
    if field in ("sids", "ids"):
        pool = ids["parameters" if app == "parameters" else app]
        return {field: data.draw(st.lists(st.sampled_from(pool), max_size=8))}
    return data.draw(values(desc, tables))  # the file commands: names, sizes, offsets


# --- the services' declared layouts (monitoring, event-action, tables, scheduling) ---

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
        raw = encode(layout, value, {}, "test")
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
    raw = encode(monitoring.IDS_TC, {"pmon_ids": [1, 2]}, {}, "x")
    with pytest.raises(CommandError, match="trailing"):
        parse_tc(monitoring.IDS_TC, raw + b"\x00", "x")
    with pytest.raises(DecodeError):
        decode(monitoring.IDS_TC, raw + b"\x00", "x")


def test_values_outside_the_layout_are_encode_errors() -> None:
    with pytest.raises(EncodeError):
        encode(monitoring.IDS_TC, {"pmon_ids": [70000]}, {}, "x")
    with pytest.raises(EncodeError):
        encode(monitoring.DEFINITIONS_TC, {"definitions": [{"pmon_id": 1}]}, {}, "x")


def test_describe_names_fields_types_counts_and_enums() -> None:
    layout = Struct(
        "ids" / PrefixedArray(Int16ub, Int16ub), "name" / PascalString(Int16ub, "ascii")
    )
    assert describe(layout) == {
        "type": "struct",
        "fields": [
            {"name": "ids", "layout": {"type": "array", "count": "u16", "item": {"type": "u16"}}},
            {"name": "name", "layout": {"type": "string", "prefix": "u16"}},
        ],
    }
    check = describe(monitoring.DEFINITION)["fields"][2]
    assert check == {
        "name": "check",
        "layout": {"type": "enum", "base": "u8", "values": {"limit": 1, "expected": 2, "delta": 3}},
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
    assert d["fields"][1]["layout"] == {"type": "cuc", "coarse": 4, "fine": 2}
    assert d["fields"][2]["layout"] == {"type": "array", "count": "u16", "item": {"type": "u32"}}
    assert d["fields"][3]["layout"] == {"type": "bytes", "prefix": "u16"}
    assert d["fields"][0]["layout"]["type"] == "string"
    assert describe(layouts.build(d)) == d  # the ground builds the same codec back


def test_short_long_and_bad_data_raise_our_error_naming_the_place() -> None:
    good = encode(
        SCHED_LAYOUT, {"name": "ab", "when": 5_000_000_000, "ids": [1, 2], "blob": b"x"}, {}, "t"
    )
    assert parse_fields(SCHED_LAYOUT, good, "t")["ids"] == [1, 2]
    for bad in (good[:-1], good + b"\x00", b"\xff"):
        with pytest.raises(DecodeError) as info:
            parse_fields(SCHED_LAYOUT, bad, "t")
        assert info.value.field == "t"
    with pytest.raises(EncodeError):
        encode(SCHED_LAYOUT, {"name": "ab"}, {}, "t")


@given(st.binary(max_size=80))
def test_garbage_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse_fields(SCHED_LAYOUT, data, "g")
