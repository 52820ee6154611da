"""The flightsw command as a user runs it: a subprocess."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from flightsw.ground.archive_query import ArchiveReader

FLIGHTSW = [sys.executable, "-m", "flightsw.cli"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLIGHTSW, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"CI": "1", "PATH": "/usr/bin:/bin"},
    )


def test_sim_writes_tm_archive_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = _run("sim", "--duration", "300", "--out", str(out), "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "warning: published test key in use" in r.stderr  # said loudly, every run
    s = json.loads((out / "summary.json").read_text())
    for key in ("sim_seconds", "tm_packets", "events_by_severity", "overruns", "host_profile"):
        assert key in s
    assert {"wall_seconds", "realtime_factor", "apps"} <= set(s["host_profile"])
    assert s["sim_seconds"] == 300 and s["seed"] == 3
    assert s["tm_packets"] > 30 and s["tm_decode_errors"] == 0
    assert set(s["overruns"]) >= {"executive", "housekeeping"}
    assert (out / "tm.bin").stat().st_size == s["tm_bytes"]
    with ArchiveReader(out / "archive.sqlite") as reader:
        assert reader.packet_count() == s["tm_packets"]
        frames = max(v for _t, _s, _st, p, v in reader.hk_points() if p == "minor_frames")
    assert 2900 <= frames <= 3000


def test_sim_default_runs_one_orbit(tmp_path: Path) -> None:
    r = subprocess.run(
        [*FLIGHTSW, "sim"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"CI": "1", "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "runs" / "default-seed1" / "summary.json").read_text())
    assert 5900 < s["sim_seconds"] < 6100  # one orbit at 750 km
    assert "\r" not in r.stderr  # no progress bar under CI


def test_sim_bad_arguments_give_one_error_line(tmp_path: Path) -> None:
    for args in (
        ["--duration", "-5"],
        ["--mission", str(tmp_path / "nope.toml")],
        ["--orbits", "1", "--duration", "5"],
    ):
        r = _run("sim", *args, "--out", str(tmp_path / "x"))
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr


def test_dict_export_lists_every_declaration() -> None:
    r = _run("dict", "export", "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    names = {c["name"] for c in d["commands"]}
    assert {
        "test.ping",
        "housekeeping.enable_hk",
        "parameters.set_parameters",
        "executive.restart_app",
        "time.set_time_rate",
        "events.disable_events",
    } <= names
    ping = next(c for c in d["commands"] if c["name"] == "test.ping")
    assert (ping["service"], ping["subservice"]) == (17, 1)
    restart = next(c for c in d["commands"] if c["name"] == "executive.restart_app")
    assert (restart["service"], restart["subservice"], restart["function_id"]) == (8, 1, 2)
    assert restart["args"][0]["type"] == "u8"
    assert any(
        e["name"] == "executive.APP_DISABLED" and e["severity"] == "HIGH" for e in d["events"]
    )
    assert any(p["name"] == "time.rate_exponent" for p in d["parameters"])
    hk = next(h for h in d["housekeeping"] if h["name"] == "executive.executive")
    assert hk["points"][0] == {"name": "minor_frames", "type": "u32"}


def test_same_seed_same_tm_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        out = tmp_path / name
        r = _run(
            "sim",
            "--duration",
            "900",
            "--boards",
            "32",
            "--seed",
            seed,
            "--out",
            str(out),
            "--no-plots",
        )
        assert r.returncode == 0, r.stderr
        runs[name] = (out / "tm.bin").read_bytes()
    assert len(runs["a"]) > 10_000
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_published_key_on_a_real_radio_is_refused_unless_allowed(tmp_path: Path) -> None:
    r = _run("sim", "--radio", "udp:127.0.0.1:0", "--duration", "1", "--out", str(tmp_path))
    assert r.returncode == 1 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    assert "published test key" in r.stderr and "allow_published_key" in r.stderr
    assert not (tmp_path / "summary.json").exists()


def _main_in_process(
    argv: list[str], stdin: bytes = b"", monkeypatch: object = None
) -> tuple[int, str, str]:
    """Run ``flightsw`` in this process: (status, stdout, stderr)."""
    import contextlib
    import io

    from flightsw.cli import main as cli

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(argv)
            except SystemExit as exc:
                status = int(exc.code or 0)
    finally:
        sys.stdin = old
    return status, out.getvalue(), err.getvalue()


def _bad_inputs(tmp_path: Path) -> list[list[str]]:
    bad_mission = tmp_path / "bad.toml"
    bad_mission.write_text("[hal.radio]\nkind = 'laser'\n")
    bad_scenario = tmp_path / "bad_scenario.toml"
    bad_scenario.write_text("[scenario]\nduration_s = nan\n")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[mission]\n")
    archive_dir = tmp_path / "adir"
    archive_dir.mkdir()
    udp = ["ground", "--udp", "127.0.0.1:9", "--listen", "0"]
    return [
        [],
        ["bogus"],
        ["sim", "--bogus"],
        ["sim", "--seed", "-1"],
        ["sim", "--seed", "1" * 5000],
        ["sim", "--duration", "inf"],
        ["sim", "--duration", "nan"],
        ["sim", "--duration", "1e300"],
        ["sim", "--orbits", "0"],
        ["sim", "--boards", "0"],
        ["sim", "--boards", "9" * 5000],
        ["sim", "--hal", "bogus"],
        ["sim", "--hal", "serial:"],
        ["sim", "--radio", "udp:host:99999"],
        ["sim", "--radio", "laser"],
        ["sim", "--mission", "bad\udcff.toml"],
        ["sim", "--mission", str(bad_mission)],
        ["sim", "--mission", str(binary)],
        ["sim", "--mission", str(tmp_path)],
        ["sim", "--scenario", "nope"],
        ["sim", "--scenario", str(bad_scenario)],
        ["sim", "--scenario", "sel", "--boards", "3"],
        ["sim", "--out", "/proc/flightsw/x", "--duration", "1"],
        ["ground", "--udp", "nohost"],
        ["ground", "--udp", "h:70000"],
        ["ground", "--udp", "h:1", "--listen", "-1"],
        ["ground", "--udp", "h:1", "--mission", str(bad_mission)],
        [*udp, "--archive", str(archive_dir)],
        [*udp, "--archive", str(tmp_path / "a.sqlite"), "--send", "no.such_command"],
        [*udp, "--archive", str(tmp_path / "a.sqlite"), "--send", "test.ping x=" + "9" * 5000],
        ["campaign", "--seeds", "0"],
        ["campaign", "--workers", "100000"],
        ["campaign", "--scenarios", "nope"],
        ["campaign", "--scenarios", str(bad_scenario)],
        ["campaign", "--scheduler", "tcp://"],
        ["campaign", "--first-seed", str(2**63 - 1), "--seeds", "2"],
        ["dict", "export", "--format", "yaml"],
        ["dict", "export", "--mission", str(bad_mission)],
        ["dict", "export", "-o", "/proc/flightsw/x"],
        ["seq", "compile", str(tmp_path / "none.seq")],
        ["seq", "compile", str(binary)],
        ["seq", "compile", str(bad_scenario)],
        ["seq", "decompile", str(binary)],
        ["packet", "decode"],
        ["packet", "decode", "pus-tc", "a", "b"],
        ["packet", "decode", "pus-tc", "--time-len", "99", "00"],
        ["packet", "decode", "pus-tc", "0g"],
        ["packet", "decode", "no-kind", "00"],
        ["packet", "encode", "pus-tc", '{"apid": ' + "9" * 5000 + "}"],
        ["packet", "encode", "pus-tc", "[" * 100_000 + "]" * 100_000],
        ["packet", "encode", "pus-tc", '{"apid": ' + "[" * 900 + "]" * 900 + "}"],
        ["packet", "encode", "pus-tc", '{"apid": NaN, "service": 1, "subservice": 1}'],
        ["packet", "encode", "pus-tc", '{"apid\\n\\u001b[31m": 1}'],
        [
            "packet",
            "encode",
            "pus-tc",
            '{"apid": 1, "service": 1, "subservice": 1, "app_data": "\udcff"}',
        ],
    ]


def test_every_bad_input_of_every_subcommand_gives_one_error_line(tmp_path: Path) -> None:
    for argv in _bad_inputs(tmp_path):
        status, _, err = _main_in_process(argv)
        # The published-key warning of the default mission may come first: a warning
        # about the build, not about the input.
        lines = [line for line in err.splitlines() if not line.startswith("warning: published")]
        assert status == 1, (argv[:4], status, err[-500:])
        assert len(lines) == 1 and lines[0].startswith("error:"), (argv[:4], err[-500:])
        assert "internal error" not in err and "Traceback" not in err


def test_stdin_lines_that_are_not_text_give_one_error_each(tmp_path: Path) -> None:
    good = "1864c000000011"
    data = b"\xff\xfe\n" + good.encode() + b"\n" + b"x" * (2 << 20) + b"\n\n" + good.encode()
    status, out, err = _main_in_process(["packet", "decode", "space-packet", "--stdin"], stdin=data)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 1 and err == ""
    assert [("error" in r) for r in rows] == [True, False, True, False]
    assert "line 1: not UTF-8 at byte 0" in rows[0]["error"]
    assert "line 3: longer than" in rows[2]["error"]
    status, out, err = _main_in_process(
        [
            *("ground", "--udp", "127.0.0.1:9", "--listen", "0", "--stdin"),
            "--archive",
            str(tmp_path / "g.sqlite"),
        ],
        stdin=b"\xff\n\ntest.ping\nno.such\n",
    )
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert status == 1 and len(errors) == 2, err
    assert "line 1: not UTF-8" in errors[0] and "line 4:" in errors[1]


def test_non_utf8_bytes_in_argv_and_stdin_from_a_real_process(tmp_path: Path) -> None:
    r = subprocess.run(
        [*FLIGHTSW, "packet", "encode", "pus-tc", b'{"apid": "\xff"}'],
        capture_output=True,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
        input=b"",
        timeout=120,
    )
    assert r.returncode == 1 and r.stderr.decode().startswith("error:"), r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_an_internal_error_is_still_one_line(monkeypatch: object) -> None:
    import pytest

    from flightsw.cli import packet as packet_cli

    mp = pytest.MonkeyPatch()
    mp.setattr(packet_cli, "decode_one", lambda *a: 1 / 0)
    try:
        status, _, err = _main_in_process(["packet", "decode", "pus-tc", "00"])
    finally:
        mp.undo()
    assert status == 70 and err.startswith("error: internal error") and err.count("\n") == 1


def test_on_a_real_radio_the_nv_store_outlives_the_process(tmp_path: Path) -> None:
    """Run twice with the same --out: the second run is the same spacecraft restarting
    (boot count 2: the NV store outlived the process). In memory, its SDLS state went
    with the process: TM restarted at ARSN 1, below what a ground had accepted (every
    frame refused as a replay, a GCM IV used twice), recorded TCs accepted again."""
    import json

    out = tmp_path / "run"
    args = ("sim", "--radio", "udp:127.0.0.1:0", "--allow-published-key", "--duration", "2")
    boots = []
    for _ in range(2):
        r = _run(*args, "--out", str(out), "--no-plots")
        assert r.returncode == 0, r.stderr
        assert f"NV store: {out / 'nv'}" in r.stderr
        with sqlite3.connect(out / "archive.sqlite") as db:
            (boot,) = db.execute("SELECT args FROM events WHERE name = 'fdir.BOOT'").fetchone()
        boots.append(json.loads(boot)["boot_count"])
    assert boots == [1, 2]


def test_seq_compile_then_decompile(tmp_path: Path) -> None:
    src = tmp_path / "ops.seq"
    src.write_text("sequence ops\ncmd power.switch switch=2 on=1\nwait 0.125\n")
    status, out, err = _main_in_process(["seq", "compile", str(src)])
    assert status == 0, err
    assert "ops.bin" in out and (tmp_path / "ops.bin").exists()
    status, out, err = _main_in_process(["seq", "decompile", str(tmp_path / "ops.bin")])
    assert status == 0, err
    assert out == "sequence ops\ncmd power.switch switch=2 on=1\nwait 0.125\n"
