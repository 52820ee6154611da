"""The frame schedule, computed once at load.

A major frame holds ``minor_per_major`` minor frames. An app running at ``rate_hz``
runs every ``period`` minor frames, where period = minor frame rate / app rate must be
a whole number that divides the major frame or is a whole number of major frames.
Offsets spread apps of the same period over different minor frames so no frame carries
every slow app at once.

The table covers the hyperperiod (the least common multiple of the periods), so it is
bounded: a period, and the hyperperiod, may not exceed ``MAX_HYPERPERIOD`` minor
frames. A rate such as 1e-7 Hz, or periods whose multiple grows with every app (30, 70,
110 ... minor frames), is refused with the app named instead of building a table of
millions of frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flightsw.base.errors import FlightswError

MAX_HYPERPERIOD = 100_000  # minor frames (10,000 s at 10 Hz); the table holds one list each


class ScheduleError(FlightswError):
    """An app rate that does not fit the frame structure; ``app`` names the app."""

    def __init__(self, app: str, reason: str) -> None:
        self.app = app
        self.reason = reason
        super().__init__(f"{app}: {reason}")


@dataclass(frozen=True)
class Slot:
    """When one app runs: every ``period`` minor frames, starting at ``offset``."""

    name: str
    period: int
    offset: int


def period_for(name: str, rate_hz: float, minor_hz: float, minor_per_major: int) -> int:
    """Minor frames between two runs of an app at ``rate_hz``; ScheduleError if none fits."""
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ScheduleError(name, f"rate {rate_hz} Hz must be a positive number")
    if rate_hz > minor_hz:
        raise ScheduleError(name, f"rate {rate_hz} Hz exceeds the minor frame rate {minor_hz}")
    exact = minor_hz / rate_hz
    if exact > MAX_HYPERPERIOD:
        raise ScheduleError(
            name,
            f"rate {rate_hz:g} Hz is one run every {exact:.4g} minor frames; the slowest is one "
            f"every {MAX_HYPERPERIOD} ({minor_hz / MAX_HYPERPERIOD:g} Hz)",
        )
    period = round(exact)
    if abs(exact - period) > 1e-9 * exact:
        raise ScheduleError(
            name,
            f"rate {rate_hz:g} Hz is not the minor frame rate {minor_hz:g} Hz divided by "
            "a whole number",
        )
    if minor_per_major % period and period % minor_per_major:
        raise ScheduleError(
            name,
            f"period of {period} minor frames neither divides the major frame "
            f"({minor_per_major}) nor is a multiple of it",
        )
    return period


def build_schedule(
    apps: list[tuple[str, float, float]], minor_hz: float, minor_per_major: int
) -> tuple[list[Slot], list[list[int]]]:
    """Place apps (name, rate_hz, cost) into minor frames.

    Returns the slots (in input order) and the table: for each minor frame of the
    hyperperiod, the indices of the apps due in it, in input order.
    """
    if not (math.isfinite(minor_hz) and minor_hz > 0) or minor_per_major < 1:
        raise ScheduleError("executive", "minor_frame_hz must be > 0 and minor_per_major >= 1")
    if minor_per_major > MAX_HYPERPERIOD:
        raise ScheduleError("executive", f"minor_per_major above {MAX_HYPERPERIOD}")
    periods = [period_for(n, r, minor_hz, minor_per_major) for n, r, _ in apps]
    hyper = minor_per_major
    for (name, rate, _), p in zip(apps, periods, strict=True):
        hyper = math.lcm(hyper, p)
        if hyper > MAX_HYPERPERIOD:
            raise ScheduleError(
                name,
                f"rate {rate:g} Hz (every {p} minor frames) makes the schedule repeat only "
                f"every {hyper} minor frames (at most {MAX_HYPERPERIOD}): choose rates "
                "whose periods divide one another",
            )
    load = [0.0] * hyper
    offsets = [0] * len(apps)
    # Place slow apps first: they have the most freedom and the biggest effect on peaks.
    for i in sorted(range(len(apps)), key=lambda i: (-periods[i], i)):
        p, cost = periods[i], apps[i][2]
        best, best_peak = 0, math.inf
        for off in range(p):
            peak = max(load[f] for f in range(off, hyper, p))
            if peak < best_peak - 1e-12:
                best, best_peak = off, peak
        offsets[i] = best
        for f in range(best, hyper, p):
            load[f] += cost
    table: list[list[int]] = [[] for _ in range(hyper)]
    for i, (p, off) in enumerate(zip(periods, offsets, strict=True)):
        for f in range(off, hyper, p):
            table[f].append(i)
    slots = [Slot(apps[i][0], periods[i], offsets[i]) for i in range(len(apps))]
    return slots, table
