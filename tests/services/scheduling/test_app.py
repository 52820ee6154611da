"""PUS 11 time-based scheduling: ordering, ties, shifts, limits, restarts, a week on time.

The truth is when each released TC actually ran (the recorder app notes the frame time
in its handler), never what the scheduler says about itself.
"""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError
from flightsw.framework.app import FailureCode
from flightsw.framework.layouts import parse_fields
from flightsw.packets import PusTc
from flightsw.services.scheduling.app import (
    INSERT,
    RELEASE_TIME_PAST,
    REQUEST_IDS,
    SHIFT_ALL,
    SHIFT_IDS,
    SHIFT_WINDOW,
    STORED,
    STORED_ACTIVITY,
    SUMMARY_REPORT,
    WINDOW,
    _pack_entry,
)
from tests.support.light_node import FRAME_NS, LightNode

S = 1_000_000_000
TICK = S / 65536  # one CUC fine tick


def cuc(seconds: float) -> int:
    """A time on the CUC grid (4 coarse + 2 fine octets), as the ground would send it."""
    coarse = int(seconds)
    fine = int((seconds - coarse) * 65536)
    return coarse * S + -((-fine * S) >> 16)


def due_frame(t_ns: int) -> int:
    return -(-t_ns // FRAME_NS)


def test_released_in_time_order_ties_in_insertion_order_each_in_its_frame() -> None:
    n = LightNode()
    n.frames(1)
    times = [cuc(2.95), cuc(1.05), cuc(1.05), cuc(3.0), cuc(1.05), cuc(1.1 + TICK / S)]
    items = [(t, n.mark(i)) for i, t in enumerate(times)]
    rid = n.insert(items)
    n.frames(40)
    assert (7, None) in n.reports(rid)
    # Ties (tags 1, 2, 4) go in the order they were inserted, all in the same frame.
    assert [tag for tag, _ in n.ran] == [1, 2, 4, 5, 0, 3]
    for tag, ran_at in n.ran:
        assert ran_at == due_frame(times[tag]) * FRAME_NS, tag  # never early, < 1 frame late
    for _t, tc in items:  # each released TC is verified under its own request id
        assert (7, None) in n.reports(int.from_bytes(tc[:4], "big"))
    assert n.sched.tlm["released"] == 6 and n.sched.tlm["late"] == 0


def test_time_shift_one_a_window_and_all_and_never_into_the_past() -> None:
    n = LightNode()
    n.frames(1)
    tcs = [n.mark(i) for i in range(4)]
    times = [cuc(5.0), cuc(6.0), cuc(7.0), cuc(8.0)]
    n.insert(list(zip(times, tcs, strict=True)))
    ids = [int.from_bytes(tc[:4], "big") for tc in tcs]
    n.send("scheduler.shift_by_id", SHIFT_IDS.build({"offset_ns": 3 * S, "request_ids": [ids[0]]}))
    n.send(
        "scheduler.shift_by_time",
        SHIFT_WINDOW.build({"offset_ns": -S // 2, "from_time": cuc(6.0), "to_time": cuc(7.0)}),
    )
    n.send("scheduler.shift_all", SHIFT_ALL.build({"offset_ns": 250_000_000 + 7}))
    rid = n.send("scheduler.shift_all", SHIFT_ALL.build({"offset_ns": -60 * S}))
    n.frames(2)
    assert (8, RELEASE_TIME_PAST) in n.reports(rid)
    n.frames(120)
    expected = {0: 8.25, 1: 5.75, 2: 6.75, 3: 8.25}
    got = dict(n.ran)
    for tag, seconds in expected.items():
        assert got[tag] == due_frame(int(seconds * S) + 7) * FRAME_NS
    assert [tag for tag, _ in n.ran] == [1, 2, 0, 3]


def test_full_schedule_past_time_and_bad_tcs_are_refused_whole() -> None:
    n = LightNode(params={"scheduler": {"max_activities": 5}})
    n.frames(20)  # now = 2 s
    first = [(cuc(10.0 + i), n.mark(i)) for i in range(4)]
    ok = n.insert(first)
    full = n.insert([(cuc(20.0), n.mark(10)), (cuc(21.0), n.mark(11))])
    past = n.insert([(cuc(1.5), n.mark(13))])
    raw = n.mark(14)
    bad = n.insert([(cuc(30.0), raw[:-1] + bytes([raw[-1] ^ 1]))])  # its CRC broken
    unrouted = n.insert([(cuc(30.0), PusTc(n.exe.config.apid, 99, 1).encode())])
    n.frames(2)
    assert (7, None) in n.reports(ok)
    assert (8, FailureCode.QUEUE_FULL) in n.reports(full)
    assert (8, RELEASE_TIME_PAST) in n.reports(past)
    assert (8, FailureCode.BAD_CHECKSUM) in n.reports(bad)
    assert (8, FailureCode.ILLEGAL_SERVICE) in n.reports(unrouted)
    assert n.sched.tlm["scheduled"] == 4 and n.sched.tlm["refused"] == 4
    # Delete the first by request id, the second and third by window: the fourth runs.
    ids = [int.from_bytes(first[0][1][:4], "big")]
    n.send("scheduler.delete_by_id", REQUEST_IDS.build({"request_ids": ids}))
    n.send("scheduler.delete_by_time", WINDOW.build({"from_time": cuc(11.0), "to_time": cuc(12.0)}))
    n.frames(2)
    assert n.sched.tlm["scheduled"] == 1
    n.frames(120)
    assert [tag for tag, _ in n.ran] == [3]
    n.insert([(cuc(100.0), n.mark(20)), (cuc(101.0), n.mark(21))])
    n.send("scheduler.reset")
    n.frames(900)
    assert [tag for tag, _ in n.ran] == [3] and n.sched.tlm["scheduled"] == 0


def test_disabled_release_holds_and_reenable_releases_late() -> None:
    n = LightNode()
    n.send("scheduler.disable_release")
    n.frames(1)
    n.insert([(cuc(1.0), n.mark(1))])
    n.frames(30)
    assert n.ran == []
    n.send("scheduler.enable_release")
    n.frames(2)
    assert [tag for tag, _ in n.ran] == [1] and n.sched.tlm["late"] == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_schedule_survives_app_restart_and_reboot_and_releases_once(seed: int) -> None:
    rng = random.Random(seed)
    n = LightNode()
    n.frames(1)
    times = sorted(cuc(rng.uniform(1.0, 20.0)) for _ in range(12))
    n.insert([(t, n.mark(i)) for i, t in enumerate(times)])
    n.send("scheduler.disable_release")
    n.send("scheduler.enable_release")
    stop_at = due_frame(times[5])  # some released, the rest waiting
    n.frames(stop_at + 1 - n.exe.frame)
    before = len(n.ran)
    n.exe.restart_app(n.exe.app("scheduler"))
    assert n.sched.tlm["scheduled"] == 12 - before
    # One NV copy upset: the vote repairs it.
    nv = n.hal.nv
    nv.write("pus11.schedule.1", b"garbage")
    n.reboot()
    assert n.sched.tlm["scheduled"] == 12 - before
    n.frames(250)
    assert [tag for tag, _ in n.ran] == list(range(12))  # each exactly once, in order
    assert [t for _, t in n.ran] == [due_frame(t) * FRAME_NS for t in times]
    assert n.sched.store.repairs >= 1


def test_summary_and_detail_reports_list_what_is_scheduled() -> None:
    n = LightNode()
    n.frames(1)
    tcs = [n.mark(i) for i in range(500)]
    n.insert([(cuc(100.0 + i / 8), tc) for i, tc in enumerate(tcs[:250])])
    n.insert([(cuc(100.0 + (250 + i) / 8), tc) for i, tc in enumerate(tcs[250:])])
    n.send("scheduler.summary_all")
    window = WINDOW.build({"from_time": cuc(100.0), "to_time": cuc(101.0)})
    n.send("scheduler.detail_by_time", window)
    n.send("scheduler.report_status")
    n.frames(3)
    summary = [
        a
        for p in n.tm
        if (p.service, p.subservice) == (11, 13)
        for a in parse_fields(SUMMARY_REPORT, p.app_data, "summary")["activities"]
    ]
    assert len([p for p in n.tm if (p.service, p.subservice) == (11, 13)]) > 1  # split
    assert [a["request_id"] for a in summary] == [int.from_bytes(tc[:4], "big") for tc in tcs]
    assert [a["release_time"] for a in summary] == [cuc(100.0 + i / 8) for i in range(500)]
    detail = [
        a
        for p in n.tm
        if (p.service, p.subservice) == (11, 10)
        for a in parse_fields(INSERT, p.app_data, "detail")["activities"]
    ]
    assert [a["tc"] for a in detail] == tcs[:9]
    status = [p for p in n.tm if (p.service, p.subservice) == (11, 19)][-1].app_data
    assert status[0] == 1 and int.from_bytes(status[1:5], "big") == 500


def _week(n_commands: int, seed: int) -> None:
    """Commands at random sub-second times over a simulated week; idle frames skipped."""
    rng = random.Random(seed)
    n = LightNode(params={"scheduler": {"max_activities": 65536}})
    n.frames(1)
    week = 7 * 86400
    times = [cuc(rng.uniform(1.0, week)) for _ in range(n_commands)]
    items = [(t, n.mark(i, ack_flags=0)) for i, t in enumerate(times)]
    for k in range(0, len(items), 100):
        n.insert(items[k : k + 100])
        n.frames(1)
    assert n.sched.tlm["scheduled"] == n_commands
    for f in sorted({due_frame(t) for t in times}):
        n.jump_to_frame(f - 1)
        n.frames(f + 1 - n.exe.frame)  # the frame before (nothing may go early) and its own
    expected = sorted(range(n_commands), key=lambda i: (times[i], i))
    assert [tag for tag, _ in n.ran] == expected, f"seed {seed}"
    wrong = [(tag, at) for tag, at in n.ran if at != due_frame(times[tag]) * FRAME_NS]
    assert not wrong, f"seed {seed}: released in the wrong frame: {wrong[:5]}"
    assert n.sched.tlm["late"] == 0 and n.sched.tlm["scheduled"] == 0


def test_a_week_of_commands_each_released_in_its_own_minor_frame() -> None:
    _week(300, seed=random.Random().randrange(1 << 30))


@pytest.mark.slow
def test_a_week_of_thousands_of_commands_each_released_in_its_own_minor_frame() -> None:
    _week(5000, seed=7)


@pytest.mark.slow
def test_an_hour_frame_by_frame_with_a_command_in_most_frames() -> None:
    rng = random.Random(11)
    n = LightNode(params={"scheduler": {"max_activities": 65536}})
    n.frames(1)
    times = [cuc(rng.uniform(1.0, 3600.0)) for _ in range(3000)]
    for k in range(0, len(times), 100):
        n.insert([(t, n.mark(k + i, ack_flags=0)) for i, t in enumerate(times[k : k + 100])])
        n.frames(1)
    n.frames(36_010 - n.exe.frame)
    assert all(at == due_frame(times[tag]) * FRAME_NS for tag, at in n.ran)
    assert len(n.ran) == 3000


def test_a_burst_due_in_one_frame_goes_in_order_over_the_next_frames_counted_late() -> None:
    n = LightNode(params={"scheduler": {"max_release_per_frame": 32}})
    n.frames(1)
    items = [(cuc(2.0), n.mark(i, ack_flags=0)) for i in range(100)]
    n.insert(items[:60])
    n.insert(items[60:])
    n.frames(30)
    assert [tag for tag, _ in n.ran] == list(range(100))
    # The recorder's command pipe holds 16: the scheduler holds the rest back, in order,
    # rather than lose them to QUEUE_FULL.
    frames = [at // FRAME_NS for _, at in n.ran]
    assert frames == [f for f in range(20, 27) for _ in range(16)][:100]
    assert n.sched.tlm["late"] == 84 and n.sched.tlm["held_back"] >= 6
    assert not [p for p in n.tm if p.service == 1 and p.subservice in (2, 4, 6, 8)]


@settings(max_examples=30)
@given(
    st.lists(
        st.tuples(st.integers(0, 2**63 - 1), st.integers(0, 2**64 - 1), st.binary(max_size=30)),
        max_size=10,
    )
)
def test_stored_record_fast_path_equals_its_declaration_for_any_entry(
    entries: list[tuple[int, int, bytes]],
) -> None:
    for e in entries:
        assert _pack_entry(e) == STORED_ACTIVITY.build(
            {"release_ns": e[0], "seq": e[1], "tc": e[2]}
        )


def test_stored_record_fast_path_equals_its_declaration() -> None:
    entry = (123 * S + 456, 9, b"\x18\x64\xc0\x00\x00\x05abc")
    assert _pack_entry(entry) == STORED_ACTIVITY.build(
        {"release_ns": entry[0], "seq": entry[1], "tc": entry[2]}
    )


times_st = st.integers(0, (1 << 32) - 1).map(lambda c: c * S) | st.builds(
    lambda c, f: c * S + -((-f * S) >> 16), st.integers(0, 1 << 31), st.integers(0, 65535)
)


@settings(max_examples=40)
@given(st.lists(st.tuples(times_st, st.binary(max_size=40)), max_size=20))
def test_insert_layout_round_trips_with_sub_seconds(items: list[tuple[int, bytes]]) -> None:
    value = {"activities": [{"release_time": t, "tc": tc} for t, tc in items]}
    assert parse_fields(INSERT, INSERT.build(value), "insert") == value


@settings(max_examples=50)
@given(st.binary(max_size=64))
def test_layouts_reject_garbage_with_our_error(data: bytes) -> None:
    for layout in (INSERT, REQUEST_IDS, SHIFT_IDS, WINDOW, STORED):
        with contextlib.suppress(DecodeError):
            parse_fields(layout, data, "x")


def test_reboot_after_releases_and_an_image_rewrite_releases_nothing_twice() -> None:
    n = LightNode()
    n.frames(1)
    n.insert([(cuc(1.0 + i / 10), n.mark(i)) for i in range(10)])
    n.frames(14)  # tags 0..3 released
    n.insert([(cuc(5.0), n.mark(10))])  # a new image, a new generation
    n.frames(4)  # tags 4..7 released after it
    n.reboot()
    n.frames(60)
    assert [tag for tag, _ in n.ran] == list(range(11))


def test_the_dictionary_lists_every_pus11_and_pus18_tc_and_tm_with_its_layout() -> None:
    d = LightNode().dictionary
    mine = [c for c in d["commands"] if c["app"] in ("scheduler", "sequencer")]
    assert len(mine) == 21  # 16 of PUS-11, 5 of the sequencer
    for c in mine:
        assert c.get("layout") != "variable; see doc of the service", c["name"]
        assert c["args"] == [] or c["layout"]["type"] == "struct", c["name"]
    insert = next(c for c in mine if c["name"] == "scheduler.insert")
    item = insert["layout"]["fields"][0]["layout"]["item"]["fields"]
    assert item[0] == {"name": "release_time", "layout": {"type": "cuc", "coarse": 4, "fine": 2}}
    reports = {(r["service"], r["subservice"]): r for r in d["reports"]}
    assert {(11, 10), (11, 13), (11, 19), (18, 9)} <= set(reports)
    activity = reports[(11, 13)]["layout"]["fields"][0]["layout"]["item"]
    assert activity["fields"][1]["layout"]["type"] == "u32"
