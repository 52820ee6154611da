"""hal.interfaces.Watchdog over the sim_hw watchdog timer model."""

from __future__ import annotations

from hal.interfaces import Clock
from sim_hw.watchdog import WatchdogTimer


class SimWatchdog:
    """Kicks the simulated timer at the current simulated time."""

    def __init__(self, clock: Clock, timeout_ns: int) -> None:
        self._clock = clock
        self.timer = WatchdogTimer(timeout_ns)
        self.timer.last_kick_ns = clock.now_ns()

    def kick(self) -> None:
        self.timer.kick(self._clock.now_ns())

    @property
    def timeout_ns(self) -> int:
        return self.timer.timeout_ns

    def expired(self) -> bool:
        return self.timer.check(self._clock.now_ns())
