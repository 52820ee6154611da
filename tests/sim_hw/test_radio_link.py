"""Radio link: slant range and budget against closed forms, BPSK BER, bit-error statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim_hw.environment import DEFAULT_STATIONS, elevation_deg, station_position_eci_km
from sim_hw.orbit import R_EARTH_KM, CircularOrbit
from sim_hw.radio_link import (
    _ERFC,
    BOLTZMANN_DBW_PER_K_HZ,
    S_BAND_DOWNLINK,
    BitErrorChannel,
    LinkBudget,
    bpsk_ber,
    free_space_loss_db,
    propagation_delay_s,
    slant_range_km,
)

Z999 = 3.29


def test_slant_range_limits_and_geometry() -> None:
    assert slant_range_km(750.0, 90.0) == pytest.approx(750.0)
    horizon = math.sqrt((R_EARTH_KM + 750.0) ** 2 - R_EARTH_KM**2)
    assert slant_range_km(750.0, 0.0) == pytest.approx(horizon)
    ranges = slant_range_km(750.0, np.array([5.0, 10.0, 45.0, 90.0]))
    assert np.all(np.diff(ranges) < 0)
    assert float(ranges[0]) == pytest.approx(2675.0, abs=1.0)
    with pytest.raises(ValueError):
        slant_range_km(0.0, 10.0)


def test_slant_range_agrees_with_orbit_geometry() -> None:
    orbit = CircularOrbit()
    station = DEFAULT_STATIONS[0]
    t = np.linspace(0.0, 6000.0, 300)
    el = elevation_deg(orbit, station, t)
    visible = el > 0.0
    dist = np.linalg.norm(
        orbit.position_eci_km(t) - station_position_eci_km(station, orbit, t), axis=-1
    )
    alt_km = station.alt_m / 1000.0
    np.testing.assert_allclose(slant_range_km(750.0, el[visible], alt_km), dist[visible], rtol=1e-9)


def test_free_space_loss_and_link_budget_by_hand() -> None:
    # 1000 km at 2 GHz: 20 log10(4 pi 1e6 m * 2e9 / c) = 158.46 dB.
    assert free_space_loss_db(1000.0, 2e9) == pytest.approx(158.46, abs=0.01)
    assert math.isclose(BOLTZMANN_DBW_PER_K_HZ, -228.6, abs_tol=0.01)
    link = LinkBudget(
        eirp_dbw=10.0, g_over_t_dbk=5.0, frequency_hz=2e9, data_rate_bps=1e5, losses_db=2.0
    )
    expected = 10.0 - 158.46 - 2.0 + 5.0 + 228.6 - 50.0
    assert link.ebn0_db(1000.0) == pytest.approx(expected, abs=0.02)
    # Doubling the range costs 6.02 dB; ten times the data rate costs 10 dB.
    assert link.ebn0_db(1000.0) - link.ebn0_db(2000.0) == pytest.approx(6.0206, abs=1e-3)
    faster = LinkBudget(10.0, 5.0, 2e9, 1e6, 2.0)
    assert link.ebn0_db(1000.0) - faster.ebn0_db(1000.0) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        LinkBudget(0.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        free_space_loss_db(0.0, 1e9)


def test_example_link_has_errors_near_the_horizon_only() -> None:
    low = S_BAND_DOWNLINK.ber(slant_range_km(750.0, 5.0))
    high = S_BAND_DOWNLINK.ber(slant_range_km(750.0, 60.0))
    assert 1e-5 < low < 1e-2
    assert high < 1e-12


def test_bpsk_ber_known_points() -> None:
    assert bpsk_ber(-1000.0) == pytest.approx(0.5)
    # Textbook: BER 1e-5 needs Eb/N0 ~ 9.6 dB; at 0 dB BER is 0.0786.
    assert bpsk_ber(9.6) == pytest.approx(1e-5, rel=0.05)
    assert bpsk_ber(0.0) == pytest.approx(0.0786, abs=1e-4)
    arr = bpsk_ber(np.array([0.0, 4.0, 8.0, 12.0]))
    assert arr.shape == (4,) and np.all(np.diff(arr) < 0)


@settings(max_examples=2000)
@given(
    st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-30.0, max_value=60.0)
    | st.sampled_from([3079.0, 3090.0, -3.5e5, 0.0, -0.0])
)
def test_bpsk_ber_of_one_value_is_the_array_paths_to_the_bit(ebn0_db: float) -> None:
    """One value through ``math`` gives the float numpy gave for it as a 0-d array (the
    path the radio took before), NaN included: the link's bit errors stay as they were.
    (Longer arrays may take numpy's SIMD loops, which can differ in the last bit.)"""
    one = bpsk_ber(ebn0_db)
    with np.errstate(over="ignore"):
        ebn0 = 10.0 ** (np.asarray(ebn0_db, dtype=np.float64) / 10.0)
        numpy_0d = float(np.asarray(0.5 * _ERFC(np.sqrt(ebn0))))
    assert type(one) is float
    assert (math.isnan(one) and math.isnan(numpy_0d)) or one == numpy_0d


def test_propagation_delay() -> None:
    assert propagation_delay_s(299_792.458) == pytest.approx(1.0)
    assert propagation_delay_s(750.0) == pytest.approx(2.5e-3, rel=1e-3)
    with pytest.raises(ValueError):
        propagation_delay_s(-1.0)


def test_zero_ber_leaves_data_unchanged() -> None:
    ch = BitErrorChannel(np.random.default_rng(0))
    data = bytes(range(256)) * 4
    assert ch.corrupt(data, 0.0) == (data, 0)
    assert ch.corrupt(b"", 0.3) == (b"", 0)
    out, n = ch.corrupt(data, 1.0)
    assert n == 8 * len(data)
    assert out == bytes(b ^ 0xFF for b in data)


@pytest.mark.parametrize("ber", [1e-4, 1e-2, 0.3])
def test_flipped_bit_count_matches_ber(ber: float) -> None:
    ch = BitErrorChannel(np.random.default_rng(17))
    data = bytes(np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8))
    total = 0
    for _ in range(20):
        out, n = ch.corrupt(data, ber)
        diff = np.unpackbits(np.frombuffer(out, np.uint8) ^ np.frombuffer(data, np.uint8))
        assert int(diff.sum()) == n  # the count returned is the real Hamming distance
        total += n
    bits = 20 * 8 * len(data)
    sd = math.sqrt(bits * ber * (1 - ber))
    assert abs(total - bits * ber) <= Z999 * sd
    assert ch.bits_flipped == total and ch.bits_seen == bits and ch.frames == 20


def test_flips_are_spread_over_bit_positions() -> None:
    ch = BitErrorChannel(np.random.default_rng(3))
    data = bytes(100_000)
    out, n = ch.corrupt(data, 0.01)
    per_bit = np.unpackbits(np.frombuffer(out, np.uint8)).reshape(-1, 8).sum(axis=0)
    expected = n / 8
    # Chi-square with 7 dof: 99.9% quantile is 24.3.
    assert float(np.sum((per_bit - expected) ** 2 / expected)) < 24.3


def test_same_seed_same_corruption() -> None:
    data = bytes(range(200))
    a = BitErrorChannel(np.random.default_rng(5)).corrupt(data, 0.05)
    b = BitErrorChannel(np.random.default_rng(5)).corrupt(data, 0.05)
    c = BitErrorChannel(np.random.default_rng(6)).corrupt(data, 0.05)
    assert a == b and a != c


@settings(max_examples=50)
@given(st.binary(max_size=300), st.floats(0.0, 1.0))
def test_corrupt_keeps_length_and_counts_exactly(data: bytes, ber: float) -> None:
    out, n = BitErrorChannel(np.random.default_rng(0)).corrupt(data, ber)
    assert len(out) == len(data)
    diff = np.frombuffer(out, np.uint8) ^ np.frombuffer(data, np.uint8)
    assert int(np.unpackbits(diff).sum()) == n


def test_bad_ber_is_rejected() -> None:
    ch = BitErrorChannel(np.random.default_rng(0))
    for ber in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            ch.corrupt(b"abc", ber)
