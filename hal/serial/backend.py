"""Builds the hardware-in-the-loop HAL: bench devices behind one serial line.

``port`` is anything pyserial's ``serial_for_url`` opens (``/dev/ttyUSB0``, a pty such as
``/dev/pts/5`` from tools/fake_bench_device.py, ``socket://host:port``, ``loop://``).
The device is asked for its inventory at build time, so a missing or silent bench fails
here with a clear :class:`DeviceError` instead of on the first frame.

Settings read from the mission's [hal] table (all optional): ``baudrate`` (115200),
``timeout_ms`` per attempt (20), ``retries`` (2), ``budget_ms`` per call (100),
``poll_ms`` longest single blocking read (1), ``write_timeout_ms`` (50),
``connect_attempts`` for the inventory (3), ``nv_dir`` (a FileNvStore directory; memory
when absent).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flightsw.base.schema import Opt
from hal.backend import Hal
from hal.clocks import WallClock
from hal.interfaces import Clock
from hal.nvstore import FileNvStore, MemoryNvStore
from hal.samples import SampleCounter
from hal.serial.devices import (
    Inventory,
    SerialBattery,
    SerialBoards,
    SerialPcdu,
    SerialSolarArray,
    SerialThermal,
    SerialWatchdog,
    read_inventory,
)
from hal.serial.link import DeviceError, SerialLink

NS_PER_MS = 1_000_000
SERIAL_SETTINGS = (
    Opt("baudrate", "int", None, min=50, max=20_000_000),
    Opt("timeout_ms", "float", None, min=0, max=60_000, doc="per attempt"),
    Opt("retries", "int", None, min=0, max=100),
    Opt("budget_ms", "float", None, min=0, max=60_000, doc="per call"),
    Opt("poll_ms", "float", None, min=0, max=60_000, doc="longest single blocking read"),
    Opt("write_timeout_ms", "float", None, min=0, max=60_000),
    Opt("connect_attempts", "int", None, min=1, max=100, doc="for the inventory"),
    Opt("nv_dir", "str", None, doc="a FileNvStore directory (memory when absent)"),
)


def _ms(config: dict[str, Any], key: str, default: float) -> float:
    try:
        value = float(config.get(key, default))
    except (TypeError, ValueError):
        raise DeviceError(f"[hal] {key} = {config.get(key)!r} is not a number") from None
    if not value >= 0:
        raise DeviceError(f"[hal] {key} = {value} must be >= 0")
    return value


def link_from_port(port: Any, config: dict[str, Any], clock: Clock) -> SerialLink:
    """A SerialLink over an already open port, with the [hal] table's timing settings."""
    return SerialLink(
        port,
        clock,
        timeout_ns=max(1, int(_ms(config, "timeout_ms", 20) * NS_PER_MS)),
        retries=int(_ms(config, "retries", 2)),
        budget_ns=max(1, int(_ms(config, "budget_ms", 100) * NS_PER_MS)),
        poll_s=min(0.1, _ms(config, "poll_ms", 1) / 1000),
    )


def connect(link: SerialLink, attempts: int, seed: int) -> Inventory:
    """The device's inventory, trying ``attempts`` times (the nonce comes from ``seed``)."""
    nonce = int(np.random.default_rng(seed).integers(0, 2**32))
    last: DeviceError | None = None
    for _ in range(max(1, attempts)):
        try:
            return read_inventory(link, nonce)
        except DeviceError as exc:
            last = exc
    raise DeviceError(f"bench device did not identify itself: {last}")


def build_serial_hal(
    port: str, config: dict[str, Any], seed: int, clock: Clock | None = None
) -> Hal:
    """Open ``port``, identify the bench device and return its devices as a Hal."""
    import serial

    clk = clock if clock is not None else WallClock()
    try:
        ser = serial.serial_for_url(
            port,
            baudrate=int(config.get("baudrate", 115200)),
            timeout=0,
            write_timeout=_ms(config, "write_timeout_ms", 50) / 1000,
        )
    except (OSError, ValueError) as exc:
        raise DeviceError(f"cannot open serial port {port!r}: {exc}") from exc
    try:
        link = link_from_port(ser, config, clk)
        inv = connect(link, int(config.get("connect_attempts", 3)), seed)
    except BaseException:
        ser.close()
        raise
    nv_dir = config.get("nv_dir")
    samples = SampleCounter()
    return Hal(
        backend="serial",
        clock=clk,
        watchdog=SerialWatchdog(link, inv.watchdog_timeout_ns),
        nv=FileNvStore(nv_dir) if nv_dir else MemoryNvStore(),
        samples=samples,
        devices={
            "pcdu": SerialPcdu(link, inv.switch_names, samples),
            "battery": SerialBattery(link, samples),
            "solar_array": SerialSolarArray(link, samples),
            "thermal": SerialThermal(link, inv.sensor_names, inv.heater_names, samples),
            "boards": SerialBoards(link, inv.n_boards, samples),
        },
        harness={"link": link, "port": ser},
    )
