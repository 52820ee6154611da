"""Fault scenarios: what to inject, what FDIR should do, and the score of a run.

A scenario file (TOML, shipped ones in ``flightsw/data/scenarios``) gives the node's
size, whether background radiation is on, how many boards to keep busy with jobs, the
faults to inject (time, kind, target) and the expected outcome where it is not the
default (every injected fault detected and recovered, no board isolated, no false
alarm, nothing damaged, no job failed, no telemetry dropped).

Scoring compares the simulated world's fault log (what was injected, and whether it
could act: a fault on an unpowered board does nothing) with the events the flight
software reported in its telemetry, as the ground sees them. Random radiation faults
are scored the same way as scheduled ones.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from flightsw.errors import MissionError
from flightsw.ground.commanding import CommandEncoder
from flightsw.mission import Mission, load_mission
from flightsw.schema import REQUIRED, ConfigError, Opt, Schema, show
from flightsw.simulate import SimOptions, run_sim
from sim_hw.faults import FaultKind, ScheduledFault

# fault kind -> (detection event, its argument, matching window s)
DETECTION = {
    "sel": ("fdir.BOARD_LATCHUP", "board", 5.0),
    "sefi": ("fdir.BOARD_HANG", "board", 10.0),
    "seu_uncorrectable": ("fdir.UNCORRECTABLE_MEMORY", "board", 5.0),
    "sensor_stuck": ("fdir.SENSOR_FAILED", "sensor", 120.0),
}
RECOVERY = {"fdir.BOARD_RECOVERED", "fdir.BOARD_ISOLATED"}
ALARMS = ("fdir.BOARD_LATCHUP", "fdir.BOARD_HANG")
Events = list[tuple[float, str, dict[str, Any]]]  # (time s, "app.EVENT", arguments)
BOARD_FAULTS = {FaultKind.SEU, FaultKind.SEU_UNCORRECTABLE, FaultKind.SEL, FaultKind.SEFI}
SCENARIO = Schema(
    Opt("name", "str", None, doc="default: the file's name"),
    Opt("description", "str", ""),
    Opt("duration_s", "float", 300.0, above=0, max=1e7, unit="s"),
    Opt("boards", "int", 32, min=1, max=100_000),
    Opt("radiation", "bool", False, doc="background radiation on"),
    Opt("busy_boards", "int", 0, min=0, max=100_000, doc="boards kept busy with jobs"),
    Opt("day_of_year", "float", None, min=0, max=366),
)
FAULT = Schema(
    Opt("t_s", "float", REQUIRED, min=0, max=1e7, unit="s"),
    Opt("kind", "str", REQUIRED, choices=tuple(k.value for k in FaultKind)),
    Opt("target", "any", REQUIRED, doc="a board index, or a device name"),
    Opt("detail", "table", {}, doc="kind-specific (stuck value, outage duration ...)"),
)
EXPECT = Schema(
    Opt("isolated", "list", [], max=100_000, items=Opt("board", "int", min=0, max=100_000)),
    Opt("safe_mode", "bool", False),
)
SCENARIO_FILE = Schema(
    Opt("scenario", "table", {}, fields=SCENARIO),
    Opt("faults", "list", [], max=10_000, items=Opt("fault", "table", fields=FAULT)),
    Opt("expect", "table", {}, fields=EXPECT),
)


@dataclass
class Scenario:
    """One fault scenario, as loaded from its file."""

    name: str
    description: str = ""
    duration_s: float = 300.0
    boards: int = 32
    radiation: bool = False
    busy_boards: int = 0
    day_of_year: float | None = None
    faults: list[ScheduledFault] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)


def scenario_dir() -> Path:
    return Path(str(resources.files("flightsw") / "data" / "scenarios"))


def scenario_names() -> list[str]:
    return sorted(p.stem for p in scenario_dir().glob("*.toml"))


def load_scenario(name_or_path: str) -> Scenario:
    """A shipped scenario by name, or a scenario file; errors name the file and key."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = scenario_dir() / f"{name_or_path}.toml"
    try:
        doc = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise MissionError(
            str(path), "-", f"no such scenario; shipped: {', '.join(scenario_names())}"
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise MissionError(str(path), "-", str(exc) or type(exc).__name__) from None
    try:
        top = SCENARIO_FILE.validate(doc, "")
        head = top["scenario"]
        sc = Scenario(
            name=head.get("name", path.stem),
            description=head["description"],
            duration_s=head["duration_s"],
            boards=head["boards"],
            radiation=head["radiation"],
            busy_boards=head["busy_boards"],
            day_of_year=head.get("day_of_year"),
            expect=top["expect"],
        )
        for i, f in enumerate(top["faults"]):
            kind, target = FaultKind(f["kind"]), f["target"]
            key = f"faults[{i}]"
            if kind in BOARD_FAULTS:
                Opt("target", "int", min=0, max=sc.boards - 1).check(target, f"{key}.target")
            elif not isinstance(target, str):
                raise ConfigError(f"{key}.target", f"{show(target)} is not a device name")
            if f["t_s"] > sc.duration_s:
                raise ConfigError(f"{key}.t_s", f"{f['t_s']:g} is after the scenario's end")
            sc.faults.append(ScheduledFault(f["t_s"], kind, target, f["detail"]))
        if sc.busy_boards > sc.boards:
            raise ConfigError("scenario.busy_boards", f"{sc.busy_boards} is more than boards")
    except ConfigError as exc:
        raise MissionError(str(path), exc.key, exc.reason) from None
    return sc


def scenario_mission(sc: Scenario, seed: int, mission: str | None = None) -> Mission:
    m = load_mission(mission, seed=seed)
    craft = {**m.hal.get("spacecraft", {}), "boards": sc.boards, "radiation_enabled": sc.radiation}
    m.hal = {**m.hal, "spacecraft": craft}
    if sc.day_of_year is not None:
        m.orbit = {**m.orbit, "day_of_year": sc.day_of_year}
    return m


def _job_script(m: Mission, count: int) -> list[tuple[float, bytes]]:
    if count == 0:
        return []
    from flightsw.dictionary import build_dictionary

    enc = CommandEncoder(build_dictionary(m))
    args = {"board_hours": 24.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 60.0}
    # Eight a second: the payload's command pipe holds 16 and it runs at 1 Hz.
    return [(0.5 + i // 8, enc.encode("payload.submit_job", args)) for i in range(count)]


def run_scenario(
    name_or_path: str, seed: int, out_dir: Path | None = None, mission: str | None = None
) -> dict[str, Any]:
    """Run one scenario with one seed; returns its score (and writes scenario.json)."""
    sc = load_scenario(name_or_path)
    m = scenario_mission(sc, seed, mission)
    with tempfile.TemporaryDirectory(prefix="flightsw-scenario-") as tmp:
        out = out_dir if out_dir is not None else Path(tmp)
        opts = SimOptions(
            duration_s=sc.duration_s,
            out_dir=out,
            progress=False,
            plots=out_dir is not None,
            tc_script=_job_script(m, sc.busy_boards),
            faults=list(sc.faults),
        )
        summary = run_sim(m, opts)
        events = read_events(out / "archive.sqlite")
    result = score(sc, seed, summary, events)
    if out_dir is not None:
        (out_dir / "scenario.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def read_events(archive: Path) -> Events:
    with sqlite3.connect(archive) as db:
        rows = db.execute("SELECT time_ns, name, args FROM events ORDER BY time_ns").fetchall()
    return [(t / 1e9, name, json.loads(args)) for t, name, args in rows]


def score(
    sc: Scenario,
    seed: int,
    summary: dict[str, Any],
    events: list[tuple[float, str, dict[str, Any]]],
) -> dict[str, Any]:
    """Injected vs detected vs recovered per fault kind, latencies, false alarms, checks."""
    truth = summary.get("truth", {})
    sensors = list(truth.get("sensor_names", []))
    claimed: set[int] = set()
    kinds: dict[str, dict[str, Any]] = {}
    for f in truth.get("fault_log", []):
        kind = f["kind"]
        if kind not in DETECTION or not f["effective"]:
            continue
        k = kinds.setdefault(
            kind,
            {"injected": 0, "detected": 0, "recovered": 0, "latency_s": [], "recovery_s": []},
        )
        k["injected"] += 1
        event, arg, window = DETECTION[kind]
        target = f["target"]
        if arg == "sensor":
            target = sensors.index(target) if target in sensors else -1
        hit = next(
            (
                i
                for i, (t, name, a) in enumerate(events)
                if name == event
                and i not in claimed
                and a.get(arg) == target
                and f["t_s"] - 1e-6 <= t <= f["t_s"] + window
            ),
            None,
        )
        if hit is None:
            continue
        claimed.add(hit)
        t_det = events[hit][0]
        k["detected"] += 1
        k["latency_s"].append(round(t_det - f["t_s"], 3))
        if kind in ("sel", "sefi"):
            rec = next(
                (
                    t
                    for t, name, a in events
                    if name in RECOVERY and a.get("board") == target and t >= t_det
                ),
                None,
            )
            if rec is not None:
                k["recovered"] += 1
                k["recovery_s"].append(round(rec - f["t_s"], 3))
        else:
            k["recovered"] += 1  # the job rolled back / the partner sensor took over
    false_alarms = sum(
        1 for i, (_t, name, _a) in enumerate(events) if name in ALARMS and i not in claimed
    )
    isolated = sorted({a["board"] for _t, name, a in events if name == "fdir.BOARD_ISOLATED"})
    safe = any(name == "fdir.SAFE_MODE_ENTERED" for _t, name, _a in events)
    expect_isolated = sorted(sc.expect.get("isolated", []))
    checks = {
        "all_detected": all(k["detected"] == k["injected"] for k in kinds.values()),
        "all_recovered": all(k["recovered"] == k["injected"] for k in kinds.values()),
        "no_false_alarms": false_alarms == 0,
        "isolated_as_expected": isolated == expect_isolated,
        "safe_mode_as_expected": safe == bool(sc.expect.get("safe_mode", False)),
        "no_board_damaged": truth.get("boards_damaged", 0) == 0,
        "no_job_failed": summary.get("jobs_failed", 0) == 0,
        "no_tm_lost": summary.get("tm_dropped", 0) == 0,
    }
    return {
        "scenario": sc.name,
        "seed": seed,
        "passed": all(checks.values()),
        "checks": checks,
        "kinds": kinds,
        "false_alarms": false_alarms,
        "isolated": isolated,
        "safe_mode": safe,
        "lost_board_hours": summary.get("lost_board_hours", 0.0),
        "job_rollbacks": summary.get("job_rollbacks", 0),
        "integrity_reruns": summary.get("integrity_reruns", 0),
        "silent_escapes": truth.get("silent_escapes", 0),
        "tm_dropped": summary.get("tm_dropped", 0),
        "wall_seconds": summary.get("host_profile", {}).get("wall_seconds"),
    }
