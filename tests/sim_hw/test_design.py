"""The node's design numbers: closed forms for the array and the radiator, the default
node energy-positive every orbit of the year at the end of its life."""

from __future__ import annotations

import math

import pytest

from sim_hw.design import (
    full_payload_w,
    max_payload_w,
    orbit_energy,
    platform_w,
    radiator_capacity_w,
    year_days,
)
from sim_hw.orbit import CircularOrbit, solar_flux_w_m2
from sim_hw.spacecraft import SpacecraftConfig
from sim_hw.thermal import KELVIN, STEFAN_BOLTZMANN, earth_view_factor_vertical_plate

DEFAULT = SpacecraftConfig()
IR = 237.0 * earth_view_factor_vertical_plate(750.0)


def test_orbit_energy_without_eclipse_is_the_closed_form() -> None:
    """At the equinox there is no shadow: the array's temperature sits at its radiative
    balance and its output is constant: E = P(T_eq) x period."""
    g = float(solar_flux_w_m2(80.0))

    def closed_form_wh(irradiance: float, period_s: float) -> float:
        q = 0.92 * irradiance * (1 - 0.27) + 1.75 * IR
        t_eq = (q / (1.75 * STEFAN_BOLTZMANN)) ** 0.25 - KELVIN
        p = irradiance * 450.0 * 0.9 * 0.3 * (1 - 0.0025 * (t_eq - 28.0)) * (1 - 0.0275) ** 2.0
        return p * period_s / 3600.0

    tracking = orbit_energy(SpacecraftConfig(array_pointing="beta_tracking"), 80.0, 2.0, 0.0)
    assert tracking.eclipse_s == 0.0 and tracking.battery_out_wh == 0.0
    assert tracking.array_wh == pytest.approx(closed_form_wh(g, tracking.period_s), rel=2e-3)
    # A fixed orbit-normal array sees the sine of beta (81.6 deg at the equinox).
    beta = CircularOrbit(day_of_year=80.0).beta_angle_deg(0.0)
    fixed = orbit_energy(DEFAULT, 80.0, 2.0, 0.0)
    assert fixed.array_wh == pytest.approx(
        closed_form_wh(g * math.sin(math.radians(beta)), fixed.period_s), rel=2e-3
    )


def test_the_default_node_is_energy_positive_every_orbit_of_its_life() -> None:
    load = platform_w(DEFAULT) + full_payload_w(DEFAULT, 350.0)
    balances = {
        float(d): orbit_energy(DEFAULT, float(d), DEFAULT.design_life_years, load).balance_wh
        for d in year_days(10.0)
    }
    assert min(balances.values()) > 0.0
    worst = min(balances, key=balances.__getitem__)
    assert 150.0 <= worst <= 190.0  # around the June solstice: longest eclipse, weakest sun


def test_max_payload_closes_the_balance() -> None:
    p = max_payload_w(DEFAULT, 170.0, 5.0)
    load = platform_w(DEFAULT) + p
    assert orbit_energy(DEFAULT, 170.0, 5.0, load).balance_wh >= 0.0
    assert orbit_energy(DEFAULT, 170.0, 5.0, load + 50.0).balance_wh < 0.0
    assert p > full_payload_w(DEFAULT, 350.0)  # the design load is carried at end of life
    assert max_payload_w(DEFAULT, 170.0, 0.0) > p  # and more when new
    tracking = SpacecraftConfig(array_pointing="beta_tracking")
    assert max_payload_w(tracking, 170.0, 5.0) > p  # a drive buys back the sine of beta


def test_radiator_capacity_closes_both_balances() -> None:
    """Loop: Q = G (Tc - Tr). Radiator: Q = eps A (sigma Tr^4 - Earth IR)."""
    q = radiator_capacity_w(DEFAULT, 40.0)
    t_r = 40.0 - q / DEFAULT.loop_conductance_w_k
    radiated = 0.9 * DEFAULT.radiator_area_m2 * (STEFAN_BOLTZMANN * (t_r + KELVIN) ** 4 - IR)
    assert radiated == pytest.approx(q, rel=1e-6)
    assert q > full_payload_w(DEFAULT, 350.0)  # the full payload before boards throttle
