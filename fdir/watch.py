"""Table-driven monitors on any telemetry point (after cFS LC's watchpoints/actionpoints).

Each entry watches one point (``app.point``) against ``[low, high]``; ``persist``
samples out of limits in a row make a violation, reported once per episode
(``MONITOR_VIOLATION``). In ``report`` mode that is all; in ``active`` mode its
response runs too (``MONITOR_ACTION``): ``none`` or ``safe_mode``. Mode, response and
limits can be changed by TC (``fdir.set_monitor``), so PUS-12 (monitoring) and PUS-19
(event-action) services can be built on this table later. Mission options:

    monitors = [{ id = 1, point = "power.battery_voltage_v", low = 300.0, high = 420.0,
                  persist = 3, mode = "report", action = "none" }]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODES = {"off": 0, "report": 1, "active": 2}
ACTIONS = {"none": 0, "safe_mode": 1}
MAX_MONITORS = 255


@dataclass
class Watch:
    mid: int
    app: str
    point: str
    low: float = -math.inf
    high: float = math.inf
    persist: int = 1
    mode: int = 1
    action: int = 0
    count: int = 0
    violating: bool = False


class WatchTable:
    """The monitors by id; :meth:`evaluate` once per sample."""

    def __init__(self, entries: list[Watch]) -> None:
        self.entries = {w.mid: w for w in entries}
        self.violations = 0

    @classmethod
    def from_options(cls, raw: list[dict[str, Any]]) -> WatchTable:
        """Monitors from mission options; errors name the entry and key."""
        out = []
        for i, e in enumerate(raw):
            where = f"FDIR monitors[{i}]"
            bad = set(e) - {"id", "point", "low", "high", "persist", "mode", "action"}
            if bad:
                raise ValueError(f"{where}: unknown key {sorted(bad)[0]!r}")
            app, _, point = str(e.get("point", "")).partition(".")
            if not app or not point:
                raise ValueError(f"{where}.point: need app.point")
            mid = int(e.get("id", i + 1))
            if not 1 <= mid <= MAX_MONITORS:
                raise ValueError(f"{where}.id: 1..{MAX_MONITORS}")
            if str(e.get("mode", "report")) not in MODES:
                raise ValueError(f"{where}.mode: one of {sorted(MODES)}")
            if str(e.get("action", "none")) not in ACTIONS:
                raise ValueError(f"{where}.action: one of {sorted(ACTIONS)}")
            out.append(
                Watch(
                    mid,
                    app,
                    point,
                    float(e.get("low", -math.inf)),
                    float(e.get("high", math.inf)),
                    max(1, int(e.get("persist", 1))),
                    MODES[str(e.get("mode", "report"))],
                    ACTIONS[str(e.get("action", "none"))],
                )
            )
        return cls(out)

    def evaluate(self, value: Callable[[str, str], float | None]) -> list[tuple[int, float, int]]:
        """(monitor, value, action to take or 0) for each new violation this sample."""
        out = []
        for w in self.entries.values():
            if w.mode == 0:
                continue
            v = value(w.app, w.point)
            if v is None:
                continue
            bad = math.isnan(v) or not w.low <= v <= w.high
            w.count = w.count + 1 if bad else 0
            if w.count >= w.persist and not w.violating:
                w.violating = True
                self.violations += 1
                out.append((w.mid, v, w.action if w.mode == 2 else 0))
            elif not bad:
                w.violating = False
        return out

    def set(self, mid: int, mode: int, action: int, low: float, high: float) -> None:
        w = self.entries[mid]
        if not low <= high:
            raise ValueError("low above high")
        if mode not in MODES.values() or action not in ACTIONS.values():
            raise ValueError("unknown mode or action")
        w.mode, w.action, w.low, w.high = mode, action, low, high
        w.count, w.violating = 0, False
