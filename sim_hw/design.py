"""The node's design numbers, computed from the same models the simulation runs.

A compute node is sized from a handful of worst cases: the array for the orbit with the
longest eclipse, the lowest sun cosine and the weakest sun at the end of its design life;
the battery for that eclipse at full load; the radiator for the full payload with the
boards below their throttling temperature; the heaters for the payload switched off.
This module works those numbers out for any ``SpacecraftConfig`` so the README's design
table, the tests and ``tools/node_design.py`` all come from one place, and the full
simulation can be checked against them.

Energy-positive orbit: what the array gives above the load (up to the battery's charge
limit, less the charging losses) refills at least what the battery gave below it (plus
its discharge losses), so the battery ends each orbit no emptier than it began.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim_hw.orbit import TROPICAL_YEAR_DAYS, CircularOrbit
from sim_hw.power import OCV_CELL_V, SolarArray
from sim_hw.spacecraft import SpacecraftConfig
from sim_hw.thermal import KELVIN, STEFAN_BOLTZMANN, earth_view_factor_vertical_plate

DESIGN_STEP_S = 10.0
CHARGE_EFFICIENCY = 0.95  # sim_hw.power.Battery's default


def make_array(cfg: SpacecraftConfig) -> SolarArray:
    """The array a ``SpacecraftConfig`` describes."""
    return SolarArray(
        area_m2=cfg.array_area_m2,
        efficiency=cfg.array_efficiency,
        degradation_per_year=cfg.array_degradation_per_year,
    )


@dataclass(frozen=True)
class OrbitEnergy:
    """One orbit of the array against a constant load."""

    day_of_year: float
    age_years: float
    period_s: float
    eclipse_s: float  # time with any part of the sun hidden
    array_wh: float  # what the array produced
    load_wh: float
    battery_out_wh: float  # energy the battery had to give (array below the load)
    surplus_wh: float  # array above the load, up to the battery's charge limit
    balance_wh: float  # > 0: the battery ends the orbit fuller than it began

    @property
    def mean_array_w(self) -> float:
        return self.array_wh * 3600.0 / self.period_s


def platform_w(cfg: SpacecraftConfig) -> float:
    """Bus load besides the payload: avionics, radio, auxiliaries and the battery heater
    (counted as always on: conservative)."""
    return cfg.avionics_w + cfg.radio_w + cfg.aux_w + cfg.battery_heater_w


def orbit_energy(
    cfg: SpacecraftConfig, day_of_year: float, age_years: float, load_w: float
) -> OrbitEnergy:
    """The array over one orbit starting at ``day_of_year`` (after one orbit to settle
    its temperature), against a constant bus load ``load_w``."""
    orbit = CircularOrbit(cfg.altitude_km, ltan_h=cfg.ltan_h, day_of_year=day_of_year)
    array = make_array(cfg)
    period = orbit.period_s
    n = math.ceil(period / DESIGN_STEP_S)
    dt = period / n
    t = dt * np.arange(n)
    lit = np.asarray(orbit.sunlit_fraction(t))
    if cfg.array_pointing == "beta_tracking":
        cos = np.ones(n)
    else:
        side = 1.0 if orbit.beta_angle_deg(0.0) >= 0.0 else -1.0
        cos = np.maximum(side * np.sin(np.radians(orbit.beta_angle_deg(t))), 0.0)
    flux = np.asarray(orbit.solar_flux_w_m2(t))
    irradiance = flux * cos * lit
    ir = cfg.earth_ir_w_m2 * earth_view_factor_vertical_plate(cfg.altitude_km)
    temp = array.equilibrium_temp_c(float(irradiance[0]), ir)
    power = np.zeros(n)
    for _ in range(2):  # the first orbit settles the array's temperature
        for k in range(n):
            temp = array.temperature_step(temp, dt, float(irradiance[k]), ir)
            power[k] = array.power_w(float(cos[k] * lit[k]), temp, age_years, False, flux[k])
    deficit = np.maximum(load_w - power, 0.0)
    surplus = np.minimum(np.maximum(power - load_w, 0.0), cfg.max_charge_w)
    v = cfg.cells_series * float(np.mean(OCV_CELL_V[5:9]))  # mid-charge voltage
    r = cfg.battery_resistance_ohm
    out_wh = float(np.sum(deficit)) * dt / 3600.0
    in_wh = float(np.sum(surplus)) * dt / 3600.0
    # I^2 R: a share P R / V^2 of the power at the terminals, each way.
    drawn = float(np.sum(deficit * (1.0 + deficit * r / v**2))) * dt / 3600.0
    stored = float(np.sum(surplus * (1.0 - surplus * r / v**2))) * dt / 3600.0
    return OrbitEnergy(
        day_of_year=day_of_year,
        age_years=age_years,
        period_s=period,
        eclipse_s=float(np.count_nonzero(lit < 1.0)) * dt,
        array_wh=float(np.sum(power)) * dt / 3600.0,
        load_wh=load_w * period / 3600.0,
        battery_out_wh=out_wh,
        surplus_wh=in_wh,
        balance_wh=CHARGE_EFFICIENCY * stored - drawn,
    )


def full_payload_w(cfg: SpacecraftConfig, board_max_w: float) -> float:
    """Every board at its full power."""
    return cfg.boards * board_max_w


def year_days(step_days: float = 5.0) -> np.ndarray:
    """Days of the year to sweep (the worst case falls near the June solstice)."""
    return np.arange(0.0, TROPICAL_YEAR_DAYS, step_days)


def worst_orbit(
    cfg: SpacecraftConfig, age_years: float, load_w: float, step_days: float = 10.0
) -> OrbitEnergy:
    """The orbit of the year with the smallest energy balance at that age and load: a
    scan every ``step_days``, then every day around the worst of the scan."""

    def balance(day: float) -> OrbitEnergy:
        return orbit_energy(cfg, day, age_years, load_w)

    coarse = min((balance(float(d)) for d in year_days(step_days)), key=lambda e: e.balance_wh)
    around = np.arange(coarse.day_of_year - step_days + 1, coarse.day_of_year + step_days)
    fine = [balance(float(d % TROPICAL_YEAR_DAYS)) for d in around if d != coarse.day_of_year]
    return min([coarse, *fine], key=lambda e: e.balance_wh)


def max_payload_w(
    cfg: SpacecraftConfig, day_of_year: float, age_years: float, tol_w: float = 10.0
) -> float:
    """The largest constant payload power that keeps that orbit energy-positive."""
    base = platform_w(cfg)
    lo, hi = 0.0, 2.0 * make_array(cfg).power_w(1.0, 28.0, 0.0, False, 1413.0)
    if orbit_energy(cfg, day_of_year, age_years, base).balance_wh < 0.0:
        return 0.0
    while hi - lo > tol_w:
        mid = 0.5 * (lo + hi)
        if orbit_energy(cfg, day_of_year, age_years, base + mid).balance_wh >= 0.0:
            lo = mid
        else:
            hi = mid
    return lo


def radiator_capacity_w(cfg: SpacecraftConfig, coldplate_c: float) -> float:
    """Heat the radiator rejects with the cold plate at ``coldplate_c`` and the valve fully
    open: the loop drop (Q / G) and the radiator's balance (emission less Earth IR)
    solved together by bisection on the radiator temperature. Radiator emissivity 0.9,
    as in the node's thermal network; conduction to the structure neglected."""
    eps = 0.9
    ir = cfg.earth_ir_w_m2 * earth_view_factor_vertical_plate(cfg.altitude_km)
    lo, hi = -150.0, coldplate_c
    for _ in range(60):
        t_rad = 0.5 * (lo + hi)
        rejected = eps * cfg.radiator_area_m2 * (STEFAN_BOLTZMANN * (t_rad + KELVIN) ** 4 - ir)
        carried = cfg.loop_conductance_w_k * (coldplate_c - t_rad)
        if rejected < carried:
            lo = t_rad
        else:
            hi = t_rad
    return cfg.loop_conductance_w_k * (coldplate_c - 0.5 * (lo + hi))


def eclipse_season(cfg: SpacecraftConfig) -> tuple[float, float, float]:
    """First and last day of the year with an umbra, and the longest shadow of an orbit
    (seconds, umbra and penumbra): one orbit from 0h of every day, in one vectorized call."""
    orbit = CircularOrbit(cfg.altitude_km, ltan_h=cfg.ltan_h, day_of_year=0.0)
    days = np.arange(0.0, 366.0, 1.0)
    within = np.arange(0.0, orbit.period_s, DESIGN_STEP_S)
    t = (days[:, None] * 86_400.0 + within[None, :]).ravel()
    lit = np.asarray(orbit.sunlit_fraction(t)).reshape(days.size, within.size)
    with_umbra = days[np.any(lit == 0.0, axis=1)]
    longest = float(np.max(np.count_nonzero(lit < 1.0, axis=1))) * DESIGN_STEP_S
    if not with_umbra.size:
        return math.nan, math.nan, 0.0
    return float(with_umbra[0]), float(with_umbra[-1]), longest


@dataclass(frozen=True)
class DesignNumbers:
    """The numbers the README's design table states (W, Wh, m², deg C, minutes)."""

    boards: int
    board_max_w: float
    payload_w: float
    platform_w: float
    array_area_m2: float
    array_pointing: str
    design_life_years: float
    worst_day: float
    eclipse_season_days: tuple[float, float]
    longest_shadow_min: float
    array_mean_w_bol: float  # worst orbit's mean output, new
    array_mean_w_eol: float  # ... at the end of the design life
    balance_wh_eol: float  # worst orbit at full load, end of life: > 0 is energy-positive
    max_payload_w_bol: float  # the payload the worst orbit sustains, new
    max_payload_w_eol: float  # ... at the end of the design life
    battery_capacity_wh: float
    eclipse_energy_wh: float  # the battery's share of the worst orbit at full load
    depth_of_discharge: float
    radiator_area_m2: float
    radiator_capacity_w: float  # with the cold plate where the boards start to throttle
    throttle_coldplate_c: float


def design_numbers(
    cfg: SpacecraftConfig,
    board_max_w: float = 350.0,
    board_conductance_w_k: float = 10.0,
    throttle_start_c: float = 75.0,
    step_days: float = 10.0,
) -> DesignNumbers:
    """Work out the design table for a node (see the module docstring)."""
    payload = full_payload_w(cfg, board_max_w)
    base = platform_w(cfg)
    life = cfg.design_life_years
    worst_eol = worst_orbit(cfg, life, base + payload, step_days)
    worst_bol = orbit_energy(cfg, worst_eol.day_of_year, 0.0, base + payload)
    first, last, longest = eclipse_season(cfg)
    coldplate_c = throttle_start_c - board_max_w / board_conductance_w_k
    return DesignNumbers(
        boards=cfg.boards,
        board_max_w=board_max_w,
        payload_w=payload,
        platform_w=base,
        array_area_m2=cfg.array_area_m2,
        array_pointing=cfg.array_pointing,
        design_life_years=life,
        worst_day=worst_eol.day_of_year,
        eclipse_season_days=(first, last),
        longest_shadow_min=longest / 60.0,
        array_mean_w_bol=worst_bol.mean_array_w,
        array_mean_w_eol=worst_eol.mean_array_w,
        balance_wh_eol=worst_eol.balance_wh,
        max_payload_w_bol=max_payload_w(cfg, worst_eol.day_of_year, 0.0),
        max_payload_w_eol=max_payload_w(cfg, worst_eol.day_of_year, life),
        battery_capacity_wh=cfg.battery_capacity_wh,
        eclipse_energy_wh=worst_eol.battery_out_wh,
        depth_of_discharge=worst_eol.battery_out_wh / cfg.battery_capacity_wh,
        radiator_area_m2=cfg.radiator_area_m2,
        radiator_capacity_w=radiator_capacity_w(cfg, coldplate_c),
        throttle_coldplate_c=coldplate_c,
    )
