"""Ground contacts, relay line of sight and the particle environment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_hw.environment import (
    DEFAULT_STATIONS,
    OPERATOR_STATIONS,
    POLAR_STATIONS,
    SAA_PEAK_MULTIPLIER,
    ContactWindow,
    GroundStation,
    SolarParticleEvent,
    contact_windows,
    contacts_by_station,
    elevation_deg,
    flux_factor,
    relay_visible,
    saa_flux_factor,
    solar_flux_factor,
    station_position_eci_km,
    stations_from_config,
)
from sim_hw.orbit import R_EARTH_KM, CircularOrbit

SVALBARD = DEFAULT_STATIONS[0]


@pytest.fixture(scope="module")
def day_of_contacts() -> list[ContactWindow]:
    return contact_windows(CircularOrbit(), DEFAULT_STATIONS, 0.0, 86_400.0)


def test_default_stations_are_the_polar_network_and_the_operators_own() -> None:
    assert DEFAULT_STATIONS == POLAR_STATIONS + OPERATOR_STATIONS
    assert SVALBARD.name == "Svalbard"
    assert all(abs(s.lat_deg) > 60 for s in POLAR_STATIONS)
    assert [s.name for s in OPERATOR_STATIONS] == ["Miyun", "Kashgar", "Sanya"]
    assert all(15 < s.lat_deg < 45 and 70 < s.lon_deg < 120 for s in OPERATOR_STATIONS)


def test_passes_a_day_per_station_match_the_reference_numbers() -> None:
    """REFERENCES: polar stations see a 750 km SSO ~11-15 passes a day; Miyun, Kashgar and
    Sanya ~4-5 passes and ~35-46 min a day each (allow a few minutes either side)."""
    day = contacts_by_station(CircularOrbit(), DEFAULT_STATIONS, 0.0, 86_400.0)
    for s in POLAR_STATIONS:
        assert 11 <= day[s.name]["count"] <= 15, (s.name, day[s.name])
    for s in OPERATOR_STATIONS:
        assert 4 <= day[s.name]["count"] <= 5, (s.name, day[s.name])
        assert 30.0 <= day[s.name]["minutes"] <= 52.0, (s.name, day[s.name])


def test_contacts_by_station_agree_with_the_windows(
    day_of_contacts: list[ContactWindow],
) -> None:
    day = contacts_by_station(CircularOrbit(), DEFAULT_STATIONS, 0.0, 86_400.0)
    for s in DEFAULT_STATIONS:
        mine = [w for w in day_of_contacts if w.station == s.name]
        assert day[s.name]["count"] == len(mine)
        assert day[s.name]["minutes"] == pytest.approx(
            sum(w.duration_s for w in mine) / 60.0, abs=1e-3
        )
    empty = contacts_by_station(CircularOrbit(), DEFAULT_STATIONS, 10.0, 10.0)
    assert all(v["count"] == 0 for v in empty.values())


def test_station_altitude_raises_the_horizon_a_little() -> None:
    """A station 1.3 km up sees the node at a slightly lower elevation when it is low
    (its local vertical is the same, the node is nearer its horizon plane by ~0.04 deg)."""
    orbit = CircularOrbit()
    sea = GroundStation("sea", 39.5, 76.0)
    high = GroundStation("high", 39.5, 76.0, alt_m=1300.0)
    t = np.linspace(0.0, 86_400.0, 20_000)
    el_sea = elevation_deg(orbit, sea, t)
    el_high = elevation_deg(orbit, high, t)
    site = station_position_eci_km(high, orbit, t)
    assert np.linalg.norm(site, axis=-1) == pytest.approx(R_EARTH_KM + 1.3)
    assert float(np.max(np.abs(el_high - el_sea))) < 0.2
    assert float(np.max(np.abs(el_high - el_sea))) > 0.0


@pytest.mark.parametrize(
    ("tables", "where"),
    [
        ([], "ground_stations"),
        ([{"name": "x", "lat_deg": 1.0}], "lon_deg"),
        ([{"name": "x", "lat_deg": 91.0, "lon_deg": 0.0}], "latitude"),
        ([{"name": "x", "lat_deg": 1.0, "lon_deg": 0.0, "mask": 5.0}], "mask"),
        ([{"name": "x", "lat_deg": "north", "lon_deg": 0.0}], "lat_deg"),
        ([{"name": "x", "lat_deg": 1.0, "lon_deg": 0.0, "alt_m": 1e6}], "altitude"),
        ([{"name": "x", "lat_deg": 1.0, "lon_deg": 0.0, "min_elevation_deg": 90.0}], "mask"),
        (
            [{"name": "x", "lat_deg": 1, "lon_deg": 2}, {"name": "x", "lat_deg": 3, "lon_deg": 4}],
            "unique",
        ),
        (["Svalbard"], "table"),
    ],
)
def test_stations_from_config_names_what_is_wrong(tables: object, where: str) -> None:
    with pytest.raises(ValueError, match=where):
        stations_from_config(tables)


def test_stations_from_config_round_trip() -> None:
    tables = [
        {"name": s.name, "lat_deg": s.lat_deg, "lon_deg": s.lon_deg, "alt_m": s.alt_m}
        for s in DEFAULT_STATIONS
    ]
    assert stations_from_config(tables) == DEFAULT_STATIONS


def test_elevation_is_ninety_under_the_node_and_negative_on_the_far_side() -> None:
    orbit = CircularOrbit(inclination_deg=60.0)
    lat, lon = orbit.subsatellite_latlon_deg(1000.0)
    below = GroundStation("below", float(lat), float(lon))
    assert elevation_deg(orbit, below, 1000.0) == pytest.approx(90.0, abs=1e-6)
    antipode = GroundStation("antipode", -float(lat), float(lon) + 180.0)
    assert elevation_deg(orbit, antipode, 1000.0) < -60.0


def test_elevation_matches_slant_geometry_closed_form() -> None:
    """Cosine rule: for a central angle g, tan(el) = (cos g - R_site/r) / sin g."""
    orbit = CircularOrbit(inclination_deg=90.0, ltan_h=12.0)
    t = np.linspace(0.0, orbit.period_s, 50)
    el = elevation_deg(orbit, SVALBARD, t)
    site = station_position_eci_km(SVALBARD, orbit, t)
    sat = orbit.position_eci_km(t)
    r_site = R_EARTH_KM + SVALBARD.alt_m / 1000.0  # the station stands 500 m up
    cos_g = np.sum(site * sat, axis=-1) / (r_site * orbit.radius_km)
    g = np.arccos(np.clip(cos_g, -1, 1))
    expected = np.degrees(np.arctan2(np.cos(g) - r_site / orbit.radius_km, np.sin(g)))
    np.testing.assert_allclose(el, expected, atol=1e-9)


def test_polar_station_sees_several_passes_a_day(day_of_contacts: list[ContactWindow]) -> None:
    per_station = {s.name: 0 for s in DEFAULT_STATIONS}
    for w in day_of_contacts:
        per_station[w.station] += 1
    assert all(per_station[s.name] >= 5 for s in POLAR_STATIONS), per_station
    # Svalbard at 78 N sees a sun-synchronous node on nearly every one of ~14.4 revolutions.
    assert 12 <= per_station["Svalbard"] <= 16


def test_pass_durations_and_peak_elevations(day_of_contacts: list[ContactWindow]) -> None:
    durations_min = np.array([w.duration_s for w in day_of_contacts]) / 60.0
    # A 750 km pass above a 5 deg mask lasts at most ~12.2 min (43.9 deg of arc).
    assert durations_min.max() == pytest.approx(12.2, abs=0.3)
    assert durations_min.max() < 15.0
    assert np.median(durations_min) > 2.0
    assert all(w.start_s < w.end_s for w in day_of_contacts)
    assert [w.start_s for w in day_of_contacts] == sorted(w.start_s for w in day_of_contacts)
    assert max(w.max_elevation_deg for w in day_of_contacts) > 60.0
    for w in day_of_contacts:
        assert w.max_elevation_deg >= 5.0


def test_elevation_at_window_edges_equals_the_mask(day_of_contacts: list[ContactWindow]) -> None:
    stations = {s.name: s for s in DEFAULT_STATIONS}
    orbit = CircularOrbit()
    for w in day_of_contacts:
        st = stations[w.station]
        if w.start_s > 0.0:
            assert elevation_deg(orbit, st, w.start_s) == pytest.approx(5.0, abs=0.01)
            assert elevation_deg(orbit, st, w.start_s - 0.1) < 5.0
        if w.end_s < 86_400.0:
            assert elevation_deg(orbit, st, w.end_s) == pytest.approx(5.0, abs=0.01)
            assert elevation_deg(orbit, st, w.end_s + 0.1) < 5.0
        # The peak is the real maximum: a fine scan of the pass finds nothing higher.
        fine = elevation_deg(orbit, st, np.linspace(w.start_s, w.end_s, 2000))
        assert w.max_elevation_deg >= float(fine.max()) - 1e-6
        assert w.max_elevation_deg == pytest.approx(float(fine.max()), abs=0.01)


def test_window_open_at_the_interval_edges_is_clipped() -> None:
    orbit = CircularOrbit()
    full = [w for w in contact_windows(orbit, [SVALBARD], 0.0, 20_000.0) if w.start_s > 0]
    mid = 0.5 * (full[0].start_s + full[0].end_s)
    clipped = contact_windows(orbit, [SVALBARD], mid, full[0].end_s + 3000.0)
    assert clipped[0].start_s == mid
    assert clipped[0].end_s == pytest.approx(full[0].end_s, abs=0.1)
    tail = contact_windows(orbit, [SVALBARD], full[0].start_s - 500.0, mid)
    assert tail[-1].end_s == mid


def test_contact_windows_rejects_bad_intervals() -> None:
    with pytest.raises(ValueError):
        contact_windows(CircularOrbit(), DEFAULT_STATIONS, 10.0, 0.0)
    with pytest.raises(ValueError):
        contact_windows(CircularOrbit(), DEFAULT_STATIONS, 0.0, 10.0, step_s=0.0)
    with pytest.raises(ValueError):
        GroundStation("bad", 95.0, 0.0)


def test_relay_visibility_same_plane() -> None:
    a = CircularOrbit(phase_deg=0.0)
    # Line-of-sight limit for two 750 km nodes with a 100 km grazing layer.
    limit = 2 * math.degrees(math.acos((R_EARTH_KM + 100.0) / (R_EARTH_KM + 750.0)))
    near = CircularOrbit(phase_deg=limit - 2.0)
    far = CircularOrbit(phase_deg=limit + 2.0)
    opposite = CircularOrbit(phase_deg=180.0)
    assert relay_visible(a, a, 0.0) is True
    assert relay_visible(a, near, 0.0) is True
    assert relay_visible(a, far, 0.0) is False
    assert relay_visible(a, opposite, 0.0) is False
    # A thicker grazing layer blocks the near node too.
    assert relay_visible(a, near, 0.0, grazing_altitude_km=400.0) is False
    t = np.linspace(0.0, a.period_s, 20)
    assert relay_visible(a, near, t).all()  # same plane: the geometry never changes
    assert not relay_visible(a, opposite, t).any()


def test_relay_between_planes_comes_and_goes() -> None:
    a = CircularOrbit()
    b = CircularOrbit(raan_offset_deg=90.0)  # both cross the poles together
    seen = relay_visible(a, b, np.linspace(0.0, a.period_s, 400))
    assert seen.any() and not seen.all()
    assert not seen[0]  # 90 deg apart on the equator
    assert relay_visible(a, b, a.period_s / 4) is True  # together over the north pole


def test_saa_bump_peaks_at_its_centre_and_fades_away() -> None:
    assert saa_flux_factor(-27.0, -50.0) == pytest.approx(SAA_PEAK_MULTIPLIER)
    assert saa_flux_factor(-27.0, -50.0, peak_multiplier=10.0) == pytest.approx(10.0)
    assert saa_flux_factor(60.0, 100.0) == pytest.approx(1.0, abs=1e-6)
    assert 1.0 < saa_flux_factor(-20.0, -30.0) < SAA_PEAK_MULTIPLIER
    # Longitude wraps: -50 and 310 are the same place.
    assert saa_flux_factor(-27.0, 310.0) == pytest.approx(SAA_PEAK_MULTIPLIER)
    grid = saa_flux_factor(np.array([[-27.0, 0.0], [80.0, -27.0]]), np.array([[-50.0, 0.0]] * 2))
    assert grid.shape == (2, 2)
    assert np.all(grid >= 1.0)
    with pytest.raises(ValueError):
        saa_flux_factor(0.0, 0.0, peak_multiplier=0.5)


def test_solar_events_add_to_quiet_flux() -> None:
    events = [SolarParticleEvent(100.0, 50.0, 10.0), SolarParticleEvent(120.0, 100.0, 4.0)]
    assert solar_flux_factor(events, 99.0) == 1.0
    assert solar_flux_factor(events, 110.0) == 10.0
    assert solar_flux_factor(events, 130.0) == 13.0  # both active: 1 + 9 + 3
    assert solar_flux_factor(events, 200.0) == 4.0
    assert solar_flux_factor(events, 220.0) == 1.0
    assert solar_flux_factor([], 130.0) == 1.0
    np.testing.assert_array_equal(
        solar_flux_factor(events, np.array([0.0, 110.0, 130.0])), [1.0, 10.0, 13.0]
    )
    with pytest.raises(ValueError):
        SolarParticleEvent(0.0, 0.0, 2.0)
    with pytest.raises(ValueError):
        SolarParticleEvent(0.0, 10.0, 0.5)


def test_orbit_flux_factor_sees_the_saa_a_few_times_a_day() -> None:
    orbit = CircularOrbit()
    t = np.arange(0.0, 86_400.0, 30.0)
    f = flux_factor(orbit, t)
    assert f.min() >= 1.0
    assert f.max() > 10.0  # some passes cross the core of the anomaly
    in_saa = f > 3.0
    entries = int(np.count_nonzero(~in_saa[:-1] & in_saa[1:]))
    assert 3 <= entries <= 10
    assert 0.02 < in_saa.mean() < 0.2
    storm = flux_factor(orbit, t, events=[SolarParticleEvent(0.0, 86_400.0, 5.0)])
    np.testing.assert_allclose(storm, f + 4.0)
