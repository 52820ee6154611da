"""The set of devices a flight build runs on, as handed to apps.

A backend (``sim``, ``serial:PORT``) fills one of these. Apps reach hardware only
through the interfaces in ``hal.interfaces``: the executive hands each app the handles of
the devices it declared (``flightsw.framework.ports``), never this object. ``devices`` holds only
flight devices; what advances simulated hardware (``stepper``) and what runners, scoring
and test equipment reach (``harness``: the simulated spacecraft, the RF link and its
ground end, a bench's serial line) are kept apart from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hal.interfaces import Clock, Watchdog
from hal.samples import SampleCounter


@dataclass
class Hal:
    """Devices of one flight build: the clock, the watchdog and named devices."""

    backend: str
    clock: Clock
    watchdog: Watchdog
    nv: Any = None  # a hal.nvstore store (FileNvStore on benches, MemoryNvStore in SIL)
    devices: dict[str, object] = field(default_factory=dict)  # flight devices by name
    # Advances simulated hardware to a frame's time (hal.sim's SimHardware); None on real
    # hardware, which advances by itself.
    stepper: Callable[[int], None] | None = None
    # For runners, scoring and test equipment only, never handed to an app: "sim" (the
    # simulated spacecraft), "rf_link", "ground_link", a bench's "link" and "port".
    harness: dict[str, Any] = field(default_factory=dict)
    # Why the computer last started (a reset-cause register): power_on, watchdog, command.
    reset_cause: str = "power_on"
    # Non-finite values the devices refused or blanked (hal.samples), by reading kind.
    samples: SampleCounter = field(default_factory=SampleCounter)

    def step(self, now_ns: int) -> None:
        """Advance simulated hardware to ``now_ns``; real backends do nothing here."""
        stepper = self.stepper
        if stepper is not None:
            stepper(now_ns)
