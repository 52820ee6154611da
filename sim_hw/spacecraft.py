"""One compute node, whole: orbit, radiation, power, thermal and boards stepped together.

This is the simulated world behind the HAL's sim backend. It composes the models of
this package, routes power (loads draw through PCDU switches; boards behind an open or
tripped switch lose power), routes heat (boards into the cold plate, avionics, radio and
battery losses into their nodes, heaters into their zones), and applies faults (drawn
from the radiation model or scheduled by a scenario), logging each with its time.

Physics advances in fixed steps of ``physics_dt_s`` (1 s by default), whatever the
caller's frame rate, so results do not depend on how often the flight software looks.
Orbit geometry (eclipse, flux) is computed an hour of steps at a time, vectorized.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim_hw.boards import BoardArray, BoardParams
from sim_hw.environment import flux_factor
from sim_hw.faults import FaultInjector, FaultKind, InjectedFault, ScheduledFault
from sim_hw.orbit import CircularOrbit
from sim_hw.power import Battery, Pcdu, PowerStep, PowerSystem, SolarArray, SwitchSpec
from sim_hw.radiation import RadiationModel, RadiationRates
from sim_hw.thermal import ThermalNetwork

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
HEATER_ZONES = ("battery", "avionics")
EPHEMERIS_CHUNK = 3600
_BOARD_FAULTS = (FaultKind.SEL, FaultKind.SEFI, FaultKind.SEU_UNCORRECTABLE, FaultKind.SEU)


@dataclass
class SpacecraftConfig:
    """The node's build: sizes, ratings and environment switches."""

    boards: int = 256
    boards_per_switch: int = 32
    physics_dt_s: float = 1.0
    altitude_km: float = 750.0
    ltan_h: float = 18.0
    day_of_year: float = 80.0
    array_area_m2: float = 340.0
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
    heater_w: float = 300.0
    radiator_area_m2: float = 160.0
    loop_conductance_w_k: float = 8000.0  # cold plate -> radiator, valve fully open
    loop_setpoint_c: float = 15.0  # the bypass valve starts opening here
    sensor_noise_c: float = 0.05
    radiation: RadiationRates = field(default_factory=RadiationRates)
    radiation_enabled: bool = True
    schedule: list[ScheduledFault] = field(default_factory=list)
    board_params: BoardParams = field(default_factory=BoardParams)

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> SpacecraftConfig:
        """Build from a mission's tables; unknown keys are an error naming the key."""
        known = set(cls.__dataclass_fields__) - {"radiation", "schedule", "board_params"}
        out = cls()
        for key, value in cfg.items():
            if key == "radiation":
                out.radiation = RadiationRates(**value)
            elif key in known:
                setattr(out, key, type(getattr(out, key))(value))
            else:
                raise KeyError(key)
        return out


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
    return SwitchMap(("avionics", "radio", "heaters", "aux_0", *payload), board_switch, payload)


class Spacecraft:
    """The simulated node; the HAL's sim devices read and command it."""

    def __init__(self, cfg: SpacecraftConfig, seed: int, start_s: float = 0.0) -> None:
        self.cfg = cfg
        root = np.random.SeedSequence(seed)
        rad_seed, board_seed, sensor_seed = root.spawn(3)
        self.orbit = CircularOrbit(cfg.altitude_km, ltan_h=cfg.ltan_h, day_of_year=cfg.day_of_year)
        self.switches = _switch_map(cfg)
        v = cfg.bus_voltage_v
        board_group_w = cfg.boards_per_switch * cfg.board_params.max_w
        specs = [
            SwitchSpec("avionics", 2.0 * cfg.avionics_w / v, v),
            SwitchSpec("radio", 2.0 * cfg.radio_w / v, v),
            SwitchSpec("heaters", 1.5 * len(HEATER_ZONES) * cfg.heater_w / v, v),
            SwitchSpec("aux_0", 2.0 * cfg.aux_w / v, v),
            *(SwitchSpec(name, 1.3 * board_group_w / v, v) for name in self.switches.payload),
        ]
        self.pcdu = Pcdu(specs)
        for name in self.switches.names:
            self.pcdu.set(name, True)
        self._supply_version = -1
        self._supply = np.zeros(len(self.switches.payload), dtype=bool)
        self._dead_switches = np.zeros(0, dtype=np.intp)
        self.array = SolarArray(area_m2=cfg.array_area_m2)
        self.battery = Battery(
            cfg.battery_capacity_wh,
            soc=cfg.battery_soc,
            internal_resistance_ohm=cfg.battery_resistance_ohm,
            cells_series=cfg.cells_series,
            max_charge_w=cfg.max_charge_w,
            max_discharge_w=cfg.max_discharge_w,
        )
        self.power = PowerSystem(self.array, self.battery, self.pcdu)
        self.thermal = _thermal_network(cfg)
        self.boards = BoardArray(cfg.boards, cfg.board_params, np.random.default_rng(board_seed))
        rad = RadiationModel(cfg.radiation, np.random.default_rng(rad_seed))
        self.faults = FaultInjector(list(cfg.schedule), rad if cfg.radiation_enabled else None)
        self.sensor_rng = np.random.default_rng(sensor_seed)
        self.heaters_on = dict.fromkeys(HEATER_ZONES, False)
        self.heater_stuck: dict[str, bool] = {}
        self.sensor_stuck: dict[str, float] = {}
        self.radio_outage_until_s = -1.0
        self.extra_load_w: dict[str, float] = {}
        self.fault_log: deque[dict[str, Any]] = deque(maxlen=100_000)
        self.fault_log_dropped = 0
        self.t_s = start_s
        self.array_temp_c = 40.0
        self.last_power: PowerStep | None = None
        self._eph_t0 = 0.0
        self._eph_eclipse: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._eph_flux: NDArray[np.float64] = np.zeros(0)
        self.sensor_values = np.zeros(len(SENSORS))
        self._read_sensors()

    # --- time ---------------------------------------------------------------------------
    def advance_to(self, t_s: float) -> None:
        """Step the physics until simulated time reaches ``t_s``."""
        dt = self.cfg.physics_dt_s
        while self.t_s + dt <= t_s + 1e-9:
            self._step(dt)

    def _ephemeris(self, t_s: float) -> tuple[bool, float]:
        dt = self.cfg.physics_dt_s
        i = round((t_s - self._eph_t0) / dt)
        if not 0 <= i < len(self._eph_eclipse):
            self._eph_t0 = t_s
            times = t_s + dt * np.arange(EPHEMERIS_CHUNK)
            self._eph_eclipse = np.asarray(self.orbit.in_eclipse(times), dtype=bool)
            peak = self.cfg.radiation.saa_peak_multiplier
            self._eph_flux = np.asarray(
                flux_factor(self.orbit, times, saa_peak_multiplier=peak), dtype=np.float64
            )
            i = 0
        return bool(self._eph_eclipse[i]), float(self._eph_flux[i])

    def in_eclipse(self) -> bool:
        return self._ephemeris(self.t_s)[0]

    def _step(self, dt: float) -> None:
        eclipse, flux = self._ephemeris(self.t_s)
        faults, events = self.faults.step(self.t_s, dt, self.cfg.boards, flux)
        self._log_effect(faults)
        self._apply_faults(faults)
        b = self.boards
        b.apply_radiation(events.seu, events.seu_uncorrectable, events.sel, events.sefi)
        self._enforce_switches()
        coldplate = float(self.thermal.temperatures_c[self.thermal.index("coldplate")])
        b.step(dt, coldplate)
        loads = self._loads(b)
        sun_cos = 0.0 if eclipse else 1.0
        target = -40.0 if eclipse else 55.0
        self.array_temp_c += (target - self.array_temp_c) * min(1.0, dt / 900.0)
        self.last_power = self.power.step(dt, sun_cos, self.array_temp_c, eclipse, loads)
        self._enforce_switches()
        self._step_thermal(dt, eclipse, b.heat_w)
        self.t_s += dt
        self._read_sensors()

    # --- routing ------------------------------------------------------------------------
    def _loads(self, b: BoardArray) -> dict[str, float]:
        cfg = self.cfg
        per_group = np.bincount(
            self.switches.board_switch, weights=b.power_w, minlength=len(self.switches.payload)
        )
        heaters = sum(cfg.heater_w for z in HEATER_ZONES if self._heater_on(z))
        loads = {
            "avionics": cfg.avionics_w,
            "radio": cfg.radio_w,
            "heaters": heaters,
            "aux_0": cfg.aux_w,
        }
        for name, w in zip(self.switches.payload, per_group, strict=True):
            loads[name] = float(w)
        for name, w in self.extra_load_w.items():
            loads[name] = loads.get(name, 0.0) + w
        self.extra_load_w.clear()
        return loads

    def _heater_on(self, zone: str) -> bool:
        on = self.heater_stuck.get(zone, self.heaters_on[zone])
        return on and self.pcdu.is_conducting("heaters")

    def _payload_supply(self) -> NDArray[np.bool_]:
        """Per payload switch whether it conducts (recomputed only when a switch changed)."""
        if self._supply_version != self.pcdu.version:
            self._supply_version = self.pcdu.version
            self._supply = np.array(
                [self.pcdu.is_conducting(n) for n in self.switches.payload], dtype=bool
            )
            self._dead_switches = np.flatnonzero(~self._supply)
        return self._supply

    def _enforce_switches(self) -> None:
        """Boards behind an open or tripped payload switch lose power."""
        self._payload_supply()
        if self._dead_switches.size:
            lost = np.isin(self.switches.board_switch, self._dead_switches) & self.boards.powered
            if lost.any():
                self.boards.set_power(np.flatnonzero(lost), False)

    def board_supply_ok(self, idx: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Whether each board's payload switch conducts (a board can only power on then)."""
        ok: NDArray[np.bool_] = self._payload_supply()[self.switches.board_switch[idx]]
        return ok

    def _step_thermal(self, dt: float, eclipse: bool, board_heat_w: float) -> None:
        cfg = self.cfg
        net = self.thermal
        q = np.zeros(len(THERMAL_NODES))
        loop = self._loop_heat_w()
        q[net.index("coldplate")] += board_heat_w - loop
        q[net.index("radiator")] += loop
        q[net.index("avionics")] += cfg.avionics_w * self.pcdu.is_conducting(
            "avionics"
        ) + cfg.radio_w * self.pcdu.is_conducting("radio")
        q[net.index("structure")] += cfg.aux_w * self.pcdu.is_conducting("aux_0")
        bat = self.last_power
        if bat is not None:
            q[net.index("battery")] += abs(self.battery.current_a) ** 2 * cfg.battery_resistance_ohm
        for zone in HEATER_ZONES:
            if self._heater_on(zone):
                q[net.index(zone)] += cfg.heater_w
        solar = np.zeros(len(THERMAL_NODES))
        if not eclipse:
            solar[net.index("structure")] = 1361.0
        net.step(dt, q, solar, earth_ir_w_m2=0.0)

    def _loop_heat_w(self) -> float:
        """Heat the pumped loop carries from the cold plate to the radiator this step.

        A thermostatic bypass valve: 5 % flow below the setpoint, fully open 10 K above,
        so a lightly loaded cold plate does not freeze behind a radiator sized for full
        load. Explicit in time; stable while dt < C_coldplate / G (about 37 s).
        """
        temps = self.thermal.temperatures_c
        t_cp = float(temps[self.thermal.index("coldplate")])
        t_rad = float(temps[self.thermal.index("radiator")])
        cfg = self.cfg
        opening = min(1.0, max(0.05, (t_cp - cfg.loop_setpoint_c) / 10.0))
        return cfg.loop_conductance_w_k * opening * (t_cp - t_rad)

    def _read_sensors(self) -> None:
        temps = self.thermal.temperatures_c
        noise = self.sensor_rng.normal(0.0, self.cfg.sensor_noise_c, len(SENSORS))
        for i, (name, node) in enumerate(SENSORS):
            stuck = self.sensor_stuck.get(name)
            value = temps[self.thermal.index(node)] + noise[i]
            self.sensor_values[i] = value if stuck is None else stuck

    # --- faults -------------------------------------------------------------------------
    def _log_effect(self, faults: list[InjectedFault]) -> None:
        """Keep each fault with whether it could act: a board fault needs a powered board."""
        powered = self.boards.powered
        for f in faults:
            effective = True
            if f.kind in _BOARD_FAULTS:
                b = int(f.target)
                effective = 0 <= b < self.cfg.boards and bool(powered[b])
            if len(self.fault_log) == self.fault_log.maxlen:
                self.fault_log_dropped += 1
            self.fault_log.append({**f.to_dict(), "effective": effective})

    def _apply_faults(self, faults: list[InjectedFault]) -> None:
        if not any(f.source == "schedule" for f in faults):
            return  # radiation faults arrive through the events array
        n = self.cfg.boards
        seu = np.zeros(n, dtype=np.int64)
        seu_unc = np.zeros(n, dtype=np.int64)
        sel = np.zeros(n, dtype=bool)
        sefi = np.zeros(n, dtype=bool)
        board_hit = False
        for f in faults:
            if f.source != "schedule":
                continue  # radiation faults arrive through the events array
            if f.kind in (
                FaultKind.SEL,
                FaultKind.SEFI,
                FaultKind.SEU_UNCORRECTABLE,
                FaultKind.SEU,
            ):
                board = int(f.target)
                if not 0 <= board < n:
                    continue
                board_hit = True
                if f.kind is FaultKind.SEL:
                    sel[board] = True
                elif f.kind is FaultKind.SEFI:
                    sefi[board] = True
                elif f.kind is FaultKind.SEU:
                    seu[board] += int(f.detail.get("count", 1))
                else:
                    seu_unc[board] += int(f.detail.get("count", 1))
            elif f.kind is FaultKind.SWITCH_OVERCURRENT:
                self.extra_load_w[str(f.target)] = float(f.detail.get("extra_w", 1e6))
            elif f.kind is FaultKind.SENSOR_STUCK:
                self.sensor_stuck[str(f.target)] = float(f.detail.get("value", -273.0))
            elif f.kind is FaultKind.HEATER_STUCK:
                self.heater_stuck[str(f.target)] = bool(f.detail.get("on", True))
            elif f.kind is FaultKind.RADIO_OUTAGE:
                self.radio_outage_until_s = f.t_s + float(f.detail.get("duration_s", 600.0))
        if board_hit:
            self.boards.apply_radiation(seu, seu_unc, sel, sefi)

    # --- commands from the HAL ----------------------------------------------------------
    def set_heater(self, zone: str, on: bool) -> None:
        if zone not in self.heaters_on:
            raise KeyError(zone)
        self.heaters_on[zone] = on

    def radio_available(self) -> bool:
        return self.t_s >= self.radio_outage_until_s and self.pcdu.is_conducting("radio")


def _thermal_network(cfg: SpacecraftConfig) -> ThermalNetwork:
    names = THERMAL_NODES
    n = len(names)
    idx = {name: i for i, name in enumerate(names)}
    g = np.zeros((n, n))

    def link(a: str, b: str, w_k: float) -> None:
        g[idx[a], idx[b]] = g[idx[b], idx[a]] = w_k

    # The pumped loop from the cold plate to the radiator is not a fixed link: its
    # thermostatic bypass valve sets the flow each step (see Spacecraft._loop_heat_w).
    link("coldplate", "structure", 20.0)
    link("structure", "radiator", 40.0)
    link("battery", "structure", 4.0)
    link("avionics", "structure", 25.0)
    cap = [4.0e6, 5.0e5, 6.0e4, 3.0e5, 8.0e5]
    area = [12.0, 1.2, 0.8, 0.0, cfg.radiator_area_m2]
    eps = [0.8, 0.85, 0.85, 0.0, 0.9]
    alpha = [0.25, 0.2, 0.2, 0.0, 0.15]
    return ThermalNetwork(
        names, cap, g, area, eps, alpha, initial_temp_c=[15.0, 15.0, 25.0, 20.0, 10.0]
    )
