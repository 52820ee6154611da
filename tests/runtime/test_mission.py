from pathlib import Path

import pytest

from flightsw.base.errors import MissionError
from flightsw.runtime.mission import load_mission

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
        ("[mission]\nseed = 'x'\n", "mission.seed", "'x' is not an integer"),
        ("[executive]\nminor_frame_hz = 'fast'\n", "executive.minor_frame_hz", "not a number"),
        ("[executive]\nuplink_depth = 0\n", "executive.uplink_depth", "0 is outside 1.."),
        ("[bogus]\n", "bogus", "unknown key"),
        ("[[apps]]\nname='a'\nclass='nowhere.mod:X'\nid_base=0x1000\n", "class", "cannot import"),
        (
            "[[apps]]\nname='a'\nclass='flightsw.framework.app:Arg'\nid_base=0x1000\n",
            "class",
            "not an App",
        ),
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
    from flightsw.base.errors import FlightswError
    from flightsw.sil.harness import SilHarness

    text = GOOD_APP.replace("gain = 3.0", "gain = 30.0")
    with pytest.raises(FlightswError, match="gain"):
        SilHarness(load_mission(_write(tmp_path, text)))


COMMS = """
[[apps]]
name = "comms"
class = "flightsw.services.comms:CommsService"
id_base = 0x1f00
options = { OPTS }
"""
PAYLOAD = """
[[apps]]
name = "payload"
class = "flightsw.apps.payload:PayloadApp"
id_base = 0x2200
options = { OPTS }
"""
KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"


def _comms(opts: str) -> str:
    return COMMS.replace("OPTS", opts)


def _payload(opts: str) -> str:
    return PAYLOAD.replace("OPTS", opts)


# Each was accepted, crashed, hung or reported without the file before the schema.
BAD_VALUES = [
    # silently accepted
    (_comms('tc_randomize = "false"'), "options.tc_randomize", "'false' is not a boolean"),
    (_comms("bogus = 1"), "options.bogus", "unknown key"),
    (_comms(f'sdls = {{ spi = 1, key = "{KEY}", bogus = 2 }}'), "sdls.bogus", "unknown key"),
    (_comms("scid = 5000"), "options.scid", "5000 is outside 0..1023"),
    (_comms("tm_frame_len = 3"), "options.tm_frame_len", "3 is outside 13..2048"),
    (_comms('farm_window = 11, sdls = "none"'), "options", "FARM window 11"),
    (_comms('sdls = { spi = 1, key = "0011" }'), "sdls.key", "2 octets is outside 16..64"),
    (_comms('sdls = { spi = 1, key = "zz" }'), "sdls.key", "is not hex"),
    (_comms(f'sdls = {{ spi = 1, key = "{KEY}", mode = "rot13" }}'), "sdls.mode", "rot13"),
    (_payload("bogus = true"), "options.bogus", "unknown key"),
    ("[workload]\njobs_per_hour = 1.0\n", "workload.jobs_per_hour", "unknown key"),
    ("[workload]\nseed = -1\n", "workload.seed", "-1 is outside"),
    ("[workload]\nload = nan\n", "workload.load", "nan is not a finite number"),
    ("[workload]\nmean_board_hours = 30.0\n", "workload.mean_board_hours", "must lie between"),
    ("[workload]\njobs_per_tc = 500\n", "workload.jobs_per_tc", "500 is outside"),
    ("[orbit]\naltitude_km = 750.0\nbogus = 1\n", "orbit.bogus", "unknown key"),
    ("[orbit]\naltitude_km = '750'\n", "orbit.altitude_km", "'750' is not a number"),
    ("[orbit]\naltitude_km = nan\n", "orbit.altitude_km", "nan is not a finite number"),
    ("[orbit]\nltan_h = 25\n", "orbit.ltan_h", "25 is outside 0..24"),
    # found by the mission fuzzer: loaded, then the orbit model refused it at start
    ("[orbit]\naltitude_km = 7500.0\n", "orbit.altitude_km", "no sun-synchronous orbit"),
    ("[hal.spacecraft]\naltitude_km = 7500.0\n", "spacecraft.altitude_km", "sun-synchronous"),
    # [hal] and its tables
    ("[hal]\nbackend = 5\n", "hal.backend", "5 is not one of"),
    ("[hal]\nbackend = 'serial:'\n", "hal.backend", "is not one of"),
    ("[hal]\nbogus = 1\n", "hal.bogus", "unknown key"),
    ("[hal]\nwatchdog_timeout_s = -1.0\n", "hal.watchdog_timeout_s", "greater than 0"),
    ("[hal.spacecraft]\nboards = inf\n", "hal.spacecraft.boards", "inf is not an integer"),
    ("[hal.spacecraft]\nboards = 0\n", "hal.spacecraft.boards", "0 is outside 1.."),
    ("[hal.spacecraft]\nbattery_soc = 2.0\n", "hal.spacecraft.battery_soc", "outside 0..1"),
    ("[hal.spacecraft]\nradiation_enabled = 'no'\n", "radiation_enabled", "not a boolean"),
    ("[hal.spacecraft]\nbogus = 1\n", "hal.spacecraft.bogus", "unknown key"),
    (
        "[hal.spacecraft]\nradiation = { seu_per_board_day = -1.0 }\n",
        "radiation.seu_per_board_day",
        "-1.0 is outside",
    ),
    ("[hal.radio]\nkind = 'laser'\n", "hal.radio.kind", "'laser' is not one of"),
    ("[hal.radio]\nbind = 'host:70000'\n", "hal.radio.bind", "port 0..65535"),
    ("[hal.radio]\nber_up = 2.0\n", "hal.radio.ber_up", "outside 0..0.5"),
    ("[hal.radio]\ndelay = 2.0\n", "hal.radio.delay", "unknown key"),
    ("[hal]\nradio = 'udp'\n", "hal.radio", "'udp' is not a table"),
    # schedule: bounded, with the app named
    (GOOD_APP.replace("rate_hz = 2", "rate_hz = 1e-7"), "counter).rate_hz", "slowest"),
    (GOOD_APP.replace("rate_hz = 2", "rate_hz = 3"), "counter).rate_hz", "whole number"),
    (GOOD_APP.replace("rate_hz = 2", "rate_hz = nan"), "rate_hz", "not a finite number"),
    (GOOD_APP.replace("rate_hz = 2", "rate_hz = -1"), "rate_hz", "greater than 0"),
    ("[services.time]\nrate_hz = 1e-300\n", "services.time.rate_hz", "slowest"),
    # params, checked against the declaration
    (GOOD_APP.replace("gain = 3.0", "gian = 3.0"), "params.gian", "unknown parameter"),
    (GOOD_APP.replace("gain = 3.0", "gain = 30.0"), "params.gain", "30.0"),
    (GOOD_APP.replace("gain = 3.0", "gain = 'x'"), "params.gain", "'x'"),
    (GOOD_APP.replace("gain = 3.0", "limit = 1e300"), "params.limit", "1e+300"),
    ("[services.time]\nparams = { rate_exponent = 99 }\n", "rate_exponent", "99"),
    ("[services.storage]\noptions = { overflow = 'explode' }\n", "overflow", "'explode'"),
    ("[services.events]\noptions = { x = 1 }\n", "services.events.options.x", "unknown key"),
    # shape of the file
    ("apps = [1]\n", "apps[0]", "1 is not a table"),
    ("apps = 'x'\n", "apps", "'x' is not an array"),
    ("mission = 3\n", "mission", "3 is not a table"),
    ("[mission]\nseed = -1\n", "mission.seed", "-1 is outside"),
    ("[mission]\napid = 0x7ff\n", "mission.apid", "2047 is outside"),
    (GOOD_APP.replace('name = "counter"', 'name = "a.b"'), "name", "does not match"),
    (GOOD_APP + GOOD_APP.replace('"counter"', '"other"'), "other.id_base", "is also counter's"),
    (GOOD_APP.replace("CounterApp", "FailingInit"), "class", "not an App subclass"),
    (
        GOOD_APP.replace("tests.support.apps:CounterApp", "tests.support.broken_module:X"),
        "class",
        "RuntimeError: this module is broken",
    ),
    (
        "[[apps]]\nname = 'x'\nclass = 'tests.support.apps:CounterApp'\nid_base = 5e3\n",
        "id_base",
        "not an integer",
    ),
]


@pytest.mark.parametrize(("text", "key", "words"), BAD_VALUES)
def test_every_bad_value_is_a_mission_error_naming_file_key_and_value(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(MissionError) as info:
        load_mission(path)
    msg = str(info.value)
    assert msg.startswith(path + ": ")
    assert key in info.value.key, (info.value.key, key)
    assert words in msg, msg
    assert "\n" not in msg


def test_schedule_whose_hyperperiod_explodes_is_refused(tmp_path: Path) -> None:
    """Periods 30, 70, 110 ... minor frames each fit; together they repeat every 10**8."""
    apps = "".join(
        GOOD_APP.replace('"counter"', f'"c{i}"')
        .replace("0x1000", hex(0x1000 + 0x100 * i))
        .replace("rate_hz = 2", f"rate_hz = {10 / p!r}")
        for i, p in enumerate((30, 70, 110, 130, 170, 190))
    )
    with pytest.raises(MissionError, match=r"c\d\)\.rate_hz: .*repeat only every"):
        load_mission(_write(tmp_path, apps))


def test_options_are_declared_checked_and_defaulted(tmp_path: Path) -> None:
    app = GOOD_APP.replace("CounterApp", "OptionsApp").replace("params = { gain = 3.0 }", "")
    m = load_mission(_write(tmp_path, app + "options = { limit = 5 }\n"))
    assert m.apps[-1].options == {"mode": "fast", "limit": 5, "inner": {"gain": 1.0}}
    for bad, words in (
        ("options = { limit = 0 }", "limit: 0 is outside 1..100"),
        ("options = { mode = 'warp' }", "mode: 'warp' is not one of"),
        ("options = { inner = { gain = true } }", "inner.gain: True is not a number"),
    ):
        with pytest.raises(MissionError, match=words):
            load_mission(_write(tmp_path, app + bad + "\n"))


def test_default_comms_options_are_filled_from_the_declaration() -> None:
    comms = next(s for s in load_mission().apps if s.name == "comms")
    assert comms.options["tc_randomize"] is True and comms.options["farm_window"] == 10
    assert comms.options["sdls"]["mode"] == "hmac-sha256"


def test_non_utf8_and_deeply_nested_files(tmp_path: Path) -> None:
    p = tmp_path / "bin.toml"
    p.write_bytes(b"[mission]\nname = '\xff'\n")
    with pytest.raises(MissionError, match="not UTF-8 at byte"):
        load_mission(str(p))
    p.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(MissionError) as info:
        load_mission(str(p))
    assert str(info.value).startswith(str(p))


def test_an_app_whose_init_raises_is_a_load_error(tmp_path: Path) -> None:
    from flightsw.runtime.executive import AppLoadError
    from flightsw.sil.harness import SilHarness

    text = GOOD_APP.replace("CounterApp", "FailingInitApp").replace("params = { gain = 3.0 }", "")
    with pytest.raises(AppLoadError, match="'counter' failed to start: RuntimeError: no such"):
        SilHarness(load_mission(_write(tmp_path, text)))
