"""Orbit model against closed forms: Kepler period, SSO inclination, beta angle, solar flux,
eclipse (cylinder closed form, and an independent conical umbra/penumbra computation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_hw.orbit import (
    MARCH_EQUINOX_DAY,
    MU_EARTH_KM3_S2,
    OBLIQUITY_DEG,
    R_EARTH_KM,
    R_SUN_KM,
    TROPICAL_YEAR_DAYS,
    CircularOrbit,
    circular_period_s,
    disc_sunlit_fraction,
    eclipse_fraction,
    gmst_rad,
    nodal_precession_rad_s,
    solar_flux_w_m2,
    sun_synchronous_inclination_deg,
)


def cone_shadow(r_sat: np.ndarray, r_sun: np.ndarray) -> np.ndarray:
    """Independent conical shadow (Vallado, Fundamentals of Astrodynamics, alg. 34):
    0 umbra, 1 penumbra, 2 sunlit, from the umbra and penumbra cones tangent to the sun
    and the Earth, measured around the Earth-sun axis."""
    d = np.linalg.norm(r_sun, axis=-1)
    s_hat = r_sun / d[..., None]
    alpha_u = np.arcsin((R_SUN_KM - R_EARTH_KM) / d)
    alpha_p = np.arcsin((R_SUN_KM + R_EARTH_KM) / d)
    along = -np.sum(r_sat * s_hat, axis=-1)  # distance behind the Earth's centre
    perp = np.linalg.norm(r_sat + along[..., None] * s_hat, axis=-1)
    umbra_r = (R_EARTH_KM / np.sin(alpha_u) - along) * np.tan(alpha_u)
    penumbra_r = (R_EARTH_KM / np.sin(alpha_p) + along) * np.tan(alpha_p)
    out = np.full(along.shape, 2)
    out[(along > 0) & (perp < penumbra_r)] = 1
    out[(along > 0) & (perp < umbra_r)] = 0
    return out


def cone_umbra_beta_limit_deg(altitude_km: float, sun_distance_km: float) -> float:
    """Largest beta with any umbra: the orbit's closest approach to the shadow axis
    (r sin b off it, r cos b behind the Earth) just touches the umbra cone. Bisection."""
    r = R_EARTH_KM + altitude_km
    alpha_u = math.asin((R_SUN_KM - R_EARTH_KM) / sun_distance_km)
    lo, hi = 0.0, math.pi / 2
    for _ in range(80):
        b = 0.5 * (lo + hi)
        inside = r * math.sin(b) < (R_EARTH_KM / math.sin(alpha_u) - r * math.cos(b)) * math.tan(
            alpha_u
        )
        lo, hi = (b, hi) if inside else (lo, b)
    return math.degrees(lo)


def closed_form_beta_deg(day: float, ltan_h: float = 18.0, altitude_km: float = 750.0) -> float:
    """sin(beta) = cos(dec) sin(i) sin(raan - ra) + sin(dec) cos(i) for a sun at mean
    ecliptic longitude lam (dec, ra from the obliquity) and raan = lam + 15 (ltan - 12)."""
    inc = math.radians(sun_synchronous_inclination_deg(altitude_km))
    eps = math.radians(OBLIQUITY_DEG)
    lam = 2 * math.pi * (day - MARCH_EQUINOX_DAY) / TROPICAL_YEAR_DAYS
    dec = math.asin(math.sin(eps) * math.sin(lam))
    ra = math.atan2(math.cos(eps) * math.sin(lam), math.cos(lam))
    raan = lam + math.radians(15.0 * (ltan_h - 12.0))
    sin_beta = math.cos(dec) * math.sin(inc) * math.sin(raan - ra) + math.sin(dec) * math.cos(inc)
    return math.degrees(math.asin(sin_beta))


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
    """Umbra plus half the penumbra is the cylinder the closed form assumes."""
    orbit = CircularOrbit(day_of_year=172.0)  # dawn-dusk at the June solstice
    beta = orbit.beta_angle_deg(0.0)
    t = np.arange(0.0, orbit.period_s, 0.5)
    lit = orbit.sunlit_fraction(t)
    umbra_s = float(np.count_nonzero(lit == 0.0)) * 0.5
    penumbra_s = float(np.count_nonzero((lit > 0.0) & (lit < 1.0))) * 0.5
    expected = eclipse_fraction(beta, 750.0) * orbit.period_s
    assert umbra_s + 0.5 * penumbra_s == pytest.approx(expected, rel=0.005)
    assert 20.0 < penumbra_s < 120.0  # grazing geometry at high beta: long penumbrae


@pytest.mark.parametrize("day", [80.0, 135.0, 150.0, 172.0, 200.0, 212.0])
def test_shadow_matches_an_independent_conical_computation(day: float) -> None:
    """Disc overlap seen from the node (the model) against cones around the Earth-sun
    axis (Vallado): same umbra and penumbra, to the sampling step, every orbit."""
    orbit = CircularOrbit(day_of_year=day)
    t = np.arange(0.0, orbit.period_s, 0.5)
    lit = orbit.sunlit_fraction(t)
    model = np.where(lit == 0.0, 0, np.where(lit < 1.0, 1, 2))
    cone = cone_shadow(orbit.position_eci_km(t), orbit.sun_position_eci_km(t))
    for state in (0, 1):
        assert np.count_nonzero(model == state) * 0.5 == pytest.approx(
            np.count_nonzero(cone == state) * 0.5, abs=1.5
        ), (day, state)
    assert np.count_nonzero(model != cone) <= 6  # only samples at the edges differ


def test_eclipse_season_edges_match_the_umbra_cone() -> None:
    """The first and last days with an umbra: the model's orbits against the days on
    which the closed-form beta drops below the cone's limit."""
    limit = cone_umbra_beta_limit_deg(750.0, 1.496e8)
    assert 63.0 < limit < 63.5  # beta* = asin(R / r) = 63.45 deg for a cylinder
    closed = [d for d in range(100, 250) if closed_form_beta_deg(d) < limit]

    def has_umbra(day: float) -> bool:
        orbit = CircularOrbit(day_of_year=day)
        t = np.arange(0.0, orbit.period_s, 2.0)
        return bool(np.any(orbit.sunlit_fraction(t) == 0.0))

    first, last = closed[0], closed[-1]
    assert 130 < first < 140 and 205 < last < 215  # mid May to early August
    assert has_umbra(first + 1.0) and not has_umbra(first - 1.0)
    assert has_umbra(last - 1.0) and not has_umbra(last + 1.0)


def test_beta_matches_the_closed_form_through_the_year() -> None:
    """Dawn-dusk (node at 18 h, mean sun): beta from the spherical-trigonometry form;
    58.2 deg at the June solstice, 81.6 at the equinox, ~75 at the December solstice."""
    for day in range(0, 366, 7):
        for ltan in (18.0, 6.0, 10.5):
            assert CircularOrbit(day_of_year=float(day), ltan_h=ltan).beta_angle_deg(
                0.0
            ) == pytest.approx(closed_form_beta_deg(day, ltan), abs=1e-6)
    assert closed_form_beta_deg(172.0) == pytest.approx(58.2, abs=0.1)
    assert closed_form_beta_deg(80.0) == pytest.approx(81.6, abs=0.1)
    assert closed_form_beta_deg(355.0) == pytest.approx(75.0, abs=0.2)


def test_solar_flux_follows_the_earth_sun_distance() -> None:
    days = np.arange(0.0, 366.0, 0.5)
    flux = solar_flux_w_m2(days)
    assert float(flux.max()) == pytest.approx(1413.0, abs=1.0)  # perihelion, early January
    assert float(flux.min()) == pytest.approx(1321.0, abs=1.0)  # aphelion, early July
    assert 0.0 <= float(days[np.argmax(flux)]) <= 6.0
    assert 180.0 <= float(days[np.argmin(flux)]) <= 190.0
    # Inverse square of 1 -+ e: the ratio of the extremes is ((1 + e) / (1 - e))^2.
    assert float(flux.max() / flux.min()) == pytest.approx((1.0167 / 0.9833) ** 2, rel=1e-3)
    orbit = CircularOrbit(day_of_year=172.0)
    assert orbit.solar_flux_w_m2(0.0) == pytest.approx(float(solar_flux_w_m2(172.0)))


def test_disc_overlap_limits_and_half_cover() -> None:
    a, b = 0.00465, 1.1
    assert disc_sunlit_fraction(a, b, b + a + 1e-6) == 1.0
    assert disc_sunlit_fraction(a, b, b - a - 1e-6) == 0.0
    # The Earth's limb through the sun's centre hides (very nearly) half of it.
    assert float(disc_sunlit_fraction(a, b, b)) == pytest.approx(0.5, abs=0.01)
    # Annular: a small disc inside a big one hides its share of the area.
    assert float(disc_sunlit_fraction(0.01, 0.005, 0.001)) == pytest.approx(0.75)
    c = np.linspace(b - a, b + a, 51)
    assert np.all(np.diff(disc_sunlit_fraction(a, b, c)) >= 0.0)  # more lit as it leaves


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
