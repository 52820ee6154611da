"""FDIR keeps what it decided over a restart of its own app (ctx.retained).

A restart by TC or after an exception builds a fresh FdirApp; what FDIR knew (recovery
ladders and their timers, fault counters, isolated and permanently faulty boards,
health, failed sensors) must survive it, or a bad board is re-admitted and a recovery
in progress forgotten. Judged from the simulated boards (truth) and the TM.
"""

from __future__ import annotations

import numpy as np
import pytest

from flightsw.sil.harness import SilHarness
from sim_hw.faults import FaultKind, ScheduledFault
from tests.fdir.test_defects import _busy, _events, _frames_until


def _restart_fdir(h: SilHarness, how: str) -> None:
    a = h.exe.app("fdir")
    before = a.stats.restarts
    if how == "tc":
        h.send_and_assert_command("executive.restart_app", {"app": a.index})
    else:
        a.instance.step = lambda now_ns: 1 / 0  # type: ignore[method-assign]
        h.exe.run_minor_frame()
    assert a.stats.restarts == before + 1 and not a.stats.disabled


@pytest.mark.parametrize("how", ["tc", "exception"])
def test_a_restart_in_the_middle_of_a_latchup_recovery_finishes_it(how: str) -> None:
    """Restarted 1.5 s into the 5 s cool-down: the board stays off until the cool-down
    ends, comes back, and its recovery is reported. (Was: the fresh app called the board
    healthy, the payload powered it again within a second, no recovery was reported.)"""
    h = _busy(8, [ScheduledFault(20.0, FaultKind.SEL, 2)])
    sc = h.hal.harness["sim"]
    _frames_until(h, 21.5)
    assert not sc.boards.powered[2] and h.exe.app("fdir").instance.ladder.state[2] == 1
    _restart_fdir(h, how)
    powered = []
    while h.exe.now_ns < 24.5e9:
        h.exe.run_minor_frame()
        powered.append(bool(sc.boards.powered[2]))
    assert not any(powered)  # the cool-down was kept
    h.run(15)
    assert sc.boards.powered[2] and not sc.boards.damaged.any()
    assert [e["board"] for e in _events(h, "BOARD_RECOVERED")] == [2]


@pytest.mark.parametrize("how", ["tc", "exception"])
def test_a_restart_does_not_forget_how_often_a_board_latched_up(how: str) -> None:
    """Two latch-ups, a restart, a third: the board is isolated (three in the window)
    and stays off. (Was: the count started again and the board was re-admitted.)"""
    h = _busy(8, [ScheduledFault(t, FaultKind.SEL, 5) for t in (10.0, 30.0, 60.0)])
    sc = h.hal.harness["sim"]
    h.run(40)
    _restart_fdir(h, how)
    h.run(40)
    assert not sc.boards.powered[5]
    assert [e["board"] for e in _events(h, "BOARD_ISOLATED")] == [5]
    assert h.exe.app("fdir").instance.tlm["isolated_boards"] == 1


def test_a_permanently_faulty_board_stays_out_after_a_restart() -> None:
    """The ground's verdict (permanent faulty, health table) is kept: a re-admission is
    refused after the restart as before it, and the board is never powered again."""
    h = _busy(8, [])
    sc = h.hal.harness["sim"]
    h.send_and_assert_command("fdir.set_health", {"kind": 0, "unit": 4, "health": 3})
    h.run(3)
    _restart_fdir(h, "tc")
    rid = h.send("fdir.readmit_board", {"board": 4})
    h.run(10)
    assert h.failure_code(rid) == 14  # INVALID_STATE: permanently faulty
    assert not sc.boards.powered[4]
    fdir = h.exe.app("fdir").instance
    assert fdir.health.of(0)[4] == 3
    # the health table was kept: the restart announced no change
    assert [e["unit"] for e in _events(h, "HEALTH_CHANGED") if e["kind"] == 0] == [4]


def test_a_restart_keeps_hang_counts_and_failed_sensors() -> None:
    """Two hangs, a restart, a third: isolated (hang_isolate_n = 3). A sensor FDIR
    declared failed stays failed (not re-voted from scratch after the restart)."""
    faults = [ScheduledFault(t, FaultKind.SEFI, 6) for t in (10.0, 25.0, 50.0)]
    faults.append(ScheduledFault(6.0, FaultKind.SENSOR_STUCK, "battery_a", {"value": 120.0}))
    h = _busy(8, faults)
    sc = h.hal.harness["sim"]
    h.run(40)
    fdir = h.exe.app("fdir").instance
    assert fdir.sensor_fdir.failed and fdir.hang_counter.head[6] == 2
    failed = set(fdir.sensor_fdir.failed)
    _restart_fdir(h, "tc")
    h.run(30)
    fdir = h.exe.app("fdir").instance
    assert set(fdir.sensor_fdir.failed) == failed
    assert len(_events(h, "SENSOR_FAILED")) == len(failed)  # not declared a second time
    assert not sc.boards.powered[6]
    assert [e["board"] for e in _events(h, "BOARD_ISOLATED")] == [6]
    assert np.count_nonzero(fdir.ladder.state == 6) == 1
