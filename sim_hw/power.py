"""Electrical power system model: solar array, Li-ion battery, PCDU switches, and the bus
that routes energy between them.

It exists so the power app and FDIR can be exercised against plausible physics in SIL:
array output that follows sun angle, temperature and age; a battery whose voltage sags
with state of charge and load; switches that trip on overcurrent and stay latched. Every
joule is booked (solar, load, shunt, battery in/out/losses) so tests can prove the model
never invents energy.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import numpy as np

SECONDS_PER_YEAR = 365.25 * 86_400.0

# Open-circuit voltage of one Li-ion (NMC/graphite) cell against state of charge: a flat
# middle, a steep knee below ~10 % and a rise to 4.2 V at full charge.
OCV_SOC = np.array([0.0, 0.05, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 1.0])
OCV_CELL_V = np.array([3.00, 3.30, 3.45, 3.55, 3.62, 3.68, 3.74, 3.80, 3.88, 3.96, 4.06, 4.20])


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _positive(name: str, value: float) -> float:
    v = _finite(name, value)
    if v <= 0.0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return v


# --- solar array ---------------------------------------------------------------------


@dataclass(frozen=True)
class SolarArray:
    """Array output power from irradiance, cell temperature and radiation ageing."""

    area_m2: float
    efficiency: float = 0.30
    temp_coeff_per_k: float = -0.0025
    ref_temp_c: float = 28.0
    packing_factor: float = 0.9
    degradation_per_year: float = 0.0275
    solar_constant_w_m2: float = 1361.0

    def __post_init__(self) -> None:
        _positive("area_m2", self.area_m2)
        _positive("solar_constant_w_m2", self.solar_constant_w_m2)
        for name in ("efficiency", "packing_factor", "degradation_per_year"):
            v = _finite(name, getattr(self, name))
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        _finite("temp_coeff_per_k", self.temp_coeff_per_k)
        _finite("ref_temp_c", self.ref_temp_c)

    def power_w(
        self, sun_cos: float, temperature_c: float, age_years: float, in_eclipse: bool
    ) -> float:
        """Electrical output in watts; never negative (a hot or backlit array gives 0)."""
        if in_eclipse or sun_cos <= 0.0:
            return 0.0
        cos = min(float(sun_cos), 1.0)
        temp_factor = 1.0 + self.temp_coeff_per_k * (temperature_c - self.ref_temp_c)
        age_factor = float((1.0 - self.degradation_per_year) ** max(float(age_years), 0.0))
        p = (
            self.solar_constant_w_m2
            * self.area_m2
            * self.packing_factor
            * self.efficiency
            * cos
            * temp_factor
            * age_factor
        )
        return max(p, 0.0)


# --- battery -------------------------------------------------------------------------


class Battery:
    """A Li-ion battery pack as a state-of-charge store behind an internal resistance.

    ``step`` takes the power asked of the battery terminals (positive = charge) and
    returns what really flowed, after the power limits, the state-of-charge limits and the
    maximum-power-transfer limit of the internal resistance. Losses are the I²R heat plus
    the coulombic/chemical inefficiency of charging, so that
    ``stored change == energy_in - energy_out - losses`` holds to rounding.
    """

    def __init__(
        self,
        capacity_wh: float,
        *,
        soc: float = 0.8,
        internal_resistance_ohm: float,
        cells_series: int,
        max_charge_w: float,
        max_discharge_w: float,
        charge_efficiency: float = 0.95,
        temperature_c: float = 20.0,
    ) -> None:
        self.capacity_wh = _positive("capacity_wh", capacity_wh)
        soc = _finite("soc", soc)
        if not 0.0 <= soc <= 1.0:
            raise ValueError(f"soc must be in [0, 1], got {soc}")
        self.internal_resistance_ohm = _finite("internal_resistance_ohm", internal_resistance_ohm)
        if self.internal_resistance_ohm < 0.0:
            raise ValueError("internal_resistance_ohm must not be negative")
        if int(cells_series) != cells_series or cells_series < 1:
            raise ValueError(f"cells_series must be a positive integer, got {cells_series!r}")
        self.cells_series = int(cells_series)
        self.max_charge_w = _positive("max_charge_w", max_charge_w)
        self.max_discharge_w = _positive("max_discharge_w", max_discharge_w)
        self.charge_efficiency = _finite("charge_efficiency", charge_efficiency)
        if not 0.0 < self.charge_efficiency <= 1.0:
            raise ValueError("charge_efficiency must be in (0, 1]")
        self.temperature_c = _finite("temperature_c", temperature_c)
        self.stored_wh = soc * self.capacity_wh
        self.energy_in_wh = 0.0
        self.energy_out_wh = 0.0
        self.losses_wh = 0.0
        self.current_a = 0.0  # last step, > 0 charging

    @property
    def soc(self) -> float:
        return min(max(self.stored_wh / self.capacity_wh, 0.0), 1.0)

    def open_circuit_voltage_v(self) -> float:
        return self.cells_series * float(np.interp(self.soc, OCV_SOC, OCV_CELL_V))

    def terminal_voltage_v(self, current_a: float | None = None) -> float:
        """Voltage at the terminals for a current (> 0 charging); last step's by default."""
        i = self.current_a if current_a is None else current_a
        return self.open_circuit_voltage_v() + i * self.internal_resistance_ohm

    def max_discharge_power_w(self) -> float:
        """The most the terminals can deliver now (power limit or matched-load limit)."""
        r = self.internal_resistance_ohm
        if r == 0.0:
            return self.max_discharge_w
        voc = self.open_circuit_voltage_v()
        return min(self.max_discharge_w, voc * voc / (4.0 * r))

    def step(self, dt_s: float, requested_power_w: float) -> float:
        """Advance ``dt_s`` at the requested terminal power; returns the power that flowed.

        Positive = absorbed (charging), negative = delivered (discharging).
        """
        dt = _finite("dt_s", dt_s)
        if dt < 0.0:
            raise ValueError("dt_s must not be negative")
        p = _finite("requested_power_w", requested_power_w)
        if dt == 0.0 or p == 0.0:
            self.current_a = 0.0
            return 0.0
        voc = self.open_circuit_voltage_v()
        r = self.internal_resistance_ohm
        dt_h = dt / 3600.0
        if p > 0.0:
            p = min(p, self.max_charge_w)
            i = self._current_for_charge(p, voc, r)
            # Energy reaching the chemistry is eff * Voc * I: cap it at the headroom.
            headroom = max(self.capacity_wh - self.stored_wh, 0.0)
            i_max = headroom / (self.charge_efficiency * voc * dt_h)
            if i > i_max:
                i = i_max
                p = voc * i + r * i * i
            stored = self.charge_efficiency * voc * i * dt_h
            self.stored_wh = min(self.stored_wh + stored, self.capacity_wh)
            self.energy_in_wh += p * dt_h
            self.losses_wh += p * dt_h - stored
            self.current_a = i
            return p
        p = min(-p, self.max_discharge_power_w())
        i = self._current_for_discharge(p, voc, r)
        # Energy leaving the chemistry is Voc * I: cap it at what is stored.
        i_max = max(self.stored_wh, 0.0) / (voc * dt_h)
        if i > i_max:
            i = i_max
            p = voc * i - r * i * i
        drawn = voc * i * dt_h
        self.stored_wh = max(self.stored_wh - drawn, 0.0)
        self.energy_out_wh += p * dt_h
        self.losses_wh += drawn - p * dt_h
        self.current_a = -i
        return -p

    @staticmethod
    def _current_for_charge(p: float, voc: float, r: float) -> float:
        # P = Voc*I + R*I²  ->  I = 2P / (Voc + sqrt(Voc² + 4RP))  (stable form)
        return 2.0 * p / (voc + math.sqrt(voc * voc + 4.0 * r * p))

    @staticmethod
    def _current_for_discharge(p: float, voc: float, r: float) -> float:
        # P = Voc*I - R*I²  ->  I = 2P / (Voc + sqrt(Voc² - 4RP)), P <= Voc²/4R
        return 2.0 * p / (voc + math.sqrt(max(voc * voc - 4.0 * r * p, 0.0)))


# --- PCDU ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchSpec:
    """One PCDU load switch: its name, overcurrent trip level and bus voltage."""

    name: str
    trip_current_a: float
    bus_voltage_v: float = 28.0


@dataclass(frozen=True)
class PcduTelemetry:
    """Switch states in the order the switches were declared."""

    names: tuple[str, ...]
    on: tuple[bool, ...]
    current_a: tuple[float, ...]
    tripped: tuple[bool, ...]


@dataclass
class _Switch:
    spec: SwitchSpec
    on: bool = False
    tripped: bool = False
    current_a: float = 0.0
    trips: int = 0


_ON = operator.attrgetter("on")
_CURRENT = operator.attrgetter("current_a")
_TRIPPED = operator.attrgetter("tripped")


class Pcdu:
    """Named load switches with current sensing and latching overcurrent protection.

    A switch conducts when commanded on and not tripped. When the current its load would
    draw exceeds the trip level, it opens at once, reads 0 A and latches ``tripped``:
    commanding it on does nothing until ``reset_trip``, after which it stays off until
    commanded on again.
    """

    def __init__(self, switches: list[SwitchSpec]) -> None:
        self._switches: dict[str, _Switch] = {}
        for spec in switches:
            if spec.name in self._switches:
                raise ValueError(f"duplicate switch name {spec.name!r}")
            _positive(f"{spec.name}.trip_current_a", spec.trip_current_a)
            _positive(f"{spec.name}.bus_voltage_v", spec.bus_voltage_v)
            self._switches[spec.name] = _Switch(spec)
        # Cheap reads for a node with many switches: a counter that changes whenever a
        # switch opens, closes or trips, and the telemetry and total power kept until then.
        self.version = 0
        self._telemetry: PcduTelemetry | None = None
        self._power_w: float | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._switches)

    def _get(self, name: str) -> _Switch:
        try:
            return self._switches[name]
        except KeyError:
            raise ValueError(f"no PCDU switch named {name!r}") from None

    def _changed(self) -> None:
        self.version += 1
        self._telemetry = None
        self._power_w = None

    def set(self, name: str, on: bool) -> None:
        sw = self._get(name)
        if on and sw.tripped:
            return
        sw.on = bool(on)
        if not sw.on:
            sw.current_a = 0.0
        self._changed()

    def reset_trip(self, name: str) -> None:
        self._get(name).tripped = False
        self._changed()

    def is_conducting(self, name: str) -> bool:
        sw = self._get(name)
        return sw.on and not sw.tripped

    def trips(self, name: str) -> int:
        """How many times this switch has tripped since construction."""
        return self._get(name).trips

    def step(self, load_power_w: dict[str, float]) -> dict[str, float]:
        """Current through every switch for the given load demands (W at bus voltage).

        Loads on switches that are off or tripped draw nothing. Names not declared raise
        ``ValueError``; switches without an entry draw 0 A.
        """
        switches = self._switches
        for name in load_power_w:
            if name not in switches:
                self._get(name)  # raises, naming it
        out: dict[str, float] = {}
        total = 0.0
        tripped = False
        for name, sw in switches.items():
            demand = float(load_power_w.get(name, 0.0))
            if not math.isfinite(demand):
                raise ValueError(f"load {name} must be finite, got {demand!r}")
            spec = sw.spec
            current = max(demand, 0.0) / spec.bus_voltage_v
            if not (sw.on and not sw.tripped):
                current = 0.0
            elif current > spec.trip_current_a:
                sw.on = False
                sw.tripped = True
                sw.trips += 1
                current = 0.0
                tripped = True
            sw.current_a = current
            out[name] = current
            total += current * spec.bus_voltage_v
        if tripped:
            self.version += 1
        self._telemetry = None
        self._power_w = total
        return out

    def power_w(self) -> float:
        """Total power through the switches at the last step."""
        if self._power_w is None:
            self._power_w = sum(
                sw.current_a * sw.spec.bus_voltage_v for sw in self._switches.values()
            )
        return self._power_w

    def telemetry(self) -> PcduTelemetry:
        if self._telemetry is None:
            sws = self._switches.values()
            self._telemetry = PcduTelemetry(
                names=tuple(self._switches),
                on=tuple(map(_ON, sws)),
                current_a=tuple(map(_CURRENT, sws)),
                tripped=tuple(map(_TRIPPED, sws)),
            )
        return self._telemetry


# --- the bus -------------------------------------------------------------------------


@dataclass(frozen=True)
class PowerStep:
    """What happened on the bus during one step (powers are averages over the step)."""

    solar_w: float
    load_demand_w: float  # what the switched-on loads asked for
    load_served_w: float  # what they got (== demand unless undervoltage)
    battery_w: float  # > 0 charging, < 0 discharging
    shunt_w: float  # surplus the battery could not take, dumped by the shunt regulator
    unserved_w: float  # demand neither the array nor the battery could supply
    battery_soc: float
    bus_voltage_v: float  # battery terminal voltage (unregulated battery bus)
    undervoltage: bool  # the battery could not cover the deficit: loads must be shed
    switch_current_a: dict[str, float] = field(default_factory=dict)


class PowerSystem:
    """Array, battery and PCDU on one bus: array to loads first, surplus to the battery
    (the rest shunted), deficit from the battery. When the battery cannot cover the
    deficit, the step says ``undervoltage`` and books the shortfall as unserved energy
    instead of inventing it.
    """

    def __init__(
        self, array: SolarArray, battery: Battery, pcdu: Pcdu, age_years: float = 0.0
    ) -> None:
        self.array = array
        self.battery = battery
        self.pcdu = pcdu
        self.age_years = _finite("age_years", age_years)
        self.elapsed_s = 0.0
        self.solar_wh = 0.0
        self.load_wh = 0.0
        self.shunt_wh = 0.0
        self.unserved_wh = 0.0
        self.undervoltage_steps = 0

    def step(
        self,
        dt_s: float,
        sun_cos: float,
        array_temp_c: float,
        in_eclipse: bool,
        loads_w: dict[str, float],
    ) -> PowerStep:
        dt = _finite("dt_s", dt_s)
        if dt <= 0.0:
            raise ValueError("dt_s must be positive")
        age = self.age_years + self.elapsed_s / SECONDS_PER_YEAR
        solar = self.array.power_w(sun_cos, array_temp_c, age, in_eclipse)
        currents = self.pcdu.step(loads_w)
        demand = self.pcdu.power_w()
        net = solar - demand
        shunt = unserved = 0.0
        if net >= 0.0:
            battery_w = self.battery.step(dt, net)
            shunt = net - battery_w
        else:
            battery_w = self.battery.step(dt, net)
            unserved = max(-net + battery_w, 0.0)  # battery_w is negative here
        served = solar - battery_w - shunt
        undervoltage = unserved > 1e-9 * max(demand, 1.0)
        if undervoltage:
            self.undervoltage_steps += 1
        dt_h = dt / 3600.0
        self.solar_wh += solar * dt_h
        self.load_wh += served * dt_h
        self.shunt_wh += shunt * dt_h
        self.unserved_wh += unserved * dt_h
        self.elapsed_s += dt
        return PowerStep(
            solar_w=solar,
            load_demand_w=demand,
            load_served_w=served,
            battery_w=battery_w,
            shunt_w=shunt,
            unserved_w=unserved,
            battery_soc=self.battery.soc,
            bus_voltage_v=self.battery.terminal_voltage_v(),
            undervoltage=undervoltage,
            switch_current_a=currents,
        )
