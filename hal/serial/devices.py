"""hal.interfaces devices implemented by talking to a bench device over a SerialLink.

Failure policy: nothing here returns last-known values. A read that fails raises the
link's counted :class:`DeviceTimeout` / :class:`DeviceError` so the calling app marks
that data invalid for this cycle (and FDIR sees the counters); a command that fails
raises the same way, so the app can report a command failure. Bad arguments (an unknown
switch name, a board index out of range) raise ``EncodeError`` before anything is sent.

Names and counts come from the device once, at build time (:func:`read_inventory`);
a response whose length no longer matches them is a counted ``DeviceError``.

Numbers: a valid CRC says nothing about a value, and a float32 field can carry NaN or
an infinity. Every reading passes the HAL's finiteness rule (hal.samples): a scalar
reading with a non-finite field raises a counted ``InvalidSample``; a non-finite value
of one unit (a thermistor, a switch current, a board) reads as NaN, counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flightsw.base.errors import EncodeError
from hal.interfaces import (
    BatteryTelemetry,
    BoardTelemetry,
    SolarArrayTelemetry,
    SwitchTelemetry,
)
from hal.samples import SampleCounter
from hal.serial.link import DeviceError, SerialLink
from hal.serial.protocol import (
    MAX_BOARDS_PER_PAGE,
    MAX_INDICES,
    PROTOCOL_VERSION,
    Ack,
    BatteryReading,
    BoardPage,
    HeaterStates,
    KickWatchdog,
    ListNames,
    NameKind,
    NameList,
    Ping,
    PingReply,
    ReadBattery,
    ReadBoards,
    ReadHeaters,
    ReadSolarArray,
    ReadSwitches,
    ReadTemperatures,
    ResetBoards,
    ResetTrip,
    ScrubMemory,
    SetBoardPower,
    SetHeater,
    SetPowerCap,
    SetSwitch,
    SetUtilization,
    SolarReading,
    SwitchStates,
    Temperatures,
)

NS_PER_MS = 1_000_000


@dataclass(frozen=True)
class Inventory:
    """What the bench device says it has."""

    version: int
    switch_names: tuple[str, ...]
    sensor_names: tuple[str, ...]
    heater_names: tuple[str, ...]
    n_boards: int
    watchdog_timeout_ns: int


def read_inventory(link: SerialLink, nonce: int = 0) -> Inventory:
    """Ping the device, check the protocol version, and fetch every name list."""
    reply = link.request(Ping(nonce), PingReply)
    if reply.nonce != nonce:
        raise link.error(f"ping answered nonce {reply.nonce}, sent {nonce}")
    if reply.version != PROTOCOL_VERSION:
        raise link.error(f"device speaks protocol {reply.version}, expected {PROTOCOL_VERSION}")
    lists: dict[NameKind, tuple[str, ...]] = {}
    expected = {
        NameKind.SWITCHES: reply.n_switches,
        NameKind.SENSORS: reply.n_sensors,
        NameKind.HEATERS: reply.n_heaters,
    }
    for kind, count in expected.items():
        names = link.request(ListNames(kind), NameList)
        if names.which != kind or len(names.names) != count:
            raise link.error(f"{kind.name.lower()}: {len(names.names)} names, ping said {count}")
        lists[kind] = names.names
    return Inventory(
        reply.version,
        lists[NameKind.SWITCHES],
        lists[NameKind.SENSORS],
        lists[NameKind.HEATERS],
        reply.n_boards,
        reply.watchdog_timeout_ms * NS_PER_MS,
    )


def _lookup(kind: str, table: dict[str, int], name: str) -> int:
    try:
        return table[name]
    except (KeyError, TypeError):
        raise EncodeError("name", f"unknown {kind} {name!r}") from None


def _check_len(link: SerialLink, what: str, got: int, want: int) -> None:
    if got != want:
        raise link.error(f"{what}: device reported {got} entries, inventory has {want}")


class SerialPcdu:
    """PowerDistribution: named load switches on the bench PCDU."""

    def __init__(
        self, link: SerialLink, names: tuple[str, ...], samples: SampleCounter | None = None
    ) -> None:
        self._link = link
        self._names = names
        self._index = {n: i for i, n in enumerate(names)}
        self._samples = samples if samples is not None else SampleCounter()

    def switch_names(self) -> tuple[str, ...]:
        return self._names

    def set_switch(self, name: str, on: bool) -> None:
        self._link.request(SetSwitch(_lookup("switch", self._index, name), bool(on)), Ack)

    def reset_trip(self, name: str) -> None:
        self._link.request(ResetTrip(_lookup("switch", self._index, name)), Ack)

    def read_switches(self) -> SwitchTelemetry:
        s = self._link.request(ReadSwitches(), SwitchStates)
        _check_len(self._link, "switches", len(s.on), len(self._names))
        current = self._samples.units("switches", s.current_a)
        return SwitchTelemetry(on=s.on, current_a=current, tripped=s.tripped)


class SerialBattery:
    """Battery: voltage, current (> 0 charging) and temperature as the bench reports them."""

    def __init__(self, link: SerialLink, samples: SampleCounter | None = None) -> None:
        self._link = link
        self._samples = samples if samples is not None else SampleCounter()

    def read_battery(self) -> BatteryTelemetry:
        b = self._link.request(ReadBattery(), BatteryReading)
        self._samples.scalars(
            "battery", voltage_v=b.voltage_v, current_a=b.current_a, temperature_c=b.temperature_c
        )
        return BatteryTelemetry(b.voltage_v, b.current_a, b.temperature_c)


class SerialSolarArray:
    """SolarArray: array voltage, current and sun sensor."""

    def __init__(self, link: SerialLink, samples: SampleCounter | None = None) -> None:
        self._link = link
        self._samples = samples if samples is not None else SampleCounter()

    def read_solar_array(self) -> SolarArrayTelemetry:
        s = self._link.request(ReadSolarArray(), SolarReading)
        self._samples.scalars(
            "solar_array", voltage_v=s.voltage_v, current_a=s.current_a, sun_sensor=s.sun_sensor
        )
        return SolarArrayTelemetry(s.voltage_v, s.current_a, s.sun_sensor)


class SerialThermal:
    """TemperatureSensors and Heaters of the bench in one object."""

    def __init__(
        self,
        link: SerialLink,
        sensor_names: tuple[str, ...],
        heater_names: tuple[str, ...],
        samples: SampleCounter | None = None,
    ) -> None:
        self._link = link
        self._samples = samples if samples is not None else SampleCounter()
        self._sensors = sensor_names
        self._heaters = heater_names
        self._heater_index = {n: i for i, n in enumerate(heater_names)}

    def sensor_names(self) -> tuple[str, ...]:
        return self._sensors

    def read_temperatures_c(self) -> tuple[float, ...]:
        t = self._link.request(ReadTemperatures(), Temperatures)
        _check_len(self._link, "temperatures", len(t.values_c), len(self._sensors))
        return self._samples.units("temperatures", t.values_c)

    def heater_names(self) -> tuple[str, ...]:
        return self._heaters

    def set_heater(self, name: str, on: bool) -> None:
        index = _lookup("heater", self._heater_index, name)
        self._link.request(SetHeater(index, bool(on)), Ack)

    def read_heaters(self) -> tuple[bool, ...]:
        h = self._link.request(ReadHeaters(), HeaterStates)
        _check_len(self._link, "heaters", len(h.on), len(self._heaters))
        return h.on


_BOARD_ARRAYS = (
    "powered",
    "current_a",
    "power_w",
    "temperature_c",
    "ecc_corrected",
    "ecc_uncorrectable",
    "heartbeat",
    "work_done",
)
_BOARD_FLOATS = frozenset(("current_a", "power_w", "temperature_c", "work_done"))


class SerialBoards:
    """AcceleratorBoards: reads go page by page, commands in chunks of ``MAX_INDICES``.

    Each frame gets the link's own budget, so an operation spanning ``k`` frames may
    take up to ``k`` budgets; a bench with up to ``MAX_BOARDS_PER_PAGE`` boards reads
    in one frame.
    """

    def __init__(self, link: SerialLink, count: int, samples: SampleCounter | None = None) -> None:
        self._link = link
        self._count = count
        self._samples = samples if samples is not None else SampleCounter()

    @property
    def count(self) -> int:
        return self._count

    def read_boards(self) -> BoardTelemetry:
        pages: list[BoardPage] = []
        for start in range(0, self._count, MAX_BOARDS_PER_PAGE):
            n = min(MAX_BOARDS_PER_PAGE, self._count - start)
            page = self._link.request(ReadBoards(start, n), BoardPage)
            if page.total != self._count or page.start != start or page.count != n:
                raise self._link.error(
                    f"board page {page.start}+{page.count} of {page.total}, "
                    f"asked {start}+{n} of {self._count}"
                )
            pages.append(page)
        arrays: dict[str, Any] = {}
        for name in _BOARD_ARRAYS:
            parts = [getattr(p, name) for p in pages]
            arrays[name] = np.concatenate(parts) if parts else _empty(name)
            if name in _BOARD_FLOATS:
                arrays[name] = self._samples.unit_array("boards", arrays[name])
        return BoardTelemetry(**arrays)

    def set_board_power(self, idx: NDArray[np.intp], on: bool) -> None:
        for chunk in self._chunks(idx):
            self._link.request(SetBoardPower(bool(on), chunk), Ack)

    def set_power_cap(self, idx: NDArray[np.intp], watts: NDArray[np.float64] | float) -> None:
        self._set_values(SetPowerCap, idx, watts)

    def set_utilization(self, idx: NDArray[np.intp], util: NDArray[np.float64] | float) -> None:
        self._set_values(SetUtilization, idx, util)

    def reset_boards(self, idx: NDArray[np.intp]) -> None:
        for chunk in self._chunks(idx):
            self._link.request(ResetBoards(chunk), Ack)

    def scrub_memory(self, idx: NDArray[np.intp]) -> None:
        for chunk in self._chunks(idx):
            self._link.request(ScrubMemory(chunk), Ack)

    def _checked(self, idx: NDArray[np.intp]) -> NDArray[np.intp]:
        arr = np.asarray(idx)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise EncodeError("idx", "board indices must be a 1-D integer array")
        if arr.size and (arr.min() < 0 or arr.max() >= self._count):
            raise EncodeError("idx", f"board indices must be in 0..{self._count - 1}")
        return arr.astype(np.intp)

    def _chunks(self, idx: NDArray[np.intp]) -> list[NDArray[np.intp]]:
        arr = self._checked(idx)
        return [arr[i : i + MAX_INDICES] for i in range(0, arr.size, MAX_INDICES)]

    def _set_values(
        self,
        cls: type[SetPowerCap] | type[SetUtilization],
        idx: NDArray[np.intp],
        values: NDArray[np.float64] | float,
    ) -> None:
        arr = self._checked(idx)
        try:
            vals = np.broadcast_to(np.asarray(values, dtype=np.float64), arr.shape)
        except (ValueError, TypeError) as exc:
            raise EncodeError("values", f"cannot match {arr.size} indices: {exc}") from None
        for i in range(0, arr.size, MAX_INDICES):
            self._link.request(cls(arr[i : i + MAX_INDICES], vals[i : i + MAX_INDICES]), Ack)


def _empty(name: str) -> NDArray[Any]:
    if name == "powered":
        return np.zeros(0, dtype=np.bool_)
    if name in ("ecc_corrected", "ecc_uncorrectable", "heartbeat"):
        return np.zeros(0, dtype=np.int64)
    return np.zeros(0, dtype=np.float64)


class SerialWatchdog:
    """Watchdog: a kick is a request; a kick the device does not acknowledge raises."""

    def __init__(self, link: SerialLink, timeout_ns: int) -> None:
        self._link = link
        self._timeout_ns = timeout_ns
        self.kicks = 0

    def kick(self) -> None:
        self._link.request(KickWatchdog(), Ack)
        self.kicks += 1

    @property
    def timeout_ns(self) -> int:
        return self._timeout_ns


__all__ = [
    "DeviceError",
    "Inventory",
    "SerialBattery",
    "SerialBoards",
    "SerialPcdu",
    "SerialSolarArray",
    "SerialThermal",
    "SerialWatchdog",
    "read_inventory",
]
