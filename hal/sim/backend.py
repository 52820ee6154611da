"""Builds the simulated HAL from a mission's [hal] table.

Today the simulated hardware is the watchdog timer; the orbit, power, thermal,
accelerator-board and radio models join here as sim_hw grows.
"""

from __future__ import annotations

from typing import Any

from hal.backend import Hal
from hal.clocks import SimClock
from hal.interfaces import Clock
from hal.nvstore import MemoryNvStore
from hal.sim.watchdog import SimWatchdog

NS_PER_S = 1_000_000_000


class SimHardware:
    """Steps every simulated device to the executive's frame time."""

    def __init__(self, watchdog: SimWatchdog) -> None:
        self.watchdog = watchdog
        self.watchdog_expiries = 0

    def __call__(self, now_ns: int) -> None:
        if self.watchdog.expired():
            self.watchdog_expiries += 1


def build_sim_hal(config: dict[str, Any], seed: int, clock: Clock | None = None) -> Hal:
    """A Hal whose devices are sim_hw models seeded from ``seed``."""
    clk = clock if clock is not None else SimClock()
    timeout_s = float(config.get("watchdog_timeout_s", 5.0))
    watchdog = SimWatchdog(clk, int(timeout_s * NS_PER_S))
    hw = SimHardware(watchdog)
    return Hal(
        backend="sim",
        clock=clk,
        watchdog=watchdog,
        nv=MemoryNvStore(),
        devices={"_stepper": hw, "sim": hw},
    )
