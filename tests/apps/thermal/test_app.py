"""Thermal control: zone heaters with hysteresis, board caps before the limit."""

import numpy as np

from tests.apps.conftest import small_node


def test_heater_hysteresis_on_the_battery_zone() -> None:
    h = small_node(radiation_enabled=False)
    sc = h.hal.harness["sim"]
    thermal = h.exe.app("thermal").instance
    battery = sc.thermal.index("battery")
    sc.thermal.temperatures_c[battery] = 2.0  # below heater_on_c (5)
    h.run(3)
    assert thermal.heaters.read_heaters()[0]
    sc.thermal.temperatures_c[battery] = 8.0  # inside the band: stays on
    h.run(3)
    assert thermal.heaters.read_heaters()[0]
    sc.thermal.temperatures_c[battery] = 12.0  # above heater_off_c (10)
    h.run(3)
    assert not thermal.heaters.read_heaters()[0]


def test_hot_boards_are_capped_before_their_limit() -> None:
    h = small_node(boards=16, radiation_enabled=False)
    for _ in range(16):
        h.send(
            "payload.submit_job",
            {"board_hours": 5.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 60.0},
        )
    h.run(5)
    sc = h.hal.harness["sim"]
    sc.cfg.loop_conductance_w_k = 5.0  # the cold plate loses its radiator
    h.run(3000)
    thermal = h.exe.app("thermal").instance
    assert thermal.tlm["throttled_boards"] == 16
    caps = sc.boards.power_cap_w
    assert (caps < 350.0).all()
    limit = float(thermal.param("board_limit_c"))
    assert float(np.max(sc.boards.temperature_c)) < limit
    assert thermal.tlm["max_board_temp_c"] < limit


def test_loop_valve_position_reaches_telemetry() -> None:
    h = small_node(radiation_enabled=False)
    sc = h.hal.harness["sim"]
    thermal = h.exe.app("thermal").instance
    h.run(5)
    assert thermal.tlm["loop_valve_open"] == sc.loop_valve.opening
    cp = sc.thermal.index("coldplate")
    sc.thermal.temperatures_c[cp] = 40.0  # hot inlet: the thermostatic valve opens wide
    h.run(2)
    assert thermal.tlm["loop_valve_open"] > 0.5
    assert "loop_valve_open" in h.exe.app("thermal").instance.HOUSEKEEPING[0].points


def test_each_zone_is_judged_against_its_own_limits() -> None:
    """The default mission gives the battery 0..45 C: 47 C is a violation there, though
    inside the generic zone_max_c (50 C) that still applies to zones without their own."""
    h = small_node(radiation_enabled=False)
    sc = h.hal.harness["sim"]
    thermal = h.exe.app("thermal").instance
    assert thermal.zone_limits[thermal.heater_names.index("heater_battery")] == (0.0, 45.0)
    h.run(3)
    before = thermal.violations
    sc.thermal.temperatures_c[sc.thermal.index("battery")] = 47.0
    h.run(2)
    assert thermal.violations > before
    assert h.tm_of(5, 4), "a HIGH ZONE_LIMIT event"


def test_bad_zone_limits_fail_the_load_naming_the_option() -> None:
    """Bad limits are refused before anything runs (the declared options), a zone the
    HAL has no heater for when the app starts: either way the build does not load."""
    import pytest

    from flightsw.base.errors import FlightswError
    from flightsw.runtime.mission import load_mission
    from flightsw.sil.harness import SilHarness

    for bad in ({"battery": [45.0, 0.0]}, {"nozone": [0.0, 1.0]}, {"battery": "hot"}):
        m = load_mission()
        m.hal = {**m.hal, "spacecraft": {**m.hal["spacecraft"], "boards": 4}}
        for spec in m.apps:
            if spec.name == "thermal":
                spec.options = {"zone_limits": bad}
        with pytest.raises(FlightswError, match="zone"):
            SilHarness(m)


class _Heated:
    """The thermal app's view of the boards with ``offset`` added to their temperatures."""

    def __init__(self, boards: object, n: int) -> None:
        self.boards = boards
        self.offset = np.zeros(n)

    def __getattr__(self, name: str) -> object:
        return getattr(self.boards, name)

    def read_boards(self) -> object:
        import dataclasses

        tel = self.boards.read_boards()  # type: ignore[attr-defined]
        return dataclasses.replace(tel, temperature_c=tel.temperature_c + self.offset)


def test_caps_and_limit_events_follow_boards_heating_cooling_and_heating_again() -> None:
    """The common step skips the masks when the hottest board is below the thresholds;
    what must still happen: boards throttled when hot, released when cool (caps back to
    none, same message object every quiet step), and a second heating reported again
    (BOARDS_THROTTLED, BOARD_OVER_LIMIT), which needs the released state kept exactly."""
    from flightsw.apps.shared.messages import THERMAL_CAPS
    from flightsw.framework.bus import Overflow

    h = small_node(boards=16, busy=16, radiation_enabled=False)
    h.run(3)
    thermal = h.exe.app("thermal").instance
    payload = h.exe.app("payload").instance
    heated = _Heated(thermal.boards, 16)
    thermal.boards = heated
    events: list[str] = []
    emit = thermal.emit
    thermal.emit = lambda name, **a: (events.append(name), emit(name, **a))[1]
    pipe = h.exe.bus.create_pipe("test.caps", 16, Overflow.DROP_OLDEST)
    h.exe.bus.subscribe(THERMAL_CAPS, pipe)
    for cycle in range(2):
        heated.offset[:] = 0.0
        heated.offset[[2, 5, 11]] = 60.0  # ~80 C: above throttle_start_c (75)
        heated.offset[7] = 85.0  # ~105 C: above board_limit_c (95) too
        h.run(2)
        assert thermal.tlm["throttled_boards"] == 4
        capped = np.flatnonzero(~np.isnan(payload.thermal_cap))
        assert capped.tolist() == [2, 5, 7, 11]
        assert events.count("BOARDS_THROTTLED") == cycle + 1
        assert events.count("BOARD_OVER_LIMIT") == cycle + 1
        heated.offset[:] = 0.0
        h.run(3)  # (the step that releases them, then quiet steps)
        assert thermal.tlm["throttled_boards"] == 0
        assert np.isnan(payload.thermal_cap).all()
        assert not thermal.over_limit.any()
        quiet = [m.payload for m in pipe.drain()][-2:]
        assert quiet[0] is quiet[1] and quiet[0].hot_boards == 0


def test_a_restarted_payload_gets_the_thermal_caps_at_its_first_step() -> None:
    """The payload keeps the caps only in the running instance: a restarted one starts
    with none. Thermal control publishes its caps every step, changed or not, so the
    fresh instance caps the hot boards from its first step."""
    h = small_node(boards=16, busy=16, radiation_enabled=False)
    h.run(3)
    thermal = h.exe.app("thermal").instance
    heated = _Heated(thermal.boards, 16)
    thermal.boards = heated
    heated.offset[[1, 4]] = 60.0
    h.run(3)
    payload = h.exe.app("payload")
    h.send_and_assert_command("executive.restart_app", {"app": payload.index})
    h.run(2)
    assert np.flatnonzero(~np.isnan(payload.instance.thermal_cap)).tolist() == [1, 4]
