"""Orbit model against closed forms: Kepler period, SSO inclination, beta angle, eclipse."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_hw.orbit import (
    MU_EARTH_KM3_S2,
    R_EARTH_KM,
    CircularOrbit,
    circular_period_s,
    eclipse_fraction,
    gmst_rad,
    nodal_precession_rad_s,
    sun_synchronous_inclination_deg,
)


def test_period_matches_kepler_and_known_value_at_750_km() -> None:
    orbit = CircularOrbit(altitude_km=750.0)
    a = R_EARTH_KM + 750.0
    kepler = 2 * math.pi * math.sqrt(a**3 / MU_EARTH_KM3_S2)
    assert orbit.period_s == pytest.approx(kepler, rel=1e-3)
    assert orbit.period_s / 60 == pytest.approx(99.9, abs=0.2)
    assert circular_period_s(750.0) == orbit.period_s


def test_position_stays_on_the_circle_and_closes_after_one_period() -> None:
    orbit = CircularOrbit(inclination_deg=51.6, phase_deg=33.0)
    t = np.linspace(0.0, 3 * orbit.period_s, 101)
    r = orbit.position_eci_km(t)
    assert r.shape == (101, 3)
    np.testing.assert_allclose(np.linalg.norm(r, axis=-1), R_EARTH_KM + 750.0, rtol=1e-12)
    # After one period the node is back, up to the slow J2 rotation of the plane.
    drift_km = np.linalg.norm(orbit.position_eci_km(orbit.period_s) - orbit.position_eci_km(0.0))
    plane_turn = abs(orbit.raan_rate_rad_s) * orbit.period_s
    assert drift_km < 2 * plane_turn * orbit.radius_km + 1e-6
    # Latitude never exceeds the inclination.
    lat, _ = orbit.subsatellite_latlon_deg(t)
    assert np.max(np.abs(lat)) <= 51.6 + 1e-9


def test_sun_synchronous_inclination_and_precession() -> None:
    inc = sun_synchronous_inclination_deg(750.0)
    assert inc == pytest.approx(98.4, abs=0.1)
    rate_deg_per_day = math.degrees(nodal_precession_rad_s(750.0, inc)) * 86_400
    assert rate_deg_per_day == pytest.approx(0.9856, abs=1e-4)
    assert CircularOrbit(altitude_km=750.0).inclination_deg == inc


def test_earth_turns_once_per_sidereal_day() -> None:
    d = 80.0 + 86_164.0905 / 86_400
    assert float(gmst_rad(d)) == pytest.approx(float(gmst_rad(80.0)), abs=1e-6)
    # The mean sun is on the Greenwich meridian at 12h UT: GMST equals its right ascension.
    mean_sun_ra = 2 * math.pi * 0.5 / 365.24219
    assert float(gmst_rad(80.5)) == pytest.approx(mean_sun_ra, abs=1e-9)


def test_subsatellite_point_moves_west_with_earth_rotation() -> None:
    orbit = CircularOrbit(ltan_h=12.0, day_of_year=80.0)
    lat0, lon0 = orbit.subsatellite_latlon_deg(0.0)
    lat1, lon1 = orbit.subsatellite_latlon_deg(orbit.period_s)
    assert float(lat0) == pytest.approx(0.0, abs=1e-9)
    # Node at local noon at 0h UT sits on the antimeridian.
    assert abs(float(lon0)) == pytest.approx(180.0, abs=0.3)
    # One period later the ascending node is ~25 deg further west.
    shift = (float(lon0) - float(lon1)) % 360.0
    assert shift == pytest.approx(360.0 * orbit.period_s / 86_164.0905, abs=0.5)
    assert float(lat1) == pytest.approx(0.0, abs=1e-6)


def test_eclipse_fraction_closed_form_edges() -> None:
    beta_star = math.degrees(math.asin(R_EARTH_KM / (R_EARTH_KM + 750.0)))
    assert eclipse_fraction(beta_star + 0.01, 750.0) == 0.0
    assert eclipse_fraction(-(beta_star + 0.01), 750.0) == 0.0
    assert eclipse_fraction(beta_star - 0.5, 750.0) > 0.0
    f0 = eclipse_fraction(0.0, 750.0)
    assert f0 == pytest.approx(math.asin(R_EARTH_KM / (R_EARTH_KM + 750.0)) / math.pi)
    assert eclipse_fraction(30.0, 750.0) < f0


def test_simulated_shadow_matches_closed_form_at_beta_zero() -> None:
    orbit = CircularOrbit(ltan_h=12.0, day_of_year=80.0)
    assert orbit.beta_angle_deg(0.0) == pytest.approx(0.0, abs=1e-9)
    dt = 0.5
    t = np.arange(0.0, orbit.period_s, dt)
    shadow_s = float(np.count_nonzero(orbit.in_eclipse(t))) * dt
    expected_s = eclipse_fraction(0.0, orbit.altitude_km) * orbit.period_s
    assert expected_s == pytest.approx(2112.0, abs=5.0)  # ~35.2 min
    assert shadow_s == pytest.approx(expected_s, rel=0.01)


def test_simulated_shadow_matches_closed_form_at_a_nonzero_beta() -> None:
    orbit = CircularOrbit(day_of_year=172.0)  # dawn-dusk at the June solstice
    beta = orbit.beta_angle_deg(0.0)
    t = np.arange(0.0, orbit.period_s, 1.0)
    shadow_s = float(np.count_nonzero(orbit.in_eclipse(t)))
    assert shadow_s == pytest.approx(eclipse_fraction(beta, 750.0) * orbit.period_s, rel=0.02)


def test_dawn_dusk_orbit_has_no_eclipse_at_equinox_and_a_season_around_june() -> None:
    dt = 5.0
    equinox = CircularOrbit(day_of_year=80.0)
    assert equinox.beta_angle_deg(0.0) == pytest.approx(81.6, abs=0.5)
    t = np.arange(0.0, 86_400.0, dt)
    assert not np.any(equinox.in_eclipse(t))
    # What this model gives: beta ~58 deg at the June solstice, below beta* ~63.4 deg,
    # so ~18 min of shadow per orbit.
    solstice = CircularOrbit(day_of_year=172.0)
    assert solstice.beta_angle_deg(0.0) == pytest.approx(58.2, abs=0.5)
    shadow_min = np.count_nonzero(solstice.in_eclipse(t)) * dt / 60.0 / (86_400 / solstice.period_s)
    assert 15.0 < shadow_min < 20.0
    # The season: shadow from roughly mid-May to early August, none in winter.
    days = np.arange(1.0, 366.0, 1.0)
    betas = np.array([CircularOrbit(day_of_year=float(d)).beta_angle_deg(0.0) for d in days])
    fractions = np.array([eclipse_fraction(float(b), 750.0) for b in betas])
    season = days[fractions > 0]
    assert 120 < season.min() < 150
    assert 195 < season.max() < 225
    assert np.all(np.diff(season) == 1)  # one contiguous season


def test_beta_follows_the_orbit_over_a_year_via_precession() -> None:
    """Propagating 91 days from the equinox gives the same beta as an epoch at day 171."""
    start = CircularOrbit(day_of_year=80.0)
    later = CircularOrbit(day_of_year=171.0)
    assert start.beta_angle_deg(91 * 86_400.0) == pytest.approx(later.beta_angle_deg(0.0), abs=0.05)


def test_vectorized_and_scalar_agree() -> None:
    orbit = CircularOrbit(day_of_year=160.0)
    t = np.array([0.0, 1234.5, 5000.0])
    betas = orbit.beta_angle_deg(t)
    shadow = orbit.in_eclipse(t)
    for i, ti in enumerate(t):
        assert orbit.beta_angle_deg(float(ti)) == pytest.approx(float(betas[i]))
        assert orbit.in_eclipse(float(ti)) == bool(shadow[i])
    np.testing.assert_allclose(np.linalg.norm(orbit.sun_unit_vector(t), axis=-1), 1.0)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        CircularOrbit(altitude_km=-1.0)
    with pytest.raises(ValueError):
        CircularOrbit(inclination_deg=200.0)
    with pytest.raises(ValueError):
        eclipse_fraction(0.0, 0.0)
    with pytest.raises(ValueError):
        sun_synchronous_inclination_deg(50_000.0)
