"""Fault scenarios: what to inject, drawn per seed; running one; its score.

A scenario file (TOML, shipped ones in ``flightsw/data/scenarios``) gives the node
(boards, radiation on or off, orbit day, spacecraft overrides), a job stream that keeps
``busy_boards`` boards computing jobs with real deadlines, the faults to inject and
what is expected where it is not the default (every fault detected and recovered in
its stated time, no board isolated, no false alarm, nothing damaged, no work lost).

Faults are drawn from the seed within what the scenario fixes: a fault's ``t_s`` may
be a range ``[lo, hi]``, ``after = "label"`` makes it relative to an earlier fault, its
``target`` may be a list to choose from, a range of board indices, or a state the
simulated world resolves at injection (``@busy``, ``@idle``, ``@powered``, ``@off``,
``@any``, ``@label:NAME`` for the unit an earlier fault struck); ``count`` repeats a
fault with independent draws; ``detail`` values may be ranges too. The job stream's
sizes are drawn from the seed as well, so the board states faults meet vary.

Scoring is in :mod:`flightsw.sil.scoring`: it compares the simulated world's truth
with the telemetry the ground received.
"""

from __future__ import annotations

import json
import math
import sqlite3
import struct
import tempfile
import tomllib
import zlib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from flightsw.base.errors import MissionError
from flightsw.base.schema import REQUIRED, ConfigError, Opt, Schema, show
from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import tc_request_id_from_bytes
from flightsw.runtime.mission import Mission, load_mission
from flightsw.sil.simulate import SimOptions, orbit_period_s, run_sim
from hal.sim.backend import SPACECRAFT
from sim_hw.faults import FaultKind, ScheduledFault

Events = list[tuple[float, str, dict[str, Any]]]  # (time s, "app.EVENT", arguments)
END_MARGIN_S = 40.0  # scheduled faults end this long before the scenario does
_JOB = struct.Struct(">fBIf")
JOBS_PER_TC = 100
BOARD_FAULTS = {
    FaultKind.SEU,
    FaultKind.SEU_UNCORRECTABLE,
    FaultKind.SEL,
    FaultKind.SEFI,
    FaultKind.SILENT_CORRUPTION,
}
# Every key of a scenario file is declared here. A value drawn from the seed may be a
# number or a range [lo, hi] ("any", checked by ``_range`` naming the key); a target is
# a board index, a device name, a state "@..." or a list to choose from.
SCENARIO = Schema(
    Opt("name", "str", None, doc="default: the file's name"),
    Opt("description", "str", ""),
    Opt("duration_s", "float", 300.0, above=END_MARGIN_S, max=1e7, unit="s"),
    Opt("boards", "int", 32, min=1, max=100_000),
    Opt("radiation", "bool", False, doc="background radiation on"),
    Opt("busy_boards", "int", 0, min=0, max=100_000, doc="boards kept busy with jobs"),
    Opt("day_of_year", "float", None, min=0, max=366),
    Opt("start_s", "float", 0.0, min=0, max=1e8, unit="s", doc="mission time of the start"),
    Opt("spacecraft", "table", {}, fields=SPACECRAFT, doc="[hal.spacecraft] overrides"),
    Opt("params", "table", {}, doc='"app.parameter" = value, set before the run'),
)
JOBS = Schema(
    Opt("work_s", "any", None, doc="board-seconds per job: a number or [lo, hi]"),
    Opt("checkpoint_s", "float", None, above=0, max=1e6, unit="s"),
    Opt("until_s", "float", None, min=0, max=1e7, unit="s", doc="default: the run's end"),
    Opt("slack_s", "float", None, min=0, max=1e6, unit="s", doc="deadline beyond the work"),
    Opt("priority", "int", None, min=0, max=255),
)
FAULT = Schema(
    Opt("t_s", "any", REQUIRED, doc="a time or [lo, hi] (after the labelled fault with `after`)"),
    Opt("kind", "str", REQUIRED, choices=tuple(k.value for k in FaultKind)),
    Opt("target", "any", REQUIRED, doc="board index, device name, @state, or a list"),
    Opt("detail", "table", {}, doc="kind-specific; a value may be [lo, hi] or a list"),
    Opt("count", "int", 1, min=1, max=10_000, doc="independent draws of this fault"),
    Opt("label", "str", None, pattern=r"\w+", doc="name of this fault for `after`/@label:"),
    Opt("after", "str", None, doc="label of an earlier fault t_s is relative to"),
)
_UNIT = Opt("unit", "any", doc="board index, switch name or @label:NAME")
EXPECT = Schema(
    Opt("isolated", "list", [], max=100_000, items=_UNIT, doc="boards isolated"),
    Opt("isolated_switches", "list", [], max=1000, items=_UNIT, doc="switches isolated"),
    Opt("safe_mode", "bool", False),
    Opt(
        "left_to_ground",
        "list",
        [],
        max=64,
        items=Opt("kind", "str", choices=tuple(k.value for k in FaultKind)),
        doc="fault kinds FDIR is not expected to handle",
    ),
    Opt(
        "effective",
        "list",
        [],
        max=64,
        items=Opt("kind", "str", choices=tuple(k.value for k in FaultKind)),
        doc="fault kinds that must have acted (a draw that never acted fails)",
    ),
)
SCENARIO_FILE = Schema(
    Opt("scenario", "table", {}, fields=SCENARIO),
    Opt("jobs", "table", {}, fields=JOBS),
    Opt("faults", "list", [], max=10_000, items=Opt("fault", "table", fields=FAULT)),
    Opt("expect", "table", {}, fields=EXPECT),
)


@dataclass
class JobSpec:
    """The job stream: jobs of ``work_s`` (a range, board-seconds at full power) back to
    back on ``busy_boards`` boards until ``until_s``; each has a deadline of its submission
    plus its work plus ``slack_s``."""

    work_s: tuple[float, float] = (20.0, 50.0)
    checkpoint_s: float = 10.0
    until_s: float | None = None  # default: as long as deadlines fall inside the run
    slack_s: float = 40.0
    priority: int = 1


@dataclass
class Scenario:
    """One fault scenario, as loaded from its file (faults not drawn yet)."""

    name: str
    path: str = ""
    description: str = ""
    duration_s: float = 300.0
    boards: int = 32
    radiation: bool = False
    busy_boards: int = 0
    day_of_year: float | None = None
    start_s: float = 0.0  # mission time of the run's start (orbit phase); times are after it
    spacecraft: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # "app.name" -> value
    jobs: JobSpec = field(default_factory=JobSpec)
    fault_specs: list[dict[str, Any]] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def left_to_ground(self) -> set[str]:
        return set(self.expect.get("left_to_ground", []))


@dataclass
class Job:
    """One job of the stream as the ground submitted it."""

    submit_s: float
    work_s: float
    deadline_s: float  # relative to its execution on board
    checkpoint_s: float
    priority: int


def scenario_dir() -> Path:
    return Path(str(resources.files("flightsw") / "data" / "scenarios"))


def scenario_names() -> list[str]:
    return sorted(p.stem for p in scenario_dir().glob("*.toml"))


def _range(value: Any, where: str) -> tuple[float, float]:
    """A number or [lo, hi] as (lo, hi); ConfigError naming ``where`` otherwise."""
    items = value if isinstance(value, list) else [value, value]
    ok = len(items) == 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in items
    )
    if not ok:
        raise ConfigError(where, f"{show(value)} is not a number or a range [lo, hi]")
    lo, hi = float(items[0]), float(items[1])
    if hi < lo:
        raise ConfigError(where, f"{show(value)}: range upside down")
    return lo, hi


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
        return _scenario_from(SCENARIO_FILE.validate(doc, ""), path)
    except ConfigError as exc:
        raise MissionError(str(path), exc.key, exc.reason) from None


def _scenario_from(top: dict[str, Any], path: Path) -> Scenario:
    """The scenario of a validated file; ConfigError naming the key for what the
    declarations cannot say (ranges, targets, labels, times inside the run)."""
    head = top["scenario"]
    sc = Scenario(
        name=head.get("name", path.stem),
        path=str(path),
        description=head["description"],
        duration_s=head["duration_s"],
        boards=head["boards"],
        radiation=head["radiation"],
        busy_boards=head["busy_boards"],
        day_of_year=head.get("day_of_year"),
        start_s=head["start_s"],
        spacecraft=head["spacecraft"],
        params=head["params"],
        expect=top["expect"],
    )
    for key, value in sc.params.items():
        app, _, name = str(key).partition(".")
        if not app or not name:
            raise ConfigError(f"scenario.params.{key}", "need app.parameter")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"scenario.params.{key}", f"{show(value)} is not a number")
    jobs = top["jobs"]
    sc.jobs = JobSpec(
        work_s=_range(jobs.get("work_s", list(JobSpec.work_s)), "jobs.work_s"),
        checkpoint_s=jobs.get("checkpoint_s", JobSpec.checkpoint_s),
        until_s=jobs.get("until_s"),
        slack_s=jobs.get("slack_s", JobSpec.slack_s),
        priority=jobs.get("priority", JobSpec.priority),
    )
    labels: set[str] = set()
    last = sc.duration_s - END_MARGIN_S
    for i, f in enumerate(top["faults"]):
        key = f"faults[{i}]"
        lo, hi = _range(f["t_s"], f"{key}.t_s")
        after = f.get("after")
        if after is not None and after not in labels:
            raise ConfigError(f"{key}.after", f"no earlier fault labelled {after!r}")
        if after is None and not 0 <= lo <= hi <= last:
            raise ConfigError(f"{key}.t_s", f"{show(f['t_s'])} is outside 0..{last:g}")
        if f.get("label") is not None:
            if f["count"] != 1:
                raise ConfigError(f"{key}.label", "a labelled fault has count 1")
            labels.add(f["label"])
        _check_target(f["target"], FaultKind(f["kind"]), sc.boards, f"{key}.target")
        for name, value in f["detail"].items():
            if isinstance(value, list) and not value:
                raise ConfigError(f"{key}.detail.{name}", "an empty list to choose from")
        sc.fault_specs.append({k: v for k, v in f.items() if v is not None})
    for j, unit in enumerate(sc.expect["isolated"]):
        _check_unit(unit, labels, f"expect.isolated[{j}]", boards=sc.boards)
    for j, unit in enumerate(sc.expect["isolated_switches"]):
        _check_unit(unit, labels, f"expect.isolated_switches[{j}]")
    if sc.busy_boards > sc.boards:
        raise ConfigError("scenario.busy_boards", f"{sc.busy_boards} is more than boards")
    return sc


def _check_unit(unit: Any, labels: set[str], key: str, boards: int | None = None) -> None:
    """An expected unit: "@label:NAME" of a labelled fault, else a board index (boards)
    or a switch name."""
    if isinstance(unit, str) and unit.startswith("@label:"):
        if unit.removeprefix("@label:") not in labels:
            raise ConfigError(key, f"{show(unit)}: no fault has that label")
    elif boards is not None:
        Opt("board", "int", min=0, max=boards - 1).check(unit, key)
    elif not isinstance(unit, str) or not unit:
        raise ConfigError(key, f"{show(unit)} is not a switch name")


def _check_target(target: Any, kind: FaultKind, boards: int, key: str) -> None:
    """A board fault's target is a board index, [lo, hi] of them, a state "@..." or a
    list of those; any other fault's is a device name (or "@..."), or a list of them."""
    if isinstance(target, str):
        if not target:
            raise ConfigError(key, "an empty name")
        if kind in BOARD_FAULTS and not target.startswith("@"):
            raise ConfigError(key, f"{show(target)} is not a board index or @state")
        return
    if kind in BOARD_FAULTS and isinstance(target, int) and not isinstance(target, bool):
        Opt("target", "int", min=0, max=boards - 1).check(target, key)
        return
    if isinstance(target, list) and target:
        if (
            kind in BOARD_FAULTS
            and len(target) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in target)
        ):
            lo, hi = _range(target, key)
            Opt("target", "int", min=0, max=boards - 1).check(int(lo), key)
            Opt("target", "int", min=0, max=boards - 1).check(int(hi), key)
            return
        for j, item in enumerate(target):
            if isinstance(item, list):
                raise ConfigError(f"{key}[{j}]", "a list inside a list of targets")
            _check_target(item, kind, boards, f"{key}[{j}]")
        return
    want = "a board index or @state" if kind in BOARD_FAULTS else "a device name"
    raise ConfigError(key, f"{show(target)} is not {want}")


def scenario_rng(sc: Scenario, seed: int) -> np.random.Generator:
    """The generator a scenario's draws come from: its name and the seed."""
    return np.random.default_rng([seed, zlib.crc32(sc.name.encode())])


def _draw(value: Any, rng: np.random.Generator) -> Any:
    """A detail value: a range [lo, hi] is drawn uniformly, a list of anything else is
    chosen from, anything else kept."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) for v in value)
    ):
        lo, hi = float(value[0]), float(value[1])
        return float(rng.uniform(lo, hi)) if hi > lo else lo
    if isinstance(value, list) and value:
        return value[int(rng.integers(len(value)))]
    return value


def draw_faults(sc: Scenario, rng: np.random.Generator) -> list[ScheduledFault]:
    """The scenario's faults for one seed: times, targets and details drawn."""
    out: list[ScheduledFault] = []
    times: dict[str, float] = {}
    for spec in sc.fault_specs:
        for _ in range(int(spec.get("count", 1))):
            lo, hi = _range(spec.get("t_s", 0.0), "t_s")
            t = float(rng.uniform(lo, hi)) if hi > lo else lo
            if "after" in spec:
                t += times[str(spec["after"])] - sc.start_s
            t = round(min(t, sc.duration_s - END_MARGIN_S), 3)
            target = spec["target"]
            if isinstance(target, list):
                if len(target) == 2 and all(isinstance(v, int) for v in target):
                    target = int(rng.integers(target[0], target[1] + 1))
                else:
                    target = target[int(rng.integers(len(target)))]
            detail = {k: _draw(v, rng) for k, v in dict(spec.get("detail", {})).items()}
            label = str(spec.get("label", ""))
            if label:
                times[label] = sc.start_s + t
            out.append(
                ScheduledFault(
                    round(sc.start_s + t, 3), FaultKind(str(spec["kind"])), target, detail, label
                )
            )
    return sorted(out, key=lambda f: f.t_s)


def draw_jobs(sc: Scenario, rng: np.random.Generator) -> list[Job]:
    """Jobs back to back on ``busy_boards`` boards, each submitted ``lead`` seconds before
    the one before it on its board should finish, so boards stay busy until ``until_s``;
    a job is only submitted if its deadline falls inside the run."""
    spec = sc.jobs
    until = spec.until_s if spec.until_s is not None else sc.duration_s
    lead = 10.0
    jobs: list[Job] = []
    for _board in range(sc.busy_boards):
        t = 0.0
        while t < until:
            work = float(rng.uniform(*spec.work_s))
            submit = float(max(1, round(t - lead)))
            deadline = int(t - submit + work + spec.slack_s)
            if submit + deadline > sc.duration_s - 1.0:
                break
            jobs.append(
                Job(sc.start_s + submit, round(work, 1), deadline, spec.checkpoint_s, spec.priority)
            )
            t += work
    jobs.sort(key=lambda j: j.submit_s)
    return jobs


def scenario_mission(sc: Scenario, seed: int, mission: str | None = None) -> Mission:
    """The mission a scenario runs: its node size and overrides, no background workload
    (the scenario's own jobs are the only ones, so the ground knows every job)."""
    m = load_mission(mission, seed=seed)
    craft = {
        **m.hal.get("spacecraft", {}),
        **sc.spacecraft,
        "boards": sc.boards,
        "radiation_enabled": sc.radiation,
    }
    m.hal = {**m.hal, "spacecraft": craft}
    if sc.day_of_year is not None:
        m.orbit = {**m.orbit, "day_of_year": sc.day_of_year}
    if sc.start_s:
        m.executive = replace(m.executive, start_ns=round(sc.start_s * 1e9))
    m.workload = {}  # the mission's [workload] is the ground's jobs: none here
    for spec in m.apps:
        for key, value in sc.params.items():
            app, _, name = str(key).partition(".")
            if app == spec.name:
                spec.params = {**spec.params, name: value}
    return m


def job_script(m: Mission, jobs: list[Job]) -> list[tuple[float, bytes, int]]:
    """``payload.submit_jobs`` TCs (time, packet, jobs in it): the jobs due at one second,
    up to 100 a TC."""
    if not jobs:
        return []
    from flightsw.runtime.dictionary import build_dictionary

    enc = CommandEncoder(build_dictionary(m))
    script: list[tuple[float, bytes, int]] = []
    i = 0
    while i < len(jobs):
        t = jobs[i].submit_s
        batch = [j for j in jobs[i : i + JOBS_PER_TC] if j.submit_s == t]
        i += len(batch)
        body = struct.pack(">H", len(batch)) + b"".join(
            _JOB.pack(j.work_s / 3600.0, j.priority, j.deadline_s, j.checkpoint_s) for j in batch
        )
        script.append((t, enc.encode("payload.submit_jobs", app_data=body), len(batch)))
    return script


@dataclass
class RunRecord:
    """What a run left for scoring: the ground's view and the world's truth."""

    summary: dict[str, Any]
    events: Events
    hk: dict[str, list[tuple[float, float]]]  # "structure.point" -> [(t, value)]
    verification: list[tuple[float, int, int, int | None]]  # (t, subservice, req, code)
    tcs: list[tuple[float, int, int]]  # (t, request id, number of jobs)
    jobs: list[Job]
    faults: list[ScheduledFault]
    dictionary: dict[str, Any]
    orbit_s: float = 5996.0
    start_s: float = 0.0


HK_POINTS = (
    "thermal.thermal.zone0_c",
    "thermal.thermal.zone1_c",
    "thermal.thermal.zone2_c",
    "thermal.thermal.zone3_c",
    "thermal.thermal.zones_valid",
    "fdir.fdir.battery_temp_c",
    "fdir.fdir.ecc_corrected",
)


def run_scenario(
    name_or_path: str, seed: int, out_dir: Path | None = None, mission: str | None = None
) -> dict[str, Any]:
    """Run one scenario with one seed; returns its score (and writes scenario.json)."""
    from flightsw.sil.scoring import score

    sc, record = record_scenario(name_or_path, seed, out_dir, mission)
    result = score(sc, seed, record)
    if out_dir is not None:
        (out_dir / "scenario.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


@dataclass(frozen=True)
class PreparedScenario:
    """One scenario with one seed, drawn and ready to run: its mission, the faults and
    jobs the seed drew, and the uplink script that submits the jobs."""

    scenario: Scenario
    mission: Mission
    faults: list[ScheduledFault]
    jobs: list[Job]
    script: list[tuple[float, bytes, int]]  # (t, TC, number of jobs)

    def options(self, out_dir: Path, plots: bool) -> SimOptions:
        """The run's options, writing into ``out_dir``."""
        return SimOptions(
            duration_s=self.scenario.duration_s,
            out_dir=out_dir,
            progress=False,
            plots=plots,
            tc_script=[(t, tc) for t, tc, _n in self.script],
            faults=list(self.faults),
        )


def prepare_scenario(name_or_path: str, seed: int, mission: str | None = None) -> PreparedScenario:
    """Load a scenario and draw what ``seed`` gives it (faults, then jobs, one stream)."""
    sc = load_scenario(name_or_path)
    m = scenario_mission(sc, seed, mission)
    rng = scenario_rng(sc, seed)
    faults = draw_faults(sc, rng)
    jobs = draw_jobs(sc, rng)
    return PreparedScenario(sc, m, faults, jobs, job_script(m, jobs))


def record_scenario(
    name_or_path: str, seed: int, out_dir: Path | None = None, mission: str | None = None
) -> tuple[Scenario, RunRecord]:
    """Run one scenario with one seed; what the ground received and the world's truth."""
    from flightsw.runtime.dictionary import build_dictionary

    run = prepare_scenario(name_or_path, seed, mission)
    sc, m, faults, jobs, script = run.scenario, run.mission, run.faults, run.jobs, run.script
    with tempfile.TemporaryDirectory(prefix="flightsw-scenario-") as tmp:
        out = out_dir if out_dir is not None else Path(tmp)
        opts = run.options(out, plots=out_dir is not None)
        summary = run_sim(m, opts)
        archive = out / "archive.sqlite"
        record = RunRecord(
            summary=summary,
            events=read_events(archive),
            hk=read_hk(archive, HK_POINTS),
            verification=read_verification(archive),
            tcs=[(t, tc_request_id_from_bytes(tc), n) for t, tc, n in script],
            jobs=jobs,
            faults=faults,
            dictionary=build_dictionary(m),
            orbit_s=orbit_period_s(m),
            start_s=sc.start_s,
        )
    return sc, record


def read_events(archive: Path) -> Events:
    with sqlite3.connect(archive) as db:
        rows = db.execute("SELECT time_ns, name, args FROM events ORDER BY time_ns").fetchall()
    return [(t / 1e9, name, json.loads(args)) for t, name, args in rows]


def read_hk(archive: Path, points: tuple[str, ...]) -> dict[str, list[tuple[float, float]]]:
    """Time series of HK points named ``structure.point`` (structure as ``app.name``)."""
    from flightsw.ground.archive_query import ArchiveReader

    with ArchiveReader(archive) as reader:
        return {  # a point this build does not report: no samples
            p: [(t / 1e9, v) for t, v in reader.series(p)] if p in reader.points else []
            for p in points
        }


def read_verification(archive: Path) -> list[tuple[float, int, int, int | None]]:
    with sqlite3.connect(archive) as db:
        rows = db.execute(
            "SELECT time_ns, subservice, request_id, failure_code FROM verification "
            "ORDER BY time_ns"
        ).fetchall()
    return [(t / 1e9, s, r, c) for t, s, r, c in rows]
