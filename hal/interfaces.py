"""Device interfaces the flight software sees, as typing.Protocol.

Flight code depends only on these; a backend (simulated, serial bench, UDP radio)
provides objects that satisfy them. Nothing here knows about sim_hw.

Numbers: every float a device hands over is finite, or NaN where one unit of a per-unit
reading (a thermistor, a switch current, one board's value) is missing. A scalar reading
with a non-finite field is refused whole with ``hal.samples.InvalidSample``. Every
backend applies that rule and counts what it refused or blanked (``Hal.samples``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray


@runtime_checkable
class Clock(Protocol):
    """Monotonic on-board time in integer nanoseconds since the mission epoch.

    The executive never reads the host's time directly: a simulated clock jumps to the
    next frame at once, a wall clock sleeps until it.

    ``paced`` says which: True when on-board time follows the host's time, so a step
    that takes long on the host makes the frame late for real (an overrun is a fault);
    False on a simulated clock, where host timing must not reach anything deterministic.
    """

    @property
    def paced(self) -> bool: ...

    def now_ns(self) -> int: ...

    def wait_until(self, t_ns: int) -> None:
        """Return once on-board time has reached ``t_ns`` (at once if already past)."""
        ...


@runtime_checkable
class Watchdog(Protocol):
    """A hardware watchdog that resets the computer unless kicked in time."""

    def kick(self) -> None: ...

    @property
    def timeout_ns(self) -> int: ...


@runtime_checkable
class NonVolatileStore(Protocol):
    """Byte storage that survives a processor reset (MRAM/flash behind a file system)."""

    def read(self, name: str) -> bytes | None: ...

    def write(self, name: str, data: bytes) -> None: ...

    def append(self, name: str, data: bytes) -> None: ...


# --- power -------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchTelemetry:
    """State of every PCDU switch, in the order of ``PowerDistribution.switch_names``."""

    on: tuple[bool, ...]
    current_a: tuple[float, ...]
    tripped: tuple[bool, ...]


@runtime_checkable
class PowerDistribution(Protocol):
    """PCDU: named load switches with current sensing and overcurrent trips."""

    def switch_names(self) -> tuple[str, ...]: ...

    def set_switch(self, name: str, on: bool) -> None: ...

    def reset_trip(self, name: str) -> None: ...

    def read_switches(self) -> SwitchTelemetry: ...


@dataclass(frozen=True)
class BatteryTelemetry:
    """What a battery's sensors report (current > 0 is charging)."""

    voltage_v: float
    current_a: float
    temperature_c: float


@dataclass(frozen=True)
class SolarArrayTelemetry:
    """Array output as its sensors report it."""

    voltage_v: float
    current_a: float
    sun_sensor: float  # cosine of the sun angle, 0 in eclipse


@runtime_checkable
class Battery(Protocol):
    def read_battery(self) -> BatteryTelemetry: ...


@runtime_checkable
class SolarArray(Protocol):
    def read_solar_array(self) -> SolarArrayTelemetry: ...


# --- thermal -----------------------------------------------------------------------


@runtime_checkable
class TemperatureSensors(Protocol):
    """Named thermistors; a failed sensor may read stuck or out of range."""

    def sensor_names(self) -> tuple[str, ...]: ...

    def read_temperatures_c(self) -> tuple[float, ...]: ...


@runtime_checkable
class Heaters(Protocol):
    """Heaters per thermal zone."""

    def heater_names(self) -> tuple[str, ...]: ...

    def set_heater(self, name: str, on: bool) -> None: ...

    def read_heaters(self) -> tuple[bool, ...]: ...


@dataclass(frozen=True)
class ThermalLoopTelemetry:
    """The cold-plate cooling loop as its sensors report it."""

    valve_open: float  # bypass valve position: 0 radiator bypassed .. 1 fully open


@runtime_checkable
class ThermalLoop(Protocol):
    """A cooling loop from the cold plate to the radiator (read-only: its valve is
    thermostatic, so flight software watches it but does not command it)."""

    def read_loop(self) -> ThermalLoopTelemetry: ...


# --- payload -----------------------------------------------------------------------


HOT_MASKS_KEPT = 4  # thresholds whose hot mask a snapshot keeps (FDIR, thermal x2, spare)


@dataclass(frozen=True)
class BoardTelemetry:
    """Accelerator-board telemetry as arrays, one element per board.

    Only what a board controller really reports: no ground truth such as "latched up";
    the flight software infers faults from current, heartbeat and ECC counters.
    """

    powered: NDArray[np.bool_]
    current_a: NDArray[np.float64]
    power_w: NDArray[np.float64]
    temperature_c: NDArray[np.float64]
    ecc_corrected: NDArray[np.int64]  # cumulative since power-on
    ecc_uncorrectable: NDArray[np.int64]  # cumulative since power-on
    heartbeat: NDArray[np.int64]  # advances while the board is alive
    work_done: NDArray[np.float64]  # cumulative work units completed
    # The board's own report of its settings, where the controller gives it (None if not):
    # FDIR compares the rail current with what these settings should draw.
    utilization: NDArray[np.float64] | None = None
    power_cap_w: NDArray[np.float64] | None = None
    # Results that failed the job's own checksums (cumulative since power-on), where
    # the board's runtime reports them.
    checksum_errors: NDArray[np.int64] | None = None

    # --- statistics derived from the arrays, computed once per snapshot -----------------
    # A snapshot is never modified and a backend may hand the same one to every reader
    # of an instant (the sim backend does, until the model changes), so each statistic is
    # computed on its first use and kept. Each is defined as the exact numpy expression
    # it stands for, so a reader that switches to it gets the very same bits (FDIR's hot
    # test, thermal's throttle and board temperature telemetry, payload's measured draw).

    @cached_property
    def n_powered(self) -> int:
        """Boards powered: ``int(np.count_nonzero(powered))``."""
        return int(np.count_nonzero(self.powered))

    @cached_property
    def powered_read(self) -> NDArray[np.bool_]:
        """Powered boards whose temperature reads: ``powered & ~np.isnan(temperature_c)``
        (read-only)."""
        read = self.powered & ~np.isnan(self.temperature_c)
        read.flags.writeable = False
        return read

    @cached_property
    def n_powered_read(self) -> int:
        """``int(np.count_nonzero(powered_read))``."""
        return int(np.count_nonzero(self.powered_read))

    @cached_property
    def max_powered_temp_c(self) -> float:
        """The hottest powered board's reading, -inf when none reads:
        ``float(np.max(temperature_c, where=powered_read, initial=-np.inf))``."""
        return float(np.max(self.temperature_c, where=self.powered_read, initial=-np.inf))

    @cached_property
    def sum_powered_temp_c(self) -> float:
        """The sum of the powered boards' readings (0.0 when none reads; their mean is
        this over ``n_powered_read``): ``float(np.sum(temperature_c, where=powered_read))``."""
        return float(np.sum(self.temperature_c, where=self.powered_read))

    @cached_property
    def total_power_w(self) -> float:
        """Every board's draw, a missing (NaN) reading adding nothing:
        ``float(power_w.sum())``, or ``float(np.nansum(power_w))`` when that is NaN."""
        total = float(self.power_w.sum())
        return float(np.nansum(self.power_w)) if total != total else total

    def any_hot(self, threshold_c: float) -> bool:
        """Whether a powered board reads above ``threshold_c``; exactly
        ``bool(hot_mask(threshold_c).any())``, from ``max_powered_temp_c`` (no pass over
        the boards once that is known)."""
        return self.max_powered_temp_c > threshold_c

    def hot_mask(self, threshold_c: float) -> NDArray[np.bool_]:
        """``powered & (temperature_c > threshold_c)`` (read-only), kept for the last
        ``HOT_MASKS_KEPT`` thresholds asked."""
        masks = self._hot_masks
        mask = masks.get(threshold_c)
        if mask is None:
            mask = self.powered & (self.temperature_c > threshold_c)
            mask.flags.writeable = False
            if len(masks) >= HOT_MASKS_KEPT:
                del masks[next(iter(masks))]
            masks[threshold_c] = mask
        return mask

    @cached_property
    def _hot_masks(self) -> dict[float, NDArray[np.bool_]]:
        return {}


@runtime_checkable
class AcceleratorBoards(Protocol):
    """Many boards driven at once: every command takes an index array."""

    @property
    def count(self) -> int: ...

    def read_boards(self) -> BoardTelemetry: ...

    def set_board_power(self, idx: NDArray[np.intp], on: bool) -> None: ...

    def set_power_cap(self, idx: NDArray[np.intp], watts: NDArray[np.float64] | float) -> None: ...

    def set_utilization(self, idx: NDArray[np.intp], util: NDArray[np.float64] | float) -> None: ...

    def reset_boards(self, idx: NDArray[np.intp]) -> None: ...

    def scrub_memory(self, idx: NDArray[np.intp]) -> None: ...


# --- communications ----------------------------------------------------------------


@dataclass(frozen=True)
class RadioStatus:
    in_contact: bool
    downlink_bps: float
    uplink_bps: float
    tx_dropped: int
    rx_errors: int


@runtime_checkable
class Radio(Protocol):
    """A transceiver carrying CLTUs up and CADUs/frames down (bounded both ways)."""

    def send(self, data: bytes) -> bool:
        """Queue bytes for downlink; False (counted) when the transmit buffer is full."""
        ...

    def receive(self) -> list[bytes]:
        """Everything received since the last call."""
        ...

    def status(self) -> RadioStatus: ...


# Next hops a crosslink terminal can send to besides a peer's SCID (0..1023).
HOP_GROUND = 1024  # the ground, over this node's own pass
HOP_GEO = 1025  # the ground, through a GEO data relay


@dataclass(frozen=True)
class CrosslinkStatus:
    """What the node's relay terminals can reach now: peers (SCIDs) with an acquired
    optical link, the ground over a pass, a GEO relay, and the peers known (from the
    contact plan) to have a way to the ground themselves."""

    peers: frozenset[int]
    ground: bool
    geo: bool
    peers_with_ground: frozenset[int]


@runtime_checkable
class Crosslink(Protocol):
    """The node's inter-satellite and relay terminals: frames to a next hop (a peer's
    SCID, ``HOP_GROUND`` or ``HOP_GEO``), bounded both ways."""

    def send(self, hop: int, frame: bytes) -> bool:
        """Queue a frame for a next hop; False (counted) when the transmit queue is full."""
        ...

    def receive(self) -> list[bytes]:
        """Every frame received since the last call."""
        ...

    def status(self) -> CrosslinkStatus: ...


# --- flight-software memory (simulated upsets) ------------------------------------


@runtime_checkable
class MemoryRegion(Protocol):
    """Flight-software memory an upset can reach, as named words of bytes.

    A flight app that keeps state worth protecting (parameters, tables) offers it to the
    simulated processor so a scenario can flip its bits; reading a word back tells the
    simulated world whether the app repaired it.
    """

    def words(self) -> tuple[str, ...]: ...

    def peek(self, word: str) -> bytes: ...

    def poke(self, word: str, data: bytes) -> None: ...


@runtime_checkable
class UpsetTargets(Protocol):
    """Where apps register memory regions (the sim backend's ``memory`` device)."""

    def register(self, name: str, region: MemoryRegion) -> None: ...
