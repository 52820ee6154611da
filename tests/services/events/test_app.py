import struct

from flightsw.framework import msgids
from flightsw.framework.app import FailureCode
from flightsw.ground.commanding import id_list
from flightsw.sil.harness import SilHarness

LEVEL_SET = 0x1001


def _level_events(h: SilHarness) -> list[int]:
    return [p.app_data[2] for p in h.tm_of(5, 1) if p.app_data[:2] == struct.pack(">H", LEVEL_SET)]


def test_event_reported_with_args_and_published_on_bus(sil: SilHarness) -> None:
    pipe = sil.exe.bus.create_pipe("test.events", 16)
    sil.exe.bus.subscribe(msgids.EVENT, pipe)
    sil.send_and_assert_command("counter.set_level", {"level": 2})
    assert _level_events(sil) == [2]
    recs = [m.payload for m in pipe.drain()]
    assert [(r.name, r.args) for r in recs if r.app == "counter"] == [("LEVEL_SET", {"level": 2})]


def test_disable_enable_and_report_disabled(sil: SilHarness) -> None:
    sil.send_and_assert_command("events.disable_events", app_data=id_list([LEVEL_SET]))
    sil.send_and_assert_command("counter.set_level", {"level": 1})
    assert _level_events(sil) == []
    assert sil.exe.events.suppressed == 1
    assert sil.exe.events.log[-1].name == "LEVEL_SET"  # still logged on board
    sil.send_and_assert_command("events.report_disabled_events")
    assert sil.tm_of(5, 8)[-1].app_data == struct.pack(">HH", 1, LEVEL_SET)
    sil.send_and_assert_command("events.enable_events", app_data=id_list([LEVEL_SET]))
    sil.send_and_assert_command("counter.set_level", {"level": 3})
    assert _level_events(sil) == [3]


def test_unknown_event_id_refused(sil: SilHarness) -> None:
    rid = sil.send("events.disable_events", app_data=id_list([0x4242]))
    assert sil.failure_code(rid) == FailureCode.UNKNOWN_ID
    assert not sil.exe.events.disabled
