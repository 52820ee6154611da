"""The default node over orbits with an eclipse: power, temperatures, payload and FDIR.

The short version runs in CI (two orbits, 64 boards, eclipse season); the day (15 orbits,
256 boards) is marked slow. Both assert the mission's acceptance numbers.
"""

from pathlib import Path
from typing import Any

import pytest

from flightsw.mission import load_mission
from flightsw.simulate import SimOptions, run_sim

SOLSTICE = 172.0  # inside the dawn-dusk orbit's eclipse season


def _run(tmp: Path, orbits: float, boards: int) -> dict[str, Any]:
    m = load_mission()
    m.orbit = {**m.orbit, "day_of_year": SOLSTICE}
    m.hal = {**m.hal, "spacecraft": {**m.hal.get("spacecraft", {}), "boards": boards}}
    return run_sim(m, SimOptions(orbits=orbits, out_dir=tmp, progress=False, plots=False))


def _assert_acceptance(s: dict[str, Any]) -> None:
    assert s["eclipse_fraction"] > 0.1  # the battery really had to carry the node
    assert s["min_soc"] > 0.30  # above the shedding levels
    assert s["max_board_temp_c"] < 90.0
    assert s["min_battery_temp_c"] > 0.0 and s["max_battery_temp_c"] < 45.0
    assert s["goodput"] >= 0.90
    assert s["jobs_failed"] == 0
    assert s["jobs_submitted"] == s["jobs_completed"] + s["jobs_running"] + s["jobs_queued"]
    assert s["jobs_completed"] > 0
    assert abs(s["energy_balance_wh"]) < 1e-3
    assert all(a["exceptions"] == 0 for a in s["apps"].values())
    assert s["tm_decode_errors"] == 0


def test_two_orbits_in_eclipse_season(tmp_path: Path) -> None:
    _assert_acceptance(_run(tmp_path, 2.0, 64))


@pytest.mark.slow
def test_one_day_default_node(tmp_path: Path) -> None:
    s = _run(tmp_path, 15.0, 256)
    _assert_acceptance(s)
    assert s["jobs_completed"] > 1000
