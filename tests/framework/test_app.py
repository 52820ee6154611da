"""App services: parameters read live (a command's set and an upset both count at once)."""

from __future__ import annotations

import struct

import pytest

from flightsw.runtime.mission import load_mission
from flightsw.sil.harness import SilHarness


def _node() -> SilHarness:
    m = load_mission()
    m.hal = {**m.hal, "spacecraft": {**m.hal.get("spacecraft", {}), "boards": 16}}
    return SilHarness(m)


def _pid(h: SilHarness, app: str, name: str) -> int:
    return next(e.pid for e in h.exe.params.by_id.values() if (e.app, e.pdef.name) == (app, name))


def test_a_parameter_set_by_command_counts_from_the_next_step() -> None:
    """PUS-20 sets the battery zone's heater threshold above the zone's temperature:
    the value reads back at once and the heater comes on within a step."""
    h = _node()
    h.run(3)
    thermal = h.exe.app("thermal").instance
    assert not thermal.heaters.read_heaters()[0]  # ~20 C, above heater_on_c (5)
    pid = _pid(h, "thermal", "heater_off_c")
    h.send_and_assert_command(
        "parameters.set_parameters", app_data=struct.pack(">BHf", 1, pid, 70.0)
    )
    pid = _pid(h, "thermal", "heater_on_c")
    h.send_and_assert_command(
        "parameters.set_parameters", app_data=struct.pack(">BHf", 1, pid, 60.0)
    )
    assert thermal.param("heater_on_c") == 60.0
    h.run(2)
    assert thermal.heaters.read_heaters()[0]


@pytest.mark.parametrize(
    ("app", "name", "value"), [("thermal", "heater_on_c", -40.0), ("payload", "board_max_w", 123.0)]
)
def test_an_upset_parameter_is_what_the_app_reads_until_fdir_repairs_it(
    app: str, name: str, value: float
) -> None:
    """A value changed behind the store's back (a memory upset: no set counted) is what
    ``param`` returns at once, and so what the app decides with until FDIR's memory
    guard puts the golden value back: nothing may serve an older copy."""
    h = _node()
    h.run(2)
    inst = h.exe.app(app).instance
    before = inst.param(name)
    if app == "payload":
        assert inst.limits().max_w == before
    sets = h.exe.params.sets
    h.exe.params.values[app][name] = value  # what ParamRegion.poke does
    assert h.exe.params.sets == sets
    assert inst.param(name) == value
    if app == "payload":
        assert inst.limits().max_w == value
    h.run(1)  # FDIR's guard (every frame) repairs it
    assert inst.param(name) == before
    if app == "payload":
        assert inst.limits().max_w == before
