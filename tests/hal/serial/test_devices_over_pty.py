"""Every serial device class against the emulator over a real pty, opened by pyserial.

No hardware needed: tools/fake_bench_device.py serves the pty master from a thread and
build_serial_hal opens the slave path like a bench port. Kept fast (well under 5 s).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flightsw.base.errors import EncodeError
from hal.backend import Hal
from hal.clocks import WallClock
from hal.interfaces import (
    AcceleratorBoards,
    Battery,
    Heaters,
    PowerDistribution,
    SolarArray,
    TemperatureSensors,
    Watchdog,
)
from hal.nvstore import FileNvStore, MemoryNvStore
from hal.serial import DeviceError, DeviceTimeout, SerialLink
from hal.serial.backend import build_serial_hal
from hal.serial.devices import SerialBoards, SerialPcdu, SerialThermal
from tools.fake_bench_device import HEATERS, SENSORS, SWITCHES, FakeBenchDevice, open_pty

FAST = {"timeout_ms": 100, "retries": 3, "budget_ms": 800}  # generous: shared machines


@contextmanager
def bench(
    config: dict[str, Any] | None = None, **opts: Any
) -> Iterator[tuple[Hal, FakeBenchDevice]]:
    master, slave, path = open_pty()
    dev = FakeBenchDevice(opts.pop("n_boards", 8), opts.pop("seed", 3), **opts)
    stop = threading.Event()
    thread = threading.Thread(target=dev.serve, args=(master, stop), daemon=True)
    thread.start()
    hal: Hal | None = None
    try:
        hal = build_serial_hal(path, {**FAST, **(config or {})}, seed=11)
        yield hal, dev
    finally:
        stop.set()
        thread.join(timeout=2)
        if hal is not None:
            hal.harness["port"].close()
        os.close(master)
        os.close(slave)


def link_of(hal: Hal) -> SerialLink:
    link = hal.harness["link"]
    assert isinstance(link, SerialLink)
    return link


def test_hal_shape_and_protocols() -> None:
    with bench() as (hal, _):
        assert hal.backend == "serial"
        assert isinstance(hal.clock, WallClock)
        assert isinstance(hal.nv, MemoryNvStore)
        d = hal.devices
        assert isinstance(d["pcdu"], PowerDistribution)
        assert isinstance(d["battery"], Battery)
        assert isinstance(d["solar_array"], SolarArray)
        assert isinstance(d["thermal"], TemperatureSensors)
        assert isinstance(d["thermal"], Heaters)
        assert isinstance(d["boards"], AcceleratorBoards)
        assert isinstance(hal.watchdog, Watchdog)
        assert d["pcdu"].switch_names() == SWITCHES
        assert d["thermal"].sensor_names() == SENSORS
        assert d["thermal"].heater_names() == HEATERS
        assert d["boards"].count == 8
        assert hal.watchdog.timeout_ns == 5_000_000_000


def test_pcdu_switches_and_trips() -> None:
    with bench() as (hal, dev):
        pcdu: SerialPcdu = hal.devices["pcdu"]
        s = pcdu.read_switches()
        assert len(s.on) == len(s.current_a) == len(s.tripped) == len(SWITCHES)
        assert s.on[0] and s.current_a[0] == pytest.approx(0.4)
        pcdu.set_switch("radio", False)
        pcdu.set_switch("aux_spare", True)
        s = pcdu.read_switches()
        assert not s.on[1] and s.current_a[1] == 0.0 and s.on[5]
        dev.model.trip(2)
        s = pcdu.read_switches()
        assert s.tripped[2] and not s.on[2]
        pcdu.set_switch("aux_adcs", True)  # refused while tripped
        assert not pcdu.read_switches().on[2]
        pcdu.reset_trip("aux_adcs")
        pcdu.set_switch("aux_adcs", True)
        s = pcdu.read_switches()
        assert s.on[2] and not s.tripped[2]
        with pytest.raises(EncodeError):
            pcdu.set_switch("nope", True)


def test_battery_and_solar_array() -> None:
    with bench() as (hal, dev):
        b = hal.devices["battery"].read_battery()
        assert 24.0 <= b.voltage_v <= 29.0
        assert b.temperature_c == pytest.approx(float(dev.model.temps[0]), abs=0.5)
        s = hal.devices["solar_array"].read_solar_array()
        assert 0.0 <= s.sun_sensor <= 1.0
        assert s.current_a == pytest.approx(12.0 * s.sun_sensor, rel=1e-3)


def test_thermal_sensors_and_heaters() -> None:
    with bench() as (hal, dev):
        th: SerialThermal = hal.devices["thermal"]
        assert th.read_heaters() == (False, False)
        th.set_heater("heater_coldplate", True)
        assert th.read_heaters() == (False, True)
        assert dev.model.heater_on.tolist() == [False, True]
        temps = th.read_temperatures_c()
        assert len(temps) == len(SENSORS)
        assert temps[3] == pytest.approx(25.0, abs=0.1)
        with pytest.raises(EncodeError):
            th.set_heater("battery", True)


def test_boards_commands_and_telemetry() -> None:
    with bench() as (hal, dev):
        boards: SerialBoards = hal.devices["boards"]
        t = boards.read_boards()
        assert t.powered.dtype == np.bool_ and t.heartbeat.dtype == np.int64
        assert not t.powered.any()
        boards.set_board_power(np.arange(6), True)
        boards.set_utilization(np.array([0, 1, 2]), np.array([0.0, 0.5, 1.0]))
        boards.set_power_cap(np.array([2]), 100.0)
        t = boards.read_boards()
        assert t.powered.tolist() == [True] * 6 + [False] * 2
        assert t.power_w[:4] == pytest.approx([20.0, 85.0, 100.0, 20.0])
        assert t.current_a[:3] == pytest.approx(t.power_w[:3] / 12.0)
        assert (t.power_w[6:] == 0).all()
        time.sleep(0.25)  # heartbeat runs at 10 Hz while powered
        t2 = boards.read_boards()
        assert (t2.heartbeat[:6] > t.heartbeat[:6]).all()
        assert (t2.heartbeat[6:] == 0).all()
        assert t2.work_done[2] > t2.work_done[1] > t2.work_done[0] == 0.0
        # A hung board (sim_hw's SEFI) stops beating; a reset brings it back.
        n = dev.model.boards.count
        sefi = np.zeros(n, dtype=bool)
        sefi[0] = True
        dev.model.boards.apply_radiation(
            np.zeros(n, int), np.zeros(n, int), np.zeros(n, bool), sefi
        )
        time.sleep(0.05)
        hung = boards.read_boards().heartbeat[0]
        time.sleep(0.25)
        assert boards.read_boards().heartbeat[0] == hung
        boards.reset_boards(np.array([0]))
        time.sleep(0.25)
        assert boards.read_boards().heartbeat[0] > hung
        dev.model.boards.apply_radiation(
            np.full(n, 5), np.zeros(n, int), np.zeros(n, bool), np.zeros(n, bool)
        )
        assert (dev.model.boards.latent_flips[:6] > 0).all()
        boards.scrub_memory(np.arange(8))
        assert (dev.model.boards.latent_flips == 0).all()
        boards.set_board_power(np.array([5]), False)
        assert not boards.read_boards().powered[5]
        with pytest.raises(EncodeError):
            boards.reset_boards(np.array([8]))
        with pytest.raises(EncodeError):
            boards.set_utilization(np.array([0, 1]), np.array([0.1, 0.2, 0.3]))


def test_board_telemetry_is_paged_for_big_benches() -> None:
    with bench(n_boards=130) as (hal, _):
        boards: SerialBoards = hal.devices["boards"]
        boards.set_board_power(np.arange(125, 130), True)
        t = boards.read_boards()
        assert t.powered.shape == (130,)
        assert np.flatnonzero(t.powered).tolist() == [125, 126, 127, 128, 129]
        assert link_of(hal).requests == 4 + 1 + 2  # inventory, command, two pages


def test_watchdog_kick_reaches_the_device() -> None:
    with bench() as (hal, dev):
        hal.watchdog.kick()
        hal.watchdog.kick()
        # On a loaded host an answer may come after the attempt's timeout: the link then
        # sends the kick again (a kick is idempotent), and counts the retry.
        assert dev.model.kicks == 2 + link_of(hal).retries


def _run(calls: list[Callable[[], object]], rounds: int) -> int:
    ok = 0
    for i in range(rounds):
        try:
            calls[i % len(calls)]()
            ok += 1
        except DeviceError:
            pass
    return ok


def test_garbage_corruption_and_drops_are_survived_by_retries() -> None:
    with bench(garbage_rate=0.3, corrupt_rate=0.1, drop_rate=0.1, seed=5) as (hal, dev):
        d = hal.devices
        calls: list[Callable[[], object]] = [
            d["pcdu"].read_switches,
            d["boards"].read_boards,
            d["thermal"].read_temperatures_c,
            hal.watchdog.kick,
        ]
        ok = _run(calls, 40)
        c = link_of(hal).counters()
        assert ok >= 38
        assert c["retries"] > 0 and c["garbage_octets"] > 0
        assert dev.garbage_bursts > 0 and dev.dropped + dev.corrupted > 0
        assert c["requests"] == c["responses"] + c["timeouts"] + c["errors"]


def test_busy_device_is_retried() -> None:
    with bench(busy_rate=0.3, seed=2) as (hal, dev):
        ok = _run([hal.devices["battery"].read_battery], 20)
        assert ok >= 19
        assert link_of(hal).naks == dev.naks > 0


def test_slow_device_times_out_then_late_answer_is_stale() -> None:
    with bench() as (hal, dev):  # connect with the generous timing: a loaded host is slow
        link = link_of(hal)
        link.timeout_ns, link.retries_per_call, link.budget_ns = 10_000_000, 0, 15_000_000
        solar = hal.devices["solar_array"]
        solar.read_solar_array()
        dev.delay_ms = 600
        t0 = time.perf_counter()
        with pytest.raises(DeviceTimeout):
            solar.read_solar_array()
        assert time.perf_counter() - t0 < 0.5  # gave up long before the 600 ms answer
        assert link.timeouts == 1
        dev.delay_ms = 0
        time.sleep(0.8)  # the late answer lands in the port buffer
        link.timeout_ns, link.budget_ns = 100_000_000, 800_000_000
        solar.read_solar_array()
        assert link.stale == 1


def test_small_delay_within_timeout_is_fine() -> None:
    with bench({"timeout_ms": 1000}, delay_ms=10) as (hal, _):
        before = link_of(hal).retries  # connecting on a loaded host may have retried
        hal.devices["battery"].read_battery()
        assert link_of(hal).retries == before


def test_silent_port_fails_the_build_quickly() -> None:
    master, slave, path = open_pty()
    try:
        t0 = time.perf_counter()
        with pytest.raises(DeviceError, match="did not identify"):
            build_serial_hal(path, {"timeout_ms": 5, "retries": 0, "connect_attempts": 2}, seed=0)
        assert time.perf_counter() - t0 < 1.0
    finally:
        os.close(master)
        os.close(slave)


def test_missing_port_is_a_device_error() -> None:
    with pytest.raises(DeviceError, match="cannot open"):
        build_serial_hal("/dev/does-not-exist-serial", {}, seed=0)


def test_nv_dir_gives_a_file_store(tmp_path: Path) -> None:
    with bench({"nv_dir": str(tmp_path / "nv")}) as (hal, _):
        assert isinstance(hal.nv, FileNvStore)
        hal.nv.write("x", b"1")
        assert (tmp_path / "nv" / "x").read_bytes() == b"1"


def test_emulator_serves_a_pyserial_port() -> None:
    import select

    import serial

    from hal.serial import protocol as p

    master, slave, path = open_pty()
    dev = FakeBenchDevice(2)
    stop = threading.Event()
    ser = serial.serial_for_url(path, timeout=0)
    thread = threading.Thread(target=dev.serve, args=(ser, stop), daemon=True)
    thread.start()
    try:
        os.write(master, p.encode_frame(p.MsgType.PING, 9, p.Ping(5).encode()))
        dec = p.FrameDecoder()
        frames: list[p.Frame] = []
        deadline = time.monotonic() + 2.0
        while not frames and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                frames = dec.feed(os.read(master, 4096))
        assert frames and frames[0].seq == 9
        assert p.PingReply.decode(frames[0].payload).nonce == 5
    finally:
        stop.set()
        thread.join(timeout=2)
        ser.close()
        os.close(master)
        os.close(slave)


def test_emulator_command_line_prints_its_pty() -> None:
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    proc = subprocess.Popen(
        [sys.executable, str(root / "tools" / "fake_bench_device.py"), "--pty", "--boards", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/")
        hal = build_serial_hal(path, FAST, seed=0)
        assert hal.devices["boards"].count == 3
        hal.harness["port"].close()
    finally:
        proc.send_signal(signal.SIGINT)
        # a bound for a hang, not a speed check (a loaded CI machine took over 5 s)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "requests=4" in err


def test_emulator_stops_on_sigint_inherited_ignored_with_its_pty_still_open() -> None:
    """Was: started from the background of a script (SIGINT inherited ignored), the
    emulator ignored Ctrl-C and ran on while anything held its pty open (a loaded CI run
    waited 60 s for it)."""
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    proc = subprocess.Popen(
        [sys.executable, str(root / "tools" / "fake_bench_device.py"), "--pty", "--boards", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert proc.stdout is not None
        path = proc.stdout.readline().strip()
        hal = build_serial_hal(path, FAST, seed=0)  # held open while the signal comes
        assert hal.devices["boards"].count == 2
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        hal.harness["port"].close()
    finally:
        proc.kill()
    assert proc.returncode == 0 and "requests=" in err
