"""One temperature a zone can trust, from its redundant sensors.

A zone has two or more sources (thermistors, and the battery's own sensor where there
is one). Each sample, per source: a reading outside the physical range or NaN is
unusable; a source whose reading moved faster than the zone can physically change
(``max_rate_c_s``, judged over ``window`` samples, so a jump or a runaway drift) while
the other sources did not follow becomes suspect, and stays suspect until it agrees
with the others again for ``window`` samples (all sources moving together is the zone
changing, not a sensor failing). The zone's value is the median of the sources not
suspect (the mean of two that agree; the one nearer the last value when two disagree);
with none left, the last value is held. A source suspect for ``fail_after`` samples in
a row is reported, so FDIR can declare it failed. A single bad sensor therefore never
moves the value the apps act on: no false zone alarm, no safe mode from one thermistor.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

VALID_RANGE_C = (-120.0, 200.0)


@dataclass
class ZoneVoter:
    """Votes one zone's sources; ``update`` once per sample (1 Hz)."""

    sources: int
    max_rate_c_s: float = 0.05  # faster than a battery or avionics zone can change
    noise_c: float = 0.5  # allowance for sensor noise over the window
    agree_c: float = 2.0  # sources this close agree
    window: int = 10
    fail_after: int = 10
    value: float = math.nan
    suspect: list[bool] = field(default_factory=list)
    suspect_for: list[int] = field(default_factory=list)
    agreeing_for: list[int] = field(default_factory=list)
    _history: list[deque[float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.sources
        self.suspect = [False] * n
        self.suspect_for = [0] * n
        self.agreeing_for = [0] * n
        self._history = [deque(maxlen=self.window + 1) for _ in range(n)]

    def update(self, readings: list[float], usable: list[bool] | None = None) -> float:
        """The zone's value from this sample's readings (``usable`` False: excluded, e.g.
        a sensor FDIR declared failed)."""
        lo, hi = VALID_RANGE_C  # (a NaN fails the range test too)
        if usable is None:
            ok = [lo <= r <= hi for r in readings]
        else:
            ok = [u and lo <= r <= hi for u, r in zip(usable, readings, strict=True)]
        history, suspect = self._history, self.suspect
        rate, noise = self.max_rate_c_s, self.noise_c
        for i, r in enumerate(readings):
            h = history[i]
            if not ok[i]:
                h.clear()
                continue
            h.append(r)
            k = len(h)
            fast = k > 1 and abs(r - h[0]) > rate * (k - 1) + noise
            if fast and not self._with_others(i, r, readings, ok):
                suspect[i] = True  # moved faster than the zone can, on its own
        if True in suspect:
            trusted = [r for i, r in enumerate(readings) if ok[i] and not suspect[i]]
        elif False in ok:
            trusted = [r for i, r in enumerate(readings) if ok[i]]
        else:
            trusted = list(readings)
        value = self._vote(trusted)
        if value == value:  # (not NaN)
            self.value = value
        v = self.value
        known = v == v
        agree_c, window = self.agree_c, self.window
        agreeing, suspect_for = self.agreeing_for, self.suspect_for
        for i, r in enumerate(readings):
            a = agreeing[i] + 1 if ok[i] and known and abs(r - v) <= agree_c else 0
            agreeing[i] = a
            if suspect[i] and a >= window:
                suspect[i] = False  # back in line with the others for a while
            suspect_for[i] = suspect_for[i] + 1 if suspect[i] or not ok[i] else 0
        return self.value

    def _with_others(self, i: int, r: float, readings: list[float], ok: list[bool]) -> bool:
        """Whether the other usable sources read about the same (then a fast change is the
        zone's, not this sensor's)."""
        others = sorted(x for k, x in enumerate(readings) if k != i and ok[k])
        if not others:
            return False
        n = len(others)
        mid = others[n // 2] if n % 2 else (others[n // 2 - 1] + others[n // 2]) / 2.0
        return abs(r - mid) <= self.agree_c

    def _vote(self, trusted: list[float]) -> float:
        if not trusted:
            return self.value  # nothing to trust: hold the last value
        s = sorted(trusted)
        n = len(s)
        if n >= 3:
            return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0
        if n == 2 and abs(s[0] - s[1]) > self.agree_c and not math.isnan(self.value):
            return min(s, key=lambda r: abs(r - self.value))
        return sum(s) / n

    def failing(self) -> list[int]:
        """Sources suspect or unusable for ``fail_after`` samples in a row."""
        return [i for i, n in enumerate(self.suspect_for) if n >= self.fail_after]
