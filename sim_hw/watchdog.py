"""A hardware watchdog timer model: expires when not kicked within its timeout."""

from __future__ import annotations


class WatchdogTimer:
    """Counts kicks and expiries against simulated time supplied by the caller."""

    def __init__(self, timeout_ns: int) -> None:
        if timeout_ns <= 0:
            raise ValueError("watchdog timeout must be positive")
        self.timeout_ns = timeout_ns
        self.last_kick_ns = 0
        self.kicks = 0
        self.expiries = 0

    def kick(self, now_ns: int) -> None:
        self.last_kick_ns = now_ns
        self.kicks += 1

    def check(self, now_ns: int) -> bool:
        """True (and counted) when the timer has run out since the last kick."""
        if now_ns - self.last_kick_ns > self.timeout_ns:
            self.expiries += 1
            self.last_kick_ns = now_ns
            return True
        return False
