"""FDIR against the simulated node: each radiation fault detected and recovered in SIL."""

import numpy as np
import pytest

from flightsw.framework.app import FailureCode
from flightsw.sil.harness import SilHarness
from sim_hw.faults import FaultKind, ScheduledFault
from tests.apps.conftest import small_node


def _busy_node(faults: list[ScheduledFault], boards: int = 16) -> SilHarness:
    h = small_node(boards=boards, radiation_enabled=False)
    sc = h.hal.harness["sim"]
    sc.faults._schedule.extend(faults)
    sc.faults._schedule.sort(key=lambda f: f.t_s)
    for _ in range(boards):
        h.send(
            "payload.submit_job",
            {"board_hours": 5.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 60.0},
        )
    h.run(5)
    assert sc.boards.powered.all() and (h.exe.app("payload").instance.board_job >= 0).all()
    return h


def _events(h: SilHarness, name: str) -> list[int]:
    """Board/sensor arguments of the named FDIR event, from the TM."""
    ev = {e.name: e for e in type(h.exe.app("fdir").instance).EVENTS}[name]
    eid = (0x2400 + ev.local_id).to_bytes(2, "big")
    return [
        int.from_bytes(p.app_data[2:4], "big")
        for p in h.tm
        if p.service == 5 and p.app_data[:2] == eid
    ]


def test_latchup_is_cut_within_a_frame_and_the_board_comes_back() -> None:
    h = _busy_node([ScheduledFault(20.0, FaultKind.SEL, 3)])
    sc = h.hal.harness["sim"]
    while sc.t_s < 21.0:
        h.exe.run_minor_frame()
    # The latch appeared at the physics step ending at t=21 s; one frame later it is off.
    h.exe.run_minor_frame()
    h.exe.run_minor_frame()
    assert not sc.boards.powered[3] and not sc.boards.latched[3]
    h.run(15)
    assert _events(h, "BOARD_LATCHUP") == [3] and 3 in _events(h, "BOARD_RECOVERED")
    assert not sc.boards.damaged.any()
    payload = h.exe.app("payload").instance
    assert payload.rollbacks == 1 and payload.lost_s <= 60.0 + 1.0
    h.run(10)
    assert sc.boards.powered[3] and payload.board_job[3] >= 0  # back at work


def test_hang_is_reset_and_recovers() -> None:
    h = _busy_node([ScheduledFault(20.0, FaultKind.SEFI, 5)])
    h.run(25)
    assert _events(h, "BOARD_HANG") == [5] and _events(h, "BOARD_RECOVERED") == [5]
    fdir = h.exe.app("fdir").instance
    assert fdir.tlm["resets"] == 1 and fdir.tlm["power_cycles"] == 0
    assert not h.hal.harness["sim"].boards.hung.any()


def test_repeated_latchups_isolate_the_board_until_the_ground_readmits_it() -> None:
    faults = [ScheduledFault(t, FaultKind.SEL, 2) for t in (20.0, 40.0, 60.0)]
    h = _busy_node(faults)
    h.run(75)
    assert _events(h, "BOARD_ISOLATED") == [2]
    sc = h.hal.harness["sim"]
    payload = h.exe.app("payload").instance
    assert not sc.boards.powered[2] and payload.board_job[2] == -1
    assert payload.unavailable[2]
    rid = h.send("fdir.readmit_board", {"board": 2})
    h.await_completion(rid)
    h.run(5)
    assert not payload.unavailable[2]


def test_a_board_burnt_by_an_unchecked_latchup_ends_isolated() -> None:
    h = _busy_node([ScheduledFault(20.0, FaultKind.SEL, 4)])
    h.send_and_assert_command("fdir.disable_monitor", {"monitor": 1})
    h.run(60)
    sc = h.hal.harness["sim"]
    assert sc.boards.damaged[4]
    fdir = h.exe.app("fdir").instance
    assert fdir.tlm["resets"] == 1 and fdir.tlm["power_cycles"] == 1
    assert _events(h, "BOARD_ISOLATED") == [4]


def test_stuck_sensor_is_declared_failed_and_its_partner_used() -> None:
    h = small_node(radiation_enabled=False)
    sc = h.hal.harness["sim"]
    sc.faults._schedule.append(
        ScheduledFault(5.0, FaultKind.SENSOR_STUCK, "battery_a", {"value": -80.0})
    )
    h.run(45)
    names = h.hal.devices["thermal"].sensor_names()
    assert _events(h, "SENSOR_FAILED") == [names.index("battery_a")]
    thermal = h.exe.app("thermal").instance
    # Zone temperature from battery_b alone: no false heater demand from the -80 C reading.
    assert not thermal.heaters.read_heaters()[0]


def test_low_charge_enters_safe_mode_left_only_by_command() -> None:
    h = small_node(radiation_enabled=False)
    sc = h.hal.harness["sim"]
    power = h.exe.app("power").instance
    h.run(3)
    sc.battery.stored_wh = 0.10 * sc.battery.capacity_wh
    power.soc = 0.10
    h.run(6)
    fdir = h.exe.app("fdir").instance
    assert fdir.safe and power.level == 3 and not sc.boards.powered.any()
    sc.battery.stored_wh = 0.9 * sc.battery.capacity_wh
    power.soc = 0.9
    h.run(10)
    assert fdir.safe and power.level == 3  # still safe: only the ground ends it
    h.send_and_assert_command("fdir.exit_safe_mode")
    h.run(10)
    assert not fdir.safe and power.level == 0


def test_bad_fdir_commands() -> None:
    h = small_node(radiation_enabled=False)
    assert h.failure_code(h.send("fdir.readmit_board", {"board": 3})) == FailureCode.INVALID_STATE
    assert h.failure_code(h.send("fdir.readmit_board", {"board": 999})) == FailureCode.UNKNOWN_ID
    assert h.failure_code(h.send("fdir.exit_safe_mode")) == FailureCode.INVALID_STATE
    rid = h.send_pus(8, 1, (0x2401).to_bytes(2, "big") + b"\x09")
    assert h.failure_code(rid) == FailureCode.ARG_OUT_OF_RANGE
    assert np.array_equal(h.exe.app("fdir").instance.ladder.state, np.zeros(16))


def test_cooling_loop_failure_caps_the_boards_then_sheds_them() -> None:
    h = _busy_node([])
    sc = h.hal.harness["sim"]
    h.exe.params.set("fdir", "board_off_c", 80.0)  # a tight limit, to reach the last rung
    sc.cfg.loop_conductance_w_k = 5.0  # the pumped loop to the radiator fails
    thermal = h.exe.app("thermal").instance
    fdir = h.exe.app("fdir").instance
    h.run(2000)
    assert thermal.tlm["throttled_boards"] == 16  # first rung: power caps
    h.run(3000)
    assert fdir.tlm["overtemps"] > 0  # last rung: boards switched off
    assert _events(h, "BOARD_OVERTEMP")
    assert not sc.boards.damaged.any()
    assert float(sc.boards.temperature_c.max()) < 90.0


def test_hot_battery_enters_safe_mode_and_housekeeping_slows() -> None:
    h = small_node(radiation_enabled=False)
    sc = h.hal.harness["sim"]
    h.run(30)
    hk_before = len(h.tm_of(3, 25))
    sc.thermal.temperatures_c[sc.thermal.index("battery")] = 70.0
    h.run(3)
    fdir = h.exe.app("fdir").instance
    assert not fdir.safe  # every sensor agrees, but one sample is not a decision ...
    h.run(5)
    assert fdir.safe  # ... five in a row are
    h.run(60)
    # Power, thermal, payload, FDIR, comms, store and executive HK every 10 s would be
    # ~40 reports a minute; in safe mode they stretch tenfold.
    assert len(h.tm_of(3, 25)) - hk_before < 15


def test_long_uplink_silence_resets_the_link() -> None:
    h = small_node(radiation_enabled=False)
    h.exe.params.set("fdir", "uplink_loss_s", 30.0)
    h.run(45)
    fdir = h.exe.app("fdir").instance
    comms = h.exe.app("comms").instance
    assert fdir.tlm["radio_resets"] == 1 and comms.radio_resets == 1
    assert _events(h, "UPLINK_LOST")


def test_a_critical_app_that_keeps_failing_is_reenabled_once_then_safe_mode(
    monkeypatch: "pytest.MonkeyPatch",
) -> None:
    from flightsw.apps.power.app import PowerApp

    h = small_node(radiation_enabled=False)
    h.run(2)

    def broken(self: PowerApp, now_ns: int) -> None:
        raise RuntimeError("a bug in the power app")

    monkeypatch.setattr(PowerApp, "step", broken)
    h.run(30)
    fdir = h.exe.app("fdir").instance
    power = h.exe.app("power")
    assert power.stats.disabled
    assert len(_events(h, "APP_REENABLED")) == 1  # the first loss: one more chance
    assert _events(h, "APP_LOST") and fdir.safe  # lost again inside the window


def test_an_app_that_keeps_overrunning_is_restarted_then_disabled(
    monkeypatch: "pytest.MonkeyPatch",
) -> None:
    import itertools

    from flightsw.sil.harness import SilHarness
    from tests.support.apps import CounterApp, spec
    from tests.support.clocks import fake_wall_clock

    ticks = itertools.count()
    state = {"slow": False}

    def meter() -> int:  # the counter app looks like it takes 0.5 s per run
        return next(ticks) * (500_000_000 if state["slow"] else 1)

    original = CounterApp.step

    def slow_step(self: CounterApp, now_ns: int) -> None:
        state["slow"] = True
        original(self, now_ns)

    monkeypatch.setattr(CounterApp, "step", slow_step)
    h = SilHarness(
        extra_apps=[spec(CounterApp, "counter")], cpu_meter=meter, clock=fake_wall_clock()
    )
    real_run = h.exe._run_app

    def run_app(a, t):  # type: ignore[no-untyped-def]
        state["slow"] = False
        real_run(a, t)
        state["slow"] = False

    monkeypatch.setattr(h.exe, "_run_app", run_app)
    h.run(15)
    counter = h.exe.app("counter")
    assert len(_events(h, "APP_OVERRUN_RESTART")) == 2  # restarted twice ...
    assert counter.stats.disabled  # ... and disabled at the third escalation
    assert not h.exe.app("fdir").instance.safe  # not a critical app: no safe mode
