"""Builds the simulated HAL from a mission's [hal] and [orbit] tables.

The devices are views of one ``sim_hw.spacecraft.Spacecraft``; the executive steps it
to each frame's time through ``Hal.step``. ``devices["sim"]`` is the model itself, for
run reports and scenario scoring only: flight apps must use the named devices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hal.backend import Hal
from hal.clocks import SimClock
from hal.factory import HalError, parse_host_port
from hal.interfaces import Clock
from hal.nvstore import MemoryNvStore
from hal.sim.devices import SimBattery, SimBoards, SimPcdu, SimSolarArray, SimThermal
from hal.sim.memory import NvRegion, SimMemory
from hal.sim.radio import SimRfLink
from hal.sim.watchdog import SimWatchdog
from sim_hw.spacecraft import Spacecraft, SpacecraftConfig

NS_PER_S = 1_000_000_000
HAL_KEYS = {"backend", "watchdog_timeout_s", "spacecraft", "orbit", "radio"}
RADIO_KEYS = {
    "kind",
    "bind",
    "downlink_bps",
    "uplink_bps",
    "ber_down",
    "ber_up",
    "delay_s",
    "always_in_contact",
}


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
    for key in ("altitude_km", "ltan_h", "day_of_year"):
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
    nv = MemoryNvStore()
    memory = SimMemory(sc, np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[4]))
    memory.register("nv", NvRegion(nv))
    hw = SimHardware(watchdog, sc, memory)
    thermal = SimThermal(sc)
    radio_devices = build_radio(config.get("radio", {}), sc, seed)
    return Hal(
        backend="sim",
        clock=clk,
        watchdog=watchdog,
        nv=nv,
        devices={
            "_stepper": hw,
            "sim": sc,
            "memory": memory,
            "pcdu": SimPcdu(sc),
            "battery": SimBattery(sc),
            "solar_array": SimSolarArray(sc),
            "thermal": thermal,
            "boards": SimBoards(sc),
            **radio_devices,
        },
    )


def build_radio(cfg: dict[str, Any], sc: Spacecraft, seed: int) -> dict[str, Any]:
    """The radio from [hal.radio]: ``kind`` sim (default), udp, tcp or none.

    ``sim`` also gives ``ground_link``, the ground network's end of the simulated RF
    link; ``udp``/``tcp`` listen on ``bind`` (HOST:PORT) for a ground system.
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
            ber_down=float(cfg.get("ber_down", 1e-7)),
            ber_up=float(cfg.get("ber_up", 1e-7)),
            delay_s=float(cfg.get("delay_s", 0.01)),
            always_in_contact=bool(cfg.get("always_in_contact", False)),
        )
    except (TypeError, ValueError) as exc:
        raise HalConfigError(f"hal.radio: {exc}") from None
    return {"radio": link.flight, "ground_link": link.ground, "rf_link": link}
