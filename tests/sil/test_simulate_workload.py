"""``flightsw sim``: the ground workload keeps the node busy, utilization is reported
from truth beside the payload's view, and ``--boards`` scales the node's design."""

import json
import sqlite3
from pathlib import Path

import pytest

from flightsw.runtime.mission import load_mission
from flightsw.sil.simulate import SimOptions, run_sim, with_boards
from sim_hw.design import design_numbers
from sim_hw.spacecraft import SpacecraftConfig


def _sim(tmp: Path, seed: int, seconds: float = 90.0, plots: bool = False, **workload: float):  # type: ignore[no-untyped-def]
    m = with_boards(load_mission(seed=seed), 16)
    m.workload = {**m.workload, **workload}
    return run_sim(m, SimOptions(duration_s=seconds, out_dir=tmp, progress=False, plots=plots))


def _payload_events(run: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(run / "archive.sqlite") as db:
        rows = db.execute(
            "SELECT time_ns, name, args FROM events WHERE name LIKE 'payload.%' ORDER BY rowid"
        ).fetchall()
    return [(int(t), str(n), str(a)) for t, n, a in rows]


def test_the_workload_keeps_every_board_busy_and_utilization_comes_from_truth(
    tmp_path: Path,
) -> None:
    s = _sim(tmp_path, 3, seconds=120.0)
    assert s["workload"]["jobs_uplinked"] >= 32  # a job per board and a queue
    assert s["jobs_running"] == 16 and s["jobs_queued"] > 0
    assert 0.8 < s["utilization"] <= 1.0
    assert 0.8 < s["payload_view"]["utilization"] <= 1.0
    assert len(s["work_board_hours_per_orbit"]) == 1 and s["work_board_hours"] > 0.3
    assert json.loads((tmp_path / "summary.json").read_text())["utilization"] == s["utilization"]


@pytest.mark.slow
def test_the_run_directory_has_a_utilization_plot(tmp_path: Path) -> None:
    s = _sim(tmp_path, 4, seconds=30.0, plots=True)
    assert "utilization.png" in s["plots"] and (tmp_path / "utilization.png").stat().st_size


def test_same_seed_same_jobs_and_work_another_seed_other_jobs(tmp_path: Path) -> None:
    short = {"mean_board_hours": 0.01, "min_board_hours": 0.002}  # jobs of about a minute
    a = _sim(tmp_path / "a", 5, **short)
    b = _sim(tmp_path / "b", 5, **short)
    _sim(tmp_path / "c", 6, **short)
    assert a["jobs_completed"] > 16
    assert a["workload"] == b["workload"] and a["work_board_hours"] == b["work_board_hours"]
    assert _payload_events(tmp_path / "a") == _payload_events(tmp_path / "b")
    assert _payload_events(tmp_path / "a") != _payload_events(tmp_path / "c")


def test_with_boards_scales_the_node_that_carries_them() -> None:
    base = load_mission()
    m = with_boards(load_mission(), 1024)
    craft = m.hal["spacecraft"]
    assert craft["boards"] == 1024
    assert craft["array_area_m2"] == 4 * base.hal["spacecraft"].get("array_area_m2", 340.0)
    assert craft["battery_resistance_ohm"] == 0.05 / 4
    power = next(s for s in m.apps if s.name == "power").params
    assert power["capacity_wh"] == 4 * 100_000.0 and power["internal_resistance_ohm"] == 0.05 / 4
    same = with_boards(load_mission(), 1024, scale_node=False)
    assert same.hal["spacecraft"] == {**base.hal["spacecraft"], "boards": 1024}


@pytest.mark.parametrize("boards", [1024, 4096])
def test_with_boards_keeps_the_battery_node_in_balance(boards: int) -> None:
    """Every heat flow of the battery's thermal node scales with the node: its I^2 R at
    the full payload's current, its radiator and its heater, so the cells settle where
    the mission's node's do (the 4096-board battery overheated in eclipse without it)."""
    base = SpacecraftConfig.from_dict(load_mission().hal["spacecraft"])
    big = SpacecraftConfig.from_dict(with_boards(load_mission(), boards).hal["spacecraft"])
    f = boards / base.boards

    def joule_w(c: SpacecraftConfig) -> float:  # the battery's heat carrying the payload
        current = c.boards * c.board_params.max_w / c.bus_voltage_v
        return current**2 * c.battery_resistance_ohm

    assert joule_w(big) / big.battery_radiator_area_m2 == pytest.approx(
        joule_w(base) / base.battery_radiator_area_m2
    )
    assert big.battery_heater_w / big.battery_radiator_area_m2 == pytest.approx(
        base.battery_heater_w / base.battery_radiator_area_m2
    )
    assert big.battery_capacity_wh == pytest.approx(f * base.battery_capacity_wh)
    # ... and so does its mass: an eclipse heats it no faster than the mission's node's.
    assert joule_w(big) / big.battery_heat_capacity_j_k == pytest.approx(
        joule_w(base) / base.battery_heat_capacity_j_k
    )
    d = design_numbers(big, step_days=30.0)
    assert d.balance_wh_eol > 0 and d.radiator_capacity_w > d.payload_w
