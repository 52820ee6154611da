"""One compute node, whole: orbit, radiation, power, thermal and boards stepped together.

This is the simulated world behind the HAL's sim backend. It composes the models of
this package, routes power (loads draw through PCDU switches; boards behind an open or
tripped switch lose power), routes heat (boards into the cold plate, avionics, radio and
battery losses into their nodes, heaters into their zones, the cold plate to the
radiator through a pumped loop whose thermostatic bypass valve isolates the radiator at
light load), and applies faults (drawn from the radiation model or scheduled by a
scenario), logging each with its time.

The array sees the sun it would see: the seasonal solar flux, the share of the solar
disc outside the Earth's conical shadow, the sun's angle to the array for its pointing
(fixed on the orbit normal, or a single-axis drive that follows the beta angle), its own
temperature, and its age (``array_age_years`` at the start of the run, growing with it).

Physics advances in fixed steps of ``physics_dt_s`` (1 s by default), whatever the
caller's frame rate, so results do not depend on how often the flight software looks.
Orbit geometry (shadow, sun angle, flux) is computed an hour of steps at a time, vectorized.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim_hw.boards import BoardArray, BoardParams
from sim_hw.environment import flux_factor
from sim_hw.faults import (
    BOARD_KINDS,
    FaultInjector,
    FaultKind,
    FaultTracker,
    InjectedFault,
    ScheduledFault,
    board_fault_effect,
    board_state,
    resolve_target,
)
from sim_hw.orbit import CircularOrbit
from sim_hw.power import Battery, Pcdu, PowerStep, PowerSystem, SolarArray, SwitchSpec
from sim_hw.radiation import RadiationModel, RadiationRates
from sim_hw.thermal import ThermalNetwork, ValveLink, earth_view_factor_vertical_plate

NS_PER_S = 1_000_000_000
THERMAL_NODES = ("structure", "battery", "avionics", "coldplate", "radiator")
SENSORS = (
    ("battery_a", "battery"),
    ("battery_b", "battery"),
    ("avionics_a", "avionics"),
    ("avionics_b", "avionics"),
    ("coldplate_a", "coldplate"),
    ("coldplate_b", "coldplate"),
    ("radiator_a", "radiator"),
    ("structure_a", "structure"),
)
HEATER_ZONES = ("battery", "avionics", "coldplate")
# Operating limits of each thermal node and of the boards (deg C): what the design must
# hold from 0 % to 100 % payload, in eclipse season and out. The radiator's low limit is
# its loop fluid's (an HFE-7100-class coolant freezes at -135 C); the cold plate's low
# limit keeps unpowered boards inside their storage range and ready to start.
TEMPERATURE_LIMITS_C: dict[str, tuple[float, float]] = {
    "structure": (-60.0, 60.0),
    "battery": (0.0, 45.0),
    "avionics": (-10.0, 50.0),
    "coldplate": (0.0, 60.0),
    "radiator": (-120.0, 80.0),
    "boards": (0.0, 90.0),
}
ARRAY_POINTINGS = ("orbit_normal", "beta_tracking")
EARTH_IR_W_M2 = 237.0  # mean outgoing longwave radiation at the top of the atmosphere
EPHEMERIS_CHUNK = 3600
TRUTH_SERIES = ("t_s", "soc", "bus_v", "eclipse", *(f"{n}_c" for n in THERMAL_NODES))


@dataclass
class SpacecraftConfig:
    """The node's build: sizes, ratings and environment switches.

    The defaults are the default node's design (see the README's design table): a
    dawn-dusk orbit at 750 km whose eclipse season peaks at the June solstice, an array
    sized to stay energy-positive every orbit of ``design_life_years`` with 256 boards at
    full power, a radiator sized for that load, and heaters sized for the payload off.
    """

    boards: int = 256
    boards_per_switch: int = 32
    physics_dt_s: float = 1.0
    thermal_dt_s: float = 5.0  # the thermal network's step (heat averaged over it)
    altitude_km: float = 750.0
    ltan_h: float = 18.0
    day_of_year: float = 172.0
    phase_deg: float = 0.0  # argument of latitude at the start (nodes of a cluster differ)
    array_area_m2: float = 450.0
    array_pointing: str = "orbit_normal"
    array_efficiency: float = 0.30
    array_degradation_per_year: float = 0.0275
    array_age_years: float = 0.0
    design_life_years: float = 5.0
    battery_capacity_wh: float = 100_000.0
    battery_soc: float = 0.9
    cells_series: int = 96
    battery_resistance_ohm: float = 0.05
    max_charge_w: float = 40_000.0
    max_discharge_w: float = 150_000.0
    bus_voltage_v: float = 350.0
    avionics_w: float = 400.0
    radio_w: float = 200.0
    aux_w: float = 300.0
    battery_heater_w: float = 800.0
    avionics_heater_w: float = 300.0
    coldplate_heater_w: float = 1500.0
    battery_radiator_area_m2: float = 1.8
    radiator_area_m2: float = 260.0
    loop_conductance_w_k: float = 10_000.0  # cold plate -> radiator, valve fully open
    loop_min_conductance_w_k: float = 2.0  # valve closed: the radiator is bypassed
    loop_setpoint_c: float = 15.0  # the bypass valve starts opening here
    loop_band_k: float = 10.0  # ... and is fully open this much above
    # Heat capacities of the nodes that grow with the node's size (J/K; see _thermal_network).
    battery_heat_capacity_j_k: float = 6.0e5
    coldplate_heat_capacity_j_k: float = 3.0e5
    radiator_heat_capacity_j_k: float = 8.0e5
    earth_ir_w_m2: float = EARTH_IR_W_M2
    sensor_noise_c: float = 0.05
    radiation: RadiationRates = field(default_factory=RadiationRates)
    radiation_enabled: bool = True
    schedule: list[ScheduledFault] = field(default_factory=list)
    board_params: BoardParams = field(default_factory=BoardParams)

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> SpacecraftConfig:
        """Build from a mission's tables; unknown keys are a KeyError naming the key, bad
        values a ValueError naming it."""
        known = set(cls.__dataclass_fields__) - {"radiation", "schedule", "board_params"}
        out = cls()
        for key, value in cfg.items():
            if key == "radiation":
                out.radiation = RadiationRates(**value)
            elif key in known:
                kind = type(getattr(out, key))
                if kind is not str and isinstance(value, str):
                    raise ValueError(f"{key}: expected a number, got {value!r}")
                setattr(out, key, kind(value))
            else:
                raise KeyError(key)
        out.validate()
        return out

    def validate(self) -> None:
        """Raise ValueError naming the first value outside its range."""
        if self.array_pointing not in ARRAY_POINTINGS:
            raise ValueError(
                f"array_pointing: {self.array_pointing!r} is not one of {ARRAY_POINTINGS}"
            )
        for key, value in vars(self).items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key}: must be finite, got {value}")
        if self.boards < 1 or self.boards_per_switch < 1:
            raise ValueError("boards and boards_per_switch must be >= 1")
        for key in (
            "physics_dt_s",
            "thermal_dt_s",
            "altitude_km",
            "array_area_m2",
            "battery_capacity_wh",
            "bus_voltage_v",
            "radiator_area_m2",
            "loop_band_k",
            "design_life_years",
            "battery_heat_capacity_j_k",
            "coldplate_heat_capacity_j_k",
            "radiator_heat_capacity_j_k",
        ):
            if getattr(self, key) <= 0.0:
                raise ValueError(f"{key}: must be positive, got {getattr(self, key)}")
        for key in (
            "array_age_years",
            "avionics_w",
            "radio_w",
            "aux_w",
            "battery_heater_w",
            "avionics_heater_w",
            "coldplate_heater_w",
            "battery_radiator_area_m2",
            "loop_conductance_w_k",
            "loop_min_conductance_w_k",
            "earth_ir_w_m2",
            "sensor_noise_c",
        ):
            if getattr(self, key) < 0.0:
                raise ValueError(f"{key}: must not be negative, got {getattr(self, key)}")
        for key in ("array_efficiency", "array_degradation_per_year", "battery_soc"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"{key}: must be within [0, 1], got {getattr(self, key)}")

    def heater_w(self, zone: str) -> float:
        """Rated power of a zone's heater."""
        return float(getattr(self, f"{zone}_heater_w"))


PLATFORM_SWITCHES = ("avionics", "radio", "heaters", "aux_0")
"""The platform's switches, first in the PCDU's order; the payload switches follow."""


@dataclass
class SwitchMap:
    """Which PCDU switch feeds what."""

    names: tuple[str, ...]
    board_switch: NDArray[np.intp]  # per board, index into payload switch names
    payload: tuple[str, ...]


def _switch_map(cfg: SpacecraftConfig) -> SwitchMap:
    groups = max(1, -(-cfg.boards // cfg.boards_per_switch))
    payload = tuple(f"payload_{i}" for i in range(groups))
    board_switch = (np.arange(cfg.boards) // cfg.boards_per_switch).astype(np.intp)
    return SwitchMap((*PLATFORM_SWITCHES, *payload), board_switch, payload)


class Spacecraft:
    """The simulated node; the HAL's sim devices read and command it."""

    def __init__(self, cfg: SpacecraftConfig, seed: int, start_s: float = 0.0) -> None:
        self.cfg = cfg
        root = np.random.SeedSequence(seed)
        rad_seed, board_seed, sensor_seed, target_seed = root.spawn(4)
        cfg.validate()
        self.orbit = CircularOrbit(
            cfg.altitude_km, ltan_h=cfg.ltan_h, day_of_year=cfg.day_of_year, phase_deg=cfg.phase_deg
        )
        self.switches = _switch_map(cfg)
        v = cfg.bus_voltage_v
        board_group_w = cfg.boards_per_switch * cfg.board_params.max_w
        heaters_w = sum(cfg.heater_w(z) for z in HEATER_ZONES)
        specs = [
            SwitchSpec("avionics", 2.0 * cfg.avionics_w / v, v),
            SwitchSpec("radio", 2.0 * cfg.radio_w / v, v),
            SwitchSpec("heaters", max(1.5 * heaters_w / v, 0.1), v),
            SwitchSpec("aux_0", 2.0 * cfg.aux_w / v, v),
            *(SwitchSpec(name, 1.3 * board_group_w / v, v) for name in self.switches.payload),
        ]
        self.pcdu = Pcdu(specs)
        for name in self.switches.names:
            self.pcdu.set(name, True)
        self._pcdu_enforced = -1
        self._supply_version = -1
        self._supply = np.zeros(len(self.switches.payload), dtype=bool)
        # Each payload switch's board load, for the boards' settings_version it was summed at.
        self._group_loads: tuple[int, NDArray[np.float64]] = (-1, np.zeros(0))
        self.array = SolarArray(
            area_m2=cfg.array_area_m2,
            efficiency=cfg.array_efficiency,
            degradation_per_year=cfg.array_degradation_per_year,
        )
        self.battery = Battery(
            cfg.battery_capacity_wh,
            soc=cfg.battery_soc,
            internal_resistance_ohm=cfg.battery_resistance_ohm,
            cells_series=cfg.cells_series,
            max_charge_w=cfg.max_charge_w,
            max_discharge_w=cfg.max_discharge_w,
        )
        self.power = PowerSystem(self.array, self.battery, self.pcdu, cfg.array_age_years)
        self.thermal, self.loop_valve = _thermal_network(cfg)
        # Earth IR on a side-facing surface (radiators, the faces of an orbit-normal array).
        self.earth_ir_side_w_m2 = cfg.earth_ir_w_m2 * earth_view_factor_vertical_plate(
            cfg.altitude_km
        )
        t = self.thermal
        self._i_struct, self._i_battery = t.index("structure"), t.index("battery")
        self._i_avionics, self._i_coldplate = t.index("avionics"), t.index("coldplate")
        self._i_radiator = t.index("radiator")
        self._zone_node = [t.index(z) for z in HEATER_ZONES]
        # Earth IR on every radiating face, sun on the structure's (W per W/m2 of flux).
        self._ir_w = (t.emissivity * t.radiator_area_m2 * self.earth_ir_side_w_m2).tolist()
        self._sun_w = [float(t.absorptivity[self._i_struct] * t.radiator_area_m2[self._i_struct])]
        self._heat_acc_j = [0.0] * len(t.names)
        self._heat_acc_s = 0.0
        self._sensor_node = np.array([t.index(node) for _name, node in SENSORS], dtype=np.intp)
        # The array faces the sun's side of the orbit plane at the start of the run.
        self._array_side = 1.0 if self.orbit.beta_angle_deg(start_s) >= 0.0 else -1.0
        self.boards = BoardArray(cfg.boards, cfg.board_params, np.random.default_rng(board_seed))
        rad = RadiationModel(cfg.radiation, np.random.default_rng(rad_seed))
        self.faults = FaultInjector(list(cfg.schedule), rad if cfg.radiation_enabled else None)
        self.sensor_rng = np.random.default_rng(sensor_seed)
        self.heaters_on = dict.fromkeys(HEATER_ZONES, False)
        self.heater_stuck: dict[str, bool] = {}
        self.sensor_stuck: dict[str, float] = {}
        self.sensor_drift: dict[str, tuple[float, float]] = {}  # name -> (t0, degC/s)
        self.radio_outage_until_s = -1.0
        self.extra_load_w: dict[str, float] = {}
        self.overcurrent_until: dict[str, tuple[float, float]] = {}  # name -> (W, until s)
        self.memory_upsets: deque[dict[str, Any]] = deque(maxlen=1024)  # for the HAL
        self.target_rng = np.random.default_rng(target_seed)
        self.labels: dict[str, int | str] = {}
        self.struck: set[int] = set()  # boards scheduled faults struck
        self.tracker = FaultTracker()
        self.truth_rows: deque[tuple[float, ...]] = deque(maxlen=400_000)
        self.t_s = start_s
        self.now_s = start_s  # the last frame's time (physics may lag it by < one step)
        self.revision = 0  # bumped when faults change the world between physics steps
        self.board_temp_max_c = np.full(cfg.boards, -273.15)
        self.last_power: PowerStep | None = None
        self._eph_t0 = 0.0
        # Per step of the current chunk: sunlit share, sun cosine, solar flux, flux factor.
        self._eph_rows: list[tuple[float, float, float, float]] = []
        self.sunlit_fraction = 1.0  # share of the solar disc in view now
        self.sun_cos = 1.0  # cosine of the sun's angle to the array normal now
        self.solar_flux_w_m2 = 0.0  # irradiance now
        lit, cos, sun, _flux = self._ephemeris(start_s)
        self.array_temp_c = self.array.equilibrium_temp_c(sun * cos * lit, self.earth_ir_side_w_m2)
        self.heater_on_s = dict.fromkeys(HEATER_ZONES, 0.0)  # time each heater has been on
        self.sensor_values = np.zeros(len(SENSORS))
        self._read_sensors()

    # --- time ---------------------------------------------------------------------------
    @property
    def fault_log(self) -> deque[dict[str, Any]]:
        """Every injected fault with its effect (see ``FaultTracker``)."""
        return self.tracker.records

    @property
    def fault_log_dropped(self) -> int:
        return self.tracker.dropped

    def advance_to(self, t_s: float) -> None:
        """Step the physics until simulated time reaches ``t_s``.

        Scheduled faults strike at their own time, not at a physics step: each is applied
        at the first call at or after its time (the flight software cannot look in
        between), so a latch-up's current is there at the next minor frame. What the
        flight software commanded since the last call happened at that call's time.
        """
        self.tracker.observe(self, self.now_s)
        dt = self.cfg.physics_dt_s
        if self.t_s + dt > t_s + 1e-9 and self.faults.next_due_s > t_s:
            # Between physics steps with no scheduled fault due (most frames): nothing to
            # step and nothing to strike, so only the frame time moves.
            self.now_s = max(self.now_s, t_s)
            return
        while self.t_s + dt <= t_s + 1e-9:
            self._strike(self.faults.release_due(self.t_s))
            self._step(dt)
            self.tracker.observe(self, self.t_s)
        self._strike(self.faults.release_due(t_s))
        self.now_s = max(self.now_s, t_s)

    def _ephemeris(self, t_s: float) -> tuple[float, float, float, float]:
        """Sunlit share, sun cosine on the array, solar flux and particle flux factor."""
        dt = self.cfg.physics_dt_s
        i = round((t_s - self._eph_t0) / dt)
        if not 0 <= i < len(self._eph_rows):
            self._eph_t0 = t_s
            times = t_s + dt * np.arange(EPHEMERIS_CHUNK)
            lit = np.asarray(self.orbit.sunlit_fraction(times), dtype=np.float64)
            if self.cfg.array_pointing == "beta_tracking":
                cos = np.ones(EPHEMERIS_CHUNK)
            else:
                sin_beta = np.sin(np.radians(self.orbit.beta_angle_deg(times)))
                cos = np.maximum(self._array_side * sin_beta, 0.0)
            sun = np.asarray(self.orbit.solar_flux_w_m2(times), dtype=np.float64)
            peak = self.cfg.radiation.saa_peak_multiplier
            flux = np.asarray(
                flux_factor(self.orbit, times, saa_peak_multiplier=peak), dtype=np.float64
            )
            # As Python floats once per chunk (the same values float() of each gives).
            self._eph_rows = list(
                zip(lit.tolist(), cos.tolist(), sun.tolist(), flux.tolist(), strict=True)
            )
            i = 0
        return self._eph_rows[i]

    def in_eclipse(self) -> bool:
        """Any part of the sun hidden by the Earth now."""
        return self.sunlit_fraction < 1.0

    def _step(self, dt: float) -> None:
        lit, cos, sun, flux = self._ephemeris(self.t_s)
        self.sunlit_fraction, self.sun_cos, self.solar_flux_w_m2 = lit, cos, sun
        faults, events = self.faults.step(
            self.t_s, dt, self.cfg.boards, flux, release_scheduled=False
        )
        b = self.boards
        for f in faults:  # random: they strike at the step's end, as stamped
            self._record(f, f.target)
        if events.quiet:  # no event on any board: the pass would only settle the boards
            b.settle()
        else:
            seu, unc, sel, sefi = (  # a kind without events is not searched
                a if has else None
                for a, has in zip(
                    (events.seu, events.seu_uncorrectable, events.sel, events.sefi),
                    events.kinds,
                    strict=True,
                )
            )
            effects = b.apply_radiation(seu, unc, sel, sefi, at_s=self.t_s + dt)
            self._record_effects(effects, self.t_s + dt)
        self._enforce_switches()
        b.step(dt, float(self.thermal.temperatures_c[self._i_coldplate]))
        np.maximum(self.board_temp_max_c, b.temperature_c, out=self.board_temp_max_c)
        loads = self._demand(b)
        irradiance = sun * cos * lit
        self.array_temp_c = self.array.temperature_step(
            self.array_temp_c, dt, irradiance, self.earth_ir_side_w_m2
        )
        self.last_power = self.power.step(
            dt, cos * lit, self.array_temp_c, lit <= 0.0, loads, flux_w_m2=sun
        )
        self._enforce_switches()
        self._step_thermal(dt, sun * lit, b.heat_w)
        self.t_s += dt
        self._read_sensors()

    # --- routing ------------------------------------------------------------------------
    def _demand(self, b: BoardArray) -> NDArray[np.float64]:
        """Each switch's load (W), in the switches' order (``SwitchMap.names``): the four
        platform loads, then each payload switch's boards, plus extra loads and the
        overcurrents still running, added in that order (the same float sums, switch by
        switch, as a dict of loads by name)."""
        cfg = self.cfg
        version = b.settings_version  # the boards' powers change only with it
        if self._group_loads[0] != version:
            per_group = np.bincount(
                self.switches.board_switch, weights=b.power_w, minlength=len(self.switches.payload)
            )
            self._group_loads = (version, per_group.astype(np.float64, copy=False))
        heaters = sum(cfg.heater_w(z) for z in HEATER_ZONES if self._heater_on(z))
        platform = {
            "avionics": cfg.avionics_w,
            "radio": cfg.radio_w,
            "heaters": heaters,
            "aux_0": cfg.aux_w,
        }
        k = len(PLATFORM_SWITCHES)
        demand = np.empty(len(self.switches.names))
        demand[:k] = [platform[name] for name in PLATFORM_SWITCHES]
        demand[k:] = self._group_loads[1]
        if self.extra_load_w:
            for name, w in self.extra_load_w.items():
                demand[self.pcdu.index(name)] += w
            self.extra_load_w.clear()
        if self.overcurrent_until:
            for name, (w, until) in list(self.overcurrent_until.items()):
                if self.t_s <= until:
                    demand[self.pcdu.index(name)] += w
                else:
                    del self.overcurrent_until[name]
        return demand

    def _heater_on(self, zone: str) -> bool:
        on = self.heater_stuck.get(zone, self.heaters_on[zone])
        return on and self.pcdu.is_conducting("heaters")

    def _enforce_switches(self) -> None:
        """Boards behind an open or tripped payload switch lose power. (Boards can only be
        powered behind a conducting switch, so nothing changes while the PCDU does not.)"""
        if self.pcdu.version == self._pcdu_enforced:
            return
        self._pcdu_enforced = self.pcdu.version
        dead = [
            i for i, name in enumerate(self.switches.payload) if not self.pcdu.is_conducting(name)
        ]
        if dead:
            lost = np.isin(self.switches.board_switch, dead) & self.boards.powered
            if lost.any():
                self.boards.set_power(np.flatnonzero(lost), False)

    def board_supply_ok(self, idx: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Whether each board's payload switch conducts (a board can only power on then)."""
        if self._supply_version != self.pcdu.version:  # recomputed only when a switch changed
            self._supply_version = self.pcdu.version
            self._supply = np.array(
                [self.pcdu.is_conducting(n) for n in self.switches.payload], dtype=bool
            )
        ok: NDArray[np.bool_] = self._supply[self.switches.board_switch[idx]]
        return ok

    def heater_power_w(self) -> float:
        """Power the heaters draw now."""
        return sum(self.cfg.heater_w(z) for z in HEATER_ZONES if self._heater_on(z))

    def _step_thermal(self, dt: float, sun_w_m2: float, board_heat_w: float) -> None:
        """Book this step's heat into each node; every ``thermal_dt_s`` the network takes
        one implicit step with the average (its time constants are tens of seconds and
        more, so this changes nothing that matters and costs a fifth)."""
        cfg = self.cfg
        conducting = self.pcdu.is_conducting
        acc = self._heat_acc_j
        acc[self._i_coldplate] += board_heat_w * dt
        acc[self._i_avionics] += (
            cfg.avionics_w * conducting("avionics") + cfg.radio_w * conducting("radio")
        ) * dt
        acc[self._i_struct] += (cfg.aux_w * conducting("aux_0") + self._sun_w[0] * sun_w_m2) * dt
        current = self.battery.current_a
        acc[self._i_battery] += current * current * cfg.battery_resistance_ohm * dt
        if conducting("heaters"):
            for zone, node in zip(HEATER_ZONES, self._zone_node, strict=True):
                if self.heater_stuck.get(zone, self.heaters_on[zone]):
                    acc[node] += cfg.heater_w(zone) * dt
                    self.heater_on_s[zone] += dt
        self._heat_acc_s += dt
        if self._heat_acc_s + 1e-9 < cfg.thermal_dt_s:
            return
        span = self._heat_acc_s
        q = [ir + j / span for ir, j in zip(self._ir_w, acc, strict=True)]
        # The loop's pump fails to the conductance the config says (tests cut it).
        self.loop_valve.g_max_w_k = cfg.loop_conductance_w_k
        self.thermal.advance(span, q)
        self._heat_acc_j = [0.0] * len(acc)
        self._heat_acc_s = 0.0

    def _read_sensors(self) -> None:
        temps = self.thermal.temperatures_c
        noise = self.sensor_rng.normal(0.0, self.cfg.sensor_noise_c, len(SENSORS))
        values = temps[self._sensor_node] + noise
        if self.sensor_stuck or self.sensor_drift:
            for i, (name, _node) in enumerate(SENSORS):
                drift = self.sensor_drift.get(name)
                if drift is not None:
                    values[i] += drift[1] * (self.t_s - drift[0])
                stuck = self.sensor_stuck.get(name)
                if stuck is not None:
                    values[i] = stuck
        self.sensor_values = values
        p = self.last_power
        self.truth_rows.append(
            (
                self.t_s,
                self.battery.soc,
                p.bus_voltage_v if p is not None else self.battery.terminal_voltage_v(),
                1.0 if self.in_eclipse() else 0.0,
                *temps.tolist(),
            )
        )

    # --- faults -------------------------------------------------------------------------
    def _record(self, f: InjectedFault, target: int | str | None) -> dict[str, Any]:
        """Log a fault with whether it can act (and why not) and the state it found."""
        rec: dict[str, Any] = {**f.to_dict(), "target": target, "effective": True, "reason": ""}
        follow = False
        if target is None:
            rec.update(effective=False, reason=f"no unit matches {f.target}")
        elif f.kind in BOARD_KINDS:
            b = int(target)
            why = board_fault_effect(f.kind, self.boards, b)
            if 0 <= b < self.cfg.boards:
                rec["state"] = board_state(self.boards, b)
            rec.update(effective=not why, reason=why)
            follow = not why and f.kind in (FaultKind.SEL, FaultKind.SEFI, FaultKind.SEU)
            if not why and f.kind in (FaultKind.SEU_UNCORRECTABLE, FaultKind.SILENT_CORRUPTION):
                rec["job_hit"] = bool(self.boards.working[b])
        elif f.kind is FaultKind.SWITCH_OVERCURRENT:
            name = str(target)
            if name not in self.switches.names:
                rec.update(effective=False, reason="no such switch")
            elif not self.pcdu.is_conducting(name):
                rec.update(effective=False, reason="switch not conducting")
            else:
                rec["trips_before"] = self.pcdu.trips(name)
                follow = True
        elif f.kind in (FaultKind.SENSOR_STUCK, FaultKind.SENSOR_DRIFT):
            names = [n for n, _node in SENSORS]
            if str(target) not in names:
                rec.update(effective=False, reason="no such sensor")
            else:
                rec["sensor"] = names.index(str(target))
        elif f.kind is FaultKind.HEATER_STUCK and str(target) not in self.heaters_on:
            rec.update(effective=False, reason="no such heater zone")
        return self.tracker.add(rec, follow)

    def _record_effects(self, fx: Any, t_s: float) -> None:
        """Upsets' side effects as faults of their own: double-bit errors, corruptions.
        The boards are settled first whenever there is an effect, even an empty one (when
        a refresh happens shapes later rounding; this is where it has always been)."""
        if fx.double_bit is not None or fx.caught is not None or fx.escaped is not None:
            self.boards.settle()
        for kind, pairs, detail in (
            (FaultKind.SEU_UNCORRECTABLE, fx.double_bit, "double_bit"),
            (FaultKind.SILENT_CORRUPTION, fx.caught, "caught"),
            (FaultKind.SILENT_CORRUPTION, fx.escaped, "escaped"),
        ):
            if pairs is None or not pairs[0].size:
                continue  # (nothing to record: the boards' working mask is not needed)
            working = self.boards.working
            for b, n in zip(*pairs, strict=True):
                f = InjectedFault(t_s, kind, int(b), "random", {detail: int(n)})
                rec = self._record(f, int(b))
                rec.update(effective=True, reason="", job_hit=bool(working[b]))
                if detail == "double_bit" and fx.double_bit_working is not None:
                    rec["job_hit"] = bool(np.isin(b, fx.double_bit_working[0]))
                if kind is FaultKind.SILENT_CORRUPTION:
                    rec["job_hit"] = True  # only computing boards are corrupted
                    rec["caught"] = detail == "caught"

    def _strike(self, faults: list[InjectedFault]) -> None:
        """Apply scheduled faults, each at its own time; log each with its effect."""
        if not faults:
            return
        self.revision += 1
        n = self.cfg.boards
        zeros = np.zeros(n, dtype=np.int64)
        for f in faults:
            target = resolve_target(f, self.boards, self.labels, self.target_rng, self.struck)
            if f.label and target is not None:
                self.labels[f.label] = target
            if f.kind in BOARD_KINDS and isinstance(target, int):
                self.struck.add(target)
            rec = self._record(f, target)
            if not rec["effective"]:
                continue
            if f.kind in BOARD_KINDS:
                b = int(target)  # type: ignore[arg-type]
                if f.kind is FaultKind.SILENT_CORRUPTION:
                    self.boards.corrupt_job(b, bool(f.detail.get("caught", True)))
                    continue
                seu, unc = zeros.copy(), zeros.copy()
                sel, sefi = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
                count = int(f.detail.get("count", 1))
                if f.kind is FaultKind.SEL:
                    sel[b] = True
                elif f.kind is FaultKind.SEFI:
                    sefi[b] = True
                elif f.kind is FaultKind.SEU:
                    seu[b] = count
                else:
                    unc[b] = count
                fx = self.boards.apply_radiation(seu, unc, sel, sefi, at_s=f.t_s)
                self._record_effects(fx, f.t_s)
            elif f.kind is FaultKind.SWITCH_OVERCURRENT:
                until = f.t_s + float(f.detail.get("duration_s", 0.0))
                self.overcurrent_until[str(target)] = (float(f.detail.get("extra_w", 1e6)), until)
            elif f.kind is FaultKind.SENSOR_STUCK:
                self.sensor_stuck[str(target)] = float(f.detail.get("value", -273.0))
            elif f.kind is FaultKind.SENSOR_DRIFT:
                self.sensor_drift[str(target)] = (f.t_s, float(f.detail.get("rate_c_s", 0.5)))
            elif f.kind is FaultKind.HEATER_STUCK:
                self.heater_stuck[str(target)] = bool(f.detail.get("on", True))
            elif f.kind is FaultKind.RADIO_OUTAGE:
                self.radio_outage_until_s = f.t_s + float(f.detail.get("duration_s", 600.0))
            elif f.kind is FaultKind.MEMORY_UPSET:
                self.memory_upsets.append(rec)  # flight-software memory: the HAL applies it
        self._read_sensors_now()

    def _read_sensors_now(self) -> None:
        """Sensor faults show at once (the readings otherwise refresh at physics steps)."""
        if self.sensor_stuck or self.sensor_drift:
            for i, (name, _node) in enumerate(SENSORS):
                if name in self.sensor_stuck:
                    self.sensor_values[i] = self.sensor_stuck[name]

    def truth(self) -> dict[str, Any]:
        """What scoring needs from the world: every fault and its effect, damage, silent
        corruptions, all work the boards did, and a per-step series of the platform."""
        b = self.boards
        rows = np.array(self.truth_rows, dtype=np.float64).reshape(-1, len(TRUTH_SERIES))
        return {
            "fault_log": list(self.fault_log),
            "fault_log_dropped": self.fault_log_dropped,
            "boards_damaged": int(b.damaged.sum()),
            "damaged_boards": [int(i) for i in np.flatnonzero(b.damaged)],
            "silent_escapes": int(b.silent_escapes.sum()),
            "work_done": float(b.work_done.sum()),
            "powered_at_end": [int(i) for i in np.flatnonzero(b.powered)],
            "switches_conducting": {n: self.pcdu.is_conducting(n) for n in self.switches.names},
            "switch_names": list(self.switches.names),
            "board_switch": [self.switches.payload[i] for i in self.switches.board_switch],
            "board_temp_max_c": np.round(self.board_temp_max_c, 2).tolist(),
            "sensor_names": [name for name, _node in SENSORS],
            "sensor_nodes": [node for _name, node in SENSORS],
            "heater_zones": list(HEATER_ZONES),
            "series_names": list(TRUTH_SERIES),
            "series": np.round(rows, 4).tolist(),
        }

    # --- commands from the HAL ----------------------------------------------------------
    def set_heater(self, zone: str, on: bool) -> None:
        if zone not in self.heaters_on:
            raise KeyError(zone)
        self.heaters_on[zone] = on

    def radio_available(self) -> bool:
        return self.t_s >= self.radio_outage_until_s and self.pcdu.is_conducting("radio")


def _thermal_network(cfg: SpacecraftConfig) -> tuple[ThermalNetwork, ValveLink]:
    """The node's lumped network and the valve of its cold-plate loop.

    Capacitances: structure 4 MJ/K (about 4 t of aluminium and harness), battery
    0.6 MJ/K (~650 kg of cells), avionics 60 kJ/K, cold plate and loop 0.3 MJ/K,
    radiator 0.8 MJ/K (battery, cold plate and radiator from the config: they grow with
    the node). Every radiating face is side-facing (normal perpendicular to nadir,
    edge-on to the sun for the radiators), so each sees the same share of the Earth's
    infrared; only the structure takes direct sun.
    """
    names = THERMAL_NODES
    n = len(names)
    idx = {name: i for i, name in enumerate(names)}
    g = np.zeros((n, n))

    def link(a: str, b: str, w_k: float) -> None:
        g[idx[a], idx[b]] = g[idx[b], idx[a]] = w_k

    link("coldplate", "structure", 20.0)
    link("structure", "radiator", 40.0)
    link("battery", "structure", 4.0)
    link("avionics", "structure", 25.0)
    cap = [
        4.0e6,
        cfg.battery_heat_capacity_j_k,
        6.0e4,
        cfg.coldplate_heat_capacity_j_k,
        cfg.radiator_heat_capacity_j_k,
    ]
    area = [12.0, cfg.battery_radiator_area_m2, 0.8, 0.0, cfg.radiator_area_m2]
    eps = [0.8, 0.85, 0.85, 0.0, 0.9]
    alpha = [0.25, 0.2, 0.2, 0.0, 0.15]
    net = ThermalNetwork(
        names, cap, g, area, eps, alpha, initial_temp_c=[15.0, 15.0, 25.0, 20.0, 10.0]
    )
    # The pumped loop from the cold plate to the radiator: its thermostatic bypass valve
    # sets the flow from the loop's inlet temperature (see ValveLink).
    valve = net.add_valve(
        "coldplate",
        "radiator",
        cfg.loop_min_conductance_w_k,
        cfg.loop_conductance_w_k,
        cfg.loop_setpoint_c,
        cfg.loop_band_k,
    )
    return net, valve
