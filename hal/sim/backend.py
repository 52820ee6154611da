"""Builds the simulated HAL from a mission's [hal] and [orbit] tables.

The devices are views of one ``sim_hw.spacecraft.Spacecraft``; the executive steps it
to each frame's time through ``Hal.step``. ``harness["sim"]`` is the model itself, for
run reports and scenario scoring only: flight apps get only the devices they declare.

The tables are declared here (``SIM_SETTINGS``, ``RADIO``, ``ORBIT``, ``SPACECRAFT``):
the mission loader checks them before anything is built. ``[hal.spacecraft]`` takes
every field of ``SpacecraftConfig`` (its type from the default); the range of a field
is ``metadata={"min": .., "max": .., "doc": ..}`` on the field or a line of
``SPACECRAFT_RANGES``; every number must be finite.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from flightsw.base.schema import REQUIRED, ConfigError, Opt, Schema, from_dataclass
from hal.backend import Hal
from hal.clocks import SimClock
from hal.factory import HalError, parse_host_port, validate_config
from hal.interfaces import Clock
from hal.nvstore import FileNvStore, MemoryNvStore
from hal.samples import SampleCounter
from hal.sim.devices import (
    SimBattery,
    SimBoards,
    SimPcdu,
    SimSolarArray,
    SimThermal,
    SimThermalLoop,
)
from hal.sim.memory import NvRegion, SimMemory
from hal.sim.radio import SimRfLink
from hal.sim.watchdog import SimWatchdog
from sim_hw.environment import DEFAULT_STATIONS, GroundStation, stations_from_config
from sim_hw.orbit import CircularOrbit
from sim_hw.radiation import RadiationRates
from sim_hw.radio_link import DEFAULT_DOWNLINK, DEFAULT_UPLINK, LinkBudget
from sim_hw.spacecraft import Spacecraft, SpacecraftConfig

NS_PER_S = 1_000_000_000
# A link budget per direction: "<direction>_<field>" in [hal.radio].
BUDGET_FIELDS = ("eirp_dbw", "g_over_t_dbk", "frequency_hz", "losses_db")


def _check_bind(table: dict[str, Any]) -> None:
    for key in ("bind", "peer"):
        if key in table:
            try:
                parse_host_port(table[key], key)
            except HalError as exc:
                raise ConfigError(key, str(exc).removeprefix(f"{key}: ")) from None


RADIO = Schema(
    Opt("kind", "str", "sim", choices=("sim", "udp", "tcp", "none"), doc="which radio"),
    Opt("bind", "str", None, doc="HOST:PORT a udp/tcp radio listens on"),
    Opt("peer", "str", None, doc="HOST:PORT of the only ground system a udp/tcp radio hears"),
    Opt(
        "framing",
        "str",
        None,
        choices=("frames", "packets"),
        doc="udp/tcp: CLTUs up and CADUs down (frames), or bare space packets both ways, "
        "the lab convention of cFS CI_LAB/TO_LAB, COSMOS and tmtccmd (packets)",
    ),
    Opt("downlink_bps", "float", None, above=0, max=1e11, unit="bit/s"),
    Opt("uplink_bps", "float", None, above=0, max=1e11, unit="bit/s"),
    Opt("ber_down", "float", None, min=0, max=0.5, doc="bit error rate"),
    Opt("ber_up", "float", None, min=0, max=0.5, doc="bit error rate"),
    Opt("delay_s", "float", None, min=0, max=10, unit="s", doc="one-way delay"),
    Opt("always_in_contact", "bool", None, doc="ignore contact windows"),
    *(
        Opt(f"{d}_{f}", "float", None, min=-300, max=1e12, doc=f"{d} link budget: {f}")
        for d in ("downlink", "uplink")
        for f in BUDGET_FIELDS
    ),
    check=_check_bind,
)


def _check_stations(table: dict[str, Any]) -> None:
    try:
        stations_from_config([table], "station")
    except ValueError as exc:
        raise ConfigError("station", str(exc)) from None


STATION = Schema(
    Opt("name", "str", REQUIRED, pattern=r".*\S.*", doc="unique station name"),
    Opt("lat_deg", "float", REQUIRED, min=-90, max=90, unit="deg"),
    Opt("lon_deg", "float", REQUIRED, min=-180, max=360, unit="deg"),
    Opt("alt_m", "float", None, min=-500, max=9000, unit="m"),
    Opt("min_elevation_deg", "float", None, min=-90, max=89.999, unit="deg", doc="mask"),
    check=_check_stations,
)


def _check_orbit(table: dict[str, Any]) -> None:
    """The orbit model takes the altitude (a sun-synchronous orbit exists up to ~5,970 km)."""
    if "altitude_km" in table:
        try:
            CircularOrbit(table["altitude_km"])
        except ValueError as exc:
            raise ConfigError("altitude_km", f"{table['altitude_km']:g}: {exc}") from None


ORBIT = Schema(
    Opt("altitude_km", "float", None, min=160, max=40_000, unit="km"),
    Opt("ltan_h", "float", None, min=0, max=24, unit="h", doc="local time of ascending node"),
    Opt("day_of_year", "float", None, min=0, max=366),
    Opt(
        "phase_deg",
        "float",
        None,
        min=-360,
        max=360,
        unit="deg",
        doc="argument of latitude at start",
    ),
    check=_check_orbit,
)
# Ranges of today's spacecraft fields; a new field may carry its own in its metadata.
SPACECRAFT_RANGES: dict[str, tuple[float, float]] = {
    "boards": (1, 100_000),
    "boards_per_switch": (1, 100_000),
    "physics_dt_s": (0.01, 60),
    "altitude_km": (160, 40_000),
    "ltan_h": (0, 24),
    "day_of_year": (0, 366),
    "phase_deg": (-360, 360),
    "battery_soc": (0, 1),
    "cells_series": (1, 10_000),
    "bus_voltage_v": (1, 2_000),
    "battery_capacity_wh": (1e-3, 1e9),
    "loop_setpoint_c": (-100, 200),
    "seu_per_board_day": (0, 1e6),
    "uncorrectable_fraction": (0, 1),
    "sel_per_board_day": (0, 1e6),
    "sefi_per_board_day": (0, 1e6),
    "saa_peak_multiplier": (1, 1e6),
    "thermal_dt_s": (0.01, 600),
    "array_efficiency": (0, 1),
    "array_degradation_per_year": (0, 1),
    "array_age_years": (0, 100),
    "design_life_years": (0.01, 100),
    "battery_heater_w": (0, 1e7),
    "avionics_heater_w": (0, 1e7),
    "coldplate_heater_w": (0, 1e7),
    "battery_radiator_area_m2": (0, 1e5),
    "loop_min_conductance_w_k": (0, 1e9),
    "loop_band_k": (0.01, 1000),
    "battery_heat_capacity_j_k": (1e3, 1e9),
    "coldplate_heat_capacity_j_k": (1e3, 1e9),
    "radiator_heat_capacity_j_k": (1e3, 1e9),
    "earth_ir_w_m2": (0, 2000),
}
SPACECRAFT = from_dataclass(
    SpacecraftConfig,
    SPACECRAFT_RANGES,
    skip=("schedule", "board_params"),
    nested={"radiation": from_dataclass(RadiationRates, SPACECRAFT_RANGES)},
)
SPACECRAFT.check = _check_orbit
SIM_SETTINGS = (
    Opt("watchdog_timeout_s", "float", None, above=0, max=3600, unit="s"),
    Opt("nv_dir", "str", None, doc="directory of the NV store (default: in memory)"),
    Opt("spacecraft", "table", None, fields=SPACECRAFT, doc="the simulated node's build"),
    Opt("radio", "table", None, fields=RADIO, doc="the radio: simulated, UDP, TCP or none"),
    Opt(
        "ground_stations",
        "list",
        None,
        max=1000,
        items=Opt("station", "table", fields=STATION),
        doc="the ground network (default: the polar stations and the operator's own)",
    ),
)
SIM_HAL = Schema(Opt("backend", "str", "sim"), *SIM_SETTINGS)


class HalConfigError(HalError):
    """A [hal] table the sim backend cannot use; names the key."""


class SimHardware:
    """Steps the spacecraft and the watchdog timer to the executive's frame time, and
    applies the processor-memory upsets the spacecraft released."""

    def __init__(
        self, watchdog: SimWatchdog, spacecraft: Spacecraft, memory: SimMemory | None = None
    ) -> None:
        self.watchdog = watchdog
        self.spacecraft = spacecraft
        self.memory = memory
        self.watchdog_expiries = 0

    def __call__(self, now_ns: int) -> None:
        if self.memory is not None:
            self.memory.observe(self.spacecraft.now_s)  # repairs made in the last frame
        self.spacecraft.advance_to(now_ns / NS_PER_S)
        if self.memory is not None:
            self.memory.apply()
        if self.watchdog.expired():
            self.watchdog_expiries += 1


def spacecraft_config(config: dict[str, Any]) -> SpacecraftConfig:
    """The spacecraft's build from [hal.spacecraft] plus the orbit from [orbit]."""
    merged = dict(config.get("spacecraft", {}))
    orbit = config.get("orbit", {})
    for key in ("altitude_km", "ltan_h", "day_of_year", "phase_deg"):
        if key in orbit:
            merged[key] = orbit[key]
    try:
        return SpacecraftConfig.from_dict(merged)
    except KeyError as exc:
        raise HalConfigError(f"hal.spacecraft: unknown key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise HalConfigError(f"hal.spacecraft: {exc}") from None


def build_sim_hal(config: dict[str, Any], seed: int, clock: Clock | None = None) -> Hal:
    """A Hal whose devices are sim_hw models seeded from ``seed``; ConfigError on a bad
    table (the mission loader has checked it already, naming the file)."""
    validate_config({k: v for k, v in config.items() if k != "orbit"}, config.get("orbit"))
    clk = clock if clock is not None else SimClock()
    timeout_s = float(config.get("watchdog_timeout_s", 5.0))
    watchdog = SimWatchdog(clk, int(timeout_s * NS_PER_S))
    sc = Spacecraft(spacecraft_config(config), seed, start_s=clk.now_ns() / NS_PER_S)
    # nv_dir: a directory, so what the flight software keeps (SDLS counters, FDIR
    # state, the packet store) also survives a restart of this process.
    nv = FileNvStore(str(config["nv_dir"])) if config.get("nv_dir") else MemoryNvStore()
    memory = SimMemory(sc, np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[4]))
    memory.register("nv", NvRegion(nv))
    hw = SimHardware(watchdog, sc, memory)
    samples = SampleCounter()
    thermal = SimThermal(sc, samples)
    radio = build_radio(
        config.get("radio", {}), sc, seed, ground_stations(config.get("ground_stations"))
    )
    radio_devices = {k: v for k, v in radio.items() if k == "radio"}
    radio_harness = {k: v for k, v in radio.items() if k != "radio"}
    return Hal(
        backend="sim",
        clock=clk,
        watchdog=watchdog,
        nv=nv,
        samples=samples,
        stepper=hw,
        harness={"sim": sc, **radio_harness},
        devices={
            "memory": memory,
            "pcdu": SimPcdu(sc, samples),
            "battery": SimBattery(sc, samples),
            "solar_array": SimSolarArray(sc, samples),
            "thermal": thermal,
            "thermal_loop": SimThermalLoop(sc),
            "boards": SimBoards(sc, samples),
            **radio_devices,
        },
    )


def ground_stations(tables: Any) -> tuple[GroundStation, ...]:
    """The [[hal.ground_stations]] of the mission, or the default network without them."""
    if tables is None:
        return DEFAULT_STATIONS
    try:
        return stations_from_config(tables, "hal.ground_stations")
    except ValueError as exc:
        raise HalConfigError(str(exc)) from None


def _budget(cfg: dict[str, Any], direction: str, default: LinkBudget) -> LinkBudget:
    """A direction's link budget: the default with the fields the mission gives."""
    given = {f: float(cfg[f"{direction}_{f}"]) for f in BUDGET_FIELDS if f"{direction}_{f}" in cfg}
    try:
        return dataclasses.replace(default, **given)
    except ValueError as exc:
        raise HalConfigError(f"hal.radio.{direction}: {exc}") from None


def _optional_float(cfg: dict[str, Any], key: str) -> float | None:
    value = cfg.get(key)
    return None if value is None else float(value)


def build_radio(
    cfg: dict[str, Any],
    sc: Spacecraft,
    seed: int,
    stations: tuple[GroundStation, ...] = DEFAULT_STATIONS,
) -> dict[str, Any]:
    """The radio from [hal.radio]: ``kind`` sim (default), udp, tcp or none.

    ``sim`` also gives ``ground_link``, the ground network's end of the simulated RF
    link, over ``stations``; its bit errors and delay follow the link budget
    (``downlink_*``/``uplink_*`` fields) and the slant range, unless ``ber_down``,
    ``ber_up`` or ``delay_s`` pin them. ``udp``/``tcp`` listen on ``bind`` (HOST:PORT)
    for a ground system, and with ``peer`` (HOST:PORT) hear only that ground system
    (tcp: only that host).
    """
    RADIO.validate(cfg, "hal.radio")
    kind = str(cfg.get("kind", "sim"))
    if kind == "none":
        return {}
    if kind in ("udp", "tcp"):
        bind = parse_host_port(str(cfg.get("bind", "127.0.0.1:10025")), "hal.radio.bind")
        peer = parse_host_port(str(cfg["peer"]), "hal.radio.peer") if "peer" in cfg else None
        from hal.radio import resolve_ipv4
        from hal.radio.tcp import TcpRadio
        from hal.radio.udp import UdpRadio

        if peer is not None:
            try:
                peer = resolve_ipv4(*peer)
            except ValueError as exc:
                raise HalConfigError(f"hal.radio.peer: {exc}") from None
        framing = str(cfg.get("framing", "frames"))
        if kind == "udp":
            return {"radio": UdpRadio(bind, peer=peer, framing=framing)}
        host = peer[0] if peer is not None else None
        return {"radio": TcpRadio(bind, peer_host=host, framing=framing)}
    if kind != "sim":
        raise HalConfigError(f"hal.radio.kind: {kind!r} is not sim, udp, tcp or none")
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[3])
    try:
        link = SimRfLink(
            sc,
            rng,
            downlink_bps=float(cfg.get("downlink_bps", 2_000_000.0)),
            uplink_bps=float(cfg.get("uplink_bps", 64_000.0)),
            ber_down=_optional_float(cfg, "ber_down"),
            ber_up=_optional_float(cfg, "ber_up"),
            delay_s=_optional_float(cfg, "delay_s"),
            always_in_contact=bool(cfg.get("always_in_contact", False)),
            stations=stations,
            downlink=_budget(cfg, "downlink", DEFAULT_DOWNLINK),
            uplink=_budget(cfg, "uplink", DEFAULT_UPLINK),
        )
    except (TypeError, ValueError) as exc:
        raise HalConfigError(f"hal.radio: {exc}") from None
    return {"radio": link.flight, "ground_link": link.ground, "rf_link": link}
