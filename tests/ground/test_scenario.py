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
    with pytest.raises(MissionError, match="bad fault"):
        load_scenario(str(bad))
    with pytest.raises(MissionError, match="no such scenario"):
        load_scenario("no-such-scenario")
