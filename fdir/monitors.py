"""Monitors: tests applied to one value or to an array of units at once.

Each ``check`` returns a boolean array, True where the unit is out of its expected
behaviour this sample. Monitors hold only what they need from the previous sample;
persistence over several samples is the job of :mod:`fdir.persistence`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass
class LimitMonitor:
    """Out of [low, high] (either bound may be None)."""

    low: float | None = None
    high: float | None = None

    def check(self, value: FloatArray) -> BoolArray:
        bad = np.zeros(value.shape, dtype=bool)
        if self.low is not None:
            bad |= value < self.low
        if self.high is not None:
            bad |= value > self.high
        return bad | np.isnan(value)


@dataclass
class DeltaMonitor:
    """Changed by more than ``max_step`` since the previous sample."""

    max_step: float
    _last: FloatArray | None = field(default=None, repr=False)

    def check(self, value: FloatArray) -> BoolArray:
        last = self._last
        self._last = value.copy()
        if last is None or last.shape != value.shape:
            return np.zeros(value.shape, dtype=bool)
        return np.abs(value - last) > self.max_step


@dataclass
class StuckMonitor:
    """Not changed by more than ``epsilon`` for ``samples`` samples in a row.

    For sensors whose readings always carry some noise: a reading frozen to the bit
    is a failed sensor or a dead converter.
    """

    samples: int
    epsilon: float = 0.0
    _last: FloatArray | None = field(default=None, repr=False)
    _same: NDArray[np.int64] | None = field(default=None, repr=False)

    def check(self, value: FloatArray) -> BoolArray:
        if self._last is None or self._last.shape != value.shape:
            self._last = value.copy()
            self._same = np.zeros(value.shape, dtype=np.int64)
            return np.zeros(value.shape, dtype=bool)
        assert self._same is not None
        same = np.abs(value - self._last) <= self.epsilon
        self._same = np.where(same, self._same + 1, 0)
        self._last = value.copy()
        return self._same >= self.samples


@dataclass
class ExpectedStateMonitor:
    """Differs from the commanded state (e.g. a switch that should be closed reads open)."""

    def check(self, actual: BoolArray, expected: BoolArray) -> BoolArray:
        out: BoolArray = np.not_equal(actual, expected)
        return out


@dataclass
class HeartbeatMonitor:
    """A counter that should advance and has not for longer than ``timeout_s``.

    Only units marked ``expected`` (powered, not in recovery) are judged; a unit that
    was not expected restarts its clock.
    """

    timeout_s: float
    _last: NDArray[np.int64] | None = field(default=None, repr=False)
    _since: FloatArray | None = field(default=None, repr=False)

    def check(self, counter: NDArray[np.int64], expected: BoolArray, now_s: float) -> BoolArray:
        if self._last is None or self._last.shape != counter.shape:
            self._last = counter.copy()
            self._since = np.full(counter.shape, now_s)
            return np.zeros(counter.shape, dtype=bool)
        assert self._since is not None
        moved = (counter != self._last) | ~expected
        self._since = np.where(moved, now_s, self._since)
        self._last = counter.copy()
        return expected & (now_s - self._since > self.timeout_s)
