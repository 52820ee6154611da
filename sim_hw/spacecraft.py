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
TRUTH_SERIES = ("t_s", "soc", "bus_v", "eclipse", *(f"{n}_c" for n in THERMAL_NODES))


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
        rad_seed, board_seed, sensor_seed, target_seed = root.spawn(4)
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
        self.array_temp_c = 40.0
        self.last_power: PowerStep | None = None
        self._eph_t0 = 0.0
        self._eph_eclipse: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._eph_flux: NDArray[np.float64] = np.zeros(0)
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
        while self.t_s + dt <= t_s + 1e-9:
            self._strike(self.faults.release_due(self.t_s))
            self._step(dt)
            self.tracker.observe(self, self.t_s)
        self._strike(self.faults.release_due(t_s))
        self.now_s = max(self.now_s, t_s)

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
        faults, events = self.faults.step(
            self.t_s, dt, self.cfg.boards, flux, release_scheduled=False
        )
        b = self.boards
        for f in faults:  # random: they strike at the step's end, as stamped
            self._record(f, f.target)
        effects = b.apply_radiation(
            events.seu, events.seu_uncorrectable, events.sel, events.sefi, at_s=self.t_s + dt
        )
        self._record_effects(effects, self.t_s + dt)
        self._enforce_switches()
        coldplate = float(self.thermal.temperatures_c[self.thermal.index("coldplate")])
        b.step(dt, coldplate)
        np.maximum(self.board_temp_max_c, b.temperature_c, out=self.board_temp_max_c)
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
        for name, (w, until) in list(self.overcurrent_until.items()):
            if self.t_s <= until:
                loads[name] = loads.get(name, 0.0) + w
            else:
                del self.overcurrent_until[name]
        return loads

    def _heater_on(self, zone: str) -> bool:
        on = self.heater_stuck.get(zone, self.heaters_on[zone])
        return on and self.pcdu.is_conducting("heaters")

    def _enforce_switches(self) -> None:
        """Boards behind an open or tripped payload switch lose power."""
        dead = [
            i for i, name in enumerate(self.switches.payload) if not self.pcdu.is_conducting(name)
        ]
        if dead:
            lost = np.isin(self.switches.board_switch, dead) & self.boards.powered
            if lost.any():
                self.boards.set_power(np.flatnonzero(lost), False)

    def board_supply_ok(self, idx: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Whether each board's payload switch conducts (a board can only power on then)."""
        ok = np.array([self.pcdu.is_conducting(n) for n in self.switches.payload], dtype=bool)
        return ok[self.switches.board_switch[idx]]

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
            drift = self.sensor_drift.get(name)
            if drift is not None:
                value += drift[1] * (self.t_s - drift[0])
            self.sensor_values[i] = value if stuck is None else stuck
        p = self.last_power
        self.truth_rows.append(
            (
                self.t_s,
                self.battery.soc,
                p.bus_voltage_v if p is not None else self.battery.terminal_voltage_v(),
                1.0 if self.in_eclipse() else 0.0,
                *(float(t) for t in temps),
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
        """Upsets' side effects as faults of their own: double-bit errors, corruptions."""
        for kind, pairs, detail in (
            (FaultKind.SEU_UNCORRECTABLE, fx.double_bit, "double_bit"),
            (FaultKind.SILENT_CORRUPTION, fx.caught, "caught"),
            (FaultKind.SILENT_CORRUPTION, fx.escaped, "escaped"),
        ):
            if pairs is None:
                continue
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
