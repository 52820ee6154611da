"""Procedure fixtures for the ground tests, and a live flight build as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import flightsw
from flightsw.sil.harness import SilHarness
from tests.apps.conftest import small_node

FLIGHTSW = [sys.executable, "-m", "flightsw.cli"]


@pytest.fixture
def procedure_harness() -> SilHarness:
    """A small node (8 boards) with its background workload: cheap and busy."""
    return small_node(boards=8, busy=4)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveBuild:
    """``flightsw sim --realtime`` on a UDP radio with a fault port, as a subprocess."""

    radio: str
    fault_port: str
    out: Path
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def live_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBuild]:
    out = tmp_path_factory.mktemp("live")
    radio, fault = free_udp_port(), free_udp_port()
    # The default mission without the ground's workload, as the in-process SIL harness
    # runs it: with every board busy for an hour (its backlog) and no preemption by
    # priority, a job the payload procedure submits would wait far past its 60 s.
    mission = out / "mission.toml"
    default = (Path(flightsw.__file__).parent / "data" / "default.toml").read_text()
    assert "\n[workload]\n" in default
    mission.write_text(default.replace("\n[workload]\n", "\n[workload]\nenabled = false\n"))
    process = subprocess.Popen(
        [
            *FLIGHTSW,
            "sim",
            "--mission",
            str(mission),
            "--realtime",
            "--radio",
            f"udp:127.0.0.1:{radio}",
            "--fault-port",
            f"udp:127.0.0.1:{fault}",
            "--duration",
            "600",
            "--boards",
            "8",
            "--out",
            str(out / "flight"),
            "--no-plots",
            "--quiet",
            "--allow-published-key",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1"},
    )
    try:
        yield LiveBuild(f"127.0.0.1:{radio}", f"127.0.0.1:{fault}", out, process)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
