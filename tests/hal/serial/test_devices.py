"""Serial devices: a NaN or an infinity with a valid CRC is an invalid sample, counted.

The bench emulator answers over an in-memory port; one field of one answer is replaced
by a non-finite float32 (the wire format carries it, the CRC is valid).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from hal.samples import InvalidSample, SampleCounter
from hal.serial import protocol as p
from hal.serial.devices import (
    SerialBattery,
    SerialBoards,
    SerialPcdu,
    SerialSolarArray,
    SerialThermal,
)
from tests.hal.serial.test_link import device_responder, make
from tools.fake_bench_device import HEATERS, SENSORS, SWITCHES, FakeBenchDevice

NON_FINITE = [math.nan, math.inf, -math.inf]


class NonFiniteBench(FakeBenchDevice):
    """The emulator, with one field of every answer of type ``msg`` made non-finite."""

    def __init__(self, msg: type[p.Message], field: str, bad: float) -> None:
        super().__init__(4, seed=1, now_s=lambda: 0.0)
        self.msg, self.field, self.bad = msg, field, bad

    def execute(self, req: p.Message) -> p.Message:
        out = super().execute(req)
        if not isinstance(out, self.msg):
            return out
        value: Any = getattr(out, self.field)
        if isinstance(value, np.ndarray):
            value = value.astype(np.float64)
            value[1] = self.bad
        elif isinstance(value, tuple):
            value = (*value[:1], self.bad, *value[2:])
        else:
            value = self.bad
        return replace(out, **{self.field: value})  # type: ignore[type-var]


def _link(msg: type[p.Message], field: str, bad: float):  # type: ignore[no-untyped-def]
    link, _port, _clock = make(device_responder(NonFiniteBench(msg, field, bad)))
    return link


@pytest.mark.parametrize("bad", NON_FINITE)
@pytest.mark.parametrize("field", ["voltage_v", "current_a", "temperature_c"])
def test_battery_reading_is_refused(bad: float, field: str) -> None:
    samples = SampleCounter()
    battery = SerialBattery(_link(p.BatteryReading, field, bad), samples)
    with pytest.raises(InvalidSample):
        battery.read_battery()
    assert samples.by_kind["battery"] == 1


@pytest.mark.parametrize("bad", NON_FINITE)
@pytest.mark.parametrize("field", ["voltage_v", "current_a", "sun_sensor"])
def test_solar_reading_is_refused(bad: float, field: str) -> None:
    samples = SampleCounter()
    array = SerialSolarArray(_link(p.SolarReading, field, bad), samples)
    with pytest.raises(InvalidSample):
        array.read_solar_array()
    assert samples.by_kind["solar_array"] == 1


@pytest.mark.parametrize("bad", NON_FINITE)
def test_one_thermistor_is_blanked(bad: float) -> None:
    samples = SampleCounter()
    thermal = SerialThermal(_link(p.Temperatures, "values_c", bad), SENSORS, HEATERS, samples)
    temps = thermal.read_temperatures_c()
    assert math.isnan(temps[1]) and all(math.isfinite(t) for i, t in enumerate(temps) if i != 1)
    assert samples.by_kind["temperatures"] == 1


@pytest.mark.parametrize("bad", NON_FINITE)
def test_one_switch_current_is_blanked(bad: float) -> None:
    samples = SampleCounter()
    pcdu = SerialPcdu(_link(p.SwitchStates, "current_a", bad), SWITCHES, samples)
    cur = pcdu.read_switches().current_a
    assert math.isnan(cur[1]) and all(math.isfinite(c) for i, c in enumerate(cur) if i != 1)
    assert samples.by_kind["switches"] == 1


@pytest.mark.parametrize("bad", NON_FINITE)
@pytest.mark.parametrize("field", ["current_a", "power_w", "temperature_c", "work_done"])
def test_one_board_value_is_blanked(bad: float, field: str) -> None:
    samples = SampleCounter()
    boards = SerialBoards(_link(p.BoardPage, field, bad), 4, samples)
    values = getattr(boards.read_boards(), field)
    assert math.isnan(values[1]) and np.isfinite(np.delete(values, 1)).all()
    assert samples.by_kind["boards"] == 1
