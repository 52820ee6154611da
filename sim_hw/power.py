"""Electrical power system model: solar array, Li-ion battery, PCDU switches, and the bus
that routes energy between them.

It exists so the power app and FDIR can be exercised against plausible physics in SIL:
array output that follows irradiance, sun angle, temperature and age (and an array
temperature from its own radiative balance); a battery whose voltage sags
with state of charge and load; switches that trip on overcurrent and stay latched. Every
joule is booked (solar, load, shunt, battery in/out/losses) so tests can prove the model
never invents energy.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import numpy.typing as npt

SECONDS_PER_YEAR = 365.25 * 86_400.0
STEFAN_BOLTZMANN = 5.670374419e-8  # W m⁻² K⁻⁴
KELVIN = 273.15

# Open-circuit voltage of one Li-ion (NMC/graphite) cell against state of charge: a flat
# middle, a steep knee below ~10 % and a rise to 4.2 V at full charge.
OCV_SOC = np.array([0.0, 0.05, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 1.0])
OCV_CELL_V = np.array([3.00, 3.30, 3.45, 3.55, 3.62, 3.68, 3.74, 3.80, 3.88, 3.96, 4.06, 4.20])
_OCV_SOC: list[float] = OCV_SOC.tolist()
_OCV_V: list[float] = OCV_CELL_V.tolist()


def ocv_cell_v(soc: float) -> float:
    """Cell open-circuit voltage at a state of charge (piecewise linear, clamped): the same
    numbers as ``np.interp(soc, OCV_SOC, OCV_CELL_V)``, without numpy's per-call cost."""
    if soc <= 0.0:
        return float(_OCV_V[0])
    if soc >= 1.0:
        return float(_OCV_V[-1])
    i = bisect.bisect_right(_OCV_SOC, soc)
    s0, s1 = _OCV_SOC[i - 1], _OCV_SOC[i]
    v0, v1 = _OCV_V[i - 1], _OCV_V[i]
    return v0 + (v1 - v0) * (soc - s0) / (s1 - s0)


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
    """Array output power from irradiance, cell temperature and radiation ageing, and the
    array's temperature from its radiative balance.

    Thermal: a thin panel (``heat_capacity_j_m2_k`` per m²) absorbing ``absorptivity`` of
    the sunlight on its front minus what the cells turn into electricity, plus Earth
    infrared on both faces (``earth_ir_w_m2``, already weighted by the view factor), and
    radiating from both faces.
    """

    area_m2: float
    efficiency: float = 0.30
    temp_coeff_per_k: float = -0.0025
    ref_temp_c: float = 28.0
    packing_factor: float = 0.9
    degradation_per_year: float = 0.0275
    solar_constant_w_m2: float = 1361.0
    absorptivity: float = 0.92
    emissivity_front: float = 0.85
    emissivity_back: float = 0.90
    heat_capacity_j_m2_k: float = 2000.0

    def __post_init__(self) -> None:
        _positive("area_m2", self.area_m2)
        _positive("solar_constant_w_m2", self.solar_constant_w_m2)
        _positive("heat_capacity_j_m2_k", self.heat_capacity_j_m2_k)
        for name in (
            "efficiency",
            "packing_factor",
            "degradation_per_year",
            "absorptivity",
            "emissivity_front",
            "emissivity_back",
        ):
            v = _finite(name, getattr(self, name))
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        _finite("temp_coeff_per_k", self.temp_coeff_per_k)
        _finite("ref_temp_c", self.ref_temp_c)

    def power_w(
        self,
        sun_cos: float,
        temperature_c: float,
        age_years: float,
        in_eclipse: bool,
        flux_w_m2: float | None = None,
    ) -> float:
        """Electrical output in watts; never negative (a hot or backlit array gives 0).

        ``sun_cos`` is the cosine of the sun's angle to the array normal times the share
        of the solar disc in view; ``flux_w_m2`` the solar irradiance (the array's
        ``solar_constant_w_m2`` when not given)."""
        if in_eclipse or sun_cos <= 0.0:
            return 0.0
        cos = min(float(sun_cos), 1.0)
        flux = self.solar_constant_w_m2 if flux_w_m2 is None else float(flux_w_m2)
        temp_factor = 1.0 + self.temp_coeff_per_k * (temperature_c - self.ref_temp_c)
        age_factor = float((1.0 - self.degradation_per_year) ** max(float(age_years), 0.0))
        p = (
            flux
            * self.area_m2
            * self.packing_factor
            * self.efficiency
            * cos
            * temp_factor
            * age_factor
        )
        return max(p, 0.0)

    def absorbed_w_m2(self, irradiance_w_m2: float, earth_ir_w_m2: float) -> float:
        """Heat into one m² of panel: sunlight not converted, plus Earth IR on both faces."""
        converted = self.packing_factor * self.efficiency
        emissivity = self.emissivity_front + self.emissivity_back
        return self.absorptivity * irradiance_w_m2 * (1.0 - converted) + emissivity * earth_ir_w_m2

    def equilibrium_temp_c(self, irradiance_w_m2: float, earth_ir_w_m2: float = 0.0) -> float:
        """Panel temperature where what it absorbs equals what both faces radiate."""
        q = self.absorbed_w_m2(irradiance_w_m2, earth_ir_w_m2)
        emissivity = self.emissivity_front + self.emissivity_back
        return float((q / (emissivity * STEFAN_BOLTZMANN)) ** 0.25) - KELVIN

    def temperature_step(
        self, temperature_c: float, dt_s: float, irradiance_w_m2: float, earth_ir_w_m2: float
    ) -> float:
        """Panel temperature after ``dt_s``: backward Euler with the radiation linearised,
        kept between the present temperature and the equilibrium (which the exact
        solution approaches monotonically), so any step is stable and never overshoots."""
        t = temperature_c + KELVIN
        e_sigma = (self.emissivity_front + self.emissivity_back) * STEFAN_BOLTZMANN
        q = self.absorbed_w_m2(irradiance_w_m2, earth_ir_w_m2)
        t3 = t * t * t
        t_new = t + dt_s * (q - e_sigma * t3 * t) / (
            self.heat_capacity_j_m2_k + dt_s * 4.0 * e_sigma * t3
        )
        t_eq = math.sqrt(math.sqrt(max(q, 0.0) / e_sigma))
        t_new = min(max(t_new, min(t, t_eq)), max(t, t_eq))
        return max(t_new, 3.0) - KELVIN


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
        return self.cells_series * ocv_cell_v(self.soc)

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


class Pcdu:
    """Named load switches with current sensing and latching overcurrent protection.

    A switch conducts when commanded on and not tripped. When the current its load would
    draw exceeds the trip level, it opens at once, reads 0 A and latches ``tripped``:
    commanding it on does nothing until ``reset_trip``, after which it stays off until
    commanded on again.

    The switches' state is kept as arrays in declaration order, so a step over a node's
    hundreds of payload switches is a few array operations; the total power is summed in
    switch order (``np.add.accumulate``), the same float sum as one switch after another.
    """

    def __init__(self, switches: list[SwitchSpec]) -> None:
        index: dict[str, int] = {}
        for spec in switches:
            if spec.name in index:
                raise ValueError(f"duplicate switch name {spec.name!r}")
            _positive(f"{spec.name}.trip_current_a", spec.trip_current_a)
            _positive(f"{spec.name}.bus_voltage_v", spec.bus_voltage_v)
            index[spec.name] = len(index)
        n = len(index)
        self._index = index
        self._names = tuple(index)
        self._v = np.array([s.bus_voltage_v for s in switches], dtype=np.float64)
        self._trip = np.array([s.trip_current_a for s in switches], dtype=np.float64)
        self._on = np.zeros(n, dtype=np.bool_)
        self._tripped = np.zeros(n, dtype=np.bool_)
        self._current = np.zeros(n)
        self._trips = np.zeros(n, dtype=np.int64)
        self.version = 0  # changes whenever a switch opens, closes, trips or is reset
        self.last_power_w = 0.0  # power through the switches at the last step
        # Cheap reads for a node with many switches: telemetry and total power are kept
        # until a switch changes or the next step.
        self._telemetry: PcduTelemetry | None = None
        self._power_w: float | None = None
        # The on and tripped tuples of the telemetry, for the version they were made at.
        self._states: tuple[int, tuple[bool, ...], tuple[bool, ...]] = (-1, (), ())
        # ... and its current tuple, for the bits of the currents it was made from.
        self._currents: tuple[bytes, tuple[float, ...]] = (b"-", ())

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def _get(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"no PCDU switch named {name!r}") from None

    def set(self, name: str, on: bool) -> None:
        i = self._get(name)
        if on and self._tripped[i]:
            return
        if bool(self._on[i]) != bool(on):
            self.version += 1
        self._on[i] = bool(on)
        if not on:
            self._current[i] = 0.0
        self._telemetry = self._power_w = None

    def reset_trip(self, name: str) -> None:
        i = self._get(name)
        if self._tripped[i]:
            self.version += 1
        self._tripped[i] = False
        self._telemetry = None

    def is_conducting(self, name: str) -> bool:
        i = self._get(name)
        return bool(self._on[i]) and not bool(self._tripped[i])

    def trips(self, name: str) -> int:
        """How many times this switch has tripped since construction."""
        return int(self._trips[self._get(name)])

    def step(self, load_power_w: dict[str, float]) -> dict[str, float]:
        """Current through every switch for the given load demands (W at bus voltage).

        Loads on switches that are off or tripped draw nothing. Names not declared raise
        ``ValueError``, as does a demand that is not finite (nothing changes then);
        switches without an entry draw 0 A.
        """
        index = self._index
        if not load_power_w.keys() <= index.keys():  # one C-level test on the usual path
            for name in load_power_w:
                if name not in index:
                    raise ValueError(f"no PCDU switch named {name!r}")
        names = self._names
        demand = np.fromiter(
            map(load_power_w.get, names, repeat(0.0)), dtype=np.float64, count=len(names)
        )
        current = self.step_demand(demand)
        return dict(zip(names, current.tolist(), strict=True))

    def index(self, name: str) -> int:
        """A switch's place in the declaration order (ValueError for an unknown name)."""
        return self._get(name)

    def step_demand(self, demand: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """:meth:`step` for the demands as one array in declaration order (no dicts: a
        node's hundreds of payload switches cost a few array operations). Returns the
        currents (a new array, never changed afterwards)."""
        names = self._names
        if demand.shape != (len(names),):
            raise ValueError(f"demand must have one value per switch ({len(names)})")
        finite = np.isfinite(demand)
        if not finite.all():
            i = int(np.argmin(finite))
            raise ValueError(f"load {names[i]} must be finite, got {float(demand[i])!r}")
        v = self._v
        conducting = self._on & ~self._tripped & (demand > 0.0)
        current = np.where(conducting, demand / v, 0.0)
        over = current > self._trip
        if over.any():
            self._on[over] = False
            self._tripped[over] = True
            self._trips[over] += 1
            self.version += int(np.count_nonzero(over))
            current[over] = 0.0
        self._current = current
        total = self._total()
        self.last_power_w = total
        self._telemetry = None
        self._power_w = total
        return current

    def power_w(self) -> float:
        """Total power through the switches at the last step."""
        if self._power_w is None:
            self._power_w = self._total()
        return self._power_w

    def _total(self) -> float:
        """Power through the switches now, summed one switch after another in order."""
        products = self._current * self._v
        return float(np.add.accumulate(products)[-1]) if len(products) else 0.0

    def telemetry(self) -> PcduTelemetry:
        if self._telemetry is None:
            states = self._states
            if states[0] != self.version:  # on and tripped change only with the version
                states = (self.version, tuple(self._on.tolist()), tuple(self._tripped.tolist()))
                self._states = states
            bits = self._current.tobytes()
            if bits != self._currents[0]:  # the same currents, bit for bit: the same tuple
                self._currents = (bits, tuple(self._current.tolist()))
            self._telemetry = PcduTelemetry(
                names=self._names,
                on=states[1],
                current_a=self._currents[1],
                tripped=states[2],
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
    switch_current_a: Mapping[str, float] = field(default_factory=dict)


class SwitchCurrents(Mapping[str, float]):
    """Current per switch name, as a dict of them; the dict is built when first used (a
    step over hundreds of switches whose currents nobody reads builds none)."""

    __slots__ = ("_current", "_dict", "_names")

    def __init__(self, names: tuple[str, ...], current: npt.NDArray[np.float64]) -> None:
        self._names = names
        self._current = current
        self._dict: dict[str, float] | None = None

    def _as_dict(self) -> dict[str, float]:
        if self._dict is None:
            self._dict = dict(zip(self._names, self._current.tolist(), strict=True))
        return self._dict

    def __getitem__(self, name: str) -> float:
        return self._as_dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._as_dict())

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return repr(self._as_dict())


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

    @property
    def age_now_years(self) -> float:
        """The array's age now: its age at the start plus the time simulated since."""
        return self.age_years + self.elapsed_s / SECONDS_PER_YEAR

    def step(
        self,
        dt_s: float,
        sun_cos: float,
        array_temp_c: float,
        in_eclipse: bool,
        loads_w: dict[str, float] | npt.NDArray[np.float64],
        flux_w_m2: float | None = None,
    ) -> PowerStep:
        """One step of the bus. ``loads_w``: the demand per switch name, or as one array
        in the PCDU's declaration order (:meth:`Pcdu.step_demand`)."""
        dt = _finite("dt_s", dt_s)
        if dt <= 0.0:
            raise ValueError("dt_s must be positive")
        solar = self.array.power_w(sun_cos, array_temp_c, self.age_now_years, in_eclipse, flux_w_m2)
        currents: Mapping[str, float]
        if isinstance(loads_w, np.ndarray):
            currents = SwitchCurrents(self.pcdu.names, self.pcdu.step_demand(loads_w))
        else:
            currents = self.pcdu.step(loads_w)
        demand = self.pcdu.last_power_w
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
