"""The full-screen console in a pseudo-terminal against a live flight build (both as
processes): commands typed (one completed with Tab) reach the build and their PUS-1
stages show, HK shows named values with units, the packet store's playback is marked
and kept in its own pane. pyte rebuilds the screen from what the console drew."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyte
import pytest

from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import load_mission
from tests.support.live_build import FLIGHTSW, free_udp_port, start_live_build

ROWS, COLS = 60, 200


class Terminal:
    """A process on a pseudo-terminal, its screen as pyte draws it."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if ready:
                try:
                    self.stream.feed(os.read(self.master, 65536))
                except OSError:  # the process is gone
                    return

    def wait_for(self, what: Callable[[str], bool], seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump(0.3)
            if what(self.text()):
                return True
        return False

    def type(self, keys: str) -> None:
        for ch in keys:  # key by key, as a person types
            os.write(self.master, ch.encode())
            self.pump(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        os.close(self.master)


def power_sid() -> int:
    d = build_dictionary(load_mission())
    return next(h["sid"] for h in d["housekeeping"] if h["name"] == "power.power")


@pytest.fixture
def flight(tmp_path: Path) -> Iterator[str]:
    port = free_udp_port()
    proc = start_live_build(
        f"udp:127.0.0.1:{port}", tmp_path / "flight", 300, stderr=subprocess.DEVNULL
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow  # two processes in real time: about 10 s
def test_full_screen_console_in_a_pty(flight: str, tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "xterm", "CI": "1"}
    term = Terminal(
        [*FLIGHTSW, "ground", "--udp", flight, "--tui", "--archive", str(tmp_path / "g.sqlite")],
        env,
    )
    try:
        assert term.wait_for(lambda s: "Values (real time)" in s, 60), term.text()
        term.type(f"housekeeping.report_hk_once sids=[1,{power_sid()}]\r")
        term.type("test.pi\t")  # completed from the dictionary
        assert term.wait_for(lambda s: "> test.ping" in s, 20), term.text()
        term.type("\r")
        assert term.wait_for(
            lambda s: "minor_frames" in s and "test.ping" in s and "battery_voltage_v" in s, 60
        ), term.text()
        screen = term.text()
        rows = [r for r in screen.splitlines() if "executive.minor_frames" in r]
        assert rows and any(ch.isdigit() for ch in rows[0].split("executive.minor_frames")[1])
        volts = [r for r in screen.splitlines() if "power.battery_voltage_v" in r]
        assert volts and " V " in volts[0].split("│")[1], screen  # its unit

        def ping_row(s: str) -> str:
            return next((r for r in s.splitlines() if "│test.ping " in r), "")

        assert term.wait_for(lambda s: "completed" in ping_row(s), 30), term.text()
        assert "accepted > started > completed" in ping_row(term.text())
        # the store dumps at contact start what it kept before: marked, in its own pane
        assert term.wait_for(lambda s: "fdir.BOOT" in s, 30), term.text()
        screen = term.text()
        assert re.search(r"PLAYBACK packets: [1-9]", screen)
        boot = [r for r in screen.splitlines() if "fdir.BOOT" in r]  # before any contact
        assert boot and all("PLAYBACK" in r for r in boot)
        values_pane = [r.split("│")[1] for r in screen.splitlines() if r.count("│") >= 4]
        assert values_pane and not any("PLAYBACK" in r for r in values_pane)
        term.type("no.such_command\r")
        assert term.wait_for(lambda s: "not sent:" in s and "no.such_command" in s, 10)
        term.type("\x11")  # Ctrl-Q
        assert term.proc.wait(timeout=30) == 0
    finally:
        term.close()
