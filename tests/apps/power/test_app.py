"""Power app control laws against a small simulated node."""

import struct
from typing import Any

import numpy as np
import pytest

from flightsw.framework.app import FailureCode
from tests.apps.conftest import small_node

POWER = 0x2000


def _fid(local: int) -> bytes:
    return struct.pack(">H", POWER + local)


def test_soc_estimate_follows_the_battery() -> None:
    h = small_node()
    sc = h.hal.harness["sim"]
    h.run(60)
    app = h.exe.app("power").instance
    assert abs(app.soc - sc.battery.soc) < 0.01
    assert app.tlm["payload_budget_w"] > 0


def test_shedding_levels_go_down_and_come_back_with_hysteresis() -> None:
    h = small_node(boards=64)
    sc = h.hal.harness["sim"]
    app = h.exe.app("power").instance
    boards = h.hal.devices["boards"]
    h.run(5)
    boards.set_board_power(np.arange(64), True)
    cap = sc.battery.capacity_wh
    levels = []
    for soc in (0.38, 0.28, 0.18, 0.25, 0.35, 0.45, 0.55):
        sc.battery.stored_wh = soc * cap
        app.soc = soc  # the estimator converges slowly by design; start it at the truth
        h.run(3)
        levels.append(app.level)
    # Down one level per threshold; back up only `hysteresis` (0.10) above each threshold.
    assert levels == [1, 2, 3, 3, 2, 1, 0]
    switches = dict(zip(app.switches, h.hal.devices["pcdu"].read_switches().on, strict=True))
    assert all(switches[s] for s in switches)  # everything restored at level 0
    assert len(h.tm_of(5, 3)) >= 6  # one MEDIUM event per level change


def test_level_two_opens_payload_switches_and_zeroes_the_budget() -> None:
    h = small_node(boards=64)
    sc = h.hal.harness["sim"]
    app = h.exe.app("power").instance
    h.run(2)
    sc.battery.stored_wh = 0.15 * sc.battery.capacity_wh
    app.soc = 0.15
    h.run(4)
    assert app.level == 3
    on = dict(zip(app.switches, h.hal.devices["pcdu"].read_switches().on, strict=True))
    assert not any(v for k, v in on.items() if k.startswith(("payload", "aux")))
    assert on["avionics"] and on["radio"] and on["heaters"]
    assert app.tlm["payload_budget_w"] == 0.0
    assert not sc.boards.powered.any()


def test_critical_switch_needs_arming() -> None:
    h = small_node()
    app = h.exe.app("power").instance
    radio = app.switches.index("radio")
    rid = h.send_pus(8, 1, _fid(2) + bytes([radio, 0]))
    assert h.failure_code(rid) == FailureCode.NOT_ARMED
    assert h.hal.devices["pcdu"].read_switches().on[radio]
    h.send_and_assert_command("power.arm_switch", {"switch": radio})
    h.send_and_assert_command("power.switch", {"switch": radio, "on": 0})
    assert not h.hal.devices["pcdu"].read_switches().on[radio]
    # Arming expires.
    h.send_and_assert_command("power.arm_switch", {"switch": radio})
    h.run(11)
    rid = h.send("power.switch", {"switch": radio, "on": 1})
    assert h.failure_code(rid) == FailureCode.NOT_ARMED


def test_bad_switch_commands() -> None:
    h = small_node()
    rid = h.send_pus(8, 1, _fid(2) + bytes([200, 1]))
    assert h.failure_code(rid) == FailureCode.UNKNOWN_ID
    rid = h.send_pus(8, 1, _fid(2) + bytes([4, 2]))
    assert h.failure_code(rid) == FailureCode.ARG_OUT_OF_RANGE
    aux = h.exe.app("power").instance.switches.index("aux_0")
    h.send_and_assert_command("power.switch", {"switch": aux, "on": 0})  # not critical


def test_overcurrent_trip_is_reported_and_reset() -> None:
    from sim_hw.faults import FaultKind, ScheduledFault

    h = small_node()
    sc = h.hal.harness["sim"]
    sc.faults._schedule.append(ScheduledFault(3.0, FaultKind.SWITCH_OVERCURRENT, "aux_0"))
    h.run(6)
    app = h.exe.app("power").instance
    aux = app.switches.index("aux_0")
    assert app.tlm["trips"] == 1
    assert h.hal.devices["pcdu"].read_switches().tripped[aux]
    assert h.tm_of(5, 4), "a HIGH event for the trip"
    h.send_and_assert_command("power.reset_trip", {"switch": aux})
    h.send_and_assert_command("power.switch", {"switch": aux, "on": 1})
    h.run(2)
    assert h.hal.devices["pcdu"].read_switches().on[aux]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_ocv_inversion_refuses_a_non_finite_voltage_with_our_error(bad: float) -> None:
    from flightsw.apps.power.app import soc_from_ocv
    from flightsw.base.errors import FlightswError

    with pytest.raises(FlightswError):  # was an IndexError (NaN bisected off the curve)
        soc_from_ocv(bad)


def test_battery_allowance_is_full_above_the_reserve_band_and_tapers_inside_it() -> None:
    """The default mission: up to 100 kW from the battery above 45 % charge, tapering to
    nothing at 35 %; so in an eclipse the full payload (89.6 kW) keeps its budget."""
    h = small_node()
    app = h.exe.app("power").instance
    h.run(2)
    platform = 900.0
    margin = float(app.param("margin_w"))
    eclipse = {soc: app._payload_budget(soc, 0.0, platform) for soc in (0.9, 0.5, 0.4, 0.35)}
    assert eclipse[0.9] == pytest.approx(100_000.0 - platform - margin)
    assert eclipse[0.5] == eclipse[0.9]
    assert eclipse[0.4] == pytest.approx(0.5 * 100_000.0 - platform - margin)
    assert eclipse[0.35] == 0.0
    assert eclipse[0.9] > 256 * 350.0


@pytest.mark.parametrize("bad", [float("nan"), float("-inf")])
def test_a_battery_that_stops_reading_does_not_blind_the_power_app(
    monkeypatch: pytest.MonkeyPatch, bad: float
) -> None:
    """The battery's reading goes missing (non-finite: refused by the HAL) for 30 s. The
    switches are still watched (a trip in that time is seen), the budget still goes out
    every step, and after BATTERY_STALE_S it counts on the array alone: it used to stop
    at the first missing sample, leaving the payload on its last budget indefinitely."""
    from dataclasses import replace

    from flightsw.apps.power.app import BATTERY_STALE_S
    from flightsw.apps.shared.messages import POWER_BUDGET
    from hal.sim.devices import SimBattery
    from sim_hw.faults import FaultKind, ScheduledFault

    h = small_node()
    sc = h.hal.harness["sim"]
    app = h.exe.app("power").instance
    pipe = h.exe.bus.create_pipe("test.budget", 1000)
    h.exe.bus.subscribe(POWER_BUDGET, pipe)
    h.run(5)
    healthy = app.tlm["payload_budget_w"]
    real = SimBattery.sense
    monkeypatch.setattr(SimBattery, "sense", lambda self: replace(real(self), voltage_v=bad))
    at = h.exe.now_ns / 1e9 + 3.0
    sc.faults._schedule.append(ScheduledFault(at, FaultKind.SWITCH_OVERCURRENT, "aux_0"))
    pipe.queue.clear()
    h.run(30)
    assert app.tlm["trips"] == 1 and h.tm_of(5, 4), "the trip was seen and reported"
    budgets = [m.payload.payload_w for m in pipe.drain()]
    rate = next(s.rate_hz for s in h.mission.apps if s.name == "power")
    assert len(budgets) == round(30 * rate)  # one a step, none skipped
    stale_from = round(BATTERY_STALE_S * rate) + 1
    assert budgets[0] == pytest.approx(healthy, rel=0.05)  # SoC held: same budget at first
    margin = float(app.param("margin_w"))
    assert all(b <= app.tlm["solar_power_w"] - margin for b in budgets[stale_from:])
    assert budgets[-1] < healthy  # the battery's allowance is gone
    unobserved = [p for p in h.tm_of(5, 3) if p.app_data[:2] == _fid(20)]
    assert len(unobserved) == 1
    assert app.tlm["device_errors"] == len(budgets)
    monkeypatch.setattr(SimBattery, "sense", real)
    h.run(2)
    assert app.tlm["payload_budget_w"] == pytest.approx(healthy, rel=0.05)  # back


def test_a_restart_while_shedding_brings_the_loads_back_when_the_battery_does() -> None:
    """The power app restarted at shed level 2 (payload switches open): a fresh level 0
    never closed them again, so the payload stayed unpowered with a full battery."""
    h = small_node(boards=16)
    sc = h.hal.harness["sim"]
    a = h.exe.app("power")
    h.run(2)
    sc.battery.stored_wh = 0.25 * sc.battery.capacity_wh
    a.instance.soc = 0.25  # the estimator converges slowly by design; start it at the truth
    h.run(4)
    assert a.instance.level == 2
    h.send_and_assert_command("executive.restart_app", {"app": a.index})
    assert a.instance.level == 2 and a.instance.soc == pytest.approx(0.25, abs=0.01)
    sc.battery.stored_wh = 0.9 * sc.battery.capacity_wh
    a.instance.soc = 0.9
    h.run(10)
    app = a.instance
    on = dict(zip(app.switches, h.hal.devices["pcdu"].read_switches().on, strict=True))
    assert app.level == 0 and all(on.values()), on


def test_a_restart_keeps_an_isolated_switch_open() -> None:
    """The switch ladder lives in ctx.retained: a fresh one would take the isolated
    switch's latch for a new trip, retry it and close it on the short again."""
    from sim_hw.faults import FaultKind, ScheduledFault

    short = ScheduledFault(
        5.0, FaultKind.SWITCH_OVERCURRENT, "payload_1", {"extra_w": 1e6, "duration_s": 1e9}
    )
    h = small_node(boards=64, radiation_enabled=False, boards_per_switch=32)
    sc = h.hal.harness["sim"]
    sc.faults.extend([short])
    h.run(60)
    a = h.exe.app("power")
    assert sc.pcdu.trips("payload_1") == 3 and not sc.pcdu.is_conducting("payload_1")
    h.send_and_assert_command("executive.restart_app", {"app": a.index})
    h.run(60)
    assert sc.pcdu.trips("payload_1") == 3 and not sc.pcdu.is_conducting("payload_1")
    assert a.instance.ladder.health[a.instance.switches.index("payload_1")] == 1  # faulty


def _switch_status_pipe(h: Any) -> Any:
    from flightsw.apps.shared.messages import SWITCH_STATUS
    from flightsw.framework.bus import Overflow

    pipe = h.exe.bus.create_pipe("test.switch_status", 64, Overflow.DROP_OLDEST)
    h.exe.bus.subscribe(SWITCH_STATUS, pipe)
    return pipe


@pytest.mark.parametrize("seed_s", [3.0, 4.5, 7.0])
def test_switch_status_shows_a_trip_and_the_retry_that_closes_it_in_their_own_step(
    seed_s: float,
) -> None:
    """SWITCH_STATUS is built from the step's first PCDU reading unless the step itself
    switched: the retry that resets and closes a tripped switch must be in the status of
    that very step (a status from the stale reading would say 'open' with health back to
    healthy). Unchanged statuses are the same object, one per step."""
    from sim_hw.faults import FaultKind, ScheduledFault

    h = small_node(radiation_enabled=False)
    sc = h.hal.harness["sim"]
    pipe = _switch_status_pipe(h)
    trip = ScheduledFault(seed_s, FaultKind.SWITCH_OVERCURRENT, "aux_0", {"duration_s": 0.5})
    sc.faults.extend([trip])
    app = h.exe.app("power").instance
    aux = app.switches.index("aux_0")
    seen: list[tuple[bool, int]] = []
    h.run(1)
    prev = [m.payload for m in pipe.drain()][-1]
    unchanged = 0
    for _ in range(14):
        h.run(1)
        msgs = [m.payload for m in pipe.drain()]
        assert msgs, "a status every step"
        last = msgs[-1]
        truth = tuple(sc.pcdu.is_conducting(n) for n in app.switches)
        assert last.conducting == truth
        assert last.health == tuple(app.ladder.health)
        seen.append((last.conducting[aux], last.health[aux]))
        for before, now in zip([prev, *msgs], msgs, strict=False):
            same = (before.conducting, before.health) == (now.conducting, now.health)
            assert (before is now) == same  # unchanged: the same message, else a new one
            unchanged += same
        prev = msgs[-1]
    assert (False, 2) in seen, "tripped, waiting for its retry (NEEDS_RECOVERY)"
    assert seen[-1] == (True, 0), "retried: closed and healthy again"
    assert app.tlm["trips"] == 1
    assert unchanged >= 8
