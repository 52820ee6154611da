"""The monitoring engine's core: limit, expected-value and delta checks over arrays.

One row per check. :meth:`CheckCore.evaluate` takes this sample's values (a float64
array, one per row: a telemetry point, or one unit of an array of boards) and returns
the rows whose *check state* changed, with their previous states. Each state change
needs ``persistence`` consecutive samples giving the same new result (PUS-12's
repetition number), so one noisy sample changes nothing. A non-finite value is
``INVALID`` (no limit is judged on it); a disabled row is ``UNCHECKED`` at once.

It is plain numpy with no knowledge of apps or telemetry: PUS-12 (``flightsw.services.
monitoring``) feeds it telemetry points; FDIR's per-board monitors can feed it board
arrays (one row per board and check) and keep their own responses.

* ``LIMIT``: ``low <= v <= high`` (either side may be infinite).
* ``EXPECTED``: ``int(v) & mask == expected``.
* ``DELTA``: ``low <= v - previous <= high`` between consecutive samples; the first
  sample (and the first after an invalid one) only sets ``previous``.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray


class CheckKind(IntEnum):
    LIMIT = 1
    EXPECTED = 2
    DELTA = 3


class CheckState(IntEnum):
    """PUS-12 checking status of one row."""

    UNCHECKED = 0
    INVALID = 1
    OK = 2  # within limits / expected value / within thresholds
    BELOW_LOW = 3
    ABOVE_HIGH = 4
    UNEXPECTED = 5


VIOLATIONS = frozenset({CheckState.BELOW_LOW, CheckState.ABOVE_HIGH, CheckState.UNEXPECTED})
_U8 = np.uint8


class CheckCore:
    """Vectors of check definitions and their running state (persistence, previous)."""

    def __init__(
        self,
        kind: NDArray[np.integer] | list[int],
        low: NDArray[np.floating] | list[float],
        high: NDArray[np.floating] | list[float],
        mask: NDArray[np.integer] | list[int],
        expected: NDArray[np.integer] | list[int],
        persistence: NDArray[np.integer] | list[int],
        enabled: NDArray[np.bool_] | list[bool],
    ) -> None:
        self.kind = np.asarray(kind, dtype=np.int8)
        n = self.kind.size
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        self.mask = np.asarray(mask, dtype=np.int64)
        self.expected = np.asarray(expected, dtype=np.int64)
        self.persistence = np.maximum(np.asarray(persistence, dtype=np.int32), 1)
        self.enabled = np.asarray(enabled, dtype=bool).copy()
        for name in ("low", "high", "mask", "expected", "persistence", "enabled"):
            if getattr(self, name).shape != (n,):
                raise ValueError(
                    f"check core: {name} has {getattr(self, name).size} rows, want {n}"
                )
        self.state = np.zeros(n, dtype=_U8)
        self.candidate = np.zeros(n, dtype=_U8)
        self.count = np.zeros(n, dtype=np.int32)
        self.previous = np.full(n, np.nan)
        self.last_value = np.full(n, np.nan)
        self._limit = np.flatnonzero(self.kind == CheckKind.LIMIT)
        self._expected = np.flatnonzero(self.kind == CheckKind.EXPECTED)
        self._delta = np.flatnonzero(self.kind == CheckKind.DELTA)
        self.samples = 0

    def __len__(self) -> int:
        return int(self.kind.size)

    def __bool__(self) -> bool:
        return True  # a core with no rows is still a core

    def carry_over(
        self, old: CheckCore, old_rows: NDArray[np.intp], new_rows: NDArray[np.intp]
    ) -> None:
        """Keep the running state of rows that survive a redefinition (same check)."""
        for name in ("state", "candidate", "count", "previous", "last_value"):
            getattr(self, name)[new_rows] = getattr(old, name)[old_rows]

    def evaluate(self, values: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.uint8]]:
        """Judge one sample; returns (rows whose state changed, their previous states)."""
        self.samples += 1
        v = values
        raw = np.full(v.size, CheckState.OK, dtype=_U8)
        finite = np.isfinite(v)
        rows = self._limit
        if rows.size:
            x = v[rows]
            raw[rows[x < self.low[rows]]] = CheckState.BELOW_LOW
            raw[rows[x > self.high[rows]]] = CheckState.ABOVE_HIGH
        rows = self._expected
        if rows.size:
            xi = np.where(finite[rows], v[rows], 0.0).astype(np.int64)
            bad = (xi & self.mask[rows]) != self.expected[rows]
            raw[rows[bad]] = CheckState.UNEXPECTED
        rows = self._delta
        if rows.size:
            prev = self.previous[rows]
            d = v[rows] - prev
            raw[rows[d < self.low[rows]]] = CheckState.BELOW_LOW
            raw[rows[d > self.high[rows]]] = CheckState.ABOVE_HIGH
            first = np.isnan(prev)
            raw[rows[first]] = self.state[rows[first]]  # no delta yet: keep the state
            self.previous[rows] = v[rows]  # NaN after an invalid sample: starts again
        raw[~finite] = CheckState.INVALID
        raw[~self.enabled] = CheckState.UNCHECKED
        same = raw == self.candidate
        self.count = np.where(same, self.count + 1, 1).astype(np.int32)
        self.candidate = raw
        change = (raw != self.state) & ((self.count >= self.persistence) | ~self.enabled)
        self.last_value = v
        idx = np.flatnonzero(change)
        before = self.state[idx]
        self.state[idx] = raw[idx]
        return idx, before
