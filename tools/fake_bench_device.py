"""A bench device emulator speaking the serial protocol, so HIL runs need no hardware.

It plays a PCDU with a few switches, a battery, a solar array, thermistors and heaters,
N accelerator boards (default 8) and a watchdog. The PCDU (current sensing, latching
overcurrent trips) and the boards (power, heat, ECC, heartbeat, latch-ups and hangs from
sim_hw's radiation rates) are sim_hw's models; battery, array and thermal lags are a
deliberately simple bench model.
Fault options for tests are seeded: ``--garbage-rate`` (random octets before a
response), ``--corrupt-rate`` (one flipped bit in a response), ``--drop-rate`` (no
answer), ``--busy-rate`` (NAK BUSY), ``--delay-ms`` (answer late) and
``--nonfinite-rate`` (one value of a reading, with a valid CRC, is NaN, +inf or -inf:
what a bench with a broken ADC or firmware sends; the HAL must refuse it, not the apps).

    python tools/fake_bench_device.py --pty            # prints the slave path to use
    python tools/fake_bench_device.py --port /dev/pts/7
    flightsw ... with [hal] backend = "serial:/dev/pts/N"

Importable: ``FakeBenchDevice.handle_bytes(data) -> bytes`` answers whatever requests
``data`` completes; ``FakeBenchDevice.serve(fd_or_port, stop_event)`` runs the loop
(with the delay option) from a thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import select
import signal
import sys
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.base.errors import DecodeError
from hal.serial import protocol as p
from sim_hw.boards import BoardArray, BoardParams
from sim_hw.power import Pcdu, SwitchSpec
from sim_hw.radiation import RadiationModel, RadiationRates

# Names follow the flight naming the apps rely on: critical loads avionics/radio/heaters,
# payload_* shed at level 2, aux_* at level 3; zone sensors start with the zone name.
SWITCHES = ("avionics", "radio", "aux_adcs", "payload_0", "heaters", "aux_spare")
SENSORS = ("battery_a", "coldplate_a", "radiator_a", "avionics_a")
HEATERS = ("heater_battery", "heater_coldplate")
BUS_V = 28.0
BOARD_V = 12.0
IDLE_W = 20.0
MAX_W = 150.0
ORBIT_S = 5400.0


class BadIndex(Exception):
    """A request naming a switch, heater or board the device does not have."""


class BenchModel:
    """Switches, battery, array, thermal lags and boards; deterministic from ``rng``."""

    def __init__(self, n_boards: int, rng: np.random.Generator, watchdog_ms: int) -> None:
        self.rng = rng
        self.t = 0.0
        # The PCDU is sim_hw's: current sensing and latching overcurrent trips.
        payload_trip_a = 1.3 * max(1, n_boards) * MAX_W / BUS_V
        trips = (2.0, 2.0, 1.5, payload_trip_a, 2.0, 1.0)
        self.pcdu = Pcdu([SwitchSpec(n, t, BUS_V) for n, t in zip(SWITCHES, trips, strict=True)])
        for name, on in zip(SWITCHES, (True, True, True, True, True, False), strict=True):
            self.pcdu.set(name, on)
        self.base_w = np.array([0.4, 0.6, 0.3, 0.0, 0.0, 0.0]) * BUS_V
        self.heater_on = np.zeros(len(HEATERS), dtype=bool)
        self.temps = np.array([15.0, 10.0, -15.0, 25.0])
        self.soc = 0.8
        self.n = n_boards
        # The boards are sim_hw's model (as in SIL), sized for a bench: 20-150 W cards,
        # a 10 Hz heartbeat, radiation from sim_hw's rates.
        params = BoardParams(
            idle_w=IDLE_W,
            max_w=MAX_W,
            rail_v=BOARD_V,
            heartbeat_period_s=0.1,
            damaged_w=10.0,
            sel_extra_current_a=2.0,
        )
        self.boards = BoardArray(max(1, n_boards), params, rng)
        self.radiation = RadiationModel(RadiationRates(), rng)
        self.watchdog_ms = watchdog_ms
        self.last_kick = 0.0
        self.kicks = 0
        self.watchdog_expiries = 0

    # --- derived quantities ---------------------------------------------------------

    def board_power(self) -> np.ndarray[Any, Any]:
        return self.boards.power_w[: self.n]

    @property
    def switch_on(self) -> np.ndarray[Any, Any]:
        """Conducting switches (commanded on and not tripped)."""
        return np.array([self.pcdu.is_conducting(n) for n in SWITCHES])

    @property
    def tripped(self) -> np.ndarray[Any, Any]:
        return np.array(self.pcdu.telemetry().tripped)

    def heater_power(self) -> float:
        return 15.0 * float(self.heater_on.sum()) if self.switch_on[4] else 0.0

    def loads_w(self) -> dict[str, float]:
        w = self.base_w.copy()
        w[3] = float(self.board_power().sum())
        w[4] = self.heater_power()
        return dict(zip(SWITCHES, (float(x) for x in w), strict=True))

    def switch_currents(self) -> np.ndarray[Any, Any]:
        cur = self.pcdu.step(self.loads_w())
        if not self.pcdu.is_conducting(SWITCHES[3]):
            self.power_boards(np.arange(self.n), False)
        return np.array([cur[n] for n in SWITCHES])

    def sun(self) -> float:
        return max(0.0, math.cos(2 * math.pi * self.t / ORBIT_S)) * 0.98

    def solar(self) -> tuple[float, float, float]:
        sun = self.sun()
        return (32.0 if sun > 0 else 0.0, 12.0 * sun, sun)

    def battery(self) -> tuple[float, float, float]:
        volts = 24.0 + 5.0 * self.soc
        v, i, _ = self.solar()
        load = float(self.switch_currents().sum()) * BUS_V
        return (volts, (v * i - load) / volts, float(self.temps[0]))

    # --- evolution ------------------------------------------------------------------

    def step(self, dt: float) -> None:
        if dt <= 0:
            return
        self.t += dt
        volts, amps, _ = self.battery()
        self.soc = float(np.clip(self.soc + volts * amps * dt / 3600 / 500.0, 0.0, 1.0))
        power = self.board_power()
        heat = 15.0 if self.switch_on[4] else 0.0
        targets = np.array(
            [
                5.0 + heat * self.heater_on[0],
                -10.0 + 0.02 * power.sum() + heat * self.heater_on[1],
                -20.0 + 0.01 * power.sum(),
                25.0,
            ]
        )
        self.temps += (targets - self.temps) * (1 - math.exp(-dt / 120.0))
        ev = self.radiation.draw(dt, self.boards.count)
        self.boards.apply_radiation(ev.seu, ev.seu_uncorrectable, ev.sel, ev.sefi)
        self.boards.step(dt, float(self.temps[1]))
        if (self.t - self.last_kick) * 1000 > self.watchdog_ms:
            self.watchdog_expiries += 1
            self.last_kick = self.t

    def power_boards(self, idx: np.ndarray[Any, Any], on: bool) -> None:
        self.boards.set_power(idx, on and bool(self.switch_on[3]))

    def reset_boards(self, idx: np.ndarray[Any, Any]) -> None:
        self.boards.reset(idx)

    def set_switch(self, i: int, on: bool) -> None:
        self.pcdu.set(SWITCHES[i], on)  # a tripped switch stays off until its trip is reset
        if i == 3 and not self.pcdu.is_conducting(SWITCHES[3]):
            self.power_boards(np.arange(self.n), False)

    def trip(self, i: int) -> None:
        """An overcurrent on switch ``i`` (a short in its load): the PCDU trips it."""
        self.pcdu.step({**self.loads_w(), SWITCHES[i]: 1e6})
        if i == 3:
            self.power_boards(np.arange(self.n), False)


class FakeBenchDevice:
    """Answers protocol requests from a :class:`BenchModel`, with seeded faults."""

    def __init__(
        self,
        n_boards: int = 8,
        seed: int = 0,
        *,
        garbage_rate: float = 0.0,
        corrupt_rate: float = 0.0,
        drop_rate: float = 0.0,
        busy_rate: float = 0.0,
        delay_ms: float = 0.0,
        nonfinite_rate: float = 0.0,
        watchdog_timeout_ms: int = 5000,
        now_s: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= n_boards <= 0xFFFF:
            raise ValueError("n_boards must be in 0..65535")
        self.rng = np.random.default_rng(seed)
        self.model = BenchModel(n_boards, np.random.default_rng(seed + 1), watchdog_timeout_ms)
        self.garbage_rate = garbage_rate
        self.corrupt_rate = corrupt_rate
        self.drop_rate = drop_rate
        self.busy_rate = busy_rate
        self.delay_ms = delay_ms
        self.nonfinite_rate = nonfinite_rate
        self.nonfinite = 0  # readings sent with a non-finite value
        self._now = now_s
        self._last = now_s()
        self.decoder = p.FrameDecoder()
        self.requests = 0
        self.dropped = 0
        self.corrupted = 0
        self.garbage_bursts = 0
        self.naks = 0
        self.served_octets = 0

    # --- byte level -----------------------------------------------------------------

    def handle_bytes(self, data: bytes) -> bytes:
        """Everything to send back for the requests that ``data`` completes."""
        now = self._now()
        self.model.step(now - self._last)
        self._last = now
        return b"".join(self.respond(f) for f in self.decoder.feed(data))

    def respond(self, frame: p.Frame) -> bytes:
        self.requests += 1
        if self.drop_rate and self.rng.random() < self.drop_rate:
            self.dropped += 1
            return b""
        if self.busy_rate and self.rng.random() < self.busy_rate:
            raw = self._nak(frame, p.NakCode.BUSY)
        else:
            raw = self._answer(frame)
        if self.corrupt_rate and self.rng.random() < self.corrupt_rate:
            self.corrupted += 1
            buf = bytearray(raw)
            buf[int(self.rng.integers(len(buf)))] ^= 1 << int(self.rng.integers(8))
            raw = bytes(buf)
        if self.garbage_rate and self.rng.random() < self.garbage_rate:
            self.garbage_bursts += 1
            n = int(self.rng.integers(1, 17))
            raw = self.rng.integers(0, 256, n, dtype=np.uint8).tobytes() + raw
        return raw

    def _nak(self, frame: p.Frame, code: p.NakCode) -> bytes:
        self.naks += 1
        return p.encode_frame(p.NAK_TYPE, frame.seq, p.Nak(frame.type, code).encode())

    def _answer(self, frame: p.Frame) -> bytes:
        if frame.type not in p.REQUESTS:
            return self._nak(frame, p.NakCode.UNKNOWN_TYPE)
        try:
            req = p.decode_request(frame)
            reply = self.execute(req)
            if self.nonfinite_rate and self.rng.random() < self.nonfinite_rate:
                reply = self._non_finite(reply)
        except DecodeError:
            return self._nak(frame, p.NakCode.BAD_PAYLOAD)
        except BadIndex:
            return self._nak(frame, p.NakCode.BAD_INDEX)
        return p.encode_frame(p.response_type(frame.type), frame.seq, reply.encode())

    def _non_finite(self, reply: p.Message) -> p.Message:
        """One float value of a reading replaced by NaN, +inf or -inf (others unchanged)."""
        floats = {
            p.BatteryReading: ("voltage_v", "current_a", "temperature_c"),
            p.SolarReading: ("voltage_v", "current_a", "sun_sensor"),
            p.Temperatures: ("values_c",),
            p.SwitchStates: ("current_a",),
            p.BoardPage: ("current_a", "power_w", "temperature_c", "work_done"),
        }.get(type(reply))
        if not floats:
            return reply
        name = floats[int(self.rng.integers(len(floats)))]
        bad = (math.nan, math.inf, -math.inf)[int(self.rng.integers(3))]
        value: Any = getattr(reply, name)
        if isinstance(value, tuple | np.ndarray):
            if not len(value):
                return reply
            i = int(self.rng.integers(len(value)))
            if isinstance(value, tuple):
                value = (*value[:i], bad, *value[i + 1 :])
            else:
                value = value.astype(np.float64)
                value[i] = bad
        else:
            value = bad
        self.nonfinite += 1
        return dataclasses.replace(reply, **{name: value})  # type: ignore[type-var]

    # --- requests -------------------------------------------------------------------

    def execute(self, req: p.Message) -> p.Message:
        """The response to one decoded request (raises BadIndex for unknown indices)."""
        m = self.model
        match req:
            case p.Ping(nonce=nonce):
                return p.PingReply(
                    nonce,
                    p.PROTOCOL_VERSION,
                    len(SWITCHES),
                    len(SENSORS),
                    len(HEATERS),
                    m.n,
                    m.watchdog_ms,
                )
            case p.ListNames(which=which):
                names = {p.NameKind.SWITCHES: SWITCHES, p.NameKind.SENSORS: SENSORS}
                return p.NameList(which, names.get(which, HEATERS))
            case p.ReadSwitches():
                cur = m.switch_currents()
                return p.SwitchStates(
                    tuple(bool(v) for v in m.switch_on),
                    tuple(bool(v) for v in m.tripped),
                    tuple(float(c) for c in cur),
                )
            case p.SetSwitch(index=i, on=on):
                m.set_switch(self._index(i, len(SWITCHES)), on)
            case p.ResetTrip(index=i):
                m.pcdu.reset_trip(SWITCHES[self._index(i, len(SWITCHES))])
            case p.ReadBattery():
                return p.BatteryReading(*m.battery())
            case p.ReadSolarArray():
                return p.SolarReading(*m.solar())
            case p.ReadTemperatures():
                return p.Temperatures(tuple(float(t) for t in m.temps))
            case p.SetHeater(index=i, on=on):
                m.heater_on[self._index(i, len(HEATERS))] = on
            case p.ReadHeaters():
                return p.HeaterStates(tuple(bool(v) for v in m.heater_on))
            case p.ReadBoards(start=start, count=count):
                return self._board_page(start, count)
            case p.SetBoardPower(on=on, indices=idx):
                m.power_boards(self._boards(idx), on)
            case p.SetUtilization(indices=idx, values=values):
                m.boards.set_utilization(self._boards(idx), np.clip(values, 0.0, 1.0))
            case p.SetPowerCap(indices=idx, values=values):
                m.boards.set_power_cap(self._boards(idx), np.maximum(values, 0.0))
            case p.ResetBoards(indices=idx):
                m.reset_boards(self._boards(idx))
            case p.ScrubMemory(indices=idx):
                m.boards.scrub(self._boards(idx))
            case p.KickWatchdog():
                m.kicks += 1
                m.last_kick = m.t
        return p.Ack()

    def _board_page(self, start: int, count: int) -> p.BoardPage:
        m = self.model
        if start > m.n:
            raise BadIndex(start)
        sl = slice(start, min(m.n, start + count))
        b = m.boards
        return p.BoardPage(
            m.n,
            start,
            b.powered[sl].copy(),
            b.current_a[sl].copy(),
            b.power_w[sl].copy(),
            b.temperature_c[sl].copy(),
            b.ecc_corrected[sl].copy(),
            b.ecc_uncorrectable[sl].copy(),
            np.asarray(b.heartbeat[sl], dtype=np.int64).copy(),
            b.work_done[sl].copy(),
        )

    @staticmethod
    def _index(i: int, n: int) -> int:
        if not 0 <= i < n:
            raise BadIndex(i)
        return i

    def _boards(self, idx: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if idx.size and int(idx.max()) >= self.model.n:
            raise BadIndex(int(idx.max()))
        return idx

    # --- serving --------------------------------------------------------------------

    def serve(self, port: int | Any, stop: threading.Event) -> None:
        """Answer requests on a file descriptor (a pty master) or a pyserial-like port.

        Responses wait ``delay_ms`` in a bounded queue (oldest dropped, counted).
        Returns when ``stop`` is set or the other end goes away.
        """
        outq: deque[tuple[float, bytes]] = deque(maxlen=256)
        read = _fd_reader(port) if isinstance(port, int) else _port_reader(port)
        write: Callable[[bytes], object] = (
            (lambda b: os.write(port, b)) if isinstance(port, int) else port.write
        )
        while not stop.is_set():
            wait = 0.01
            if outq:
                wait = max(0.0, min(wait, outq[0][0] - self._now()))
            try:
                data = read(wait)
            except OSError:
                return  # the other side closed the pty
            if data:
                out = self.handle_bytes(data)
                if out:
                    if len(outq) == outq.maxlen:
                        self.dropped += 1
                    outq.append((self._now() + self.delay_ms / 1000, out))
            while outq and outq[0][0] <= self._now():
                raw = outq.popleft()[1]
                try:
                    write(raw)
                except OSError:
                    return
                self.served_octets += len(raw)


def _fd_reader(fd: int) -> Callable[[float], bytes]:
    def read(wait: float) -> bytes:
        ready, _, _ = select.select([fd], [], [], wait)
        return os.read(fd, 4096) if ready else b""

    return read


def _port_reader(port: Any) -> Callable[[float], bytes]:
    port.timeout = 0.005  # set once: pyserial reconfigures the line on every change

    def read(wait: float) -> bytes:
        n = port.in_waiting
        return bytes(port.read(max(1, min(n, 4096))))

    return read


def open_pty() -> tuple[int, int, str]:
    """A raw pty pair: (master fd for the emulator, slave fd, slave path for pyserial)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    return master, slave, os.ttyname(slave)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or pyserial URL to serve on")
    where.add_argument("--pty", action="store_true", help="create a pty pair, print its path")
    ap.add_argument("--baudrate", type=int, default=115200)
    ap.add_argument("--boards", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--garbage-rate", type=float, default=0.0)
    ap.add_argument("--corrupt-rate", type=float, default=0.0)
    ap.add_argument("--drop-rate", type=float, default=0.0)
    ap.add_argument("--busy-rate", type=float, default=0.0)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument(
        "--nonfinite-rate", type=float, default=0.0, help="readings with a NaN/inf value"
    )
    ap.add_argument("--watchdog-ms", type=int, default=5000)
    args = ap.parse_args(argv)
    dev = FakeBenchDevice(
        args.boards,
        args.seed,
        garbage_rate=args.garbage_rate,
        corrupt_rate=args.corrupt_rate,
        drop_rate=args.drop_rate,
        busy_rate=args.busy_rate,
        delay_ms=args.delay_ms,
        nonfinite_rate=args.nonfinite_rate,
        watchdog_timeout_ms=args.watchdog_ms,
    )
    stop = threading.Event()
    # Ctrl-C and a polite kill stop the loop whatever the shell left behind: a process
    # started in the background of a non-interactive shell inherits SIGINT ignored, and
    # then only the other end closing the pty would end it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if args.pty:
            master, _slave, path = open_pty()
            print(path, flush=True)
            dev.serve(master, stop)
        else:
            import serial

            with serial.serial_for_url(args.port, baudrate=args.baudrate, timeout=0) as ser:
                dev.serve(ser, stop)
    except KeyboardInterrupt:
        pass
    print(
        f"requests={dev.requests} dropped={dev.dropped} corrupted={dev.corrupted} "
        f"garbage_bursts={dev.garbage_bursts} naks={dev.naks} nonfinite={dev.nonfinite}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
