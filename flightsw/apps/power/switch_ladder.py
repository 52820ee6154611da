"""Recovery ladder for PCDU switches that trip: retry with back-off, isolate on repeats.

A switch trips on overcurrent: a transient (a load's inrush, a short that burnt open)
clears, a lasting short does not. After a trip the switch waits ``retry_s`` (doubled for
each trip still in the window), its latch is reset and, if the power app wants it on,
it is closed again. A switch that trips ``isolate_n`` times within ``window_s`` is
isolated (left open, FAULTY) unless it is critical (never left off by software: it keeps
being retried, at the longest back-off). A switch under EXTERNAL_CONTROL is left to the
ground; FAULTY and PERMANENT_FAULTY ones stay open until commanded HEALTHY.

Health codes are FDIR's (``fdir.health.Health``): 0 healthy, 1 faulty, 2 needs recovery,
3 permanently faulty, 4 external control.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

HEALTHY, FAULTY, NEEDS_RECOVERY, PERMANENT_FAULTY, EXTERNAL_CONTROL = range(5)
MAX_BACKOFF = 6  # retry_s * 2**6 at most


@dataclass
class LadderAction:
    """What the ladder asks of the power app this step."""

    retry: list[int]  # reset the latch (and close the switch if wanted on)
    isolated: list[int]  # just isolated (left open)


class SwitchLadder:
    def __init__(self, names: tuple[str, ...], critical: set[str]) -> None:
        self.names = names
        self.critical = [n in critical for n in names]
        self.health = [HEALTHY] * len(names)
        self.retry_at = [0.0] * len(names)
        self.trips: list[deque[float]] = [deque(maxlen=32) for _ in names]

    def tripped(
        self, i: int, now_s: float, retry_s: float, isolate_n: int, window_s: float
    ) -> bool:
        """A new trip of switch ``i``; True when it is isolated by it."""
        if self.health[i] in (EXTERNAL_CONTROL, FAULTY, PERMANENT_FAULTY):
            return False
        times = self.trips[i]
        times.append(now_s)
        recent = sum(1 for t in times if now_s - t <= window_s)
        if recent >= isolate_n and not self.critical[i]:
            self.health[i] = FAULTY
            return True
        self.health[i] = NEEDS_RECOVERY
        self.retry_at[i] = now_s + retry_s * 2 ** min(recent - 1, MAX_BACKOFF)
        return False

    def due(self, now_s: float) -> list[int]:
        """Switches whose retry is due now (they go back to HEALTHY)."""
        if NEEDS_RECOVERY not in self.health:
            return []  # nothing waits for a retry (the usual step)
        out = []
        for i, h in enumerate(self.health):
            if h == NEEDS_RECOVERY and now_s >= self.retry_at[i]:
                self.health[i] = HEALTHY
                out.append(i)
        return out

    def command(self, i: int, health: int) -> None:
        """The ground's (through FDIR's health table) decision for switch ``i``."""
        self.health[i] = health
        if health == HEALTHY:
            self.trips[i].clear()

    def may_close(self, i: int) -> bool:
        return self.health[i] not in (FAULTY, PERMANENT_FAULTY)
