"""PUS-19 event-action in SIL: exactly once per event, bounded under a flood."""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from flightsw.framework import msgids
from flightsw.framework.app import FailureCode
from flightsw.framework.bus import Overflow
from flightsw.framework.layouts import decode
from flightsw.services.event_action.app import DEFINITIONS_TC, IDS_TC, STATUS_TM, StartSequence
from flightsw.services.monitoring.app import DEFINITIONS_TC as MON_DEFINITIONS_TC
from flightsw.sil.harness import SilHarness
from tests.support.ops import PING_EVENT, core_node, set_point, tc

ARE_YOU_ALIVE = (17, 1)


def action(h: SilHarness, ea_id: int, event_id: int = PING_EVENT, **kw: Any) -> dict[str, Any]:
    d = {
        "ea_id": ea_id,
        "event_id": event_id,
        "match_arg": 0,
        "arg_value": 0,
        "enabled": 1,
        "action": "tc",
        "tc": tc(h, *ARE_YOU_ALIVE),
        "sequence": "",
    }
    d.update(kw)
    return d


def add(h: SilHarness, *defs: dict[str, Any]) -> int:
    return h.send(
        "event_action.add_event_actions", app_data=DEFINITIONS_TC.build({"definitions": list(defs)})
    )


def ping(h: SilHarness, count: int, code: int = 0) -> None:
    h.send("probe.ping", {"count": count, "code": code})


def alive_replies(h: SilHarness, since: int = 0) -> int:
    return sum(1 for p in h.tm[since:] if (p.service, p.subservice) == (17, 2))


@pytest.mark.parametrize("seed", [4, 5])
def test_an_action_fires_exactly_once_per_event(seed: int) -> None:
    rng = random.Random(seed)
    h = core_node()
    h.await_completion(add(h, action(h, 1), action(h, 2, match_arg=1, arg_value=7)))
    mark = len(h.tm)
    sent = matched = 0
    for _ in range(rng.randint(3, 6)):
        n, code = rng.randint(1, 5), rng.choice([7, 8])
        ping(h, n, code)
        sent += n
        matched += n if code == 7 else 0
        h.run(rng.choice([0.1, 0.3, 1.0]))
    h.run(2.0)
    # Definition 1 fires on every PING, definition 2 only on those with code 7.
    assert alive_replies(h, mark) == sent + matched
    ea = h.exe.app("event_action").instance
    assert ea.bindings[1].fired == sent and ea.bindings[2].fired == matched
    h.send_and_assert_command("event_action.report_event_action_status")
    rep = decode(STATUS_TM, h.tm_of(19, 7)[-1].app_data, "tm")
    assert rep["actions"] == [
        {"ea_id": 1, "enabled": 1, "fired": sent},
        {"ea_id": 2, "enabled": 1, "fired": matched},
    ]


def test_disabled_definition_and_function_do_not_fire() -> None:
    h = core_node()
    h.await_completion(add(h, action(h, 1)))
    ids = IDS_TC.build({"ea_ids": [1]})
    h.send_and_assert_command("event_action.disable_event_actions", app_data=ids)
    mark = len(h.tm)
    ping(h, 3)
    h.run(1.0)
    assert alive_replies(h, mark) == 0
    h.send_and_assert_command("event_action.enable_event_actions", app_data=ids)
    h.send_and_assert_command("event_action.disable_event_action_function")
    ping(h, 3)
    h.run(1.0)
    assert alive_replies(h, mark) == 0
    h.send_and_assert_command("event_action.enable_event_action_function")
    ping(h, 2)
    h.run(1.0)
    assert alive_replies(h, mark) == 2
    h.send_and_assert_command("event_action.delete_event_actions", app_data=ids)
    ping(h, 2)
    h.run(1.0)
    assert alive_replies(h, mark) == 2


def test_a_flood_of_events_is_bounded_counted_and_the_executive_keeps_its_frames() -> None:
    opts = {"event_queue_depth": 500, "max_actions_per_step": 4, "pending_depth": 40}
    h = core_node(event_action=opts)
    h.await_completion(add(h, action(h, 1)))
    ea = h.exe.app("event_action").instance
    probe = h.exe.app("probe").instance
    mark = len(h.tm)
    steps_before = probe.tlm["steps"]
    ping(h, 5000)
    fired_per_step = []
    for _ in range(40):
        before = ea.counts["fired"]
        h.exe.run_minor_frame()
        fired_per_step.append(ea.counts["fired"] - before)
    assert max(fired_per_step) <= opts["max_actions_per_step"]
    assert probe.tlm["steps"] - steps_before >= 39  # every other app kept its frames
    h.run(5.0)
    # Every event is accounted for: fired, dropped from the full pipe, or from the queue.
    fired = ea.counts["fired"]
    assert fired + ea.pipe.dropped + ea.counts["dropped"] == 5000
    assert ea.pipe.dropped == 4500  # the pipe kept the newest 500
    assert ea.counts["dropped"] > 0 and fired >= 40  # the pending queue filled, then drained
    assert alive_replies(h, mark) == fired
    assert ea.tlm["events_dropped"] == ea.pipe.dropped
    lost = [p for p in h.tm[mark:] if p.service == 5 and p.app_data[:2] == b"\x0d\x01"]
    assert lost  # the loss was reported by event


def test_invalid_definitions_are_refused() -> None:
    h = core_node()
    for bad, code in [
        (action(h, 1, event_id=0x7777), FailureCode.UNKNOWN_ID),
        (action(h, 1, tc=b"\x18\x64garbage"), FailureCode.BAD_APP_DATA),
        (action(h, 1, action="sequence", tc=b""), FailureCode.BAD_APP_DATA),
    ]:
        assert h.failure_code(add(h, bad)) == code
    h.await_completion(add(h, action(h, 1)))
    assert h.failure_code(add(h, action(h, 1))) == FailureCode.INVALID_STATE
    assert h.failure_code(h.send("event_action.add_event_actions", app_data=b"\x01\x00")) in (
        FailureCode.BAD_LENGTH,
        FailureCode.BAD_APP_DATA,
    )


def test_sequence_action_is_published_for_the_sequencer_or_refused_without_one() -> None:
    h = core_node()
    h.await_completion(add(h, action(h, 1, action="sequence", tc=b"", sequence="safe_loads")))
    ea = h.exe.app("event_action").instance
    seq_pipe = h.exe.app("sequencer").instance.start_pipe
    h.exe.bus.unsubscribe(msgids.START_SEQUENCE, seq_pipe)  # no sequencer listening
    ping(h, 1)
    h.run(1.0)
    assert ea.counts["refused"] == 1  # nobody listens: refused and counted
    pipe = h.exe.bus.create_pipe("spy", 4, Overflow.REJECT_NEWEST)
    h.exe.bus.subscribe(msgids.START_SEQUENCE, pipe)
    ping(h, 2)
    h.run(1.0)
    got = [m.payload for m in pipe.drain()]
    assert got == [StartSequence("safe_loads", 1, PING_EVENT)] * 2


def _events(h: SilHarness, event_id: int) -> int:
    return sum(
        1 for p in h.tm if p.service == 5 and int.from_bytes(p.app_data[:2], "big") == event_id
    )


def test_an_event_starts_a_stored_sequence_on_the_sequencer_once() -> None:
    """Event-action to the real sequencer: the stored file runs once per event; a file
    that is not on board is refused with an event naming the event-action."""
    from flightsw.ground.sequences import compile_text

    h = core_node()
    data, _ = compile_text("cmd test.ping\n", h.dictionary, "safe_loads")
    h.hal.nv.write("file.safe_loads", data)
    h.hal.nv.write("file.safe_loads.ok", b"1")
    h.await_completion(add(h, action(h, 1, action="sequence", tc=b"", sequence="safe_loads")))
    seq = h.exe.app("sequencer").instance
    alive = alive_replies(h)
    ping(h, 1)
    h.run(2.0)
    assert seq.counts["started"] == 1 and seq.counts["completed"] == 1
    assert alive_replies(h) == alive + 1  # the sequence's one TC(17,1), answered once
    h.await_completion(add(h, action(h, 2, action="sequence", tc=b"", sequence="missing")))
    refused_id = h.exe.app("sequencer").spec.id_base + 5
    before = _events(h, refused_id)
    ping(h, 1)  # one event: both actions fire
    h.run(2.0)
    assert _events(h, refused_id) == before + 1  # "missing" is not on board
    assert seq.counts["started"] == 2  # safe_loads again (action 1), not "missing"


def test_monitoring_violation_starts_a_command_once_per_transition() -> None:
    h = core_node()
    mon = {
        "pmon_id": 3,
        "point": "probe.x",
        "check": "limit",
        "persistence": 2,
        "mode": "active",
        "enabled": 1,
        "low": 0.0,
        "high": 10.0,
        "mask": 0,
        "expected": 0,
    }
    h.send_and_assert_command(
        "monitoring.add_monitoring_definitions",
        app_data=MON_DEFINITIONS_TC.build({"definitions": [mon]}),
    )
    above = 0x0C02  # monitoring's CHECK_ABOVE_HIGH, first argument the pmon id
    h.await_completion(
        add(
            h,
            action(h, 1, event_id=above, match_arg=1, arg_value=3),
            action(h, 2, event_id=above, match_arg=1, arg_value=4),
        )
    )
    mark = len(h.tm)
    set_point(h, "x", 50.0)
    h.run(6.0)  # stays above: one transition, one event, one action
    assert alive_replies(h, mark) == 1
    set_point(h, "x", 5.0)
    h.run(3.0)
    set_point(h, "x", 50.0)
    h.run(3.0)
    assert alive_replies(h, mark) == 2
    ea = h.exe.app("event_action").instance
    assert ea.bindings[2].fired == 0
    assert struct.unpack(">H", h.tm_of(5, 3)[-1].app_data[:2])[0] == above


def test_events_lost_in_the_full_pipe_between_steps_are_reported() -> None:
    h = core_node(event_action={"event_queue_depth": 10})
    mark = len(h.tm)
    ping(h, 50)  # all in one probe step, between two event-action steps
    h.run(1.0)
    lost = [p for p in h.tm[mark:] if p.service == 5 and p.app_data[:2] == b"\x0d\x01"]
    assert len(lost) == 1
    assert struct.unpack(">I", lost[0].app_data[2:6])[0] == 40
    assert h.exe.app("event_action").instance.tlm["events_dropped"] == 40


def test_definitions_by_table_survive_a_reboot_and_a_bad_table_changes_nothing() -> None:
    """PUS-19 definitions are a table: defined by TC or by a table file, kept on NV (a
    reboot brings them back, they fire once per event after it), and a table naming an
    event nobody declared is refused with its reason while the active one keeps running."""
    import struct
    import zlib

    from flightsw.services.event_action.app import TABLE, TABLE_NAME
    from flightsw.services.tables.app import LOAD_TC, NAME_TC

    h = core_node()
    h.await_completion(add(h, action(h, 1)))
    defs = [action(h, 2), action(h, 3, match_arg=1, arg_value=7)]

    def upload_and_activate(name: str, definitions: list[dict[str, Any]]) -> int:
        content = bytes(TABLE.build({"definitions": definitions}))
        raw = bytes([len(name)]) + name.encode()
        h.send_and_assert_command(
            "files.create_file",
            app_data=raw + struct.pack(">II", len(content), zlib.crc32(content)),
        )
        h.send_and_assert_command("files.write_file", app_data=raw + bytes(4) + content)
        h.send_and_assert_command(
            "tables.load_table", app_data=LOAD_TC.build({"table": TABLE_NAME, "file": name})
        )
        return h.send("tables.validate_table", app_data=NAME_TC.build({"table": TABLE_NAME}))

    h.await_completion(upload_and_activate("ea1", defs))
    h.send_and_assert_command(
        "tables.activate_table", app_data=NAME_TC.build({"table": TABLE_NAME})
    )
    ea = h.exe.app("event_action").instance
    assert sorted(ea.bindings) == [2, 3]  # the table replaced the TC-defined set
    rid = upload_and_activate("ea2", [action(h, 9, event_id=0x7FFF)])
    assert h.failure_code(rid) == FailureCode.INVALID_TABLE
    h.reboot()
    ea = h.exe.app("event_action").instance
    assert sorted(ea.bindings) == [2, 3]
    mark = len(h.tm)
    ping(h, 2, code=7)
    h.run(2.0)
    assert alive_replies(h, mark) == 4  # each definition once per event, after the reboot
    h.await_completion(
        h.send("event_action.delete_event_actions", app_data=IDS_TC.build({"ea_ids": [3]}))
    )
    h.reboot()
    assert sorted(h.exe.app("event_action").instance.bindings) == [2]
