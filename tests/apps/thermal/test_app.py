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
