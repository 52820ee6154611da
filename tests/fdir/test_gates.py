"""Exact gates (fdir.gates): FDIR skips work only when it is a no-op.

The checker itself is tested to fail; then small busy nodes run in check mode (every
skipped piece of work is run anyway and must change nothing) through the state changes
each gate has to notice: a latch-up while everything else is nominal, a hang and its
recovery, corrected and uncorrectable memory errors, a scrub trigger lowered by a
parameter, a payload switch tripping while a board recovers behind it, a parameter that
changes what a board may draw, isolated boards taken back after a reboot, monitors and
switch health changed by command. Each test also
checks the outcome in the TM or the world, so a wrong gate fails it with or without the
check mode.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fdir.app import FdirApp
from fdir.gates import CHECK_ENV, MAX_RECORDED, GateChecker, GateMismatch, kept, same
from flightsw.sil.harness import SilHarness
from sim_hw.faults import FaultKind, ScheduledFault
from tests.apps.conftest import small_node


def test_same_compares_bits_dtype_and_shape() -> None:
    a = np.array([1.0, -0.0, math.nan])
    assert same(a, a.copy()) and same(None, None)
    assert not same(a, np.array([1.0, 0.0, math.nan]))  # -0.0 is not 0.0 here
    assert not same(a, None) and not same(None, a)
    assert not same(np.zeros(2, np.int64), np.zeros(4, np.int32))  # same bytes, not values
    assert not same(np.zeros(4), np.zeros((2, 2)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_same_tells_every_bit_of_floats_apart(dtype: type) -> None:
    a = np.array([1.5, 0.0, math.nan, -2.0, math.inf], dtype=dtype)
    assert same(a, a) and same(a, a.copy())
    assert same(a[::2], a.copy()[::2])  # strided: compared as bytes
    bits = a.view(f"u{a.itemsize}").copy()
    for i in range(a.size):  # one bit anywhere (a NaN's payload, a zero's sign) differs
        for bit in (0, 8 * a.itemsize - 1):
            b = bits.copy()
            b[i] ^= b.dtype.type(1 << bit)
            assert not same(a, b.view(a.dtype)), (i, bit)
            assert not same(a[::2], b.view(a.dtype)[::2]) or i % 2, (i, bit)


def test_same_compares_integers_and_flags_by_value() -> None:
    a = np.arange(-3, 5, dtype=np.int64)
    assert same(a, a.copy()) and not same(a, a + (a == 4))
    assert same(a.astype(np.uint8), a.astype(np.uint8)) and not same(a, a.astype(np.int32))
    f = a > 0
    assert same(f, f.copy()) and not same(f, ~f)


def test_kept_is_the_array_only_when_nothing_can_change_it() -> None:
    owner = np.arange(4.0)
    assert kept(owner) is not owner and np.array_equal(kept(owner), owner)
    view = owner[1:]
    view.flags.writeable = False  # a read-only view of an array its owner still writes
    assert kept(view) is not view
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    row = frozen[1:]
    assert kept(frozen) is frozen and kept(row) is row  # read-only all the way down


def test_the_checker_fails_on_a_skipped_body_that_changes_state() -> None:
    box = [0]
    checker = GateChecker(True, lambda: (box[0],))
    checker.noop("quiet", lambda: None)
    with pytest.raises(GateMismatch, match="loud"):
        checker.noop("loud", lambda: box.__setitem__(0, 1))
    with pytest.raises(GateMismatch):
        checker.equal("value", 1, 2)
    assert checker.log.mismatches == 2 and len(checker.log.errors) == 2
    for _ in range(MAX_RECORDED):
        with pytest.raises(GateMismatch):
            checker.equal("value", 1, 2)
    assert len(checker.log.errors) == MAX_RECORDED
    assert checker.log.mismatches == MAX_RECORDED + 2
    off = GateChecker(False, lambda: (box[0],))
    off.noop("not run", lambda: box.__setitem__(0, 5))
    assert box[0] == 1  # off: the skipped body is not run


def _events(h: SilHarness, name: str) -> list[int]:
    ev = {e.name: e for e in FdirApp.EVENTS}[name]
    eid = (0x2400 + ev.local_id).to_bytes(2, "big")
    return [
        int.from_bytes(p.app_data[2:4], "big")
        for p in h.tm
        if p.service == 5 and p.app_data[:2] == eid
    ]


def _node(monkeypatch: pytest.MonkeyPatch, faults: list[ScheduledFault]) -> SilHarness:
    """16 busy boards, 8 behind each of two payload switches, gates checked."""
    monkeypatch.setenv(CHECK_ENV, "1")
    h = small_node(boards=16, busy=16, radiation_enabled=False, boards_per_switch=8)
    sc = h.hal.harness["sim"]
    sc.faults.extend(faults)
    assert h.exe.app("fdir").instance.gates.enabled
    return h


def _clean(h: SilHarness) -> None:
    """No gate skipped work that was not a no-op, and FDIR never raised."""
    fdir = h.exe.app("fdir")
    assert fdir.instance.gate_log.errors == [] and fdir.instance.gate_log.mismatches == 0
    assert fdir.stats.exceptions == 0


def test_faults_each_gate_must_notice_while_all_else_is_nominal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One node through them all (a flight build takes a while to start)."""
    h = _node(
        monkeypatch,
        [
            ScheduledFault(2.5, FaultKind.SEFI, 12),  # a hang, then a recovery in progress
            ScheduledFault(4.0, FaultKind.SEU, 7, {"count": 3}),  # corrected errors
            ScheduledFault(4.5, FaultKind.SEU_UNCORRECTABLE, 9),
            ScheduledFault(6.5, FaultKind.SEFI, 9),  # the oldest heartbeat, then
            ScheduledFault(7.5, FaultKind.SEU_UNCORRECTABLE, 9),  # isolated (the 2nd error)
            ScheduledFault(8.5, FaultKind.SEFI, 13),  # due between two full checks
            ScheduledFault(9.5, FaultKind.SEL, 3),  # everything else nominal
            ScheduledFault(11.5, FaultKind.SEL, 2),  # both cooling down when their switch trips:
            ScheduledFault(  # released by the supply level, the hang deadline recomputed
                12.0,
                FaultKind.SWITCH_OVERCURRENT,
                "payload_0",
                {"extra_w": 1e6, "duration_s": 0.5},
            ),
        ],
    )
    fdir = h.exe.app("fdir").instance
    sc = h.hal.harness["sim"]
    h.exe.params.set("fdir", "unc_isolate_n", 2)
    # heartbeats are seen at whole seconds; 1.95 s of silence is due at a full check
    h.exe.params.set("fdir", "hang_timeout_s", 1.95)
    h.run(6)
    h.exe.params.set("fdir", "hang_timeout_s", 2.5)  # and this one between two
    assert fdir.tlm["ecc_corrected"] == 3 and fdir.scrubs == 0  # below the trigger
    h.exe.params.set("fdir", "scrub_trigger", 3)  # now at it, with no new error
    h.run(2)
    assert fdir.scrubs == 1 and fdir.tlm["scrubs"] == 1 and fdir.since_scrub[7] == 0
    h.run(12)
    assert _events(h, "BOARD_LATCHUP") == [3, 2]
    assert _events(h, "BOARD_HANG") == [12, 13]
    assert _events(h, "BOARD_RECOVERED") == [12, 13]  # 3 and 2: released by the trip
    assert _events(h, "UNCORRECTABLE_MEMORY") == [9, 9] and fdir.tlm["ecc_uncorrectable"] == 2
    assert _events(h, "BOARD_ISOLATED") == [9]
    assert _events(h, "SUPPLY_FAULT") == [4]
    others = np.arange(16) != 9
    assert sc.boards.powered[others].all() and not fdir.ladder.state[others].any()
    _clean(h)

    # the expected power is kept between seconds; a new board_max_w must reach it: the
    # busy boards (about 300 W) are then far above what they may draw
    before = len(_events(h, "BOARD_LATCHUP"))
    h.exe.params.set("fdir", "board_max_w", 60.0)
    h.run(2)
    assert set(_events(h, "BOARD_LATCHUP")[before:]) == set(range(16)) - {9}
    _clean(h)

    # isolated boards taken back at boot are counted (the ladder's step used to do it)
    h.send_and_assert_command("fdir.set_health", {"kind": 0, "unit": 4, "health": 1})
    h.run(2)
    h.reboot()
    h.run(3)
    fdir = h.exe.app("fdir").instance
    isolated = int(np.count_nonzero(fdir.ladder.state == 6))
    assert fdir.ladder.state[4] == 6 and fdir.tlm["isolated_boards"] == isolated
    _clean(h)


def test_monitor_bits_and_switch_health_follow_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The monitor bits are kept for the enabled set they were computed for, and a switch
    health the power app sends again is not set again: a command must reach both."""
    h = _node(monkeypatch, [])
    fdir = h.exe.app("fdir").instance
    h.run(3)
    assert fdir.tlm["monitors_enabled"] == 0xFF
    h.send_and_assert_command("fdir.disable_monitor", {"monitor": 8})
    h.run(2)
    assert fdir.tlm["monitors_enabled"] == 0x7F
    h.send_and_assert_command("fdir.enable_monitor", {"monitor": 8})
    h.run(2)
    assert fdir.tlm["monitors_enabled"] == 0xFF
    switch = fdir.switch_names.index("payload_0")
    assert fdir.health.of(1)[switch] == 0  # (kind 1: switches)
    h.send_and_assert_command("fdir.set_health", {"kind": 1, "unit": switch, "health": 4})
    h.run(3)
    assert fdir.health.of(1)[switch] == 4  # external control, as the power app reports it
    h.send_and_assert_command("fdir.set_health", {"kind": 1, "unit": switch, "health": 0})
    h.run(3)
    assert fdir.health.of(1)[switch] == 0
    _clean(h)


def test_a_board_silent_for_long_is_seen_by_the_latchup_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the hang monitor off a hung board stays silent past ``hung_after_s``: the
    latch-up check must then read it as not computing (its oldest-beat gate must not
    call the boards all alive; check mode compares)."""
    h = _node(monkeypatch, [ScheduledFault(2.5, FaultKind.SEFI, 5)])
    fdir = h.exe.app("fdir").instance
    h.send_and_assert_command("fdir.disable_monitor", {"monitor": 2})
    h.run(9)
    assert h.hal.harness["sim"].boards.powered[5] and _events(h, "BOARD_HANG") == []
    assert fdir.ctx.now_ns() / 1e9 - fdir.beat_at[5] > 5.0
    _clean(h)
