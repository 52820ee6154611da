"""The simulated RF link driven by its budget: slant range -> delay, Eb/N0 -> bit errors,
the best station in view, the mission's overrides, contacts per station."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from hal.interfaces import RadioStatus
from hal.sim.radio import SimRfLink
from sim_hw.environment import (
    DEFAULT_STATIONS,
    ContactWindow,
    contact_windows,
    contacts_by_station,
    elevation_deg,
)
from sim_hw.orbit import CircularOrbit
from sim_hw.radio_link import slant_range_km
from sim_hw.spacecraft import Spacecraft, SpacecraftConfig

C_KM_S = 299_792.458


def _link(**kw: object) -> SimRfLink:
    sc = Spacecraft(SpacecraftConfig(boards=8, radiation_enabled=False), seed=1)
    return SimRfLink(sc, np.random.default_rng(5), **kw)  # type: ignore[arg-type]


def _ebn0_by_hand(range_km: float, eirp: float, g_t: float, f_hz: float, rate: float) -> float:
    fsl = 20 * math.log10(4 * math.pi * range_km * 1e3 * f_hz / 299_792_458.0)
    k_dbw = 10 * math.log10(1.380_649e-23)  # Boltzmann, dBW/K/Hz
    return eirp - fsl - 5.0 + g_t - k_dbw - 10 * math.log10(rate)


@functools.cache
def _day_of_windows() -> list[ContactWindow]:
    """A day of the default node's passes (every link here flies the same orbit)."""
    return contact_windows(CircularOrbit(day_of_year=172.0), DEFAULT_STATIONS, 0.0, 86_400.0)


def _pass(link: SimRfLink) -> tuple[float, float, str]:
    """A long pass of one station alone: (start, end, station)."""
    wins = _day_of_windows()
    for w in wins:
        others = [o for o in wins if o is not w and o.start_s < w.end_s and o.end_s > w.start_s]
        if w.duration_s > 600.0 and not others and w.max_elevation_deg > 40.0:
            return w.start_s, w.end_s, w.station
    raise AssertionError("no lone pass")


def test_delay_and_bit_error_rate_follow_the_slant_range() -> None:
    link = _link()
    start, end, name = _pass(link)
    station = next(s for s in DEFAULT_STATIONS if s.name == name)
    for t in np.linspace(start + 1.0, end - 1.0, 9):
        state = link.link_state(float(t))
        el = elevation_deg(link.sc.orbit, station, float(t))
        rng = slant_range_km(750.0, el, station.alt_m / 1000.0)
        assert state.station == name
        assert state.range_km == pytest.approx(rng, rel=1e-6)
        assert state.delay_s == pytest.approx(rng / C_KM_S, rel=1e-6)
        ebn0 = _ebn0_by_hand(rng, 2.0, 15.0, 2.25e9, 2e6)
        assert state.ber_down == pytest.approx(0.5 * math.erfc(math.sqrt(10 ** (ebn0 / 10))))
        ebn0_up = _ebn0_by_hand(rng, 50.0, -27.0, 2.05e9, 64e3)
        assert state.ber_up == pytest.approx(0.5 * math.erfc(math.sqrt(10 ** (ebn0_up / 10))))
    low, high = link.link_state(start + 1.0), link.link_state(0.5 * (start + end))
    assert low.ber_down > 1e-6 > high.ber_down  # errors near the horizon, none overhead
    assert 8e-3 < low.delay_s < 9.5e-3 and high.delay_s < low.delay_s


def test_bits_flipped_match_the_budget_near_the_horizon() -> None:
    link = _link()
    start, _end, _name = _pass(link)
    link.sc.t_s = start + 2.0  # the radio only looks at the spacecraft's clock
    ber = link.link_state().ber_down
    frame = bytes(1115)
    n = 3000
    before = link.bits_flipped
    for _ in range(n):
        link._down.clear()  # keep the bounded queue from filling: this is about errors
        assert link.transmit(link._down, frame, down=True)
    flipped = link.bits_flipped - before
    expected = n * len(frame) * 8 * ber
    assert expected > 100
    assert abs(flipped - expected) < 5 * math.sqrt(expected)


def test_out_of_contact_nothing_goes_and_it_is_counted() -> None:
    link = _link()
    start, _end, _name = _pass(link)
    link.sc.t_s = start - 120.0
    assert not link.in_contact()
    assert not link.transmit(link._down, b"x" * 100, down=True)
    assert link.lost_out_of_contact == 1


def test_the_mission_can_pin_errors_and_delay() -> None:
    link = _link(ber_down=0.0, ber_up=0.5, delay_s=0.25)
    start, _end, _name = _pass(link)
    state = link.link_state(start + 1.0)
    assert (state.ber_down, state.ber_up, state.delay_s) == (0.0, 0.5, 0.25)
    with pytest.raises(ValueError):
        _link(ber_down=2.0)
    with pytest.raises(ValueError):
        _link(delay_s=-1.0)
    with pytest.raises(ValueError):
        _link(stations=())


def test_the_nearest_station_in_view_carries_the_link() -> None:
    link = _link()
    wins = _day_of_windows()
    pairs = [
        (a, b)
        for a in wins
        for b in wins
        if a.station < b.station and a.start_s < b.end_s - 60 and b.start_s < a.end_s - 60
    ]
    assert pairs, "overlapping passes (Svalbard and Kiruna) exist"
    a, b = pairs[0]
    t = 0.5 * (max(a.start_s, b.start_s) + min(a.end_s, b.end_s))
    ranges = {}
    for w in (a, b):
        st = next(s for s in DEFAULT_STATIONS if s.name == w.station)
        ranges[w.station] = slant_range_km(
            750.0, elevation_deg(link.sc.orbit, st, t), st.alt_m / 1000.0
        )
    state = link.link_state(t)
    assert state.station == min(ranges, key=ranges.__getitem__)
    assert state.range_km == pytest.approx(min(ranges.values()), rel=1e-6)


def test_contact_summary_per_station() -> None:
    link = _link()
    got = link.contact_summary(0.0, 86_400.0)
    assert got == contacts_by_station(link.sc.orbit, DEFAULT_STATIONS, 0.0, 86_400.0)
    assert set(got) == {s.name for s in DEFAULT_STATIONS}
    assert all(v["count"] >= 4 for v in got.values())


def test_the_flight_radio_status_is_always_what_the_link_says_now() -> None:
    """The status object is reused while nothing in it changed: across a pass, sends in
    and out of contact (drops counted) and a radio outage, it always equals a status
    built afresh from the link."""
    link = _link()
    radio = link.flight
    start, end, _name = _pass(link)
    rng = np.random.default_rng(7)
    seen = set()
    for t in [*np.arange(start - 30.0, start + 60.0, 0.5).tolist(), end + 5.0, end + 30.0]:
        link.sc.t_s = t
        if rng.random() < 0.3:
            radio.send(b"x" * int(rng.integers(1, 2000)))
        if rng.random() < 0.05:
            link.sc.radio_outage_until_s = t + float(rng.uniform(0.0, 5.0))
        fresh = RadioStatus(
            in_contact=link.in_contact() and link.sc.radio_available(),
            downlink_bps=link.downlink_bps,
            uplink_bps=link.uplink_bps,
            tx_dropped=radio.tx_dropped,
            rx_errors=radio.rx_errors,
        )
        assert radio.status() == fresh
        seen.add((fresh.in_contact, fresh.tx_dropped > 0))
    assert seen == {(False, False), (False, True), (True, True)}  # drops before the pass
