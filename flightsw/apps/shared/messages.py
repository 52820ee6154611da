"""Software-bus messages the flight apps exchange (ids and payload types).

Power and thermal publish limits; the payload app obeys them. FDIR publishes which
boards are out of service. Every payload is a small frozen dataclass so a subscriber
cannot change what another subscriber sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flightsw.framework import msgids

POWER_BUDGET = 0x0010
THERMAL_CAPS = 0x0011
BOARD_AVAILABILITY = 0x0012
PAYLOAD_STATUS = 0x0013
SAFE_MODE = msgids.SAFE_MODE  # a framework id: core services slow down in safe mode too
SENSOR_HEALTH = 0x0015
SWITCH_STATUS = 0x0016
SWITCH_HEALTH_REQUEST = 0x0017


@dataclass(frozen=True)
class PowerBudget:
    """What the payload may draw in total, and the load-shedding level behind it."""

    payload_w: float
    shed_level: int
    soc: float


@dataclass(frozen=True)
class ThermalCaps:
    """Per-board power caps from thermal control (NaN: no thermal limit on that board)."""

    cap_w: NDArray[np.float64]
    hot_boards: int


@dataclass(frozen=True)
class BoardAvailability:
    """Boards FDIR has taken out of service (isolated or recovering); the payload avoids them."""

    unavailable: NDArray[np.bool_]
    reason: str = ""


@dataclass(frozen=True)
class PayloadStatus:
    """What the payload draws now, for power accounting."""

    power_w: float
    boards_busy: int


@dataclass(frozen=True)
class SafeMode:
    """FDIR's safe mode: payload off, minimum loads, until the ground says otherwise."""

    active: bool
    reason: str = ""


@dataclass(frozen=True)
class SensorHealth:
    """Temperature sensors FDIR has declared failed (by index); thermal control skips them."""

    failed: frozenset[int]


@dataclass(frozen=True)
class SwitchStatus:
    """The power app's PCDU switches: health (FDIR's codes) and whether each conducts."""

    names: tuple[str, ...]
    health: tuple[int, ...]
    conducting: tuple[bool, ...]


@dataclass(frozen=True)
class SwitchHealthRequest:
    """FDIR passing on a commanded switch health to the power app, which owns the PCDU."""

    switch: int
    health: int
