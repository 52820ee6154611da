"""Fuzz targets for what users type: mission files, scenario files and the command line.

Unlike the decoder targets, these generate structured inputs rather than flipping
bits, and judge the whole outcome:

* ``mission-loader``: a shipped mission parsed to a tree, mutated (values swapped for
  edge values of every type, numbers scaled, keys deleted, misspelled or moved, apps
  duplicated or pointed at other classes), written back as TOML and, now and then,
  bit-flipped as text. ``load_mission`` must either load it or raise MissionError whose
  message starts with the file's path and stays on one line. Every few loads, a mission
  that loaded is built and run for two simulated seconds (radios forced to the
  simulated one, so no socket is opened): it must start (no load error) and no app may
  raise. A case slower than ``CASE_LIMIT_S`` is a finding (a schedule or a loop that
  explodes).
* ``scenario-loader``: the same for fault scenario files: ScenarioError naming the
  file, or a scenario.
* ``cli``: an argv for any subcommand built from the real options with edge values
  (numbers, text with undecodable octets, JSON that nests, huge integers, paths that
  are missing, directories or unwritable), and random octets on stdin. ``flightsw``
  runs in this process with its long-running back ends replaced by stubs that only
  check their inputs; it must exit 0 or 1, and a failure must be exactly one
  ``error:`` line on stderr (``--stdin`` modes: one error per bad line). An internal
  error (exit 70) is a finding.

Each case is deterministic from the fuzzer's random stream.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import random
import signal
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flightsw.base.errors import MissionError
from flightsw.runtime.mission import default_mission_path, load_mission

CASE_LIMIT_S = 20  # a case slower than this is a finding (schedules, loops that explode)
BUILD_EVERY = 4  # build and run one mission of this many that loaded


class Finding(Exception):
    """An outcome that breaks the target's contract."""


# --- TOML out ----------------------------------------------------------------------------


def _key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "_-" for c in k) else json.dumps(k)


def toml_value(v: Any) -> str:
    """A value as TOML (inline tables and arrays); what tomllib reads back as ``v``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\\u007f", "\\u007F")
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(doc: dict[str, Any]) -> str:
    """A document as TOML: top-level keys, each table inline."""
    return "".join(f"{_key(k)} = {toml_value(v)}\n" for k, v in doc.items())


# --- structured mutation ------------------------------------------------------------------

EDGE_VALUES: list[Any] = [
    0,
    -1,
    1,
    2,
    3,
    7,
    255,
    2**31,
    2**63 - 1,
    2**64,
    -(2**63),
    10**30,
    0.0,
    -0.0,
    1e-7,
    1e-300,
    0.3,
    1e300,
    math.inf,
    -math.inf,
    math.nan,
    True,
    False,
    "",
    "false",
    "true",
    "0",
    "x" * 300,
    "\x00",
    "é\u202e",
    [],
    [1, "a"],
    {},
    {"x": 1},
]
APP_CLASSES = [
    "flightsw.apps.power:PowerApp",
    "flightsw.apps.thermal:ThermalApp",
    "flightsw.apps.payload:PayloadApp",
    "flightsw.services.comms:CommsService",
    "flightsw.services.storage:PacketStoreService",
    "flightsw.services.test_service:TestService",
    "fdir.app:FdirApp",
    "flightsw.framework.app:App",
    "flightsw.framework.app:Arg",
    "flightsw.nothing:X",
    "flightsw.framework.app",
    "a:b:c",
    ":",
]
KNOWN_KEYS = [
    "rate_hz",
    "params",
    "options",
    "id_base",
    "name",
    "class",
    "seed",
    "apid",
    "boards",
    "radio",
    "spacecraft",
    "workload",
    "sdls",
    "scid",
    "tm_frame_len",
    "tc_randomize",
    "altitude_km",
    "kind",
    "bind",
    "minor_frame_hz",
    "minor_per_major",
    "table",
    "ladder",
    "critical_apps",
    "overflow",
    "segment_bytes",
    "rate_exponent",
    "gain",
]


def _edge_value(rng: random.Random) -> Any:
    """One of EDGE_VALUES, copied: mutations must never change the pool itself."""
    return copy.deepcopy(rng.choice(EDGE_VALUES))


def _nested(depth: int) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if len(prefix) >= 6:  # do not walk into the deep values a mutation made
        return
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _edge(rng: random.Random, old: Any) -> Any:
    roll = rng.random()
    if roll < 0.5:
        return _edge_value(rng)
    if roll < 0.75 and isinstance(old, int | float) and not isinstance(old, bool):
        factor = rng.choice([0, -1, 0.5, 1 / 3, 2, 10, 1000, 1e-9, 1e9, 1e30])
        new = old * factor
        return (
            int(new) if isinstance(old, int) and rng.random() < 0.5 and math.isfinite(new) else new
        )
    if roll < 0.85:
        return (
            str(old) if not isinstance(old, str) else rng.choice([old.upper(), old[:-1], old * 2])
        )
    if roll < 0.9:
        return _nested(rng.choice([5, 50, 150]))
    return rng.choice(APP_CLASSES)


def _typo(rng: random.Random, key: str) -> str:
    if len(key) > 1 and rng.random() < 0.5:
        i = rng.randrange(len(key) - 1)
        return key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    return key + rng.choice(["s", "_", "x", ""]) or "k"


def mutate_tree(rng: random.Random, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with one to four structured mutations (a deep copy)."""
    doc = json.loads(json.dumps(doc))  # a copy; TOML values are JSON values here
    for _ in range(rng.randint(1, 4)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent, last = _get(doc, path[:-1]), path[-1]
        op = rng.randrange(8)
        if op == 0:
            del parent[last]
        elif op <= 3:
            parent[last] = _edge(rng, parent[last])
        elif op == 4 and isinstance(parent, dict):
            parent[_typo(rng, str(last))] = parent.pop(last)
        elif op == 5 and isinstance(parent, dict):
            parent[rng.choice(KNOWN_KEYS)] = _edge(rng, parent[last])
        elif op == 6 and isinstance(doc.get("apps"), list) and doc["apps"]:
            app = json.loads(json.dumps(rng.choice(doc["apps"])))
            if isinstance(app, dict) and rng.random() < 0.5:
                app["name"] = f"{app.get('name', 'x')}{rng.randrange(10)}"
                app["id_base"] = rng.choice([0x3000, 0x2000, 0xFF00, 0x1000])
            doc["apps"].append(app)
        elif isinstance(parent, dict | list):
            node = _get(doc, path)
            if isinstance(node, dict):
                node[rng.choice(KNOWN_KEYS)] = _edge_value(rng)
            elif isinstance(node, list):
                node.append(_edge_value(rng))
            else:
                parent[last] = {"x": node} if rng.random() < 0.5 else [node]
    return doc


def mutate_mild(rng: random.Random, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with a few plausible changes (numbers scaled a little, booleans flipped):
    missions that mostly load, so that building and running them is exercised."""
    doc = json.loads(json.dumps(doc))
    leaves = [p for p in _paths(doc) if p and not isinstance(_get(doc, p), dict | list)]
    for path in rng.sample(leaves, min(len(leaves), rng.randint(1, 3))):
        parent, last = _get(doc, path[:-1]), path[-1]
        value = parent[last]
        if isinstance(value, bool):
            parent[last] = not value
        elif isinstance(value, int):
            parent[last] = max(0, round(value * rng.choice([0.5, 0.9, 1, 1.1, 2])))
        elif isinstance(value, float):
            parent[last] = value * rng.choice([0.5, 0.9, 1.1, 2, 10])
    return doc


def mutate_text(rng: random.Random, text: bytes) -> bytes:
    """A few octet-level changes to a file's text."""
    buf = bytearray(text)
    for _ in range(rng.randint(1, 3)):
        if not buf:
            break
        i = rng.randrange(len(buf))
        op = rng.randrange(4)
        if op == 0:
            buf[i] = rng.randrange(256)
        elif op == 1:
            del buf[i : i + rng.randint(1, 20)]
        elif op == 2:
            buf[i:i] = rng.choice([b"[", b"]", b"=", b'"', b"\n", b"\xff", b"{", b"[[apps]]\n"])
        else:
            buf[i:i] = buf[rng.randrange(len(buf)) :][: rng.randint(1, 40)]
    return bytes(buf)


# --- running a case with a time limit ----------------------------------------------------


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Finding if the block runs longer (main thread on POSIX only; else no limit)."""

    def expire(_sig: int, _frame: object) -> None:
        raise Finding(f"still running after {seconds} s")

    try:
        old = signal.signal(signal.SIGALRM, expire)
    except (ValueError, AttributeError):  # not the main thread, or no SIGALRM
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _one_line_naming(exc: Exception, path: str) -> None:
    msg = str(exc)
    if not msg.startswith(path + ": ") or "\n" in msg:
        raise Finding(f"error does not name the file on one line: {msg[:300]!r}")


# --- mission loader -----------------------------------------------------------------------


class MissionTarget:
    """Structured mutations of the shipped missions through ``load_mission``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        data = Path(default_mission_path()).parent
        self.bases = [tomllib.loads((data / f"{n}.toml").read_text()) for n in ("default", "bench")]
        self.loaded = 0
        self.built = 0

    def generate(self, rng: random.Random) -> bytes:
        base = rng.choice(self.bases)
        doc = mutate_mild(rng, base) if rng.random() < 0.4 else mutate_tree(rng, base)
        text = to_toml(doc).encode()
        if rng.random() < 0.15:
            text = mutate_text(rng, text)
        return text

    def run(self, data: bytes) -> None:
        path = self.workdir / "fuzz-mission.toml"
        path.write_bytes(data)
        with time_limit(CASE_LIMIT_S):
            try:
                mission = load_mission(str(path))
            except MissionError as exc:
                _one_line_naming(exc, str(path))
                return
            self.loaded += 1
            if self.loaded % BUILD_EVERY == 0:
                self.built += 1
                build_and_run(mission)


def build_and_run(mission: Any, frames: int = 20) -> None:
    """Start a loaded mission on the simulated HAL and run it; no app may fail."""
    from flightsw.runtime.executive import Executive
    from hal.clocks import SimClock
    from hal.factory import build_hal

    hal_table = dict(mission.hal)
    hal_table["backend"] = "sim"  # a bench port or a socket is not this test's business
    radio = dict(hal_table.get("radio") or {})
    if radio.get("kind") in ("udp", "tcp"):
        radio = {"kind": "none"}
    hal_table["radio"] = radio
    hal = build_hal({**hal_table, "orbit": mission.orbit}, mission.seed, SimClock(0))
    try:
        exe = Executive(mission.executive, mission.specs, hal)
    except Exception as exc:
        reason = f"a mission that loaded does not start: {type(exc).__name__}: {exc}"
        raise Finding(reason) from exc
    exe.run_frames(frames)
    failed = {a.spec.name: a.stats.exceptions for a in exe.apps if a.stats.exceptions}
    if failed:
        raise Finding(f"apps raised while running a mission that loaded: {failed}")


# --- scenario loader ----------------------------------------------------------------------


class ScenarioTarget:
    """Structured mutations of the shipped scenarios through ``load_scenario``."""

    def __init__(self, workdir: Path) -> None:
        from flightsw.sil.scenario import scenario_dir

        self.workdir = workdir
        self.bases = [tomllib.loads(p.read_text()) for p in sorted(scenario_dir().glob("*.toml"))]

    def generate(self, rng: random.Random) -> bytes:
        text = to_toml(mutate_tree(rng, rng.choice(self.bases))).encode()
        return mutate_text(rng, text) if rng.random() < 0.15 else text

    def run(self, data: bytes) -> None:
        from flightsw.sil.scenario import load_scenario

        path = self.workdir / "fuzz-scenario.toml"
        path.write_bytes(data)
        try:
            load_scenario(str(path))
        except MissionError as exc:
            _one_line_naming(exc, str(path))


# --- the command line ---------------------------------------------------------------------

NUMBERS = ["0", "-1", "1", "10", "1e300", "-1e-300", "nan", "inf", "0x10", "1_0", "9" * 60, "", " "]
TEXTS = ["x", "", " ", "\udcff", "é", "a=b", "-", "--", "--help", "\t", "\x1b[31m", "x" * 2000]


class CliTarget:
    """``flightsw`` argv and stdin, in this process, long-running back ends stubbed."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        good = workdir / "good.toml"
        good.write_text(Path(default_mission_path()).read_text())
        bad = workdir / "bad.toml"
        bad.write_text("[orbit]\naltitude_km = 'low'\n")
        binary = workdir / "binary.toml"
        binary.write_bytes(b"\xff\xfe\x00[")
        scen = workdir / "scen.toml"
        scen.write_text("[scenario]\nduration_s = 10.0\nboards = 4\n")
        self.paths = [
            str(good),
            str(bad),
            str(binary),
            str(scen),
            str(workdir),
            str(workdir / "missing.toml"),
            "/proc/flightsw/none",
            "default",
            "bench",
            "sel",
            "nope",
            str(workdir / "out"),
        ]

    def _value(self, rng: random.Random, kind: str) -> str:
        roll = rng.random()
        if roll < 0.15:
            return rng.choice(TEXTS + NUMBERS)
        if kind == "num":
            spread = [str(rng.randint(-5, 2000)), repr(rng.uniform(-10, 10000.0))]
            return rng.choice([*NUMBERS, *spread])
        if kind == "path":
            return rng.choice(self.paths)
        if kind == "addr":
            return rng.choice(["127.0.0.1:9", "h:70000", "x", "tcp://127.0.0.1:9", ":1", "a:b"])
        if kind == "hal":
            return rng.choice(["sim", "serial:", "serial:/dev/null", "bogus", "udp:1"])
        if kind == "radio":
            return rng.choice(["udp:127.0.0.1:9", "tcp:h:1", "udp:", "laser:x:1", "udp:h:99999"])
        if kind == "cmd":
            return rng.choice(["test.ping", "payload.submit_job board_hours=1e300", "x", "a b=c"])
        if kind == "hex":
            return rng.choice(["1864c000000011", "18", "0g", "0x18", "", "ff" * 70_000])
        if kind == "json":
            return _json_text(rng)
        if kind == "kind":
            return rng.choice(
                ["space-packet", "pus-tc", "pus-tm", "tc-frame", "cltu", "aos-frame", "x"]
            )
        return rng.choice(TEXTS)

    def generate(self, rng: random.Random) -> bytes:
        verb = rng.choice(["sim", "sim", "ground", "campaign", "dict", "packet", "packet", "junk"])
        argv: list[str]
        if verb == "sim":
            argv = ["sim"]
            opts = {
                "--mission": "path",
                "--orbits": "num",
                "--duration": "num",
                "--seed": "num",
                "--out": "path",
                "--hal": "hal",
                "--radio": "radio",
                "--boards": "num",
                "--scenario": "path",
            }
            flags = ["--realtime", "--no-plots", "--quiet"]
        elif verb == "ground":
            argv = ["ground"]
            opts = {"--udp": "addr", "--mission": "path", "--send": "cmd", "--listen": "num"}
            opts["--archive"] = "path"
            flags = ["--stdin"]
        elif verb == "campaign":
            argv = ["campaign"]
            opts = {"--scenarios": "path", "--seeds": "num", "--first-seed": "num"}
            opts |= {"--scheduler": "addr", "--workers": "num", "--out": "path"}
            flags = ["--quiet"]
        elif verb == "dict":
            argv = ["dict", "export"]
            opts = {"--format": "text", "--mission": "path", "-o": "path"}
            flags = []
        elif verb == "packet":
            action = rng.choice(["decode", "encode"])
            argv = ["packet", action, self._value(rng, "kind")]
            if rng.random() < 0.7:
                argv.append(self._value(rng, "hex" if action == "decode" else "json"))
            opts = {"--time-len": "num"}
            flags = ["--stdin"]
        else:
            argv = [rng.choice([*TEXTS, "-h", "--version", "help"])]
            opts, flags = {}, []
        for opt, kind in opts.items():
            if rng.random() < 0.35:
                argv += [opt, self._value(rng, kind)]
        for flag in flags:
            if rng.random() < 0.2:
                argv.append(flag)
        if verb == "sim" and "--duration" not in argv and "--scenario" not in argv:
            argv += ["--duration", "1"]
        if rng.random() < 0.1 and len(argv) > 1:
            del argv[rng.randrange(1, len(argv))]
        stdin = _stdin_octets(rng) if "--stdin" in argv else b""
        return json.dumps({"argv": argv, "stdin": stdin.hex()}).encode()

    def run(self, data: bytes) -> None:
        case = json.loads(data)
        argv, stdin = case["argv"], bytes.fromhex(case["stdin"])
        with time_limit(CASE_LIMIT_S), stubs(self.workdir):
            status, out, err = run_cli(argv, stdin)
        lines = err.splitlines()
        if status == 70 or "internal error" in err:
            raise Finding(f"internal error: {err.strip()[:300]}")
        if status not in (0, 1):
            raise Finding(f"exit status {status}: {err.strip()[:300]}")
        if status == 0 and ("-h" in argv or "--help" in argv):
            return  # argparse printed the help and stopped
        if "--stdin" not in argv:
            if status == 1 and (len(lines) != 1 or not lines[0].startswith("error:")):
                raise Finding(f"not one error line: {err[:300]!r}")
            return
        summary = [ln for ln in lines if not ln.startswith("error:")]
        if argv[0] == "packet":  # errors are objects on stdout; stderr only for usage
            if len(lines) > 1 or summary:
                raise Finding(f"stderr in --stdin mode: {err[:300]!r}")
            for row in out.splitlines():
                if not (row.startswith('{"') or all(c in "0123456789abcdef" for c in row)):
                    raise Finding(f"an output line neither JSON nor hex: {row[:100]!r}")
        elif len(summary) > 1:
            raise Finding(f"more than the summary line besides errors: {err[:300]!r}")


def _json_text(rng: random.Random) -> str:
    choice = rng.randrange(6)
    if choice == 0:
        return '{"apid": ' + "9" * rng.choice([10, 41, 5000]) + ', "service": 17, "subservice": 1}'
    if choice == 1:
        return "[" * rng.choice([10, 1000, 100_000]) + "]" * 10
    if choice == 2:
        obj = {"apid": rng.choice(EDGE_VALUES[:20]), "service": 17, "subservice": 1}
        return json.dumps(obj, allow_nan=True)
    if choice == 3:
        return json.dumps({"apid": 1, "service": 1, "subservice": 1, "app_data": "\udcff"})
    if choice == 4:
        return json.dumps(
            {rng.choice(["apid", "data", "crc", "x\n"]): _nested(rng.choice([1, 50]))}
        )
    return '{"apid": 100, "service": 17, "subservice": 1}'


def _stdin_octets(rng: random.Random) -> bytes:
    lines = []
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        if roll < 0.3:
            lines.append(b"1864c000000011")
        elif roll < 0.5:
            lines.append(rng.randbytes(rng.randint(0, 40)))
        elif roll < 0.7:
            lines.append(_json_text(rng).encode("utf-8", "surrogateescape"))
        elif roll < 0.8:
            lines.append(b"test.ping")
        elif roll < 0.85:
            lines.append(b"a" * ((1 << 20) + 5))
        else:
            lines.append(b"\xff\xfe\xc0\x80")
    return b"\n".join(lines) + (b"\n" if rng.random() < 0.7 else b"")


def run_cli(argv: list[str], stdin: bytes) -> tuple[int, str, str]:
    """``flightsw argv`` in this process: (status, stdout, stderr)."""
    from flightsw.cli import main as cli

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(argv)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = old_stdin
    return status, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def stubs(workdir: Path) -> Iterator[None]:
    """Replace the CLI's long-running back ends with ones that only check their inputs."""
    import flightsw.ground.console as console
    import flightsw.sil.campaign as campaign
    import flightsw.sil.scenario as scenario
    import flightsw.sil.simulate as simulate
    from flightsw.ground.commanding import CommandEncoder
    from flightsw.runtime.dictionary import build_dictionary
    from hal.factory import validate_config

    def run_sim(mission: Any, opts: Any) -> dict[str, Any]:
        validate_config(mission.hal, mission.orbit)
        host = {"wall_seconds": 0.0, "realtime_factor": 0.0}
        return {"mission": mission.name, "seed": mission.seed, "host_profile": host}

    def run_scenario(name: str, seed: int, out: Any = None, mission: Any = None) -> dict[str, Any]:
        m = scenario.scenario_mission(scenario.load_scenario(name), seed, mission)
        validate_config(m.hal, m.orbit)
        keys = ("scenario", "seed", "passed", "checks", "kinds", "failures", "false_alarms")
        keys += ("false_alarm_events", "isolated", "lost")
        return dict.fromkeys(keys, 0) | {"passed": True}

    def run_campaign(names: Any, seeds: int, out: Path, **kw: Any) -> dict[str, Any]:
        for name in names or []:
            scenario.load_scenario(name)
        return {"totals": campaign.aggregate([]), "cluster": "stub"}  # the real keys

    class Console:
        def __init__(
            self, mission: Any, address: Any, archive: Path, out: Callable[..., Any], **kw: Any
        ):
            self.encoder = CommandEncoder(build_dictionary(mission))
            self.tm_packets = 0

        def send(self, text: str) -> int:
            name, args = console.parse_command(text)
            self.encoder.encode(name, args or None)
            return 0

        def run_for(self, seconds: float) -> None:
            pass

        def set_arsn(self, arsn: int | None = None) -> int:
            return 0 if arsn is None else arsn

        def skip_arsn(self, arsn: int) -> int:
            return arsn

        def resync(self, challenge: int) -> dict[int, int]:
            return {1: challenge & 0xFF}

        def summary(self) -> str:
            return "stub console"

        def close(self) -> None:
            pass

    saved = (simulate.run_sim, scenario.run_scenario, campaign.run_campaign, console.GroundConsole)
    cwd = os.getcwd()
    os.chdir(workdir)  # default run directories land here, not in the checkout
    simulate.run_sim = run_sim  # type: ignore[assignment]
    scenario.run_scenario = run_scenario  # type: ignore[assignment]
    campaign.run_campaign = run_campaign  # type: ignore[assignment]
    console.GroundConsole = Console  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        os.chdir(cwd)
        simulate.run_sim, scenario.run_scenario, campaign.run_campaign = saved[:3]
        console.GroundConsole = saved[3]  # type: ignore[misc]


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="flightsw-fuzz-"))
