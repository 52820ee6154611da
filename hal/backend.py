"""The set of devices a flight build runs on, as handed to apps.

A backend (``sim``, later ``serial:PORT`` and ``udp``) fills one of these. Apps reach
hardware only through the interfaces in ``hal.interfaces``.
"""

from __future__ import annotations

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
    devices: dict[str, Any] = field(default_factory=dict)
    # Why the computer last started (a reset-cause register): power_on, watchdog, command.
    reset_cause: str = "power_on"
    # Non-finite values the devices refused or blanked (hal.samples), by reading kind.
    samples: SampleCounter = field(default_factory=SampleCounter)

    def step(self, now_ns: int) -> None:
        """Advance simulated hardware to ``now_ns``; real backends do nothing here."""
        stepper = self.devices.get("_stepper")
        if stepper is not None:
            stepper(now_ns)
