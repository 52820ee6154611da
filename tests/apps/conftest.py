"""A small node for app tests: the default mission with few boards and no background jobs."""

from __future__ import annotations

from typing import Any

from flightsw.mission import load_mission
from flightsw.testing import SilHarness


def small_node(boards: int = 16, workload: bool = False, **spacecraft: Any) -> SilHarness:
    m = load_mission()
    m.hal = {**m.hal, "spacecraft": {**m.hal.get("spacecraft", {}), "boards": boards, **spacecraft}}
    if not workload:
        for spec in m.apps:
            if spec.name == "payload":
                spec.options = {k: v for k, v in spec.options.items() if k != "workload"}
    return SilHarness(m)
