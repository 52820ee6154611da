"""Table-driven monitors on any telemetry point (after cFS LC's watchpoints/actionpoints).

Each entry watches one point (``app.point``) against ``[low, high]``; the check itself
is the on-board monitoring engine's (:class:`flightsw.framework.checks.CheckCore`, the one PUS-12
uses): a limit check whose state changes only after ``persist`` consecutive samples give
the same new result (PUS-12's repetition number, both into a violation and back out of
it), and a non-finite or missing value is INVALID, no verdict. A violation is reported
once per episode (``MONITOR_VIOLATION``). In ``report`` mode that is all; in ``active``
mode its response runs too (``MONITOR_ACTION``): ``none`` or ``safe_mode`` — the
response is what FDIR keeps of its own; the check is shared. Mode, response and limits
can be changed by TC (``fdir.set_monitor``). Mission options:

    monitors = [{ id = 1, point = "power.battery_voltage_v", low = 300.0, high = 420.0,
                  persist = 3, mode = "report", action = "none" }]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from flightsw.framework.checks import VIOLATIONS, CheckCore, CheckKind

MODES = {"off": 0, "report": 1, "active": 2}
ACTIONS = {"none": 0, "safe_mode": 1}
MAX_MONITORS = 255
_VIOLATIONS = {int(v) for v in VIOLATIONS}


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


class WatchTable:
    """The monitors by id; :meth:`evaluate` once per sample, on one :class:`CheckCore`."""

    def __init__(self, entries: list[Watch]) -> None:
        self.entries = {w.mid: w for w in entries}
        self.violations = 0
        self._build()

    def _build(self) -> None:
        """The check core of the entries as they are now (rows in ``self.order``)."""
        self.order = list(self.entries.values())
        n = len(self.order)
        self.core = CheckCore(
            kind=[CheckKind.LIMIT] * n,
            low=[w.low for w in self.order],
            high=[w.high for w in self.order],
            mask=[0] * n,
            expected=[0] * n,
            persistence=[w.persist for w in self.order],
            enabled=[w.mode != 0 for w in self.order],
        )

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
        if not self.order:
            return []
        values = np.array(
            [_finite_or_nan(value(w.app, w.point)) if w.mode else math.nan for w in self.order]
        )
        rows, _ = self.core.evaluate(values)
        out = []
        for row in rows.tolist():
            w = self.order[row]
            if int(self.core.state[row]) in _VIOLATIONS:
                self.violations += 1
                out.append((w.mid, float(values[row]), w.action if w.mode == 2 else 0))
        return out

    def set(self, mid: int, mode: int, action: int, low: float, high: float) -> None:
        w = self.entries[mid]
        if not low <= high:
            raise ValueError("low above high")
        if mode not in MODES.values() or action not in ACTIONS.values():
            raise ValueError("unknown mode or action")
        w.mode, w.action, w.low, w.high = mode, action, low, high
        old, kept = self.core, [i for i, x in enumerate(self.order) if x is not w]
        self._build()  # the changed row starts afresh; the others keep their state
        rows = np.array(kept, dtype=np.intp)
        self.core.carry_over(old, rows, rows)


def _finite_or_nan(v: float | None) -> float:
    return math.nan if v is None else float(v)
