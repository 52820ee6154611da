"""A small node for app tests: the default mission with few boards (the harness runs no
ground workload: jobs come only from what a test sends, or ``busy``)."""

from __future__ import annotations

import struct
from typing import Any

from flightsw.runtime.mission import load_mission
from flightsw.sil.harness import SilHarness

_JOB = struct.Struct(">fBIf")  # work hours, priority, deadline s (0: none), checkpoint s


def small_node(boards: int = 16, busy: int = 0, **spacecraft: Any) -> SilHarness:
    """A node of ``boards`` boards; ``busy`` long jobs (an hour each) submitted at start."""
    m = load_mission()
    m.hal = {**m.hal, "spacecraft": {**m.hal.get("spacecraft", {}), "boards": boards, **spacecraft}}
    h = SilHarness(m)
    if busy:
        jobs = b"".join(_JOB.pack(1.0, 1, 0, 60.0) for _ in range(busy))
        h.send_and_assert_command("payload.submit_jobs", app_data=struct.pack(">H", busy) + jobs)
    return h
