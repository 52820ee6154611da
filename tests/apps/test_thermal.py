"""Thermal control: zone heaters with hysteresis, board caps before the limit."""

import numpy as np

from tests.apps.conftest import small_node


def test_heater_hysteresis_on_the_battery_zone() -> None:
    h = small_node(radiation_enabled=False)
    sc = h.hal.devices["sim"]
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
    sc = h.hal.devices["sim"]
    sc.cfg.loop_conductance_w_k = 5.0  # the cold plate loses its radiator
    h.run(3000)
    thermal = h.exe.app("thermal").instance
    assert thermal.tlm["throttled_boards"] == 16
    caps = sc.boards.power_cap_w
    assert (caps < 350.0).all()
    limit = float(thermal.param("board_limit_c"))
    assert float(np.max(sc.boards.temperature_c)) < limit
    assert thermal.tlm["max_board_temp_c"] < limit
