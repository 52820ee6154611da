"""Builds the simulated HAL from a mission's [hal] and [orbit] tables.

The devices are views of one ``sim_hw.spacecraft.Spacecraft``; the executive steps it
to each frame's time through ``Hal.step``. ``devices["sim"]`` is the model itself, for
run reports and scenario scoring only: flight apps must use the named devices.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from hal.backend import Hal
from hal.clocks import SimClock
from hal.factory import HalError, parse_host_port
from hal.interfaces import Clock
from hal.nvstore import MemoryNvStore
from hal.sim.devices import (
    SimBattery,
    SimBoards,
    SimPcdu,
    SimSolarArray,
    SimThermal,
    SimThermalLoop,
)
from hal.sim.radio import SimRfLink
from hal.sim.watchdog import SimWatchdog
from sim_hw.environment import DEFAULT_STATIONS, GroundStation, stations_from_config
from sim_hw.radio_link import DEFAULT_DOWNLINK, DEFAULT_UPLINK, LinkBudget
from sim_hw.spacecraft import Spacecraft, SpacecraftConfig

NS_PER_S = 1_000_000_000
HAL_KEYS = {"backend", "watchdog_timeout_s", "spacecraft", "orbit", "radio", "ground_stations"}
# A link budget per direction: "<direction>_<field>" in [hal.radio].
BUDGET_FIELDS = ("eirp_dbw", "g_over_t_dbk", "frequency_hz", "losses_db")
RADIO_KEYS = {
    "kind",
    "bind",
    "downlink_bps",
    "uplink_bps",
    "ber_down",
    "ber_up",
    "delay_s",
    "always_in_contact",
    *(f"{d}_{f}" for d in ("downlink", "uplink") for f in BUDGET_FIELDS),
}
ORBIT_KEYS = ("altitude_km", "ltan_h", "day_of_year")


class HalConfigError(HalError):
    """A [hal] table the sim backend cannot use; names the key."""


class SimHardware:
    """Steps the spacecraft and the watchdog timer to the executive's frame time."""

    def __init__(self, watchdog: SimWatchdog, spacecraft: Spacecraft) -> None:
        self.watchdog = watchdog
        self.spacecraft = spacecraft
        self.watchdog_expiries = 0

    def __call__(self, now_ns: int) -> None:
        self.spacecraft.advance_to(now_ns / NS_PER_S)
        if self.watchdog.expired():
            self.watchdog_expiries += 1


def spacecraft_config(config: dict[str, Any]) -> SpacecraftConfig:
    """The spacecraft's build from [hal.spacecraft] plus the orbit from [orbit]."""
    merged = dict(config.get("spacecraft", {}))
    orbit = config.get("orbit", {})
    unknown = set(orbit) - set(ORBIT_KEYS)
    if unknown:
        raise HalConfigError(f"orbit: unknown key {sorted(unknown)[0]!r}")
    for key in ORBIT_KEYS:
        if key in orbit:
            merged[key] = orbit[key]
    try:
        return SpacecraftConfig.from_dict(merged)
    except KeyError as exc:
        raise HalConfigError(f"hal.spacecraft: unknown key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise HalConfigError(f"hal.spacecraft: {exc}") from None


def build_sim_hal(config: dict[str, Any], seed: int, clock: Clock | None = None) -> Hal:
    """A Hal whose devices are sim_hw models seeded from ``seed``."""
    unknown = set(config) - HAL_KEYS
    if unknown:
        raise HalConfigError(f"hal: unknown key {sorted(unknown)[0]!r}")
    clk = clock if clock is not None else SimClock()
    timeout_s = float(config.get("watchdog_timeout_s", 5.0))
    watchdog = SimWatchdog(clk, int(timeout_s * NS_PER_S))
    sc = Spacecraft(spacecraft_config(config), seed, start_s=clk.now_ns() / NS_PER_S)
    hw = SimHardware(watchdog, sc)
    thermal = SimThermal(sc)
    radio_devices = build_radio(
        config.get("radio", {}), sc, seed, ground_stations(config.get("ground_stations"))
    )
    return Hal(
        backend="sim",
        clock=clk,
        watchdog=watchdog,
        nv=MemoryNvStore(),
        devices={
            "_stepper": hw,
            "sim": sc,
            "pcdu": SimPcdu(sc),
            "battery": SimBattery(sc),
            "solar_array": SimSolarArray(sc),
            "thermal": thermal,
            "thermal_loop": SimThermalLoop(sc),
            "boards": SimBoards(sc),
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
    given = {f: cfg[f"{direction}_{f}"] for f in BUDGET_FIELDS if f"{direction}_{f}" in cfg}
    for field, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise HalConfigError(f"hal.radio.{direction}_{field}: must be a number")
        if not math.isfinite(value):
            raise HalConfigError(f"hal.radio.{direction}_{field}: must be finite")
    try:
        return dataclasses.replace(default, **{f: float(v) for f, v in given.items()})
    except ValueError as exc:
        raise HalConfigError(f"hal.radio.{direction}: {exc}") from None


def _optional_float(cfg: dict[str, Any], key: str) -> float | None:
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HalConfigError(f"hal.radio.{key}: must be a number")
    return float(value)


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
    ``ber_up`` or ``delay_s`` pin them. ``udp``/``tcp`` listen on ``bind``
    (HOST:PORT) for a ground system.
    """
    unknown = set(cfg) - RADIO_KEYS
    if unknown:
        raise HalConfigError(f"hal.radio: unknown key {sorted(unknown)[0]!r}")
    kind = str(cfg.get("kind", "sim"))
    if kind == "none":
        return {}
    if kind in ("udp", "tcp"):
        bind = parse_host_port(str(cfg.get("bind", "127.0.0.1:10025")), "hal.radio.bind")
        from hal.radio.tcp import TcpRadio
        from hal.radio.udp import UdpRadio

        return {"radio": UdpRadio(bind) if kind == "udp" else TcpRadio(bind)}
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
