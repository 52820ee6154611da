"""PUS-12 on-board monitoring in SIL: definitions by TC and by table, reports, events."""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from flightsw.framework.app import FailureCode
from flightsw.framework.layouts import decode
from flightsw.runtime.dictionary import build_dictionary
from flightsw.services.monitoring.app import (
    DEFINITIONS_TC,
    DEFINITIONS_TM,
    IDS_TC,
    OUT_OF_LIMITS_TM,
    TRANSITIONS_TM,
)
from flightsw.sil.harness import SilHarness
from tests.support.ops import core_node, set_point

MON_BASE = 0x0C00
EV_BELOW, EV_ABOVE, EV_UNEXPECTED, EV_BACK = (MON_BASE + i for i in (1, 2, 3, 4))


def definition(pmon_id: int, point: str, check: str = "limit", **kw: Any) -> dict[str, Any]:
    d = {
        "pmon_id": pmon_id,
        "point": point,
        "check": check,
        "persistence": 1,
        "mode": "report_only",
        "enabled": 1,
        "low": 0.0,
        "high": 0.0,
        "mask": 0,
        "expected": 0,
    }
    d.update(kw)
    return d


def add(h: SilHarness, *defs: dict[str, Any]) -> int:
    return h.send(
        "monitoring.add_monitoring_definitions",
        app_data=DEFINITIONS_TC.build({"definitions": list(defs)}),
    )


def ids(*pmon_ids: int) -> bytes:
    return bytes(IDS_TC.build({"pmon_ids": list(pmon_ids)}))


def transitions(h: SilHarness, since: int = 0) -> list[tuple[int, str, str]]:
    out = []
    for p in h.tm[since:]:
        if (p.service, p.subservice) == (12, 12):
            for t in decode(TRANSITIONS_TM, p.app_data, "tm(12,12)")["transitions"]:
                out.append((t["pmon_id"], t["previous"], t["current"]))
    return out


def events(h: SilHarness, since: int = 0) -> list[tuple[int, int]]:
    """(event id, pmon) of the monitoring violation events."""
    out = []
    for p in h.tm[since:]:
        if p.service == 5 and len(p.app_data) >= 4:
            eid, pmon = struct.unpack_from(">HH", p.app_data)
            if MON_BASE < eid <= MON_BASE + 4:
                out.append((eid, pmon))
    return out


def second(h: SilHarness, **points: float) -> None:
    for name, value in points.items():
        set_point(h, name, value)
    h.run(1.0)


@pytest.mark.parametrize("seed", [1, 2])
def test_limit_check_changes_state_on_the_persistence_th_sample(seed: int) -> None:
    rng = random.Random(seed)
    pers = rng.randint(1, 4)
    h = core_node()
    h.await_completion(
        add(h, definition(7, "probe.x", low=0.0, high=10.0, persistence=pers, mode="active"))
    )
    second(h, x=5.0)
    mark = len(h.tm)
    # Short excursions (fewer than pers samples) change nothing.
    for _ in range(rng.randint(1, 3)):
        for _ in range(pers - 1):
            second(h, x=rng.uniform(10.5, 50))
        second(h, x=5.0)
    assert transitions(h, mark) == [] and events(h, mark) == []
    for i in range(pers):
        assert transitions(h, mark) == [], f"changed after {i} of {pers} samples"
        second(h, x=rng.uniform(10.5, 50))
    assert transitions(h, mark) == [(7, "ok", "above_high")]
    assert events(h, mark) == [(EV_ABOVE, 7)]
    mark = len(h.tm)
    for _ in range(pers):
        second(h, x=-3.0)
    assert transitions(h, mark) == [(7, "above_high", "below_low")]
    assert events(h, mark) == [(EV_BELOW, 7)]


def test_expected_and_delta_checks_and_report_only_mode() -> None:
    h = core_node()
    h.await_completion(
        add(
            h,
            definition(
                1, "probe.flags", "expected", mask=0x0F, expected=0x05, persistence=2, mode="active"
            ),
            definition(
                2, "probe.temp", "delta", low=-1.0, high=1.0, persistence=2, mode="report_only"
            ),
        )
    )
    second(h, flags=0x15, temp=20.0)
    second(h, flags=0x25, temp=20.5)
    second(h, flags=0x05, temp=20.5)  # the delta's first sample only set the previous one
    mark = len(h.tm)
    second(h, flags=0x07, temp=23.0)  # one sample each: persistence 2 holds them back
    assert transitions(h, mark) == []
    second(h, flags=0x17, temp=26.0)
    assert sorted(transitions(h, mark)) == [(1, "ok", "unexpected"), (2, "ok", "above_high")]
    # Report-only: the delta check's transition is reported, but raises no event.
    assert events(h, mark) == [(EV_UNEXPECTED, 1)]
    mark = len(h.tm)
    second(h, flags=0x05, temp=26.0)
    second(h, flags=0x05, temp=26.0)
    assert sorted(transitions(h, mark)) == [(1, "unexpected", "ok"), (2, "above_high", "ok")]
    assert events(h, mark) == [(EV_BACK, 1)]


def test_disable_enable_delete_and_reports() -> None:
    h = core_node()
    h.await_completion(
        add(
            h,
            definition(3, "probe.x", low=0.0, high=1.0),
            definition(4, "probe.x", low=-5.0, high=5.0),
        )
    )
    second(h, x=3.0)
    h.send_and_assert_command("monitoring.report_out_of_limits")
    rep = decode(OUT_OF_LIMITS_TM, h.tm_of(12, 14)[-1].app_data, "tm")
    assert rep["checks"] == [{"pmon_id": 3, "value": 3.0, "state": "above_high"}]
    mark = len(h.tm)
    h.send_and_assert_command("monitoring.disable_monitoring_definitions", app_data=ids(3))
    second(h)
    assert transitions(h, mark) == [(3, "above_high", "unchecked")]
    h.send_and_assert_command("monitoring.delete_monitoring_definitions", app_data=ids(4))
    h.send_and_assert_command("monitoring.report_monitoring_definitions", app_data=ids())
    rep = decode(DEFINITIONS_TM, h.tm_of(12, 9)[-1].app_data, "tm")
    assert [(d["pmon_id"], d["enabled"]) for d in rep["definitions"]] == [(3, 0)]
    mark = len(h.tm)
    h.send_and_assert_command("monitoring.enable_monitoring_definitions", app_data=ids(3))
    second(h)
    assert transitions(h, mark) == [(3, "unchecked", "above_high")]
    # The monitoring function off: nothing is checked, states stay.
    h.send_and_assert_command("monitoring.disable_monitoring")
    mark = len(h.tm)
    second(h, x=0.5)
    second(h, x=0.5)
    assert transitions(h, mark) == []
    h.send_and_assert_command("monitoring.enable_monitoring")
    second(h, x=0.5)
    assert transitions(h, mark) == [(3, "above_high", "ok")]


@pytest.mark.parametrize(
    ("defs", "reason"),
    [
        ([definition(1, "probe.nope")], b"no telemetry point"),
        ([definition(1, "probe.x", low=2.0, high=1.0)], b"low <= high"),
        ([definition(1, "probe.x"), definition(1, "probe.temp")], b"id used twice"),
        ([definition(1, "probe.x", persistence=0)], b"persistence"),
    ],
)
def test_bad_definitions_are_refused_with_their_reason(
    defs: list[dict[str, Any]], reason: bytes
) -> None:
    h = core_node()
    h.await_completion(add(h, definition(9, "probe.x", low=0.0, high=1.0)))
    rid = add(h, *defs)
    assert h.failure_code(rid) == FailureCode.INVALID_TABLE
    fail = h.tm_of(1, 8)[-1].app_data
    assert reason in fail
    assert [d["pmon_id"] for d in h.exe.app("monitoring").instance.defs] == [9]


@pytest.mark.parametrize("junk", [b"", b"\x01", b"\x01\x00\x01\x05probe", b"\x00\x00"])
def test_malformed_application_data_gets_a_pus1_rejection(junk: bytes) -> None:
    h = core_node()
    rid = h.send("monitoring.add_monitoring_definitions", app_data=junk)
    code = h.failure_code(rid)
    assert code in (FailureCode.BAD_LENGTH, FailureCode.BAD_APP_DATA)
    assert h.exe.app("monitoring").stats.exceptions == 0


def test_definitions_survive_a_reboot_and_an_app_restart_keeps_states() -> None:
    h = core_node()
    h.await_completion(add(h, definition(5, "probe.x", low=0.0, high=1.0, mode="active")))
    second(h, x=9.0)
    exe = h.exe
    exe.restart_app(exe.app("monitoring"))
    mark = len(h.tm)
    second(h, x=9.0)
    assert transitions(h, mark) == []  # still above_high: no new transition after a restart
    h.reboot()
    assert [d["pmon_id"] for d in h.exe.app("monitoring").instance.defs] == [5]
    mark = len(h.tm)
    second(h, x=9.0)
    assert transitions(h, mark) == [(5, "unchecked", "above_high")]


def test_event_storm_bounded_per_cycle() -> None:
    h = core_node(monitoring={"max_events_per_cycle": 3})
    h.await_completion(
        add(h, *(definition(i, "probe.x", low=0.0, high=1.0, mode="active") for i in range(1, 11)))
    )
    mark = len(h.tm)
    second(h, x=5.0)
    assert len(events(h, mark)) == 3
    assert len(transitions(h, mark)) == 10
    assert h.exe.app("monitoring").instance.tlm["events_suppressed"] == 7


def test_dictionary_lists_the_layouts_of_every_new_command_and_report() -> None:
    d = build_dictionary(core_node().mission)
    mine = [c for c in d["commands"] if c["app"] in ("monitoring", "event_action", "tables")]
    assert len(mine) >= 20
    for c in mine:
        assert c.get("layout") != "variable; see doc of the service"
        assert c["args"] == [] or c["layout"]["type"] == "struct", c["name"]
    reports = {(r["service"], r["subservice"]) for r in d["reports"]}
    assert {(12, 9), (12, 12), (12, 14), (19, 7), (19, 11), (140, 6), (140, 8)} <= reports
