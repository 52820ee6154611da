"""The console's picture of a SIL build: HK as named values with units and limit state
(from the spacecraft's own PUS-12 definitions), events with severity, the command
history's PUS-1 stages, playback marked and kept apart, completion from the dictionary."""

from __future__ import annotations

import random

import pytest

from flightsw.base.errors import FlightswError
from flightsw.ground.console import parse_command
from flightsw.ground.console_model import ConsoleModel
from flightsw.packets import PusTc
from flightsw.runtime.mission import load_mission
from flightsw.sil.harness import SilHarness


def _sil() -> SilHarness:
    m = load_mission(seed=random.randrange(1000))
    m.hal = {**m.hal, "radio": {"always_in_contact": True}, "spacecraft": {"boards": 8}}
    return SilHarness(m)


def test_hk_named_values_units_limits_commands_and_playback() -> None:
    h = _sil()
    model = ConsoleModel(h.dictionary)
    lines: list[str] = []

    def feed() -> None:
        for raw in h.raw_tm:
            lines.extend(model.ingest(raw))
        for raw in h.playback:
            lines.extend(model.ingest(raw, playback=True))
        h.raw_tm.clear()
        h.playback.clear()

    h.run(12)
    feed()
    soc = model.live.values["power.soc"].value
    # a limit the value is above, on the spacecraft, and the definitions reported down
    definition = {
        "pmon_id": 7, "point": "power.soc", "check": "limit", "persistence": 1,
        "mode": "report_only", "enabled": 1, "low": -1.0, "high": soc / 2, "mask": 0,
        "expected": 0,
    }  # fmt: skip
    sent = [
        ("monitoring.add_monitoring_definitions", {"definitions": [definition]}),
        ("monitoring.report_monitoring_definitions", {"pmon_ids": []}),
        ("housekeeping.report_hk_once", {"sids": [h.dictionary["housekeeping"][4]["sid"]]}),
        ("storage.start_dump", None),
    ]
    rids = []
    for name, args in sent:
        rids.append(h.send(name, args))
        model.sent(rids[-1], name)
    bad = h.encoder.encode("test.ping")
    h.send_raw(PusTc.decode(bad).encode()[:-1] + b"\x00")  # CRC broken: rejected
    h.run(15)
    feed()

    hk = [x for x in lines if x.startswith("HK power.power ")]
    assert hk and "soc=" in hk[-1] and "battery_voltage_v=" in hk[-1] and "V" in hk[-1]
    assert "soc=" in hk[-1] and "(HIGH)" in hk[-1]  # soc above the definition's high
    assert model.live.values["power.soc"].state == "HIGH"
    assert model.live.values["power.battery_voltage_v"].unit == "V"
    assert model.live.values["power.battery_voltage_v"].state == ""  # no definition
    for rid, (name, _) in zip(rids, sent, strict=True):
        assert model.history[rid].stages[:1] == ["accepted"], name
        assert model.history[rid].status == "completed", (name, model.history[rid].stages)
    # the store's playback: marked, and kept apart from real time
    assert model.playback_packets > 0
    playback = [x for x in lines if x.startswith("PLAYBACK ")]
    assert len(playback) == model.playback_packets
    assert any(x.startswith("PLAYBACK HK ") for x in playback)
    assert model.playback.values and all(
        model.live.values[n].time_ns >= v.time_ns for n, v in model.playback.values.items()
    )
    # the playback's verification of the first commands did not add stages
    assert all(s.count("completed") <= 1 for s in (c.stages for c in model.history.values()))
    assert any(x.startswith("EVENT INFO ") or x.startswith("EVENT LOW ") for x in lines)
    assert any(x.startswith("VERIFY request 0x") and "rejected code" in x for x in lines)


def test_completion_from_the_dictionary() -> None:
    model = ConsoleModel(SilHarness(load_mission()).dictionary)
    assert "test.ping" in model.complete("test.p")
    assert all(c.startswith("payload.") for c in model.complete("payload."))
    assert set(model.complete("payload.submit_job ")) >= {"board_hours=", "priority="}
    assert "board_hours=" not in model.complete("payload.submit_job board_hours=1 ")
    assert model.complete("housekeeping.report_hk_once s") == ["sids="]  # a layout field
    assert model.complete("no.such ") == []


def test_variable_layout_arguments_are_typed_as_json() -> None:
    assert parse_command('tables.report_table table="monitoring.definitions"') == (
        "tables.report_table",
        {"table": "monitoring.definitions"},
    )
    assert parse_command("housekeeping.report_hk_once sids=[1,2]")[1] == {"sids": [1, 2]}
    with pytest.raises(FlightswError, match="sids"):
        parse_command("housekeeping.report_hk_once sids=[1,")


@pytest.mark.parametrize("console_first", [True, False])
def test_a_report_for_another_source_with_the_same_request_id_is_not_the_consoles(
    console_first: bool,
) -> None:
    """The defect seen as "one TC executed twice": the SIL's simulated ground workload
    and the console both number their TCs from 0 on the same APID, so the workload's
    first TC has the request id of the console's first; its reports were put to the
    console's ping (started, completed twice). The ping runs once (one TM(17,2)); the
    console keeps only reports addressed to its source id."""
    from flightsw.ground.commanding import CommandEncoder
    from flightsw.ground.console import CONSOLE_SOURCE_ID

    h = _sil()
    model = ConsoleModel(h.dictionary, source_id=CONSOLE_SOURCE_ID)
    ours = CommandEncoder(h.dictionary).encode("test.ping", source_id=CONSOLE_SOURCE_ID)
    sid = h.dictionary["housekeeping"][0]["sid"]
    theirs = CommandEncoder(h.dictionary).encode("housekeeping.report_hk_once", {"sids": [sid]})
    rid = PusTc.decode(ours).request_id
    assert PusTc.decode(theirs).request_id == rid  # the collision
    model.sent(rid, "test.ping")
    for raw in (ours, theirs) if console_first else (theirs, ours):
        h.send_raw(raw)
    h.run(3)
    lines = [line for raw in h.raw_tm for line in model.ingest(raw)]
    assert model.history[rid].stages == ["accepted", "started", "completed"]
    assert sum(1 for x in lines if x == "TM(17,2) test.are_you_alive") == 1  # the ping
    assert model.other_sources == 3
    assert f"VERIFY request 0x{rid:08x} of source 0x0000 completed" in lines
