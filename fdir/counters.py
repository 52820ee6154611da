"""Fault counters: a unit that faults ``n`` times within ``window_s`` is declared faulty.

One counter serves an array of units and keeps only each unit's last ``n`` fault times
(a ring), so the cost does not grow with how often units fault. ``n`` and the window are
FDIR parameters; the counter reads them at every record, so a change takes effect at once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

MAX_N = 32


class FaultCounter:
    """Per-unit fault times; ``record`` says which units reached n faults in the window."""

    def __init__(self, units: int) -> None:
        self.times = np.full((units, MAX_N), -np.inf)
        self.head = np.zeros(units, dtype=np.intp)

    def record(
        self, idx: NDArray[np.intp], now_s: float, n: int, window_s: float
    ) -> NDArray[np.bool_]:
        """Count a fault now on each unit of ``idx``; True where the unit has had ``n``
        faults (this one included) within ``window_s``."""
        n = max(1, min(int(n), MAX_N))
        if not idx.size:
            return np.zeros(0, dtype=bool)
        self.times[idx, self.head[idx] % MAX_N] = now_s
        self.head[idx] += 1
        recent = (now_s - self.times[idx]) <= window_s
        out: NDArray[np.bool_] = recent.sum(axis=1) >= n
        return out

    def clear(self, idx: NDArray[np.intp]) -> None:
        self.times[idx] = -np.inf
