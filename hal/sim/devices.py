"""hal.interfaces devices over the simulated spacecraft (sim_hw.spacecraft).

Each class shows the flight software what a real device would: telemetry as sensors
report it (no hidden fault truth), commands that act on the model. Boards behind an
open payload switch cannot be powered on, as on the real harness. Readings pass the
same finiteness rule as a bench's (hal.samples): a model that produced a NaN or an
infinity gives an invalid sample, counted, exactly as a bench would.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from hal.interfaces import (
    BatteryTelemetry,
    BoardTelemetry,
    SolarArrayTelemetry,
    SwitchTelemetry,
    ThermalLoopTelemetry,
)
from hal.samples import SampleCounter
from sim_hw.boards import COUNT_ROWS, FLOAT_ROWS, MOVING_ROWS
from sim_hw.spacecraft import HEATER_ZONES, SENSORS, Spacecraft

_A = TypeVar("_A", bound="np.ndarray[Any, Any]")
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def _frozen(a: _A) -> _A:
    """``a`` made read-only (a report's arrays: nobody may change a snapshot)."""
    a.flags.writeable = False
    return a


class SimPcdu:
    """PowerDistribution over the model's PCDU."""

    def __init__(self, sc: Spacecraft, samples: SampleCounter | None = None) -> None:
        self._sc = sc
        self._samples = samples if samples is not None else SampleCounter()
        # The last all-finite reading, by the currents it was made from: the model keeps
        # its telemetry's tuples while the switches and their currents stay the same.
        self._read: tuple[tuple[float, ...], SwitchTelemetry] | None = None

    def switch_names(self) -> tuple[str, ...]:
        return self._sc.switches.names

    def set_switch(self, name: str, on: bool) -> None:
        if name not in self._sc.switches.names:
            raise KeyError(f"no switch {name!r}")
        self._sc.pcdu.set(name, on)
        if not on:
            self._sc._enforce_switches()

    def reset_trip(self, name: str) -> None:
        self._sc.pcdu.reset_trip(name)

    def read_switches(self) -> SwitchTelemetry:
        t = self.sense()
        read = self._read
        if read is not None and read[0] is t.current_a:
            last = read[1]
            if last.on is t.on and last.tripped is t.tripped:
                return last  # the same readings, all finite: nothing to count again
        counted = self._samples.by_kind.get("switches", 0)
        currents = self._samples.units("switches", t.current_a)
        out = SwitchTelemetry(t.on, currents, t.tripped)
        finite = self._samples.by_kind.get("switches", 0) == counted  # nothing blanked
        self._read = (t.current_a, out) if finite else None
        return out

    def sense(self) -> SwitchTelemetry:
        """What the PCDU's sensors report, before the HAL's finiteness rule."""
        t = self._sc.pcdu.telemetry()
        return SwitchTelemetry(tuple(t.on), tuple(t.current_a), tuple(t.tripped))


class SimBattery:
    """Battery telemetry: terminal voltage, current (> 0 charging), temperature."""

    def __init__(self, sc: Spacecraft, samples: SampleCounter | None = None) -> None:
        self._sc = sc
        self._samples = samples if samples is not None else SampleCounter()

    def read_battery(self) -> BatteryTelemetry:
        b = self.sense()
        self._samples.scalars(
            "battery", voltage_v=b.voltage_v, current_a=b.current_a, temperature_c=b.temperature_c
        )
        return b

    def sense(self) -> BatteryTelemetry:
        """What the battery's sensors report, before the HAL's finiteness rule."""
        sc = self._sc
        temp = float(sc.thermal.temperatures_c[sc.thermal.index("battery")])
        return BatteryTelemetry(
            float(sc.battery.terminal_voltage_v()), float(sc.battery.current_a), temp
        )


class SimSolarArray:
    """Array output at the bus: voltage, current, sun sensor (cosine, 0 in eclipse)."""

    def __init__(self, sc: Spacecraft, samples: SampleCounter | None = None) -> None:
        self._sc = sc
        self._samples = samples if samples is not None else SampleCounter()

    def read_solar_array(self) -> SolarArrayTelemetry:
        s = self.sense()
        self._samples.scalars(
            "solar_array", voltage_v=s.voltage_v, current_a=s.current_a, sun_sensor=s.sun_sensor
        )
        return s

    def sense(self) -> SolarArrayTelemetry:
        """What the array's sensors report, before the HAL's finiteness rule."""
        sc = self._sc
        p = sc.last_power
        solar_w = p.solar_w if p is not None else 0.0
        v = float(sc.cfg.bus_voltage_v)
        # A cosine sun sensor on the array: the sun's cosine times the share of its disc in
        # view (0 in the umbra).
        sun = float(sc.sun_cos * sc.sunlit_fraction)
        return SolarArrayTelemetry(v, float(solar_w) / v, sun)


class SimThermal:
    """TemperatureSensors and Heaters: thermistors on the thermal nodes, zone heaters."""

    def __init__(self, sc: Spacecraft, samples: SampleCounter | None = None) -> None:
        self._sc = sc
        self._samples = samples if samples is not None else SampleCounter()

    def sensor_names(self) -> tuple[str, ...]:
        return tuple(name for name, _node in SENSORS)

    def read_temperatures_c(self) -> tuple[float, ...]:
        return self._samples.units("temperatures", self.sense())

    def sense(self) -> tuple[float, ...]:
        """What the thermistors report, before the HAL's finiteness rule."""
        values: list[float] = self._sc.sensor_values.tolist()  # float() of each, at once
        return tuple(values)

    def heater_names(self) -> tuple[str, ...]:
        return tuple(f"heater_{z}" for z in HEATER_ZONES)

    def set_heater(self, name: str, on: bool) -> None:
        self._sc.set_heater(name.removeprefix("heater_"), on)

    def read_heaters(self) -> tuple[bool, ...]:
        return tuple(self._sc.heaters_on[z] for z in HEATER_ZONES)


class SimThermalLoop:
    """ThermalLoop: the position of the cold-plate loop's thermostatic bypass valve."""

    def __init__(self, sc: Spacecraft) -> None:
        self._sc = sc

    def read_loop(self) -> ThermalLoopTelemetry:
        return ThermalLoopTelemetry(float(self._sc.loop_valve.opening))


class SimBoards:
    """AcceleratorBoards over the model's board array; every command takes index arrays."""

    def __init__(self, sc: Spacecraft, samples: SampleCounter | None = None) -> None:
        self._sc = sc
        self._samples = samples if samples is not None else SampleCounter()
        self._b = sc.boards
        self._cache: tuple[tuple[float, int], BoardTelemetry] | None = None
        # The last report sense() made and its float blocks not yet known to be finite.
        self._sensed: tuple[BoardTelemetry, tuple[NDArray[np.float64], ...]] | None = None
        # The read-only copies reports share while the model's versions stay the same:
        # (settings_version, setting rows as a block and one by one, powered, the rows all
        # finite) and (counts_versions, counters one by one); one object per row, so a
        # reader can tell an unchanged row by identity.
        self._settings: tuple[int, FloatArray, tuple[FloatArray, ...], BoolArray, bool] | None
        self._settings = None
        self._counts: tuple[tuple[int, ...], tuple[NDArray[np.int64], ...]] | None = None

    @property
    def count(self) -> int:
        return self._b.count

    def read_boards(self) -> BoardTelemetry:
        """A snapshot; the model changes only at its physics steps and on commands, so a
        snapshot is reused until one of those happens (callers must not modify it)."""
        key = (self._sc.t_s, self._sc.revision)  # a fault between physics steps changes it
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        tel = self._snapshot()
        self._cache = (key, tel)
        return tel

    def _snapshot(self) -> BoardTelemetry:
        tel = self.sense()
        sensed, self._sensed = self._sensed, None
        if sensed is not None and sensed[0] is tel and all(np.isfinite(u).all() for u in sensed[1]):
            return tel  # all finite (the usual case): no second snapshot
        unit = self._samples.unit_array
        assert tel.utilization is not None and tel.power_cap_w is not None
        raw = [tel.current_a, tel.power_w, tel.temperature_c, tel.work_done]
        raw += [tel.utilization, tel.power_cap_w]
        checked = [unit("boards", v) for v in raw]
        if all(c is v for c, v in zip(checked, raw, strict=True)):
            return tel  # all finite: no second snapshot to build
        current_a, power_w, temperature_c, work_done, utilization, power_cap_w = checked
        return replace(
            tel,
            current_a=current_a,
            power_w=power_w,
            temperature_c=temperature_c,
            work_done=work_done,
            utilization=utilization,
            power_cap_w=power_cap_w,
        )

    def sense(self) -> BoardTelemetry:
        """What the board controllers report (read-only copies), before the HAL's
        finiteness rule. Kept for ``_snapshot``: the blocks of its float arrays that are not
        known to be finite yet."""
        tel, unchecked = self._sense()
        self._sensed = (tel, unchecked)
        return tel

    def _sense(self) -> tuple[BoardTelemetry, tuple[NDArray[np.float64], ...]]:
        """The report, and the blocks of its float arrays whose finiteness is not known.

        The model keeps the float telemetry as the rows of one block (FLOAT_ROWS): the
        moving rows (temperature, work) are copied for every report; the setting rows and
        ``powered`` only when the model's ``settings_version`` says they may have changed,
        and each counter only when its ``counts_versions`` does. Until then a report shares
        them with the one before: every array of a report is read-only, and a report is
        never changed (what a reader kept of an earlier one is still what it read). The
        setting rows' finiteness is checked once, when they are copied."""
        b = self._b
        block = b.float_block  # brings the model up to date (so do the versions)
        moving = _frozen(block[:MOVING_ROWS].copy())
        version = b.settings_version
        settings = self._settings
        if settings is None or settings[0] != version:
            rows = _frozen(block[MOVING_ROWS:].copy())
            finite = bool(np.isfinite(rows).all())
            settings = (version, rows, tuple(rows), _frozen(b.powered.copy()), finite)
            self._settings = settings
        versions = b.counts_versions
        counts = self._counts
        if counts is None or counts[0] != versions:
            cblock = b.count_block
            counters: list[NDArray[np.int64]] = []
            for i, v in enumerate(versions):  # only counters that may have changed: copied
                if counts is not None and counts[0][i] == v:
                    counters.append(counts[1][i])
                else:
                    counters.append(_frozen(cblock[i].copy()))
            counts = self._counts = (versions, tuple(counters))
        fields = dict(zip(FLOAT_ROWS, (*moving, *settings[2]), strict=True))
        fields.update(zip(COUNT_ROWS, counts[1], strict=True))
        tel = BoardTelemetry(
            powered=settings[3],
            heartbeat=_frozen(np.asarray(b.heartbeat, dtype=np.int64)),  # a new array
            **fields,
        )
        return tel, (moving,) if settings[4] else (moving, settings[1])

    def set_board_power(self, idx: NDArray[np.intp], on: bool) -> None:
        self._cache = None
        idx = np.asarray(idx, dtype=np.intp)
        if on:
            idx = idx[self._sc.board_supply_ok(idx)]
        self._b.set_power(idx, on)

    def set_power_cap(self, idx: NDArray[np.intp], watts: NDArray[np.float64] | float) -> None:
        self._cache = None
        self._b.set_power_cap(idx, watts)

    def set_utilization(self, idx: NDArray[np.intp], util: NDArray[np.float64] | float) -> None:
        self._cache = None
        self._b.set_utilization(idx, util)

    def reset_boards(self, idx: NDArray[np.intp]) -> None:
        self._cache = None
        self._b.reset(idx)

    def scrub_memory(self, idx: NDArray[np.intp]) -> None:
        self._cache = None
        self._b.scrub(idx)
