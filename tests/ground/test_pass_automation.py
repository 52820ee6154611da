"""Pass automation: AOS (COP-1, store dump, procedures) to LOS (the pass report)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from flightsw.ground.pass_automation import PassStats
from flightsw.packets import PusTm
from tests.support.live_build import FLIGHTSW, free_udp_port, start_live_build


def test_gaps_are_counted_per_apid_across_the_wrap() -> None:
    stats = PassStats()
    for apid, seq in [(0x64, 16380), (0x64, 16381), (0x64, 1), (0x65, 5), (0x65, 9), (0x64, 2)]:
        stats.count(PusTm(apid, 3, 25, seq_count=seq).encode())
    assert stats.packets == 6
    assert stats.gaps == {0x64: 3, 0x65: 3}  # 16382, 16383, 0 and 6, 7, 8 missing


@pytest.mark.slow
def test_a_pass_over_a_live_build_from_aos_to_los(tmp_path: Path) -> None:
    """The build stops after 30 s: that is LOS; everything in between is reported."""
    port = free_udp_port()
    env = {**os.environ, "CI": "1"}
    flight = start_live_build(
        f"udp:127.0.0.1:{port}", tmp_path / "flight", 30, stderr=subprocess.DEVNULL
    )
    try:
        r = subprocess.run(
            [
                *FLIGHTSW,
                "ground",
                "pass",
                "--udp",
                f"127.0.0.1:{port}",
                "--procedure",
                "ping",
                "--procedure",
                "payload_job",
                "--los-after",
                "3",
                "--aos-timeout",
                "30",
                "--archive",
                str(tmp_path / "g.sqlite"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        flight.terminate()
        flight.wait(timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("AOS at ") and lines[-1].startswith("LOS at ")
    assert "PASS ping" in lines and "PASS payload_job" in lines
    report = json.loads((tmp_path / "pass-report.json").read_text())
    assert report["passed"] and report["los_reason"] == "no signal for 3 s"
    assert report["frames"]["received"] > 10 and report["frames"]["lost"] == 0
    assert report["packets"]["realtime"] > 10 and report["gaps"] == {}
    assert report["commands_verified"] >= 3 and report["dump"]["started"]
    assert "stored" in report["store_backlog"]
    db = sqlite3.connect(tmp_path / "g.sqlite")
    assert db.execute("SELECT COUNT(*) FROM pass_reports").fetchone() == (1,)
    assert db.execute("SELECT COUNT(*) FROM procedure_reports").fetchone() == (2,)
