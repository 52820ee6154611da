"""Sensor FDIR: a stuck sensor is one frozen while its partner moves, not any still one."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fdir.sensors import SensorFdir
from tools.fake_bench_device import SENSORS, FakeBenchDevice

NAMES = ("battery_a", "battery_b", "avionics_a", "avionics_b", "radiator_a")


def _feed(fdir: SensorFdir, rows: list[list[float]], bms: list[float]) -> list[int]:
    failed: list[int] = []
    for values, b in zip(rows, bms, strict=True):
        failed += fdir.update(values, b, fail_after=10, stuck_n=30)
    return failed


def test_a_bench_emulator_s_constant_thermistors_are_not_stuck() -> None:
    """Was: a 60 s bench run declared the emulator's avionics thermistor failed (it sits
    at exactly 25.0 C: the emulator's zone is still and the sensor has no partner)."""
    t = [0.0]
    dev = FakeBenchDevice(4, seed=3, now_s=lambda: t[0])
    fdir = SensorFdir(SENSORS, with_bms=True, stuck_samples=30)
    failed = []
    for _ in range(120):
        t[0] += 1.0
        dev.model.step(1.0)
        temps = [float(x) for x in dev.model.temps]
        failed += fdir.update(temps, dev.model.battery()[2], fail_after=10, stuck_n=30)
    assert temps[SENSORS.index("avionics_a")] == 25.0  # the still zone of the defect
    assert failed == [] and not fdir.failed


def test_a_frozen_sensor_whose_partner_moves_is_stuck_and_a_still_zone_is_not() -> None:
    rng = np.random.default_rng(7)
    n = 60
    truth = 20.0 + 0.01 * np.arange(n)
    rows = []
    for k in range(n):
        noisy = truth[k] + rng.normal(0.0, 0.05, len(NAMES))
        noisy[1] = 21.0  # battery_b frozen near the truth (the voter cannot see it)
        noisy[2] = noisy[3] = 30.0  # both avionics sensors still: the zone, not a fault
        noisy[4] = -40.0  # radiator_a still, no partner: nothing to judge it by
        rows.append([float(v) for v in noisy])
    fdir = SensorFdir(NAMES, with_bms=True, stuck_samples=30)
    assert _feed(fdir, rows, [float(x) for x in truth]) == [1]
    # the same frozen sensor, its partner failed and the battery's own sensor silent
    fdir = SensorFdir(NAMES, with_bms=True, stuck_samples=30)
    fdir.failed.add(0)
    assert _feed(fdir, rows, [float("nan")] * n) == []


class _NumpyStuck:
    """The numpy form the stuck test had before it became a loop over plain lists (the
    reference the loop must equal, sample by sample)."""

    def __init__(self, fdir: SensorFdir) -> None:
        sources = len(fdir.names) + 1
        self.fdir = fdir
        self.last = np.full(sources, np.nan)
        self.frozen = np.zeros(sources, dtype=np.int64)
        self.moves = np.zeros(sources, dtype=np.int64)
        self.at = np.zeros((sources, sources), dtype=np.int64)

    def stuck(self, now: np.ndarray, stuck_n: int) -> list[int]:
        finite = np.isfinite(now)
        moved = finite & np.isfinite(self.last) & (now != self.last)
        frozen = finite & (now == self.last)
        began = frozen & (self.frozen == 0)
        self.at[began] = self.moves
        self.moves += moved
        self.frozen = np.where(frozen, self.frozen + 1, 0)
        self.last = now.copy()
        out = []
        for i in np.flatnonzero(self.frozen[:-1] >= stuck_n):
            partners = [k for k in self.fdir._partners[i] if k not in self.fdir.failed]
            since = self.moves[partners] - self.at[i, partners]
            if partners and 2 * int(since.max()) >= int(self.frozen[i]):
                out.append(int(i))
        return out


_READING = st.sampled_from([20.0, 21.0, -0.0, 0.0, math.nan, math.inf, -math.inf, 20.5])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(_READING, min_size=len(NAMES) + 1, max_size=len(NAMES) + 1), max_size=30),
    st.integers(min_value=1, max_value=5),
    st.sets(st.integers(min_value=0, max_value=len(NAMES) - 1), max_size=2),
)
def test_the_stuck_test_equals_its_numpy_form(
    rows: list[list[float]], stuck_n: int, failed: set[int]
) -> None:
    """Repeats, signed zeros, NaN and infinities, failed partners: same verdicts, same
    counts, sample by sample."""
    fdir = SensorFdir(NAMES, with_bms=True, stuck_samples=stuck_n)
    fdir.failed.update(failed)
    ref = _NumpyStuck(fdir)
    for row in rows:
        assert fdir._stuck(row, stuck_n) == ref.stuck(np.asarray(row, dtype=np.float64), stuck_n)
        assert fdir._frozen == ref.frozen.tolist() and fdir._moves == ref.moves.tolist()
        assert np.array_equal(np.asarray(fdir._last), ref.last, equal_nan=True)
        assert fdir._moves_at_freeze == ref.at.tolist()
