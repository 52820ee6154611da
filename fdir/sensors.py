"""Temperature sensors: vote redundant ones, declare the bad ones failed.

Sensors are grouped by the name before ``_`` (``battery_a``/``battery_b`` measure one
zone); the battery group also gets the battery's own sensor. Each group has a
:class:`flightsw.apps.sensor_vote.ZoneVoter`; a sensor is declared failed when its
reading is frozen to the bit for ``stuck_samples`` samples, or its voter has found it
suspect (implausibly fast change, out of line with its partners, unusable) for
``fail_after`` samples in a row. The battery temperature FDIR acts on is the battery
group's vote, never one sensor.
"""

from __future__ import annotations

import math

import numpy as np

from fdir.monitors import StuckMonitor
from flightsw.apps.sensor_vote import ZoneVoter

FAST_ZONES = ("coldplate", "radiator", "structure")  # can change by degrees a second
FAST_RATE_C_S = 2.0


class SensorFdir:
    """Groups, voters and the failed set for ``names`` (one reading each per sample)."""

    def __init__(self, names: tuple[str, ...], with_bms: bool, stuck_samples: int) -> None:
        self.names = names
        groups: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            groups.setdefault(n.split("_")[0], []).append(i)
        self.groups = groups
        self.bms_group = "battery" if with_bms and "battery" in groups else ""
        self.voters = {
            g: ZoneVoter(
                len(idx) + (1 if g == self.bms_group else 0),
                max_rate_c_s=FAST_RATE_C_S if g in FAST_ZONES else 0.05,
            )
            for g, idx in groups.items()
        }
        self.stuck = StuckMonitor(stuck_samples, epsilon=0.0)
        self.failed: set[int] = set()
        self.external: set[int] = set()  # under ground control: never declared failed here

    def battery_c(self) -> float:
        v = self.voters.get("battery")
        return v.value if v is not None and not math.isnan(v.value) else -273.0

    def update(self, values: list[float], bms_c: float, fail_after: int, stuck_n: int) -> list[int]:
        """One sample of every sensor; the sensors newly declared failed."""
        newly: list[int] = []
        self.stuck.samples = stuck_n
        stuck = self.stuck.check(np.asarray(values, dtype=np.float64))
        for g, idx in self.groups.items():
            voter = self.voters[g]
            voter.fail_after = fail_after
            readings = [values[i] for i in idx]
            usable = [i not in self.failed for i in idx]
            if g == self.bms_group:
                readings.append(bms_c)
                usable.append(True)
            voter.update(readings, usable)
            for k in voter.failing():
                if k < len(idx) and idx[k] not in self.failed:
                    newly.append(idx[k])
        newly += [int(i) for i in np.flatnonzero(stuck) if int(i) not in self.failed]
        out = sorted({i for i in newly if i not in self.external})
        self.failed.update(out)
        return out
