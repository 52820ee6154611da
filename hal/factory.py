"""Chooses a HAL backend by name: ``sim`` (simulated spacecraft) or ``serial:PORT`` (a bench).

``PORT`` is anything pyserial opens: ``/dev/ttyUSB0``, a pty such as ``/dev/pts/5``,
``socket://host:port`` or ``loop://``.
"""

from __future__ import annotations

from typing import Any

from hal.backend import Hal
from hal.interfaces import Clock


class HalError(Exception):
    """A HAL backend that cannot be built (unknown name, bad settings)."""


BACKENDS = ("sim", "serial:PORT")


def parse_host_port(text: str, what: str) -> tuple[str, int]:
    """``HOST:PORT`` as a socket address; anything else is a HalError naming ``what``."""
    host, _, port = text.rpartition(":")
    if not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise HalError(f"{what}: {text!r} is not HOST:PORT (port 0..65535)")
    return host, int(port)


def validate_config(hal: dict[str, Any], orbit: dict[str, Any] | None = None) -> None:
    """Check a [hal] table and the [orbit] table before anything is built; ConfigError
    naming the key. The [hal] table may hold the settings of either backend (a bench
    mission runs on the simulated node too)."""
    from flightsw.base.schema import ConfigError, Schema
    from hal.serial.backend import SERIAL_SETTINGS
    from hal.sim.backend import ORBIT, SIM_HAL, ground_stations

    backend = hal.get("backend", "sim")
    serial = isinstance(backend, str) and backend.startswith("serial:") and len(backend) > 7
    if backend != "sim" and not serial:
        raise ConfigError("hal.backend", f"{backend!r} is not one of: {', '.join(BACKENDS)}")
    shared = {opt.name for opt in SIM_HAL}  # nv_dir is a setting of both backends
    serial_only = [opt for opt in SERIAL_SETTINGS if opt.name not in shared]
    Schema(*SIM_HAL, *serial_only).validate(hal, "hal")
    try:
        ground_stations(hal.get("ground_stations"))  # the network as a whole: unique names
    except HalError as exc:
        raise ConfigError("hal.ground_stations", str(exc).split(": ", 1)[-1]) from None
    if orbit is not None:
        ORBIT.validate(orbit, "orbit")


def is_real_time(config: dict[str, Any]) -> bool:
    """Whether the backend talks to real devices, so frames must follow the wall clock."""
    return str(config.get("backend", "sim")) != "sim"


def build_hal(config: dict[str, Any], seed: int, clock: Clock | None = None) -> Hal:
    backend = str(config.get("backend", "sim"))
    if backend == "sim":
        from hal.sim.backend import build_sim_hal

        return build_sim_hal(config, seed, clock)
    if backend.startswith("serial:"):
        from hal.serial.backend import build_serial_hal

        settings = {k: v for k, v in config.items() if k not in ("backend", "orbit")}
        return build_serial_hal(backend.removeprefix("serial:"), settings, seed, clock)
    raise HalError(f"unknown HAL backend {backend!r}; available: {', '.join(BACKENDS)}")
