"""Persistence filters: a fault is declared when a monitor fails N of the last M samples.

One filter serves an array of units; the history is a bit mask per unit, so the cost
is a few array operations whatever M is (M <= 63).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class NofM:
    """True for a unit once at least ``n`` of its last ``m`` samples failed."""

    def __init__(self, n: int, m: int, units: int) -> None:
        if not 1 <= n <= m <= 63:
            raise ValueError(f"N of M needs 1 <= N <= M <= 63, got {n} of {m}")
        self.n = n
        self.m = m
        self._mask = np.uint64((1 << m) - 1)
        self.history = np.zeros(units, dtype=np.uint64)
        self._any = False  # some unit has a failed sample in its window

    def update(self, failed: NDArray[np.bool_]) -> NDArray[np.bool_]:
        if self.n == 1:
            # 1 of M: a failed sample declares at once; no history needed.
            return failed
        if not self._any and not np.count_nonzero(failed):
            return failed  # all clear, nothing remembered: the common case, kept cheap
        h = (self.history << np.uint64(1)) | failed.astype(np.uint64)
        self.history = h & self._mask
        self._any = bool(self.history.any())
        out: NDArray[np.bool_] = _popcount(self.history) >= self.n
        return out

    def reset(self, units: NDArray[np.bool_] | NDArray[np.intp]) -> None:
        self.history[units] = 0


def _popcount(x: NDArray[np.uint64]) -> NDArray[np.int64]:
    """Set bits per element (SWAR; numpy < 2.0 has no bitwise_count)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return ((x * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)
