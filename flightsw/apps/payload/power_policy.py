"""How many boards may run jobs within the power budget, and at what cap: admission
with hysteresis, so that the payload never flaps between powering boards and shedding
them.

The budget is what the power app publishes (the payload's whole draw, idle boards
included); thermal control caps hot boards on top. A board does the most work per watt
at full power (its idle draw is paid whatever it does), so new boards are admitted only
while every running board could still get full power within the budget less a margin.
When the budget falls, the running boards share it first (lower caps, the same boards);
boards are shed only when a board's share stays below ``min_w`` for ``shed_after``
steps (at once when the budget is gone), and then down to the count that fits at full
power, so the next admission needs the budget to grow well past where it fell. After
a shed nothing is admitted for ``hold_s``. Between the two thresholds nothing changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class PowerLimits:
    """A board's power levels and the admission policy's thresholds."""

    max_w: float = 350.0
    idle_w: float = 40.0
    min_w: float = 150.0  # below this share a running board is shed
    margin: float = 0.05  # of the budget kept free when admitting
    shed_after: int = 2  # steps of a share below min_w before shedding
    hold_s: float = 30.0  # no admission this long after a shed


class AdmissionPolicy:
    """Decides the number of boards that run jobs, step by step."""

    def __init__(self) -> None:
        self.deficit_steps = 0
        self.last_shed_ns: int | None = None
        self.sheds = 0

    def target(
        self, running: int, wanted: int, budget_w: float, now_ns: int, lim: PowerLimits
    ) -> int:
        """Boards that should run jobs: ``running`` now, ``wanted`` with the queue."""
        if budget_w <= 0.0:
            if running:
                self._shed(now_ns)
            return 0
        fits_full = self.fits_at_full(budget_w, lim)
        if running and budget_w / running < lim.min_w:
            self.deficit_steps += 1
            if self.deficit_steps >= lim.shed_after:
                self._shed(now_ns)
                return min(running, fits_full)
            return running
        self.deficit_steps = 0
        held = self.last_shed_ns is not None and now_ns - self.last_shed_ns < lim.hold_s * NS_PER_S
        if wanted > running and not held:
            return max(running, min(wanted, fits_full))
        return running

    @staticmethod
    def fits_at_full(budget_w: float, lim: PowerLimits) -> int:
        if math.isinf(budget_w):
            return 1 << 30
        return max(0, int(budget_w * (1.0 - lim.margin) // lim.max_w))

    @staticmethod
    def spares(budget_w: float, running: int, wanted_spares: int, lim: PowerLimits) -> int:
        """Idle boards that can be kept warm within the budget beside ``running`` at full."""
        if math.isinf(budget_w):
            return wanted_spares
        room = budget_w * (1.0 - lim.margin) - running * lim.max_w
        if room <= 0.0 or lim.idle_w <= 0.0:
            return wanted_spares if room > 0.0 else 0
        return max(0, min(wanted_spares, int(room // lim.idle_w)))

    @staticmethod
    def share_w(budget_w: float, running: int, idle_boards: int, lim: PowerLimits) -> float:
        """Each running board's power cap from the budget (before thermal caps)."""
        if running == 0 or math.isinf(budget_w):
            return lim.max_w
        share = (budget_w - lim.idle_w * idle_boards) / running
        return min(lim.max_w, max(share, 0.0))

    def _shed(self, now_ns: int) -> None:
        self.deficit_steps = 0
        self.last_shed_ns = now_ns
        self.sheds += 1
