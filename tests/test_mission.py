from pathlib import Path

import pytest

from flightsw.errors import MissionError
from flightsw.mission import load_mission

GOOD_APP = """
[[apps]]
name = "counter"
class = "tests.support.apps:CounterApp"
id_base = 0x1000
rate_hz = 2
params = { gain = 3.0 }
"""


def _write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "m.toml"
    p.write_text(text)
    return str(p)


def test_default_mission_loads_with_core_services() -> None:
    m = load_mission()
    assert m.name == "default"
    assert [s.name for s in m.specs][:6] == [
        "executive",
        "housekeeping",
        "events",
        "time",
        "test",
        "parameters",
    ]
    assert m.hal["backend"] == "sim"


def test_app_from_dotted_path_with_params(tmp_path: Path) -> None:
    m = load_mission(_write(tmp_path, "[mission]\nname='t'\n" + GOOD_APP), seed=9)
    app = m.specs[-1]
    assert app.name == "counter" and app.rate_hz == 2.0 and app.params == {"gain": 3.0}
    assert m.seed == 9


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[mission]\nnmae = 'x'\n", "mission.nmae", "unknown key"),
        ("[mission]\nseed = 'x'\n", "mission.seed", "expected an integer"),
        ("[executive]\nminor_frame_hz = 'fast'\n", "executive.minor_frame_hz", "expected"),
        ("[executive]\nuplink_depth = 0\n", "executive.uplink_depth", ">= 1"),
        ("[bogus]\n", "bogus", "unknown top-level key"),
        ("[[apps]]\nname='a'\nclass='nowhere.mod:X'\nid_base=0x1000\n", "class", "cannot import"),
        ("[[apps]]\nname='a'\nclass='flightsw.app:Arg'\nid_base=0x1000\n", "class", "not an App"),
        ("[[apps]]\nname='a'\nclass='flightsw'\nid_base=0x1000\n", "class", "form"),
        ("[[apps]]\nname='a'\nclass='tests.support.apps:CounterApp'\n", "id_base", "missing"),
        (
            "[[apps]]\nname='a'\nclass='tests.support.apps:CounterApp'\nid_base=5\n",
            "id_base",
            "outside",
        ),
        (
            "[[apps]]\nname='test'\nclass='tests.support.apps:CounterApp'\nid_base=0x1000\n",
            "name",
            "already used",
        ),
        ("[mission\n", "-", "not valid TOML"),
        ("[services.nope]\n", "services.nope", "unknown key"),
    ],
)
def test_bad_mission_names_file_key_and_problem(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(MissionError) as info:
        load_mission(path)
    msg = str(info.value)
    assert msg.startswith(path)
    assert key in info.value.key
    assert words in msg


def test_missing_file() -> None:
    with pytest.raises(MissionError, match=r"cannot read|no such"):
        load_mission("/nonexistent/mission.toml")


def test_bad_param_value_is_refused_at_load(tmp_path: Path) -> None:
    from flightsw.errors import FlightswError
    from flightsw.testing import SilHarness

    text = GOOD_APP.replace("gain = 3.0", "gain = 30.0")
    with pytest.raises(FlightswError, match="gain"):
        SilHarness(load_mission(_write(tmp_path, text)))
