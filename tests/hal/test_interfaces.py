"""BoardTelemetry's derived statistics are, bit for bit, the expressions they stand for."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.interfaces import HOT_MASKS_KEPT, BoardTelemetry

TEMPS = st.one_of(st.floats(-50.0, 150.0), st.just(math.nan), st.just(math.inf))


def board_tel(powered: list[bool], temps: list[float], power: list[float]) -> BoardTelemetry:
    n = len(powered)
    zeros = np.zeros(n, dtype=np.int64)
    return BoardTelemetry(
        powered=np.array(powered, dtype=bool),
        current_a=np.zeros(n),
        power_w=np.array(power[:n] + [0.0] * (n - len(power[:n]))),
        temperature_c=np.array(temps[:n] + [20.0] * (n - len(temps[:n]))),
        ecc_corrected=zeros,
        ecc_uncorrectable=zeros.copy(),
        heartbeat=zeros.copy(),
        work_done=np.zeros(n),
    )


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or np.float64(a).tobytes() == np.float64(b).tobytes()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.booleans(), min_size=0, max_size=40),
    st.lists(TEMPS, max_size=40),
    st.lists(st.one_of(st.floats(0.0, 400.0), st.just(math.nan)), max_size=40),
    st.lists(st.one_of(st.floats(-50.0, 150.0), st.just(math.nan)), min_size=1, max_size=6),
)
def test_statistics_equal_their_defining_expressions(
    powered: list[bool], temps: list[float], power: list[float], thresholds: list[float]
) -> None:
    tel = board_tel(powered, temps, power)
    temp, on = tel.temperature_c, tel.powered
    read = on & ~np.isnan(temp)
    assert tel.n_powered == int(np.count_nonzero(on))
    np.testing.assert_array_equal(tel.powered_read, read)
    assert tel.n_powered_read == int(np.count_nonzero(read))
    assert same(tel.max_powered_temp_c, float(np.max(temp, where=read, initial=-np.inf)))
    assert same(tel.sum_powered_temp_c, float(np.sum(temp, where=read)))
    measured = float(tel.power_w.sum())
    if math.isnan(measured):
        measured = float(np.nansum(tel.power_w))
    assert same(tel.total_power_w, measured)
    for thr in thresholds + thresholds[::-1]:  # asked again: from the kept masks
        hot = on & (temp > thr)
        np.testing.assert_array_equal(tel.hot_mask(thr), hot)
        assert tel.any_hot(thr) == bool(hot.any())
    assert len(tel._hot_masks) <= HOT_MASKS_KEPT


def test_statistics_are_kept_read_only_and_belong_to_their_snapshot() -> None:
    tel = board_tel([True, True, False], [30.0, 95.0, 120.0], [100.0, 200.0, 0.0])
    assert tel.max_powered_temp_c == 95.0 and tel.any_hot(90.0) and not tel.any_hot(95.0)
    assert tel.hot_mask(90.0) is tel.hot_mask(90.0)
    assert not tel.hot_mask(90.0).flags.writeable and not tel.powered_read.flags.writeable
    # A new snapshot (another instant's arrays) computes its own statistics.
    cooler = replace(tel, temperature_c=np.array([30.0, 40.0, 120.0]))
    assert cooler.max_powered_temp_c == 40.0 and not cooler.any_hot(90.0)
    assert not cooler.hot_mask(90.0).any() and tel.hot_mask(90.0).any()
    assert tel.sum_powered_temp_c == 125.0 and cooler.sum_powered_temp_c == 70.0
    assert tel.total_power_w == 300.0 and tel.n_powered == 2
