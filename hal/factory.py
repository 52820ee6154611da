"""Chooses a HAL backend by name (``sim`` today; ``serial:PORT`` and ``udp`` to come)."""

from __future__ import annotations

from typing import Any

from hal.backend import Hal
from hal.interfaces import Clock


class HalError(Exception):
    """A HAL backend that cannot be built (unknown name, bad settings)."""


BACKENDS = ("sim",)


def build_hal(config: dict[str, Any], seed: int, clock: Clock | None = None) -> Hal:
    backend = str(config.get("backend", "sim"))
    if backend == "sim":
        from hal.sim.backend import build_sim_hal

        return build_sim_hal(config, seed, clock)
    raise HalError(f"unknown HAL backend {backend!r}; available: {', '.join(BACKENDS)}")
