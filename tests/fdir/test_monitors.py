import numpy as np

from fdir.monitors import (
    DeltaMonitor,
    ExpectedStateMonitor,
    HeartbeatMonitor,
    LimitMonitor,
    StuckMonitor,
)
from fdir.persistence import NofM


def test_limit_monitor_flags_out_of_range_and_nan() -> None:
    m = LimitMonitor(low=0.0, high=10.0)
    got = m.check(np.array([-1.0, 0.0, 5.0, 10.0, 11.0, np.nan]))
    assert got.tolist() == [True, False, False, False, True, True]
    assert LimitMonitor(high=1.0).check(np.array([-100.0, 2.0])).tolist() == [False, True]


def test_delta_monitor_needs_a_previous_sample() -> None:
    m = DeltaMonitor(max_step=2.0)
    assert not m.check(np.array([0.0, 0.0])).any()
    assert m.check(np.array([1.0, 5.0])).tolist() == [False, True]


def test_stuck_monitor_counts_identical_samples() -> None:
    m = StuckMonitor(samples=3)
    rng = np.random.default_rng(1)
    flags = []
    for _ in range(6):
        noisy = 20.0 + rng.normal(0, 0.05)
        flags.append(m.check(np.array([noisy, 7.25])).tolist())
    assert flags[0] == [False, False] and flags[2] == [False, False]
    assert flags[3] == [False, True] and flags[5] == [False, True]


def test_expected_state() -> None:
    got = ExpectedStateMonitor().check(np.array([True, False]), np.array([True, True]))
    assert got.tolist() == [False, True]


def test_heartbeat_monitor_only_judges_expected_units() -> None:
    m = HeartbeatMonitor(timeout_s=2.0)
    expected = np.array([True, True, False])
    hb = np.array([0, 0, 0])
    assert not m.check(hb, expected, 0.0).any()
    for t in (1.0, 2.0, 3.0):
        hb = hb + np.array([1, 0, 0])
        out = m.check(hb, expected, t)
    assert out.tolist() == [False, True, False]
    out = m.check(hb + np.array([1, 1, 0]), expected, 4.0)
    assert out.tolist() == [False, False, False]


def test_n_of_m_filter() -> None:
    f = NofM(2, 3, units=2)
    seq = [[True, True], [False, False], [True, False], [False, False], [False, False]]
    got = [f.update(np.array(s)).tolist() for s in seq]
    assert got == [[False, False], [False, False], [True, False], [False, False], [False, False]]
    assert NofM(1, 5, 1).update(np.array([True])).tolist() == [True]
    f.update(np.array([True, True]))
    f.reset(np.array([0]))
    assert f.update(np.array([True, True])).tolist() == [False, True]
