"""The flightsw command as a user runs it: a subprocess."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

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
    db = sqlite3.connect(out / "archive.sqlite")
    (n,) = db.execute("SELECT count(*) FROM packets").fetchone()
    assert n == s["tm_packets"]
    (frames,) = db.execute("SELECT max(value) FROM hk WHERE point = 'minor_frames'").fetchone()
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


def test_on_a_real_radio_the_nv_store_outlives_the_process(tmp_path: Path) -> None:
    """Run twice with the same --out: the second run is the same spacecraft restarting
    (boot count 2: the NV store outlived the process). In memory, its SDLS state went
    with the process: TM restarted at ARSN 1, below what a ground had accepted (every
    frame refused as a replay, a GCM IV used twice), recorded TCs accepted again."""
    import json
    import sqlite3

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
