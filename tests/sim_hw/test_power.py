"""Solar array, battery, PCDU and bus routing: hand calculations and energy balance."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim_hw.power import Battery, Pcdu, PowerSystem, SolarArray, SwitchSpec


def make_battery(soc: float = 0.8, capacity_wh: float = 5000.0) -> Battery:
    return Battery(
        capacity_wh,
        soc=soc,
        internal_resistance_ohm=0.02,
        cells_series=12,
        max_charge_w=3000.0,
        max_discharge_w=6000.0,
    )


# --- solar array ---------------------------------------------------------------------


def test_array_power_matches_hand_calculation() -> None:
    arr = SolarArray(area_m2=2.0)
    expected = 1361.0 * 2.0 * 0.9 * 0.30 * 0.5 * (1 - 0.0025 * 20.0) * (1 - 0.0275) ** 2
    assert arr.power_w(0.5, 48.0, 2.0, in_eclipse=False) == pytest.approx(expected, rel=1e-12)
    # At reference temperature, normal incidence, new: the nameplate product.
    assert arr.power_w(1.0, 28.0, 0.0, False) == pytest.approx(1361.0 * 2 * 0.9 * 0.3)


def test_array_dark_in_eclipse_or_backlit() -> None:
    arr = SolarArray(area_m2=2.0)
    assert arr.power_w(1.0, 28.0, 0.0, in_eclipse=True) == 0.0
    assert arr.power_w(-0.3, 28.0, 0.0, in_eclipse=False) == 0.0


def test_array_hotter_and_older_gives_less() -> None:
    arr = SolarArray(area_m2=1.0)
    assert arr.power_w(1.0, 80.0, 0.0, False) < arr.power_w(1.0, 20.0, 0.0, False)
    assert arr.power_w(1.0, 28.0, 5.0, False) < arr.power_w(1.0, 28.0, 1.0, False)


def test_array_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        SolarArray(area_m2=-1.0)
    with pytest.raises(ValueError):
        SolarArray(area_m2=1.0, efficiency=1.5)


# --- battery -------------------------------------------------------------------------


def test_open_circuit_voltage_spans_li_ion_range() -> None:
    assert make_battery(soc=1.0).open_circuit_voltage_v() == pytest.approx(12 * 4.2)
    assert make_battery(soc=0.0).open_circuit_voltage_v() == pytest.approx(12 * 3.0)
    volts = [make_battery(soc=s / 20).open_circuit_voltage_v() for s in range(21)]
    assert all(b > a for a, b in itertools.pairwise(volts))


def test_terminal_voltage_sags_on_discharge_and_rises_on_charge() -> None:
    b = make_battery()
    voc = b.open_circuit_voltage_v()
    got = b.step(1.0, -2000.0)
    assert b.current_a < 0
    # Power at the terminals is V_terminal * I with the step's open-circuit voltage.
    assert got == pytest.approx((voc + b.current_a * 0.02) * b.current_a, rel=1e-12)
    assert b.terminal_voltage_v() == pytest.approx(
        b.open_circuit_voltage_v() + b.current_a * 0.02, rel=1e-12
    )
    assert b.terminal_voltage_v() < b.open_circuit_voltage_v()
    b.step(1.0, 2000.0)
    assert b.terminal_voltage_v() > b.open_circuit_voltage_v()


def test_battery_clamps_to_power_limits() -> None:
    b = make_battery(soc=0.5)
    assert b.step(1.0, 10_000.0) == pytest.approx(3000.0)
    assert b.step(1.0, -10_000.0) == pytest.approx(-6000.0)


def test_full_battery_takes_nothing_and_empty_gives_nothing() -> None:
    full = make_battery(soc=1.0)
    assert full.step(60.0, 1000.0) == 0.0
    assert full.soc == 1.0
    empty = make_battery(soc=0.0)
    assert empty.step(60.0, -1000.0) == 0.0
    assert empty.soc == 0.0


def test_battery_tops_off_exactly_within_a_step() -> None:
    b = make_battery(soc=0.999, capacity_wh=100.0)
    absorbed = b.step(3600.0, 1000.0)
    assert 0.0 < absorbed < 1000.0
    assert b.soc == pytest.approx(1.0)
    assert b.stored_wh - 99.9 == pytest.approx(b.energy_in_wh - b.losses_wh, rel=1e-9)


def test_charging_loses_energy() -> None:
    b = make_battery(soc=0.5)
    before = b.stored_wh
    b.step(3600.0, 1000.0)
    gained = b.stored_wh - before
    assert gained < 1000.0 * 0.95 + 1e-9
    assert b.losses_wh > 1000.0 * 0.05


@given(
    st.lists(st.tuples(st.floats(0.1, 600.0), st.floats(-8000.0, 8000.0)), min_size=1, max_size=40),
    st.floats(0.0, 1.0),
)
def test_battery_energy_is_conserved_for_any_sequence(
    steps: list[tuple[float, float]], soc: float
) -> None:
    b = make_battery(soc=soc, capacity_wh=500.0)
    start = b.stored_wh
    for dt, p in steps:
        got = b.step(dt, p)
        assert 0.0 <= b.soc <= 1.0
        assert abs(got) <= abs(p) + 1e-9
        assert got == 0.0 or math.copysign(1.0, got) == math.copysign(1.0, p)
    balance = b.energy_in_wh - b.energy_out_wh - b.losses_wh
    assert b.stored_wh - start == pytest.approx(balance, rel=1e-9, abs=1e-9)
    assert b.losses_wh >= -1e-12


def test_battery_rejects_bad_input() -> None:
    b = make_battery()
    with pytest.raises(ValueError):
        b.step(1.0, math.nan)
    with pytest.raises(ValueError):
        b.step(-1.0, 10.0)
    with pytest.raises(ValueError):
        make_battery(soc=1.5)


# --- PCDU ----------------------------------------------------------------------------


def make_pcdu() -> Pcdu:
    return Pcdu([SwitchSpec("payload", 20.0), SwitchSpec("heater", 5.0, bus_voltage_v=28.0)])


def test_pcdu_reports_current_only_for_switches_that_are_on() -> None:
    p = make_pcdu()
    p.set("payload", True)
    cur = p.step({"payload": 280.0, "heater": 56.0})
    assert cur == {"payload": pytest.approx(10.0), "heater": 0.0}
    tm = p.telemetry()
    assert tm.names == ("payload", "heater")
    assert tm.on == (True, False)
    assert tm.current_a[0] == pytest.approx(10.0)
    assert tm.current_a[1] == 0.0
    assert tm.tripped == (False, False)


def test_pcdu_trips_latches_and_resets() -> None:
    p = make_pcdu()
    p.set("heater", True)
    assert p.step({"heater": 140.0})["heater"] == pytest.approx(5.0)  # at the limit: ok
    assert p.step({"heater": 200.0})["heater"] == 0.0  # 7.1 A > 5 A: trips
    tm = p.telemetry()
    assert tm.tripped == (False, True)
    assert tm.on == (False, False)
    assert p.trips("heater") == 1
    p.set("heater", True)  # latched: command ignored
    assert p.step({"heater": 50.0})["heater"] == 0.0
    assert p.telemetry().tripped[1]
    p.reset_trip("heater")
    assert not p.telemetry().tripped[1]
    assert p.step({"heater": 50.0})["heater"] == 0.0  # still off until commanded
    p.set("heater", True)
    assert p.step({"heater": 56.0})["heater"] == pytest.approx(2.0)


def test_pcdu_rejects_unknown_or_duplicate_names() -> None:
    p = make_pcdu()
    with pytest.raises(ValueError):
        p.set("nope", True)
    with pytest.raises(ValueError):
        p.step({"nope": 1.0})
    with pytest.raises(ValueError):
        Pcdu([SwitchSpec("a", 1.0), SwitchSpec("a", 2.0)])


# --- the bus -------------------------------------------------------------------------


def make_system(soc: float = 0.6) -> PowerSystem:
    pcdu = Pcdu([SwitchSpec("payload", 200.0), SwitchSpec("platform", 50.0)])
    pcdu.set("payload", True)
    pcdu.set("platform", True)
    return PowerSystem(SolarArray(area_m2=20.0), make_battery(soc=soc), pcdu)


def test_orbit_energy_balance_65_min_sun_35_min_eclipse() -> None:
    ps = make_system()
    b = ps.battery
    start = b.stored_wh
    dt = 10.0
    socs = []
    for k in range(600):  # 100 min
        t = k * dt
        sunlit = t < 65 * 60
        step = ps.step(dt, 0.95, 40.0, not sunlit, {"payload": 3500.0, "platform": 500.0})
        socs.append(step.battery_soc)
        assert not step.undervoltage
        assert step.load_served_w == pytest.approx(4000.0)
    # Charged in the sun, discharged in eclipse.
    assert max(socs[: 65 * 6]) > 0.6
    assert socs[-1] < socs[65 * 6 - 1]
    stored_change = b.stored_wh - start
    balance = b.energy_in_wh - b.energy_out_wh - b.losses_wh
    assert abs(stored_change - balance) <= 1e-6 * max(b.energy_in_wh, b.energy_out_wh)
    # Bus: sources == sinks.
    sources = ps.solar_wh + b.energy_out_wh
    sinks = ps.load_wh + ps.shunt_wh + b.energy_in_wh
    assert abs(sources - sinks) <= 1e-6 * sources
    assert ps.unserved_wh == 0.0
    assert ps.load_wh == pytest.approx(4000.0 * 100 / 60, rel=1e-9)


def test_surplus_beyond_charge_limit_is_shunted() -> None:
    ps = make_system(soc=0.5)
    step = ps.step(10.0, 1.0, 28.0, False, {"payload": 100.0})
    assert step.battery_w == pytest.approx(3000.0)
    assert step.shunt_w == pytest.approx(step.solar_w - 100.0 - 3000.0)
    assert step.shunt_w > 0


def test_empty_battery_in_eclipse_flags_undervoltage_without_inventing_energy() -> None:
    ps = make_system(soc=0.001)
    total_undervoltage = 0
    for _ in range(60):
        step = ps.step(10.0, 0.0, 28.0, True, {"payload": 3000.0})
        assert step.load_served_w <= step.load_demand_w + 1e-9
        assert step.load_served_w == pytest.approx(-step.battery_w)
        total_undervoltage += step.undervoltage
    assert total_undervoltage > 0
    assert ps.undervoltage_steps == total_undervoltage
    assert ps.battery.soc == pytest.approx(0.0, abs=1e-9)
    assert ps.load_wh == pytest.approx(ps.battery.energy_out_wh, rel=1e-9)
    assert ps.unserved_wh == pytest.approx(3000.0 * 600 / 3600 - ps.load_wh, rel=1e-9)


def test_tripped_switch_draws_nothing_from_the_bus() -> None:
    ps = make_system()
    step = ps.step(1.0, 1.0, 28.0, False, {"payload": 28.0 * 250.0, "platform": 500.0})
    assert step.switch_current_a["payload"] == 0.0
    assert step.load_demand_w == pytest.approx(500.0)
    assert ps.pcdu.telemetry().tripped == (True, False)


# --- irradiance, array temperature, fast paths -----------------------------------------

from sim_hw.power import KELVIN, OCV_CELL_V, OCV_SOC, STEFAN_BOLTZMANN, ocv_cell_v  # noqa: E402


def test_array_power_scales_with_the_flux_given() -> None:
    arr = SolarArray(area_m2=2.0)
    assert arr.power_w(1.0, 28.0, 0.0, False, 1413.0) == pytest.approx(1413.0 * 2 * 0.9 * 0.3)
    assert arr.power_w(1.0, 28.0, 0.0, False, 1321.0) / arr.power_w(
        1.0, 28.0, 0.0, False, 1413.0
    ) == pytest.approx(1321.0 / 1413.0)


def test_array_temperature_relaxes_to_its_radiative_equilibrium() -> None:
    arr = SolarArray(area_m2=1.0)
    g, ir = 1300.0, 53.4
    q = 0.92 * g * (1 - 0.27) + (0.85 + 0.90) * ir
    expected = (q / ((0.85 + 0.90) * STEFAN_BOLTZMANN)) ** 0.25 - KELVIN
    assert arr.equilibrium_temp_c(g, ir) == pytest.approx(expected, rel=1e-12)
    t = -80.0  # out of an eclipse
    for _ in range(3000):
        t = arr.temperature_step(t, 1.0, g, ir)
    assert t == pytest.approx(expected, abs=1e-3)
    # A huge step is stable and lands on the equilibrium's side.
    assert abs(arr.temperature_step(-80.0, 1e6, g, ir) - expected) < 1.0
    # In the dark it cools toward the Earth-IR equilibrium, never below it.
    cold = arr.equilibrium_temp_c(0.0, ir)
    t = expected
    for _ in range(20_000):
        t = arr.temperature_step(t, 1.0, 0.0, ir)
    assert cold < t < expected and t == pytest.approx(cold, abs=2.0)


@given(st.floats(-0.5, 1.5, allow_nan=False))
def test_fast_ocv_equals_numpy_interp(soc: float) -> None:
    assert ocv_cell_v(soc) == pytest.approx(float(np.interp(soc, OCV_SOC, OCV_CELL_V)), abs=1e-12)


def test_pcdu_version_counts_state_changes_and_the_step_books_its_power() -> None:
    pcdu = Pcdu([SwitchSpec("a", 2.0, 28.0), SwitchSpec("b", 1.0, 28.0)])
    v0 = pcdu.version
    pcdu.set("a", True)
    pcdu.set("a", True)  # no change
    assert pcdu.version == v0 + 1
    pcdu.set("b", True)
    pcdu.step({"a": 28.0, "b": 14.0})
    assert pcdu.last_power_w == pytest.approx(42.0) == pcdu.power_w()
    v1 = pcdu.version
    pcdu.step({"b": 56.0})  # 2 A > 1 A: trips
    assert pcdu.version == v1 + 1 and pcdu.telemetry().tripped == (False, True)
    pcdu.reset_trip("b")
    assert pcdu.version == v1 + 2
    with pytest.raises(ValueError):
        pcdu.step({"c": 1.0})
    with pytest.raises(ValueError):
        pcdu.step({"a": math.nan})


def _reference_step(
    state: dict[str, list[float | bool]], specs: list[SwitchSpec], load: dict[str, float]
) -> tuple[dict[str, float], float, int]:
    """The PCDU step as it was written switch by switch (the arrays must match it bit
    for bit: the node's truth and the power app's telemetry are built from it)."""
    out: dict[str, float] = {}
    total, trips = 0.0, 0
    for i, s in enumerate(specs):
        demand = load.get(s.name, 0.0)
        current = 0.0
        if state["on"][i] and not state["tripped"][i] and demand > 0.0:
            current = demand / s.bus_voltage_v
            if current > s.trip_current_a:
                state["on"][i], state["tripped"][i] = False, True
                trips += 1
                current = 0.0
            total += current * s.bus_voltage_v
        out[s.name] = current
    return out, total, trips


# Switches as (trip current, bus voltage, on, load W) rows, and a number of steps.
_SWITCH_ROWS = st.lists(
    st.tuples(st.floats(0.5, 50.0), st.floats(5.0, 120.0), st.booleans(), st.floats(0.0, 3000.0)),
    min_size=1,
    max_size=40,
)


@given(_SWITCH_ROWS, st.integers(1, 4))
def test_pcdu_step_over_many_switches_matches_a_switch_by_switch_step(
    rows: list[tuple[float, float, bool, float]], steps: int
) -> None:
    specs = [SwitchSpec(f"s{i}", trip, v) for i, (trip, v, _, _) in enumerate(rows)]
    pcdu = Pcdu(specs)
    state: dict[str, list[float | bool]] = {"on": [], "tripped": [False] * len(rows)}
    for s, (_, _, on, _) in zip(specs, rows, strict=True):
        pcdu.set(s.name, on)
        state["on"].append(on)
    for k in range(steps):
        load = {s.name: w * (1 + 0.3 * k) for s, (_, _, _, w) in zip(specs, rows, strict=True)}
        v0 = pcdu.version
        got = pcdu.step(load)
        want, total, trips = _reference_step(state, specs, load)
        assert got == want
        assert pcdu.last_power_w == total == pcdu.power_w()  # the same float, same order
        assert pcdu.version - v0 == trips
        tm = pcdu.telemetry()
        assert list(tm.on) == state["on"] and list(tm.tripped) == state["tripped"]


@given(_SWITCH_ROWS, st.integers(1, 4))
def test_a_bus_step_on_a_demand_array_is_the_step_on_its_dict(
    rows: list[tuple[float, float, bool, float]], steps: int
) -> None:
    """The array form (the spacecraft's, no dicts per step) gives the same currents,
    trips, telemetry and bus step, bit for bit; its currents read as the dict would."""
    specs = [SwitchSpec(f"s{i}", trip, v) for i, (trip, v, _, _) in enumerate(rows)]
    buses = [
        PowerSystem(SolarArray(area_m2=20.0), make_battery(soc=0.5), Pcdu(specs)) for _ in range(2)
    ]
    for bus in buses:
        for s, (_, _, on, _) in zip(specs, rows, strict=True):
            bus.pcdu.set(s.name, on)
    for k in range(steps):
        load = {s.name: w * (1 + 0.3 * k) for s, (_, _, _, w) in zip(specs, rows, strict=True)}
        by_name = buses[0].step(1.0, 0.8, 20.0, False, load)
        by_array = buses[1].step(1.0, 0.8, 20.0, False, np.array(list(load.values())))
        assert by_array == by_name and repr(by_array) == repr(by_name)
        assert dict(by_array.switch_current_a) == by_name.switch_current_a
        assert len(by_array.switch_current_a) == len(specs)
        assert buses[1].pcdu.telemetry() == buses[0].pcdu.telemetry()
        assert buses[1].pcdu.version == buses[0].pcdu.version


def test_a_demand_array_is_checked_like_a_dict() -> None:
    pcdu = Pcdu([SwitchSpec("a", 5.0, 28.0), SwitchSpec("b", 5.0, 28.0)])
    with pytest.raises(ValueError, match="load b must be finite, got nan"):
        pcdu.step_demand(np.array([1.0, math.nan]))
    with pytest.raises(ValueError, match="one value per switch"):
        pcdu.step_demand(np.array([1.0]))
    assert pcdu.index("b") == 1
    with pytest.raises(ValueError, match="no PCDU switch named 'c'"):
        pcdu.index("c")


def test_telemetry_keeps_its_tuples_only_while_they_stay_the_same() -> None:
    pcdu = Pcdu([SwitchSpec("a", 5.0, 28.0), SwitchSpec("b", 1.0, 28.0)])
    pcdu.set("a", True)
    pcdu.set("b", True)
    pcdu.step({"a": 28.0, "b": 14.0})
    first = pcdu.telemetry()
    pcdu.step({"a": 28.0, "b": 14.0})  # the same currents, bit for bit
    same = pcdu.telemetry()
    assert same.current_a is first.current_a and same.on is first.on
    pcdu.step({"a": 56.0, "b": 14.0})
    assert pcdu.telemetry().current_a == (2.0, 0.5) and pcdu.telemetry().on is first.on
    pcdu.step({"a": 56.0, "b": -0.0})  # -0.0 W: no current (0.0 A), as before
    pcdu.step({"a": 56.0, "b": 56.0})  # 2 A > 1 A: b trips
    tm = pcdu.telemetry()
    assert tm.current_a == (2.0, 0.0) and tm.on == (True, False) and tm.tripped == (False, True)
    pcdu.reset_trip("b")
    assert pcdu.telemetry().tripped == (False, False) and pcdu.telemetry().on == (True, False)
