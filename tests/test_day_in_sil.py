"""The default node over orbits with an eclipse, at full payload: power, temperatures,
payload and FDIR.

Every board gets a long job at the start, so the payload runs at its full power
(256 x 350 W on the default node) through sunlight and eclipse. The short version runs in
CI (two orbits, 64 boards, eclipse season); the day (15 orbits, the default 256 boards)
is marked slow. Both assert the mission's acceptance numbers, from the simulated
world's truth: every temperature and the battery inside their limits, energy conserved.
"""

from pathlib import Path
from typing import Any

import pytest

from flightsw.ground.commanding import CommandEncoder
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import Mission, load_mission
from flightsw.sil.simulate import SimOptions, run_sim

BOARD_MAX_W = 350.0


def _busy_every_board(m: Mission, boards: int) -> list[tuple[float, bytes]]:
    """One 48 board-hour job per board (longer than the run), eight TCs a second."""
    enc = CommandEncoder(build_dictionary(m))
    args = {"board_hours": 48.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 600.0}
    return [(0.5 + i // 8, enc.encode("payload.submit_job", args)) for i in range(boards)]


def _run(tmp: Path, orbits: float, boards: int) -> dict[str, Any]:
    m = load_mission()  # starts at the June solstice: inside the eclipse season
    m.hal = {**m.hal, "spacecraft": {**m.hal.get("spacecraft", {}), "boards": boards}}
    opts = SimOptions(
        orbits=orbits,
        out_dir=tmp,
        progress=False,
        plots=False,
        tc_script=_busy_every_board(m, boards),
    )
    return run_sim(m, opts)


def _assert_acceptance(s: dict[str, Any], boards: int) -> None:
    assert s["eclipse_fraction"] > 0.15  # the battery really had to carry the node
    # Full load, sunlight and eclipse alike: every board at (nearly) its full power.
    assert s["payload_w_mean"] > 0.9 * boards * BOARD_MAX_W
    assert s["min_soc"] > 0.30  # above the shedding levels
    for node, t in s["temperatures"].items():
        assert t["within_limits"], (node, t)
    assert s["max_board_temp_c"] < 90.0
    assert s["min_battery_temp_c"] > 0.0 and s["max_battery_temp_c"] < 45.0
    assert s["unserved_wh"] == 0.0
    assert s["goodput"] >= 0.90
    assert s["jobs_failed"] == 0
    assert s["jobs_submitted"] == s["jobs_completed"] + s["jobs_running"] + s["jobs_queued"]
    assert abs(s["energy_balance_wh"]) < 1e-3
    assert all(a["exceptions"] == 0 for a in s["apps"].values())
    assert s["tm_decode_errors"] == 0
    stations = {"Svalbard", "Kiruna", "Inuvik", "Troll", "Miyun", "Kashgar", "Sanya"}
    assert set(s["contacts"]) == stations
    assert sum(c["count"] for c in s["contacts"].values()) >= 2


def test_two_orbits_in_eclipse_season(tmp_path: Path) -> None:
    s = _run(tmp_path, 2.0, 64)
    _assert_acceptance(s, 64)
    assert s["jobs_submitted"] >= 64


@pytest.mark.slow
def test_one_day_default_node(tmp_path: Path) -> None:
    s = _run(tmp_path, 15.0, 256)
    _assert_acceptance(s, 256)
    assert s["jobs_submitted"] >= 256
