"""A live flight build for the tests that talk to it over a socket: ``flightsw sim
--realtime`` on a small node (8 boards, no plots) as a subprocess, and a free UDP port
for its radio. One place for the command line the console, pass, TUI, procedure and
packet-link tests each wrote out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

FLIGHTSW = [sys.executable, "-m", "flightsw.cli"]


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing holds now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_live_build(
    radio: str, out: Path, duration_s: float, *extra: str, **popen: Any
) -> subprocess.Popen[str]:
    """``flightsw sim --realtime --radio RADIO`` for ``duration_s`` writing into ``out``;
    ``extra``: more arguments (a mission file, ``--fault-port``); ``popen``: overrides of
    the process's streams (stdout to /dev/null, stderr kept as text by default)."""
    streams: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    streams.update(popen)
    return subprocess.Popen(
        [
            *FLIGHTSW,
            "sim",
            *extra,
            "--realtime",
            "--radio",
            radio,
            "--duration",
            f"{duration_s:g}",
            "--boards",
            "8",
            "--out",
            str(out),
            "--no-plots",
            "--quiet",
            "--allow-published-key",
        ],
        text=True,
        env={**os.environ, "CI": "1"},
        **streams,
    )
