"""The whole node against closed forms and independent computations: the array's power
through the year, at any age and for both pointings; the thermal network's steady states
at 0 %, 50 % and 100 % payload; the loop valve isolating the radiator; heaters holding
the payload-off node; an energy-positive orbit at the end of life."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from sim_hw.boards import BoardArray
from sim_hw.faults import FaultKind, ScheduledFault
from sim_hw.orbit import solar_flux_w_m2
from sim_hw.spacecraft import (
    HEATER_ZONES,
    TEMPERATURE_LIMITS_C,
    Spacecraft,
    SpacecraftConfig,
)
from sim_hw.thermal import KELVIN, STEFAN_BOLTZMANN, earth_view_factor_vertical_plate

BOARD_MAX_W = 350.0


def node(**kw: object) -> Spacecraft:
    cfg = SpacecraftConfig.from_dict({"radiation_enabled": False, **kw})
    return Spacecraft(cfg, seed=1)


def closed_form_array_w(sc: Spacecraft, day: float, beta_deg: float, age_years: float) -> float:
    """flux(day) x area x packing x efficiency x cos x temperature factor x (1 - d)^age."""
    cfg = sc.cfg
    cos = 1.0 if cfg.array_pointing == "beta_tracking" else math.sin(math.radians(beta_deg))
    temp = 1.0 - 0.0025 * (sc.array_temp_c - 28.0)
    age = (1.0 - cfg.array_degradation_per_year) ** age_years
    flux = float(solar_flux_w_m2(day))
    return flux * cfg.array_area_m2 * 0.9 * cfg.array_efficiency * cos * temp * age


@pytest.mark.parametrize("pointing", ["orbit_normal", "beta_tracking"])
@pytest.mark.parametrize(("day", "age"), [(5.0, 0.0), (80.0, 1.0), (172.0, 5.0), (300.0, 2.5)])
def test_array_power_follows_beta_season_age_and_pointing(
    pointing: str, day: float, age: float
) -> None:
    sc = node(day_of_year=day, array_age_years=age, array_pointing=pointing, boards=8)
    beta = sc.orbit.beta_angle_deg(0.0)
    assert sc.orbit.sunlit_fraction(0.0) == 1.0  # t = 0: at the ascending node, in the sun
    sc.advance_to(1.0)
    assert sc.last_power is not None
    expected = closed_form_array_w(sc, day, beta, age)
    assert sc.last_power.solar_w == pytest.approx(expected, rel=1e-4)


def test_array_gives_nothing_in_the_umbra_and_part_in_the_penumbra() -> None:
    sc = node(day_of_year=172.0, boards=8, physics_dt_s=5.0)
    t = np.arange(0.0, sc.orbit.period_s, 5.0)
    lit = sc.orbit.sunlit_fraction(t)
    umbra = float(t[np.flatnonzero(lit == 0.0)[10]])
    partial = np.flatnonzero((lit > 0.0) & (lit < 1.0))
    sc.advance_to(umbra + 5.0)
    assert sc.last_power is not None and sc.last_power.solar_w == 0.0
    k = int(partial[t[partial] > umbra][0])
    sc.advance_to(float(t[k]) + 5.0)
    full = closed_form_array_w(sc, 172.0 + t[k] / 86_400.0, sc.orbit.beta_angle_deg(t[k]), 0.0)
    assert sc.last_power.solar_w == pytest.approx(full * lit[k], rel=1e-3)
    assert 0.0 < sc.last_power.solar_w < full


def test_array_temperature_settles_at_its_radiative_balance() -> None:
    """Absorbed sunlight not converted plus Earth IR on both faces = emission of both."""
    sc = node(day_of_year=80.0, boards=8, physics_dt_s=10.0)  # no eclipse at the equinox
    sc.advance_to(3000.0)
    arr = sc.array
    g = float(solar_flux_w_m2(80.0 + 3000.0 / 86_400.0)) * sc.sun_cos
    ir = 237.0 * earth_view_factor_vertical_plate(750.0)
    q = 0.92 * g * (1.0 - 0.9 * 0.30) + (0.85 + 0.90) * ir
    expected = (q / ((0.85 + 0.90) * STEFAN_BOLTZMANN)) ** 0.25 - KELVIN
    assert arr.equilibrium_temp_c(g, ir) == pytest.approx(expected, abs=1e-9)
    assert sc.array_temp_c == pytest.approx(expected, abs=0.2)


def _independent_steady_state(sc: Spacecraft, payload_w: float, day: float) -> np.ndarray:
    """Node temperatures (deg C) with the sun up all orbit and heaters off, by Newton's
    method on the energy balance of each node, written out from the design data: sun on
    the structure, Earth IR on every face, conduction, radiation, the valve's law."""
    net, cfg = sc.thermal, sc.cfg
    idx = net.index
    g = net.conductance_w_k
    eps_a = net.emissivity * net.radiator_area_m2
    ir = cfg.earth_ir_w_m2 * earth_view_factor_vertical_plate(cfg.altitude_km)
    q = eps_a * ir
    q[idx("structure")] += (
        net.absorptivity[idx("structure")]
        * net.radiator_area_m2[idx("structure")]
        * float(solar_flux_w_m2(day))
        + cfg.aux_w
    )
    q[idx("avionics")] += cfg.avionics_w + cfg.radio_w
    q[idx("coldplate")] += payload_w
    c, r = idx("coldplate"), idx("radiator")
    v = sc.loop_valve

    def residual(t_k: np.ndarray) -> np.ndarray:
        out = q + g @ t_k - g.sum(axis=1) * t_k - eps_a * STEFAN_BOLTZMANN * (t_k**4 - 3.0**4)
        opening = min(1.0, max(0.0, (t_k[c] - KELVIN - cfg.loop_setpoint_c) / cfg.loop_band_k))
        loop = (v.g_min_w_k + (cfg.loop_conductance_w_k - v.g_min_w_k) * opening) * (
            t_k[c] - t_k[r]
        )
        out[c] -= loop
        out[r] += loop
        return out

    t = np.full(len(net.names), 290.0)
    for _ in range(500):
        f0 = residual(t)
        jac = np.empty((t.size, t.size))
        for k in range(t.size):
            dt = np.zeros(t.size)
            dt[k] = 1e-4
            jac[:, k] = (residual(t + dt) - residual(t - dt)) / 2e-4
        step = np.linalg.solve(jac, f0)
        t = t - np.clip(step, -5.0, 5.0)  # damped: the valve's law has kinks
        if float(np.max(np.abs(residual(t)))) < 1e-6:
            return t - KELVIN
    raise AssertionError("Newton did not converge")


@pytest.mark.parametrize("load", [0.0, 0.5, 1.0])
def test_thermal_steady_state_matches_an_independent_solution(load: float) -> None:
    """At the equinox (no eclipse) with every board at a fixed utilization the network
    settles where the energy balance of every node closes. Load 0 is the boards powered
    and idle (40 W each), 1 is 256 x 350 W."""
    day = 80.0
    sc = node(day_of_year=day, physics_dt_s=300.0, thermal_dt_s=300.0, battery_soc=1.0)
    n = sc.cfg.boards
    sc.boards.set_power(np.arange(n), True)
    sc.boards.set_utilization(np.arange(n), load)
    payload_w = n * (40.0 + load * (BOARD_MAX_W - 40.0))
    expected = _independent_steady_state(sc, payload_w, day + 2.5)
    sc.thermal.temperatures_c = expected + 1.0  # start near it: the slowest node is ~18 h
    sc.advance_to(60 * 3600.0)
    np.testing.assert_allclose(sc.thermal.temperatures_c, expected, atol=0.1)
    # The boards sit their own power over their conductance above the cold plate.
    board = float(np.max(sc.boards.temperature_c))
    cold_plate = float(expected[sc.thermal.index("coldplate")])
    assert board == pytest.approx(cold_plate + payload_w / n / 10.0, abs=0.2)
    # The design: full load keeps the boards below throttling (75 C), the valve open.
    if load == 1.0:
        assert board < 75.0 and sc.loop_valve.opening == 1.0
    if load == 0.0:
        assert sc.loop_valve.opening < 0.1  # nearly closed: the radiator mostly bypassed


def _thermostat(sc: Spacecraft, on_c: float = 5.0, off_c: float = 10.0) -> None:
    """The thermal app's law (its default set points), applied to the truth."""
    for zone in HEATER_ZONES:
        t = float(sc.thermal.temperatures_c[sc.thermal.index(zone)])
        if t < on_c:
            sc.set_heater(zone, True)
        elif t > off_c:
            sc.set_heater(zone, False)


@pytest.mark.parametrize("day", [172.0, 355.0])
def test_payload_off_heaters_hold_every_node_and_the_valve_isolates_the_radiator(
    day: float,
) -> None:
    """Safe mode: every board off, in the eclipse season (June) and at the other solstice.
    Two days under the heaters' thermostat: every node inside its limits, each heater
    with duty to spare, the loop's valve shut so the radiator (far below the cold plate)
    takes only its parasitic few watts."""
    sc = node(day_of_year=day, physics_dt_s=120.0, thermal_dt_s=120.0)
    sc.boards.set_power(np.arange(sc.cfg.boards), False)
    lows = dict.fromkeys(sc.thermal.names, math.inf)
    highs = dict.fromkeys(sc.thermal.names, -math.inf)
    t_end = 2 * 86_400.0
    while sc.t_s < t_end:
        _thermostat(sc)
        sc.advance_to(sc.t_s + 120.0)
        if sc.t_s > 86_400.0:  # the second day: the slow structure has settled
            for i, name in enumerate(sc.thermal.names):
                lows[name] = min(lows[name], float(sc.thermal.temperatures_c[i]))
                highs[name] = max(highs[name], float(sc.thermal.temperatures_c[i]))
    for name in sc.thermal.names:
        lo, hi = TEMPERATURE_LIMITS_C[name]
        assert lo <= lows[name] and highs[name] <= hi, (name, lows[name], highs[name])
    for zone in ("battery", "coldplate"):
        assert sc.heater_on_s[zone] < 0.8 * t_end, zone  # the heater keeps up with room
    assert sc.heater_on_s["coldplate"] > 0.05 * t_end  # ... and it was needed
    t = sc.thermal.temperatures_c
    c, r = sc.thermal.index("coldplate"), sc.thermal.index("radiator")
    assert sc.loop_valve.opening == 0.0
    assert t[c] - t[r] > 80.0
    assert sc.loop_valve.conductance_w_k(float(t[c])) * (t[c] - t[r]) < 250.0


def test_energy_positive_orbit_at_end_of_life_matches_the_design() -> None:
    """End of life (5 years), the worst orbit of the year (June solstice: longest eclipse,
    weakest sun, lowest sun cosine), 256 boards at full power: the battery ends the orbit
    fuller than it began, by what sim_hw.design's energy balance says."""
    from sim_hw.design import orbit_energy

    sc = node(day_of_year=172.0, array_age_years=5.0, battery_soc=0.6, physics_dt_s=10.0)
    n = sc.cfg.boards
    sc.boards.set_power(np.arange(n), True)
    sc.boards.set_utilization(np.arange(n), 1.0)
    period = sc.orbit.period_s
    sc.advance_to(round(period / 10) * 10.0)  # one orbit to settle the array's temperature
    e0, t0 = sc.battery.stored_wh, sc.t_s
    sc.advance_to(2 * round(period / 10) * 10.0)
    gained = sc.battery.stored_wh - e0
    cfg = sc.cfg
    load = cfg.avionics_w + cfg.radio_w + cfg.aux_w + n * BOARD_MAX_W
    design = orbit_energy(cfg, 172.0 + t0 / 86_400.0, 5.0 + t0 / (365.25 * 86_400.0), load)
    assert gained > 0.0
    assert gained == pytest.approx(design.balance_wh, rel=0.05)
    assert sc.power.unserved_wh == 0.0


class _Reference(Spacecraft):
    """The node without its fast paths: every quiet radiation step goes through the
    boards' radiation pass with every kind of event searched, every step sums the
    switches' board loads anew, and every frame releases and strikes as it did before
    the early return (the code as it was, kept here as the reference)."""

    def __init__(self, cfg: SpacecraftConfig, seed: int) -> None:
        super().__init__(cfg, seed)
        rad = self.faults.radiation
        assert rad is not None
        draw = rad.draw
        rad.draw = lambda *a, **k: replace(  # type: ignore[method-assign]
            draw(*a, **k), quiet=False, kinds=(True,) * 4
        )

    def _demand(self, b: BoardArray) -> np.ndarray:  # type: ignore[type-arg]
        self._group_loads = (-1, np.zeros(0))
        return super()._demand(b)

    def advance_to(self, t_s: float) -> None:
        self.tracker.observe(self, self.now_s)
        dt = self.cfg.physics_dt_s
        while self.t_s + dt <= t_s + 1e-9:
            self._strike(self.faults.release_due(self.t_s))
            self._step(dt)
            self.tracker.observe(self, self.t_s)
        self._strike(self.faults.release_due(t_s))
        self.now_s = max(self.now_s, t_s)


def _world_bytes(sc: Spacecraft) -> bytes:
    b = sc.boards
    parts = [b.float_block.tobytes(), b.count_block.tobytes(), b._dev.tobytes()]
    parts += [b.heartbeat.tobytes(), b.latched.tobytes(), b.hung.tobytes(), b.damaged.tobytes()]
    parts += [b.latent_flips.tobytes(), b.silent_escapes.tobytes(), sc.sensor_values.tobytes()]
    parts += [repr((sc.pcdu.telemetry(), sc.t_s, sc.now_s, sc.revision, b.heat_w)).encode()]
    return b"".join(parts)


@pytest.mark.parametrize("seed", [2, 31])
def test_fast_paths_change_not_a_bit_of_the_world(seed: int) -> None:
    """Quiet radiation steps skip the boards' pass and frames between steps return at
    once; the world, frame by frame, and its truth are those of the code without them.
    Faults strike between frames, commands land between steps, and a switch opened
    behind the PCDU's back makes the step itself take power from commanded boards."""
    rng = np.random.default_rng(seed)
    n = 64
    schedule = [
        ScheduledFault(round(float(t), 2), kind, target, detail)
        for t, kind, target, detail in [
            (rng.uniform(3, 30), FaultKind.SEL, "@busy", {}),
            (rng.uniform(3, 30), FaultKind.SEFI, "@busy", {}),
            (rng.uniform(3, 30), FaultKind.SEU, "@powered", {"count": 3}),
            (rng.uniform(3, 30), FaultKind.SENSOR_STUCK, "coldplate_a", {"value": 80.0}),
            (rng.uniform(3, 30), FaultKind.SWITCH_OVERCURRENT, "payload_1", {"duration_s": 2}),
        ]
    ]
    # About half the steps quiet, the others with upsets of every kind now and then.
    rad = {
        "seu_per_board_day": 700.0,
        "uncorrectable_fraction": 0.3,
        "sel_per_board_day": 40.0,
        "sefi_per_board_day": 80.0,
    }
    worlds = []
    for cls in (Spacecraft, _Reference):
        cfg = SpacecraftConfig.from_dict({"boards": n, "boards_per_switch": 16, "radiation": rad})
        cfg.schedule = list(schedule)
        worlds.append(cls(cfg, seed))
    cmd = np.random.default_rng(seed + 1)
    frames: list[list[bytes]] = [[], []]
    for frame in range(1, 401):
        idx = np.flatnonzero(cmd.random(n) < 0.2)
        util = cmd.random(idx.size)
        on = frame % 30 == 5
        cut = frame % 30 == 15
        steady = (frame // 10) % 3 == 2  # a second of no commands: the boards' loads kept
        for sc, seen in zip(worlds, frames, strict=True):
            if not steady:
                sc.boards.set_utilization(idx, util)
            if on:
                sc.pcdu.reset_trip("payload_1")
                sc.pcdu.set("payload_1", True)
                sc.pcdu.set("payload_2", True)
                sc.boards.set_power(np.arange(n)[sc.board_supply_ok(np.arange(n))], True)
            if cut:
                sc.pcdu.set("payload_2", False)  # the next step's enforcement cuts boards
                sc.boards.set_utilization(idx, 1.0 - util)
            sc.advance_to(frame * 0.1)
            seen.append(_world_bytes(sc))
    assert frames[0] == frames[1]
    fast, ref = worlds
    assert json.dumps(fast.truth(), default=str) == json.dumps(ref.truth(), default=str)
    kinds = {r["kind"] for r in fast.fault_log}
    assert {"sel", "sefi", "seu", "seu_uncorrectable", "switch_overcurrent"} <= kinds
    rad_model = fast.faults.radiation
    assert rad_model is not None and rad_model.steps == 40
    assert 0 < rad_model.total_seu < 40  # some steps had upsets, some none (quiet)
