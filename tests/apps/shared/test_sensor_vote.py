"""Zone voting: one bad sensor never moves the zone's value; the zone itself may move."""

from __future__ import annotations

import math

import numpy as np

from flightsw.apps.shared.sensor_vote import ZoneVoter


def _run(v: ZoneVoter, rows: list[list[float]]) -> list[float]:
    return [v.update(r) for r in rows]


def test_a_stuck_high_sensor_is_outvoted_at_once_and_reported() -> None:
    v = ZoneVoter(3)
    rng = np.random.default_rng(1)
    rows = [[20.0 + rng.normal(0, 0.05) for _ in range(3)] for _ in range(20)]
    rows += [[120.0, 20.0 + rng.normal(0, 0.05), 20.0] for _ in range(15)]
    out = _run(v, rows)
    assert all(abs(x - 20.0) < 0.3 for x in out)
    assert v.failing() == [0]


def test_two_sensors_one_drifting_fast_the_other_is_used() -> None:
    v = ZoneVoter(2)
    rows = [[25.0, 25.0] for _ in range(12)]
    rows += [[25.0 + 0.5 * k, 25.0] for k in range(1, 40)]
    out = _run(v, rows)
    assert max(abs(x - 25.0) for x in out) < 1.5
    assert v.suspect == [True, False] and v.failing() == [0]


def test_all_sources_moving_together_is_the_zone_not_a_fault() -> None:
    v = ZoneVoter(3)
    _run(v, [[15.0, 15.1, 14.9] for _ in range(12)])
    assert _run(v, [[70.0, 70.1, 69.9]])[-1] == 70.0
    assert not any(v.suspect)


def test_unusable_readings_and_nothing_left_hold_the_last_value() -> None:
    v = ZoneVoter(2)
    _run(v, [[10.0, 10.0]] * 3)
    assert v.update([math.nan, 500.0]) == 10.0
    assert v.update([11.0, 11.0], usable=[False, True]) == 11.0
    assert ZoneVoter(1).update([math.nan]) != ZoneVoter(1).update([math.nan])  # NaN: nothing yet


def test_a_suspect_that_agrees_again_for_a_window_is_trusted_again() -> None:
    v = ZoneVoter(3, window=5)
    _run(v, [[20.0, 20.0, 20.0]] * 6)
    _run(v, [[40.0, 20.0, 20.0]] * 3)
    assert v.suspect[0]
    _run(v, [[20.0, 20.0, 20.0]] * 6)
    assert not v.suspect[0]
