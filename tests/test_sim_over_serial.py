"""The HIL path with no hardware: ``flightsw sim --hal serial:PTY`` against the emulator."""

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from flightsw.ground.archive_query import ArchiveReader

ROOT = Path(__file__).resolve().parents[1]
needs_pty = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")


@contextmanager
def emulator(*options: str) -> Iterator[str]:
    """The bench emulator on a fresh pty; yields the port to open."""
    dev = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tools" / "fake_bench_device.py"),
            "--pty",
            "--boards",
            "4",
            *options,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert dev.stdout is not None
        port = dev.stdout.readline().strip()
        assert port.startswith("/dev/"), port
        yield port
    finally:
        dev.terminate()
        dev.wait(timeout=10)


def run_bench(
    port: str, out: Path, seconds: int, mission: str = "bench", timeout: float = 90.0
) -> dict[str, Any]:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "flightsw.cli.main",
            "sim",
            "--mission",
            mission,
            "--hal",
            f"serial:{port}",
            "--duration",
            str(seconds),
            "--out",
            str(out),
            "--no-plots",
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "CI": "1"},
    )
    assert r.returncode == 0, r.stderr
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


@needs_pty
def test_flight_apps_run_against_the_bench_emulator(tmp_path: Path) -> None:
    with emulator() as port:
        s = run_bench(port, tmp_path / "run", 4)
    # wall-clock paced: never ahead of real time
    assert 0.1 < s["host_profile"]["realtime_factor"] <= 1.05
    for name in ("power", "thermal", "payload"):
        app = s["apps"][name]
        assert app["runs"] >= 3 and app["exceptions"] == 0 and not app["disabled"]
    assert s["tm_decode_errors"] == 0
    assert s["events_by_severity"]["HIGH"] == 0  # no undervoltage on a healthy bench


@needs_pty
def test_a_device_that_drops_answers_is_counted_not_a_crash(tmp_path: Path) -> None:
    with emulator("--drop-rate", "0.3", "--seed", "7") as port:
        s = run_bench(port, tmp_path / "run", 6)
    for name in ("power", "thermal", "payload"):
        assert s["apps"][name]["exceptions"] == 0 and s["apps"][name]["restarts"] == 0
    with sqlite3.connect(tmp_path / "run" / "archive.sqlite") as db:
        (errors,) = db.execute(
            "SELECT COUNT(*) FROM events WHERE name LIKE '%.DEVICE_ERROR'"
        ).fetchone()
    assert errors >= 1  # reported, and the apps carried on


def bench_with_fdir(tmp_path: Path) -> Path:
    bench = (ROOT / "flightsw" / "data" / "bench.toml").read_text()
    mission = tmp_path / "bench_fdir.toml"
    fdir = '[[apps]]\nname = "fdir"\nclass = "fdir.app:FdirApp"\nrate_hz = 10\nid_base = 0x2400\n'
    mission.write_text(bench + "\n" + fdir)
    return mission


@needs_pty
@pytest.mark.slow
def test_a_quiet_bench_minute_raises_no_fdir_alarm(tmp_path: Path) -> None:
    """Was: a 60 s bench run declared the emulator's avionics thermistor failed (it reads
    a constant 25.0 C: a still zone, no partner), a false fdir.SENSOR_FAILED."""
    with emulator("--seed", "3") as port:
        s = run_bench(port, tmp_path / "run", 60, str(bench_with_fdir(tmp_path)), 150.0)
    assert s["apps"]["fdir"]["exceptions"] == 0
    with sqlite3.connect(tmp_path / "run" / "archive.sqlite") as db:
        fdir_events = db.execute(
            "SELECT name, args FROM events WHERE name LIKE 'fdir.%'"
        ).fetchall()
    assert not [e for e in fdir_events if e[0] == "fdir.SENSOR_FAILED"], fdir_events


@needs_pty
@pytest.mark.slow
def test_non_finite_readings_from_a_bench_reach_no_app(tmp_path: Path) -> None:
    """Half the bench's readings carry a NaN or an infinity (valid CRC), FDIR on board:
    no app raises, restarts or takes an action on them; the HAL counts them."""
    mission = bench_with_fdir(tmp_path)
    with emulator("--nonfinite-rate", "0.5", "--seed", "5") as port:
        s = run_bench(port, tmp_path / "run", 12, str(mission))
    for name, app in s["apps"].items():
        assert app["exceptions"] == 0 and app["restarts"] == 0 and not app["disabled"], name
    with ArchiveReader(tmp_path / "run" / "archive.sqlite") as reader:
        invalid = max(v for _t, v in reader.series("executive.executive.invalid_samples"))
    with sqlite3.connect(tmp_path / "run" / "archive.sqlite") as db:
        actions = db.execute(
            "SELECT name FROM events WHERE name IN ('fdir.BOARD_LATCHUP', 'fdir.BOARD_HANG',"
            " 'fdir.BOARD_OVERTEMP', 'fdir.SAFE_MODE_ENTERED', 'power.UNDERVOLTAGE')"
        ).fetchall()
    assert invalid and invalid > 0
    assert actions == []


def test_unreachable_port_is_one_error_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "flightsw.cli.main",
            "sim",
            "--mission",
            "bench",
            "--hal",
            "serial:/dev/does-not-exist",
            "--duration",
            "1",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CI": "1"},
    )
    assert r.returncode == 1
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr
