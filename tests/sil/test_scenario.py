"""Scenario files: loading, drawing faults from the seed, and every shipped scenario's run."""

from pathlib import Path

import pytest

from flightsw.base.errors import MissionError
from flightsw.sil.scenario import (
    draw_faults,
    draw_jobs,
    load_scenario,
    run_scenario,
    scenario_names,
    scenario_rng,
)

# Scenarios the strict scorer fails today, each for a defect it exposes (issue 13 had
# ten here; each left with the fix that made it pass).
KNOWN_FAILING: dict[str, str] = {}
# The default run keeps three (one per FDIR level: boards, sensors, supply); the slow run
# and every campaign run them all.
DEFAULT = {"sel", "sensor_overlimit", "supply_trip"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            n,
            marks=[
                *(
                    [pytest.mark.xfail(reason=KNOWN_FAILING[n], strict=True)]
                    if n in KNOWN_FAILING
                    else []
                ),
                *([] if n in DEFAULT else [pytest.mark.slow]),
            ],
        )
        for n in scenario_names()
    ],
)
def test_shipped_scenario_passes(name: str) -> None:
    r = run_scenario(name, seed=1)
    assert r["passed"], (r["checks"], r["failures"], r["false_alarm_events"])
    assert r["kinds"] or name == "nominal"


def test_seeds_vary_the_faults_and_a_seed_repeats_exactly() -> None:
    sc = load_scenario("recovery")
    draws = {
        tuple((f.t_s, f.target) for f in draw_faults(sc, scenario_rng(sc, s))) for s in range(8)
    }
    assert len(draws) == 8
    a = draw_faults(sc, scenario_rng(sc, 3))
    assert a == draw_faults(sc, scenario_rng(sc, 3))
    # a relative fault follows its anchor, on the unit the anchor struck
    anchor = next(f for f in a if f.label == "a")
    second = next(f for f in a if f.target == "@label:a")
    assert 6.2 <= second.t_s - anchor.t_s <= 9.0
    jobs = draw_jobs(sc, scenario_rng(sc, 3))
    assert jobs and all(j.submit_s + j.deadline_s <= sc.duration_s for j in jobs)
    assert len({j.work_s for j in jobs}) > 10


def test_the_scorer_reports_missed_faults(tmp_path: Path) -> None:
    root = Path(__file__).parents[2] / "flightsw" / "data"
    mission = (root / "default.toml").read_text()
    no_fdir = mission.split("# Fault detection, isolation and recovery")[0]
    (tmp_path / "m.toml").write_text(no_fdir)
    r = run_scenario("sel", seed=1, mission=str(tmp_path / "m.toml"))
    assert not r["passed"]
    assert not r["checks"]["all_detected"] and not r["checks"]["no_board_damaged"]
    assert r["kinds"]["sel"]["detected"] == 0


def test_bad_scenario_files_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\nbogus = 1\n')
    with pytest.raises(MissionError, match=r"scenario\.bogus"):
        load_scenario(str(bad))
    bad.write_text('[scenario]\nduration_s = 100\n[[faults]]\nt_s = 70\nkind = "sel"\ntarget = 1\n')
    with pytest.raises(MissionError, match=r"faults\[0\].t_s"):
        load_scenario(str(bad))
    bad.write_text('[[faults]]\nt_s = 5\nkind = "meteor"\ntarget = 1\n')
    with pytest.raises(MissionError, match=r"faults\[0\]\.kind: 'meteor' is not one of"):
        load_scenario(str(bad))
    bad.write_text('[[faults]]\nt_s = 5\nkind = "sel"\ntarget = 1\nafter = "x"\n')
    with pytest.raises(MissionError, match=r"faults\[0\].after"):
        load_scenario(str(bad))
    bad.write_text('[[faults]]\nt_s = [9, 5]\nkind = "sel"\ntarget = 1\n')
    with pytest.raises(MissionError, match="upside down"):
        load_scenario(str(bad))
    bad.write_text('[[faults]]\nt_s = 5\nkind = "sel"\ntarget = "payload_0"\n')
    with pytest.raises(MissionError, match=r"faults\[0\]\.target"):
        load_scenario(str(bad))
    bad.write_text("[scenario]\nspacecraft = { boards_per_switch = 0 }\n")
    with pytest.raises(MissionError, match=r"scenario\.spacecraft\.boards_per_switch"):
        load_scenario(str(bad))
    bad.write_text("[expect]\nwhatever = 1\n")
    with pytest.raises(MissionError, match=r"expect\.whatever"):
        load_scenario(str(bad))
    with pytest.raises(MissionError, match="no such scenario"):
        load_scenario("no-such-scenario")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("scenario = 3\n", "scenario"),
        ("[scenario]\nduration_s = nan\n", "scenario.duration_s"),
        ("[scenario]\nboards = 0\n", "scenario.boards"),
        ("[scenario]\nradiation = 'no'\n", "scenario.radiation"),
        ("[scenario]\nboards = 4\nbusy_boards = 5\n", "scenario.busy_boards"),
        ("faults = 3\n", "faults"),
        ("[[faults]]\nt_s = 5\nkind = 'sel'\ntarget = 'x'\n", "faults[0].target"),
        ("[[faults]]\nt_s = 5\nkind = 'sel'\ntarget = 32\n", "faults[0].target"),
        ("[[faults]]\nt_s = 5\nkind = 'sensor_stuck'\ntarget = 3\n", "faults[0].target"),
        ("[[faults]]\nt_s = inf\nkind = 'sel'\ntarget = 1\n", "faults[0].t_s"),
        ("[[faults]]\nkind = 'sel'\ntarget = 1\n", "faults[0].t_s"),
        ("[[faults]]\nt_s = 1\nkind = 'sel'\ntarget = 1\ndetail = 2\n", "faults[0].detail"),
        ("expect = 'all good'\n", "expect"),
        ("[expect]\nisolated = ['a']\n", "expect.isolated[0]"),
        ("[expect]\nbogus = 1\n", "expect.bogus"),
    ],
)
def test_every_bad_scenario_value_is_a_mission_error(tmp_path: Path, text: str, key: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(MissionError) as info:
        load_scenario(str(bad))
    assert info.value.key == key and str(info.value).startswith(str(bad))
    bad.write_bytes(b"[scenario]\nname = '\xff'\n")
    with pytest.raises(MissionError, match="utf-8"):
        load_scenario(str(bad))


def test_a_scenario_runs_no_background_workload() -> None:
    """The scenario's own jobs are the only ones (the scorer counts every job as lost or
    delivered); the default mission's [workload] would add ground jobs it never scripted."""
    from flightsw.runtime.mission import load_mission
    from flightsw.sil.scenario import load_scenario, scenario_mission

    assert load_mission(None).workload, "the default mission has a ground workload"
    assert scenario_mission(load_scenario("sel"), 1).workload == {}
