"""A paced (wall) clock whose host time is a counter the test owns: deterministic."""

from __future__ import annotations

from hal.clocks import WallClock


def fake_wall_clock(start_ns: int = 0) -> WallClock:
    """A WallClock (``paced``) whose sleeps advance a fake monotonic time at once."""
    now = {"t": 0}

    def mono() -> int:
        return now["t"]

    def sleep(seconds: float) -> None:
        now["t"] += max(1, int(seconds * 1e9))

    return WallClock(start_ns, monotonic_ns=mono, sleep=sleep)
