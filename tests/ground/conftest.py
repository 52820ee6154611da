"""Procedure fixtures for the ground tests, and a live flight build as a subprocess."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import flightsw
from flightsw.sil.harness import SilHarness
from tests.apps.conftest import small_node
from tests.support.live_build import free_udp_port, start_live_build


@pytest.fixture
def procedure_harness() -> SilHarness:
    """A small node (8 boards) with its background workload: cheap and busy."""
    return small_node(boards=8, busy=4)


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
    process = start_live_build(
        f"udp:127.0.0.1:{radio}",
        out / "flight",
        600,
        "--mission",
        str(mission),
        "--fault-port",
        f"udp:127.0.0.1:{fault}",
    )
    try:
        yield LiveBuild(f"127.0.0.1:{radio}", f"127.0.0.1:{fault}", out, process)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
