"""Health of every unit FDIR looks after: boards, switches, sensors, apps.

After fsfw's health table: a unit is HEALTHY, FAULTY (out of service, the ground may
bring it back), NEEDS_RECOVERY (FDIR is recovering it), PERMANENT_FAULTY (out of service
for good: FDIR never brings it back, only a command does) or EXTERNAL_CONTROL (the ground
drives it: FDIR still reports what it sees but takes no action on it). Every change is
announced (``HEALTH_CHANGED``), commanded or not.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray


class Health(IntEnum):
    HEALTHY = 0
    FAULTY = 1
    NEEDS_RECOVERY = 2
    PERMANENT_FAULTY = 3
    EXTERNAL_CONTROL = 4


class UnitKind(IntEnum):
    BOARD = 0
    SWITCH = 1
    SENSOR = 2
    APP = 3


class HealthTable:
    """One health array per kind of unit; :meth:`set` returns what changed."""

    def __init__(self, counts: dict[UnitKind, int]) -> None:
        self.health = {k: np.zeros(n, dtype=np.int8) for k, n in counts.items()}

    def of(self, kind: UnitKind) -> NDArray[np.int8]:
        return self.health[kind]

    def set(
        self, kind: UnitKind, idx: NDArray[np.intp], health: Health | NDArray[np.int8]
    ) -> list[tuple[int, int]]:
        """Set units' health; the (unit, new health) pairs that changed."""
        arr = self.health[kind]
        new = np.asarray(health, dtype=np.int8)
        if new.shape != idx.shape:  # one health for every unit named
            new = np.broadcast_to(new, idx.shape)
        changed = arr[idx] != new
        if not changed.any():
            return []
        idx, new = idx[changed], new[changed]
        arr[idx] = new
        return [(int(i), int(h)) for i, h in zip(idx, new, strict=True)]
