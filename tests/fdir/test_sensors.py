"""Sensor FDIR: a stuck sensor is one frozen while its partner moves, not any still one."""

from __future__ import annotations

import numpy as np

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
