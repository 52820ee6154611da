"""Temperature sensors: vote redundant ones, declare the bad ones failed.

Sensors are grouped by the name before ``_`` (``battery_a``/``battery_b`` measure one
zone); the battery group also gets the battery's own sensor. Each group has a
:class:`flightsw.apps.shared.sensor_vote.ZoneVoter`; a sensor is declared failed when its
voter has found it suspect (implausibly fast change, out of line with its partners,
unusable) for ``fail_after`` samples in a row, or when it is stuck: its reading frozen
to the bit for ``stuck_samples`` samples while a redundant partner of its group (a
usable sensor, or the battery's own sensor) kept moving through most of that time. A
reading that is merely constant is not a failure by itself: a zone can sit still (a
bench emulator's avionics plate, a quantizing converter at equilibrium), and a sensor
with no partner cannot be told from a still zone. The battery temperature FDIR acts on
is the battery group's vote, never one sensor.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from flightsw.apps.shared.sensor_vote import ZoneVoter

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
        self.stuck_samples = stuck_samples
        # Stuck detection: per source (the sensors, then the battery's own sensor) the
        # last reading, samples frozen in a row, samples it moved in (cumulative), and
        # per sensor the partners' move counts when its freeze began.
        sources = len(names) + 1
        self._last = np.full(sources, np.nan)
        self._frozen = np.zeros(sources, dtype=np.int64)
        self._moves = np.zeros(sources, dtype=np.int64)
        self._moves_at_freeze = np.zeros((sources, sources), dtype=np.int64)
        self._partners = [
            [k for k in groups[name.split("_")[0]] if k != i]
            + ([len(names)] if name.split("_")[0] == self.bms_group else [])
            for i, name in enumerate(names)
        ]
        self.failed: set[int] = set()
        self.external: set[int] = set()  # under ground control: never declared failed here

    def battery_c(self) -> float:
        v = self.voters.get("battery")
        return v.value if v is not None and not math.isnan(v.value) else -273.0

    def update(self, values: list[float], bms_c: float, fail_after: int, stuck_n: int) -> list[int]:
        """One sample of every sensor; the sensors newly declared failed."""
        newly: list[int] = []
        stuck = self._stuck(np.asarray([*values, bms_c], dtype=np.float64), stuck_n)
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
        newly += [i for i in stuck if i not in self.failed]
        out = sorted({i for i in newly if i not in self.external})
        self.failed.update(out)
        return out

    def _stuck(self, now: NDArray[np.float64], stuck_n: int) -> list[int]:
        """Sensors frozen for ``stuck_n`` samples while a partner moved in at least half
        of them (the last entry of ``now`` is the battery's own sensor)."""
        last = self._last
        finite = np.isfinite(now)
        moved = finite & np.isfinite(last) & (now != last)
        frozen = finite & (now == last)
        began = frozen & (self._frozen == 0)  # a freeze starts: partners' counts before it
        self._moves_at_freeze[began] = self._moves
        self._moves += moved
        self._frozen = np.where(frozen, self._frozen + 1, 0)
        self._last = now.copy()
        out = []
        for i in np.flatnonzero(self._frozen[:-1] >= stuck_n):
            partners = [k for k in self._partners[i] if k not in self.failed]
            since = self._moves[partners] - self._moves_at_freeze[i, partners]
            if partners and 2 * int(since.max()) >= int(self._frozen[i]):
                out.append(int(i))
        return out
