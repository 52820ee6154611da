"""Every shipped fault scenario passes its score; the scorer can also say no."""

from pathlib import Path

import pytest

from flightsw.errors import MissionError
from flightsw.ground.scenario import load_scenario, run_scenario, scenario_names


@pytest.mark.parametrize("name", scenario_names())
def test_shipped_scenario_passes(name: str) -> None:
    r = run_scenario(name, seed=1)
    assert r["passed"], r["checks"]
    for kind, k in r["kinds"].items():
        assert k["injected"] > 0, kind
        assert k["detected"] == k["injected"] == k["recovered"], (kind, k)


def test_the_scorer_reports_missed_faults(tmp_path: Path) -> None:
    root = Path(__file__).parents[2] / "flightsw" / "data"
    text = (root / "scenarios" / "sel.toml").read_text()
    mission = (root / "default.toml").read_text()
    no_fdir = mission.split("# Fault detection, isolation and recovery")[0]
    (tmp_path / "m.toml").write_text(no_fdir)
    (tmp_path / "sel.toml").write_text(text)
    r = run_scenario(str(tmp_path / "sel.toml"), seed=1, mission=str(tmp_path / "m.toml"))
    assert not r["passed"]
    assert not r["checks"]["all_detected"] and not r["checks"]["no_board_damaged"]
    assert r["kinds"]["sel"]["detected"] == 0


def test_bad_scenario_files_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\nbogus = 1\n')
    with pytest.raises(MissionError, match=r"scenario\.bogus"):
        load_scenario(str(bad))
    bad.write_text('[scenario]\nduration_s = 10\n[[faults]]\nt_s = 50\nkind = "sel"\ntarget = 1\n')
    with pytest.raises(MissionError, match=r"faults\[0\].t_s"):
        load_scenario(str(bad))
    bad.write_text('[[faults]]\nt_s = 5\nkind = "meteor"\ntarget = 1\n')
    with pytest.raises(MissionError, match=r"faults\[0\]\.kind: 'meteor' is not one of"):
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
