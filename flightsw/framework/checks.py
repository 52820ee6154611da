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
# Plain ints on the hot path: numpy compares and stores an IntEnum several times slower.
_UNCHECKED, _INVALID, _OK, _BELOW_LOW, _ABOVE_HIGH, _UNEXPECTED = 0, 1, 2, 3, 4, 5


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
        # Rows of one kind as a slice when they are contiguous (an owner that groups its
        # rows by kind gets views instead of gathers on the hot path).
        self._expected = _rows(self.kind == CheckKind.EXPECTED)
        self._delta = _rows(self.kind == CheckKind.DELTA)
        self._n_expected = _count(self._expected, n)
        self._n_delta = _count(self._delta, n)
        self._all_enabled = bool(self.enabled.all())
        self._ok = np.full(n, _OK, dtype=_U8)
        self._mask_e = self.mask[self._expected]
        self._expected_e = self.expected[self._expected]
        ranged = self.kind != CheckKind.EXPECTED
        self._lo = np.where(ranged, self.low, -np.inf)
        self._hi = np.where(ranged, self.high, np.inf)
        self.samples = 0

    def __len__(self) -> int:
        return int(self.kind.size)

    def __bool__(self) -> bool:
        return True  # a core with no rows is still a core

    def set_enabled(self, rows: NDArray[np.intp] | list[int], on: bool) -> None:
        """Enable or disable rows (a disabled row is UNCHECKED from its next sample)."""
        self.enabled[rows] = on
        self._all_enabled = bool(self.enabled.all())

    def carry_over(
        self, old: CheckCore, old_rows: NDArray[np.intp], new_rows: NDArray[np.intp]
    ) -> None:
        """Keep the running state of rows that survive a redefinition (same check)."""
        for name in ("state", "candidate", "count", "previous", "last_value"):
            getattr(self, name)[new_rows] = getattr(old, name)[old_rows]

    def evaluate(self, values: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.uint8]]:
        """Judge one sample; returns (rows whose state changed, their previous states).

        The steady state (every result equal to the current state) costs a handful of
        array operations: persistence counts matter only where a result differs."""
        self.samples += 1
        v = np.asarray(values, dtype=np.float64)
        finite = bool(np.isfinite(v).all())
        subject = v
        delta = self._delta
        if self._n_delta:
            subject = v.copy()
            prev = self.previous[delta].copy()
            subject[delta] = v[delta] - prev
            self.previous[delta] = v[delta]
        # OK (2), BELOW_LOW (3) or ABOVE_HIGH (4); expected-value rows have infinite bounds.
        raw = self._ok.copy()  # (masked stores: uint8 arithmetic is several times slower)
        raw[subject < self._lo] = _BELOW_LOW
        raw[subject > self._hi] = _ABOVE_HIGH
        rows = self._expected
        if self._n_expected:
            x = v[rows]
            xi = (x if finite else np.where(np.isfinite(x), x, 0.0)).astype(np.int64)
            bad = (xi & self._mask_e) != self._expected_e
            if bad.any():
                sub = raw[rows]
                sub[bad] = _UNEXPECTED
                raw[rows] = sub
        if self._n_delta and np.isnan(prev.sum()):
            first = np.isnan(prev)
            sub = raw[delta]
            sub[first] = self.state[delta][first]  # no delta yet: keep the state
            raw[delta] = sub
        if not finite:
            invalid = ~np.isfinite(v)
            raw[invalid] = _INVALID
            if self._n_delta:  # an invalid sample restarts the delta
                p = self.previous[delta]
                p[invalid[delta]] = np.nan
                self.previous[delta] = p
        enabled = self.enabled
        all_enabled = self._all_enabled
        if not all_enabled:
            raw[~enabled] = _UNCHECKED
        self.last_value = v
        state = self.state
        differ = raw != state
        if not differ.any():
            # Counts are read only where a result differs from the state; such a row's
            # next differing result starts its count afresh (it differs from candidate).
            self.candidate = raw
            return _NO_ROWS, _NO_STATES
        same = raw == self.candidate
        count = self.count + 1
        count[~same] = 1
        self.count = count
        self.candidate = raw
        change = differ & (count >= self.persistence)
        if not all_enabled:
            change |= differ & ~enabled
        idx = np.flatnonzero(change)
        before = state[idx]
        state[idx] = raw[idx]
        return idx, before


def _rows(which: NDArray[np.bool_]) -> slice | NDArray[np.intp]:
    idx = np.flatnonzero(which)
    if idx.size and idx[-1] - idx[0] + 1 == idx.size:
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx if idx.size else slice(0, 0)


def _count(rows: slice | NDArray[np.intp], n: int) -> int:
    if isinstance(rows, slice):
        return len(range(*rows.indices(n)))
    return int(rows.size)


_NO_ROWS = np.zeros(0, dtype=np.intp)
_NO_STATES = np.zeros(0, dtype=_U8)
