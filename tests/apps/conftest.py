"""A small node for app tests: the default mission with few boards (the harness runs no
ground workload: jobs come only from what a test sends)."""

from __future__ import annotations

from typing import Any

from flightsw.mission import load_mission
from flightsw.testing import SilHarness


def small_node(boards: int = 16, **spacecraft: Any) -> SilHarness:
    m = load_mission()
    m.hal = {**m.hal, "spacecraft": {**m.hal.get("spacecraft", {}), "boards": boards, **spacecraft}}
    return SilHarness(m)
