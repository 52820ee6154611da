"""``flightsw ground`` against ``flightsw sim --realtime --radio udp:...``, both as processes."""

import os
import socket
import subprocess
import sys
from pathlib import Path

FLIGHTSW = [sys.executable, "-m", "flightsw.cli"]


def _free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_command_by_name_and_watch_telemetry(tmp_path: Path) -> None:
    port = _free_udp_port()
    env = {**os.environ, "CI": "1"}
    flight = subprocess.Popen(
        [
            *FLIGHTSW,
            "sim",
            "--realtime",
            "--radio",
            f"udp:127.0.0.1:{port}",
            "--duration",
            "20",
            "--boards",
            "8",
            "--out",
            str(tmp_path / "flight"),
            "--no-plots",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        r = subprocess.run(
            [
                *FLIGHTSW,
                "ground",
                "--udp",
                f"127.0.0.1:{port}",
                "--listen",
                "8",
                "--send",
                "test.ping",
                "--send",
                "fdir.readmit_board board=3",
                "--send",
                "power.arm_switch switch=200",
                "--archive",
                str(tmp_path / "ground.sqlite"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    finally:
        flight.terminate()
        flight.wait(timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "VERIFY test.ping accepted" in lines and "VERIFY test.ping completed" in lines
    assert "VERIFY fdir.readmit_board failed code 14" in lines  # not isolated: INVALID_STATE
    assert "VERIFY power.arm_switch failed code 16" in lines  # no such switch: UNKNOWN_ID
    assert any(line.startswith("EVENT") for line in lines) or any(
        line.startswith("TM(17,2)") for line in lines
    )
    assert (tmp_path / "ground.sqlite").stat().st_size > 0


def test_bad_ground_arguments_are_one_error_line(tmp_path: Path) -> None:
    r = subprocess.run(
        [*FLIGHTSW, "ground", "--udp", "nowhere", "--listen", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = subprocess.run(
        [
            *FLIGHTSW,
            "ground",
            "--udp",
            "127.0.0.1:9",
            "--listen",
            "0",
            "--send",
            "no.such",
            "--archive",
            str(tmp_path / "a.sqlite"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "unknown command" in r.stderr


def test_console_command_text_garbage_is_our_error() -> None:
    import pytest

    from flightsw.errors import FlightswError
    from flightsw.ground.console import parse_command

    assert parse_command("fdir.readmit_board board=3") == ("fdir.readmit_board", {"board": 3})
    for bad in ("", "test.ping board", "x a=b", "x a=1=2"):
        with pytest.raises(FlightswError):
            parse_command(bad)
