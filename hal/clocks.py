"""Clocks that satisfy hal.interfaces.Clock.

SimClock steps as fast as the CPU allows (software-in-the-loop); WallClock paces
frames against the host's monotonic clock (hardware-in-the-loop benches). The wall
clock takes its time source and sleep function as arguments so tests can drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SimClock:
    """Simulated time: ``wait_until`` jumps straight to the requested instant."""

    paced = False  # host timing never shows in simulated time

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def wait_until(self, t_ns: int) -> None:
        if t_ns > self._now:
            self._now = t_ns

    def advance(self, dt_ns: int) -> None:
        self._now += dt_ns


class WallClock:
    """On-board time that follows the host's monotonic clock from construction."""

    paced = True  # a step that runs long on the host makes the frame late for real

    def __init__(
        self,
        start_ns: int = 0,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._mono = monotonic_ns
        self._sleep = sleep
        self._offset = start_ns - monotonic_ns()

    def now_ns(self) -> int:
        return self._mono() + self._offset

    def reset(self, t_ns: int) -> None:
        """Make on-board time ``t_ns`` now (so set-up time before the first frame is not
        counted as frames already late)."""
        self._offset = t_ns - self._mono()

    def wait_until(self, t_ns: int) -> None:
        while True:
            remaining = t_ns - self.now_ns()
            if remaining <= 0:
                return
            self._sleep(remaining / 1e9)
