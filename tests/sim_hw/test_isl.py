"""Cluster links against closed forms: chord ranges and light times, line-of-sight edges,
acquisition after a break, GEO geometry (radius, longitude, visibility cone, delays)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim_hw.isl import (
    GEO_RADIUS_KM,
    KA_RETURN,
    ClusterLinks,
    LinkOutage,
    OpticalIslConfig,
    formation,
    geo_relays,
    light_time_s,
    packet_error_probability,
)
from sim_hw.orbit import R_EARTH_KM, CircularOrbit, gmst_rad
from sim_hw.radio_link import SPEED_OF_LIGHT_KM_S

R_NODE = R_EARTH_KM + 750.0
GRAZE = R_EARTH_KM + 100.0
LOS_LIMIT_DEG = 2 * math.degrees(math.acos(GRAZE / R_NODE))  # same plane, same altitude


@given(spacing=st.floats(0.1, 30.0), t=st.floats(0.0, 20_000.0))
@settings(max_examples=40, deadline=None)
def test_isl_range_is_the_chord_and_the_delay_its_light_time(spacing: float, t: float) -> None:
    orbits = formation(CircularOrbit(), 2, spacing)
    s = ClusterLinks(orbits).isl(0, 1, t)
    chord = 2 * R_NODE * math.sin(math.radians(spacing) / 2)
    assert s.range_km == pytest.approx(chord, rel=1e-9)
    assert s.delay_s == pytest.approx(chord / SPEED_OF_LIGHT_KM_S, rel=1e-9)
    assert s.up == (chord <= OpticalIslConfig().max_range_km)


def test_isl_line_of_sight_edge_and_range_limit() -> None:
    far = OpticalIslConfig(max_range_km=1e6)  # only the Earth can block it
    for spacing, up in ((LOS_LIMIT_DEG - 0.05, True), (LOS_LIMIT_DEG + 0.05, False)):
        s = ClusterLinks(formation(CircularOrbit(), 2, spacing), isl=far).isl(0, 1, 100.0)
        assert s.up is up
        assert s.why == ("up" if up else "no_line_of_sight")
    # Within sight but past the terminal's range.
    chord_limit = 4_500.0
    spacing = math.degrees(2 * math.asin(chord_limit / (2 * R_NODE)))
    near = ClusterLinks(formation(CircularOrbit(), 2, spacing - 0.01)).isl(0, 1, 0.0)
    beyond = ClusterLinks(formation(CircularOrbit(), 2, spacing + 0.01)).isl(1, 0, 0.0)
    assert near.up and not beyond.up and beyond.why == "out_of_range"


@given(start=st.floats(0.0, 5_000.0), duration=st.floats(0.5, 300.0))
@settings(max_examples=30, deadline=None)
def test_outage_then_acquisition_before_data_flows(start: float, duration: float) -> None:
    acq = OpticalIslConfig().acquisition_s
    links = ClusterLinks(
        formation(CircularOrbit(), 3, 5.0), outages=[LinkOutage("isl:0-1", start, duration)]
    )
    end = start + duration
    assert links.isl(0, 1, start - 1e-3).up
    assert not links.isl(1, 0, start + min(duration, 1.0) / 2).up
    assert links.isl(0, 1, start + duration / 2).why == "outage"
    assert not links.isl(0, 1, end + acq - 0.01).up  # still re-acquiring
    assert links.isl(0, 1, end + acq + 0.01).up
    assert links.isl(1, 2, start + duration / 2).up  # another pair is untouched


def test_ber_fault_keeps_the_link_up_with_errors_and_node_fault_cuts_all_its_links() -> None:
    links = ClusterLinks(
        formation(CircularOrbit(), 3, 5.0),
        outages=[LinkOutage("isl:1-2", 10.0, 20.0, ber=1e-4), LinkOutage("node:0", 100.0, 5.0)],
    )
    noisy = links.isl(2, 1, 15.0)
    assert noisy.up and noisy.ber >= 1e-4
    assert links.isl(2, 1, 40.0).ber < 1e-9
    assert not links.isl(0, 1, 102.0).up and not links.isl(2, 0, 102.0).up
    assert links.isl(1, 2, 102.0).up


def test_isl_ber_falls_with_range_as_the_budget_says() -> None:
    cfg = OpticalIslConfig()
    assert cfg.ber(cfg.ref_range_km) == pytest.approx(0.5 * math.erfc(math.sqrt(10**1.4)))
    assert cfg.ber(2 * cfg.ref_range_km) > cfg.ber(cfg.ref_range_km) > cfg.ber(100.0)
    with pytest.raises(ValueError):
        OpticalIslConfig(rate_bps=0.0)
    with pytest.raises(ValueError):
        LinkOutage("*", 0.0, -1.0)


@given(octets=st.integers(0, 70_000), ber=st.floats(0.0, 1.0))
def test_packet_error_probability_closed_form(octets: int, ber: float) -> None:
    p = packet_error_probability(octets, ber)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(1.0 - (1.0 - ber) ** (8 * octets), abs=1e-9)


def test_geo_relay_radius_longitude_and_ground_leg() -> None:
    # Kepler: one sidereal day at 42,164 km.
    assert pytest.approx(42_164.17, abs=0.1) == GEO_RADIUS_KM
    relay = geo_relays(172.0)[0]
    t = np.linspace(0.0, 86_400.0, 25)
    p = relay.position_eci_km(t)
    lon = np.degrees(np.arctan2(p[:, 1], p[:, 0]) - gmst_rad(relay.day_at(t)))
    assert np.allclose(np.mod(lon - relay.lon_deg + 180.0, 360.0) - 180.0, 0.0, atol=1e-9)
    assert np.allclose(np.linalg.norm(p, axis=-1), GEO_RADIUS_KM)
    assert 0.119 < relay.ground_leg_s(0.0) < 0.142  # Miyun sees TL-80E at ~40 deg


def test_geo_visibility_is_the_cone_closed_form_and_delays_are_the_ranges() -> None:
    """Visible iff the angle between node and relay is at most acos(Rg/r) + acos(Rg/R)
    (Rg the grazing sphere); the node's leg is 117-149 ms, ~120-140 ms at mid angles."""
    node = CircularOrbit(day_of_year=172.0)
    links = ClusterLinks([node], geo_relays(172.0))
    limit = math.acos(GRAZE / R_NODE) + math.acos(GRAZE / GEO_RADIUS_KM)
    checked = edges = 0
    for t in np.linspace(0.0, node.period_s, 240):
        for k, relay in enumerate(links.relays):
            a, b = node.position_eci_km(t), relay.position_eci_km(t)
            angle = math.acos(float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))))
            s = links.geo(0, k, float(t))
            # Away from the edge (acquisition only matters within a few seconds of it).
            if abs(angle - limit) > math.radians(1.0):
                checked += 1
                assert s.up == (angle < limit)
            else:
                edges += 1
            rng = math.sqrt(
                R_NODE**2 + GEO_RADIUS_KM**2 - 2 * R_NODE * GEO_RADIUS_KM * math.cos(angle)
            )
            assert s.range_km == pytest.approx(rng, rel=1e-9)
            assert s.delay_s == pytest.approx(light_time_s(rng))
            if s.up:
                assert s.delay_s >= (GEO_RADIUS_KM - R_NODE) / SPEED_OF_LIGHT_KM_S - 1e-9
                assert s.delay_s <= 0.149
                assert s.ber < 1e-9 and s.rate_bps == KA_RETURN.data_rate_bps
    assert checked > 600 and edges < 60
    # One relay sees the node over most of an orbit (over the poles too: the cone is
    # ~106 deg wide); three spread round the equator see it all the time.
    times = np.linspace(0, 6000, 121)
    one = ClusterLinks([node], geo_relays(172.0)[:1])
    seen_by_one = sum(one.best_geo(0, float(t)) is not None for t in times) / len(times)
    assert 0.5 < seen_by_one < 1.0
    assert all(links.best_geo(0, float(t)) is not None for t in times)


def test_geo_outage_and_best_relay_choice_is_deterministic() -> None:
    node = CircularOrbit(day_of_year=172.0)
    links = ClusterLinks([node], geo_relays(172.0))
    t = next(
        float(t) for t in np.arange(0.0, 6000.0, 10.0) if links.best_geo(0, float(t)) is not None
    )
    k = links.best_geo(0, t)
    assert k is not None
    name = links.relays[k].name
    cut = ClusterLinks([node], geo_relays(172.0), outages=[LinkOutage(f"geo:{name}", 0.0, 1e5)])
    assert not cut.geo(0, k, t).up and cut.geo(0, k, t).why in ("outage", "no_line_of_sight")
    assert cut.best_geo(0, t) != k
    assert links.best_geo(0, t) == ClusterLinks([node], geo_relays(172.0)).best_geo(0, t)


@given(
    seed=st.integers(0, 2**32 - 1),
    spacing=st.floats(0.5, 40.0),
    out_start=st.floats(0.0, 3_000.0),
)
@settings(max_examples=8, deadline=None)
def test_batches_say_what_the_one_hop_model_says_hop_by_hop(
    seed: int, spacing: float, out_start: float
) -> None:
    """The vectorised model (numpy over many hops) against the one-hop model it must
    equal: every hop's up/why exactly, ranges, delays and bit error rates to rounding;
    spacings cross the line-of-sight and range edges, outages the acquisition spans."""
    rng = np.random.default_rng(seed)
    n = 12
    outages = (
        LinkOutage(f"isl:{rng.integers(0, n - 1)}-{n - 1}", out_start, 60.0),
        LinkOutage(f"node:{rng.integers(0, n)}", out_start + 500.0, 30.0),
        LinkOutage("geo:TL-80E", out_start + 200.0, 400.0),
        LinkOutage("isl:1-2", out_start, 1e4, ber=1e-4),
        LinkOutage("*", out_start + 1_000.0, 5.0),
        LinkOutage("isl:2-1", 0.0, 1e5),  # not how the model names it: covers nothing
    )
    links = ClusterLinks(formation(CircularOrbit(), n, spacing), geo_relays(80.0), outages=outages)
    m = 100
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    t = np.concatenate([rng.uniform(0.0, 6_000.0, m - 20), out_start + rng.uniform(-25, 90, 20)])
    batch = links.isl_batch(a, b, t)
    best, geos = links.best_geo_batch(a, t)
    for k in range(m):
        one = links.isl(int(a[k]), int(b[k]), float(t[k]))
        got = batch.state(k)
        assert (got.up, got.why) == (one.up, one.why)
        assert got.range_km == pytest.approx(one.range_km, rel=1e-12, abs=1e-9)
        assert got.ber == pytest.approx(one.ber, rel=1e-9, abs=1e-300)
        expect = links.best_geo(int(a[k]), float(t[k]))
        assert int(best[k]) == (-1 if expect is None else expect)
        for r, g in enumerate(geos):
            one_geo, got_geo = links.geo(int(a[k]), r, float(t[k])), g.state(k)
            assert (got_geo.up, got_geo.why) == (one_geo.up, one_geo.why)
            assert got_geo.delay_s == pytest.approx(one_geo.delay_s, rel=1e-12)
            assert got_geo.ber == pytest.approx(one_geo.ber, rel=1e-9, abs=1e-300)
    relay = links.relays[0]
    legs = [relay.ground_leg_s(float(x)) for x in t[:5]]
    assert relay.ground_legs_s(t[:5]) == pytest.approx(legs)
