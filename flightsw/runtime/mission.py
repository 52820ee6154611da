"""Mission files: which apps run, at what rates, with which parameters, on which HAL.

A mission is a TOML file. The executive's core services are always loaded first under
fixed names and id bases; ``[services.NAME]`` tunes them. Every ``[[apps]]`` entry names
its class by dotted path (``package.module:Class``).

Every table is declared (``flightsw.base.schema``): the mission's own tables here, the
executive's from ``ExecutiveConfig``, ``[hal]``, ``[hal.spacecraft]``, ``[hal.radio]``
and ``[orbit]`` by the HAL backends, ``[workload]`` in ``flightsw.runtime.workload_schema``,
an app's ``options`` by its class's ``OPTIONS``
and its ``params`` by its ``PARAMETERS``. All of it is checked at load, before anything
is built or run: unknown keys (a typo must not silently fall back to a default), wrong
types, numbers that are not finite or out of range, rates the frame schedule cannot
hold, ids that collide. Every error is a MissionError naming the file, the key and the
value.
"""

from __future__ import annotations

import importlib
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from flightsw.base.errors import EncodeError, MissionError
from flightsw.base.schema import REQUIRED, ConfigError, Opt, Schema, from_dataclass, show
from flightsw.framework.app import App, AppSpec
from flightsw.framework.parameters import ParameterStore
from flightsw.link.sdls_config import LinkSecurity, link_security
from flightsw.runtime.executive import EXECUTIVE_APP, ExecutiveConfig
from flightsw.runtime.schedule import ScheduleError, build_schedule
from flightsw.runtime.workload_schema import WORKLOAD
from flightsw.services.event_action.app import EventActionService
from flightsw.services.events.app import EventService
from flightsw.services.executive_app.app import ExecutiveApp
from flightsw.services.files.app import FileService
from flightsw.services.housekeeping.app import HousekeepingService
from flightsw.services.monitoring.app import MonitoringService
from flightsw.services.parameters.app import ParameterService
from flightsw.services.scheduling.app import SchedulingService
from flightsw.services.sequencer.app import SequencerService
from flightsw.services.storage.app import PacketStoreService
from flightsw.services.tables.app import TableService
from flightsw.services.test_service.app import TestService
from flightsw.services.time_report.app import TimeService
from hal.factory import HalError, validate_config

DEFAULT_MISSION = "default"
MIN_APP_ID_BASE = 0x1000

CORE_SERVICES: tuple[tuple[str, type[App], int], ...] = (
    (EXECUTIVE_APP, ExecutiveApp, 0x0000),
    ("housekeeping", HousekeepingService, 0x0100),
    ("events", EventService, 0x0200),
    ("time", TimeService, 0x0300),
    ("test", TestService, 0x0400),
    ("parameters", ParameterService, 0x0500),
    ("storage", PacketStoreService, 0x0600),
    ("files", FileService, 0x0700),
    ("sequencer", SequencerService, 0x0A00),
    ("scheduler", SchedulingService, 0x0B00),
    ("monitoring", MonitoringService, 0x0C00),
    ("event_action", EventActionService, 0x0D00),
    ("tables", TableService, 0x0E00),
)
# Core services that run in every minor frame whatever the frame rate (release on time).
EVERY_MINOR_FRAME = frozenset({"scheduler", "sequencer"})

MAX_APPS = 64
MAX_SEED = 2**63 - 1
APP_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,31}"

MISSION = Schema(
    Opt("name", "str", None, doc="default: the file's name"),
    Opt("description", "str", ""),
    Opt("seed", "int", 0, min=0, max=MAX_SEED, doc="seeds every random stream"),
    Opt("apid", "int", 0x064, min=0, max=0x7FE, doc="the flight software's APID"),
)
# [executive]: every ExecutiveConfig field but the two set from [mission].
EXECUTIVE_RANGES: dict[str, tuple[float, float]] = {
    "minor_frame_hz": (0.001, 1000),
    "minor_per_major": (1, 10_000),
    "start_ns": (0, 2**62),
    "tm_queue_depth": (1, 1_000_000),
    "uplink_depth": (1, 1_000_000),
    "max_tc_per_frame": (1, 100_000),
    "max_restarts": (1, 1_000),
    "restart_window_s": (0.001, 1e8),
    "overrun_escalation": (1, 1_000),
}
EXECUTIVE = from_dataclass(
    ExecutiveConfig, EXECUTIVE_RANGES, skip=("apid", "seed"), default_range=(1, 1e9)
)
SERVICE_ENTRY = Schema(
    Opt("rate_hz", "float", None, above=0, max=1000, unit="Hz", doc="default: the class's"),
    Opt("params", "table", {}, doc="parameter overrides, checked against PARAMETERS"),
    Opt("budget_ms", "float", None, above=0, max=1e6, unit="ms", doc="CPU budget per run"),
    Opt("pipe_depth", "int", 16, min=1, max=65_536, doc="command pipe depth"),
    Opt("options", "table", {}, doc="checked against the class's OPTIONS"),
)
APP_ENTRY = SERVICE_ENTRY.extend(
    Opt("name", "str", REQUIRED, pattern=APP_NAME),
    Opt("class", "str", REQUIRED, doc="package.module:Class"),
    Opt("id_base", "int", REQUIRED, min=0x1000, max=0xFF00, doc="ids are base + local id"),
)
TOP = Schema(
    Opt("mission", "table", {}, fields=MISSION),
    Opt("executive", "table", {}, fields=EXECUTIVE),
    Opt("hal", "table", {}, doc="checked by the HAL backend (hal.factory.validate_config)"),
    Opt("orbit", "table", {}, doc="checked by the HAL backend"),
    Opt(
        "services",
        "table",
        {},
        fields=Schema(*(Opt(n, "table", {}, fields=SERVICE_ENTRY) for n, _, _ in CORE_SERVICES)),
    ),
    Opt("apps", "list", [], max=MAX_APPS, items=Opt("app", "table", fields=APP_ENTRY)),
    Opt("workload", "table", None, fields=WORKLOAD, doc="the ground's jobs in simulation"),
)


@dataclass
class Mission:
    """A loaded, validated mission."""

    path: str
    name: str
    description: str
    seed: int
    executive: ExecutiveConfig
    hal: dict[str, Any]
    orbit: dict[str, Any]
    apps: list[AppSpec] = field(default_factory=list)
    # The ground's workload in simulation (``[workload]``, flightsw.runtime.workload_schema);
    # {}: none.
    workload: dict[str, Any] = field(default_factory=dict)

    @property
    def specs(self) -> list[AppSpec]:
        return self.apps

    def key_of(self, app: str) -> str:
        """Where an app is declared in the file (for errors about it)."""
        core = {n for n, _, _ in CORE_SERVICES}
        if app in core:
            return f"services.{app}"
        extra = [s.name for s in self.apps if s.name not in core]
        return f"apps[{extra.index(app)}] ({app})" if app in extra else app

    def hal_config(self) -> dict[str, Any]:
        """The [hal] table with the orbit added: what a HAL backend is built from."""
        return {**self.hal, "orbit": dict(self.orbit)}


def default_mission_path() -> Path:
    return Path(str(resources.files("flightsw") / "data" / f"{DEFAULT_MISSION}.toml"))


def resolve_mission(name_or_path: str | None) -> Path:
    """A path to a mission file, or a mission shipped with the package by name."""
    if name_or_path is None:
        return default_mission_path()
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        return p
    shipped = Path(str(resources.files("flightsw") / "data" / f"{name_or_path}.toml"))
    if shipped.exists():
        return shipped
    raise MissionError(name_or_path, "-", "no such file and no shipped mission of that name")


def load_mission(name_or_path: str | None = None, seed: int | None = None) -> Mission:
    path = resolve_mission(name_or_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MissionError(str(path), "-", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MissionError(str(path), "-", f"not UTF-8 at byte {exc.start}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MissionError(str(path), "-", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise MissionError(str(path), "-", "not valid TOML: nested too deeply") from None
    return parse_mission(doc, str(path), seed)


def parse_mission(doc: dict[str, Any], path: str, seed: int | None = None) -> Mission:
    """A checked Mission from a parsed TOML document; MissionError naming ``path``."""
    try:
        return _parse(doc, path, seed)
    except ConfigError as exc:
        raise MissionError(path, exc.key, exc.reason) from None
    except RecursionError:
        raise MissionError(path, "-", "nested too deeply") from None


def _parse(doc: dict[str, Any], path: str, seed: int | None) -> Mission:
    top = TOP.validate(doc, "")
    m = top["mission"]
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ConfigError("seed", f"{show(seed)} is outside 0..{MAX_SEED}")
    cfg = ExecutiveConfig(apid=m["apid"], **top["executive"])
    cfg.seed = m["seed"] if seed is None else seed
    try:
        validate_config(top["hal"], top["orbit"])
    except HalError as exc:
        raise ConfigError("hal", str(exc)) from None

    specs: list[AppSpec] = []
    for svc_name, cls, base in CORE_SERVICES:
        s = top["services"][svc_name]
        if svc_name in EVERY_MINOR_FRAME and s.get("rate_hz") is None:
            s = {**s, "rate_hz": cfg.minor_frame_hz}
        specs.append(_spec(svc_name, cls, base, s, f"services.{svc_name}"))
    used = {s.name for s in specs}
    for i, a in enumerate(top["apps"]):
        where = f"apps[{i}] ({a['name']})"
        if a["name"] in used:
            raise ConfigError(f"{where}.name", f"{a['name']!r} is already used")
        used.add(a["name"])
        cls = _import_app(a["class"], f"{where}.class")
        specs.append(_spec(a["name"], cls, a["id_base"], a, where))
    _check_schedule(specs, cfg, top)
    _check_ids(specs)
    return Mission(
        path=path,
        name=m.get("name", Path(path).stem),
        description=m["description"],
        seed=cfg.seed,
        executive=cfg,
        hal=top["hal"],
        orbit=dict(top["orbit"]),
        apps=specs,
        workload=dict(top.get("workload", {})),
    )


def _spec(name: str, cls: type[App], id_base: int, entry: dict[str, Any], where: str) -> AppSpec:
    """One app's spec, its options checked against OPTIONS and its params against
    PARAMETERS."""
    options = cls.OPTIONS.validate(entry["options"], f"{where}.options")
    return AppSpec(
        name=name,
        cls=cls,
        rate_hz=float(entry.get("rate_hz", cls.DEFAULT_RATE_HZ)),
        id_base=id_base,
        params=check_params(cls, entry["params"], f"{where}.params"),
        budget_ms=entry.get("budget_ms"),
        pipe_depth=entry["pipe_depth"],
        options=options,
    )


F32_MAX = 3.4028234663852886e38


def check_params(cls: type[App], params: dict[str, Any], where: str) -> dict[str, Any]:
    """Parameter overrides checked against the class's declared type and range."""
    declared = {p.name: p for p in cls.declarations().parameters}
    out: dict[str, Any] = {}
    for name, value in params.items():
        pdef = declared.get(name)
        if pdef is None:
            names = ", ".join(declared) or "none"
            raise ConfigError(f"{where}.{name}", f"unknown parameter (declared: {names})")
        try:
            checked = ParameterStore.validate(pdef, value)
        except EncodeError as exc:
            raise ConfigError(f"{where}.{name}", f"{show(value)}: {exc.reason}") from None
        if isinstance(checked, float) and not (
            math.isfinite(checked) and (pdef.type != "f32" or abs(checked) <= F32_MAX)
        ):
            raise ConfigError(f"{where}.{name}", f"{show(value)} is not a finite {pdef.type}")
        out[name] = checked
    return out


def _check_schedule(specs: list[AppSpec], cfg: ExecutiveConfig, top: dict[str, Any]) -> None:
    """The frame schedule builds (rates fit, the table stays bounded), naming the app."""
    try:
        build_schedule(
            [(s.name, s.rate_hz, 1.0) for s in specs], cfg.minor_frame_hz, cfg.minor_per_major
        )
    except ScheduleError as exc:
        key = "executive"
        for i, a in enumerate(top["apps"]):
            if a["name"] == exc.app:
                key = f"apps[{i}] ({exc.app}).rate_hz"
        if exc.app in top["services"] and exc.app != "executive":
            key = f"services.{exc.app}.rate_hz"
        raise ConfigError(key, exc.reason) from None


def _check_ids(specs: list[AppSpec]) -> None:
    """Global ids (base + local) of functions, events, parameters and HK are unique."""
    seen: dict[tuple[str, int], str] = {}
    for spec in specs:
        d = spec.cls.declarations()
        ids = [("function id", c.function_id) for c in d.commands if c.function_id is not None]
        ids += [("event id", e.local_id) for e in d.events]
        ids += [("parameter id", p.local_id) for p in d.parameters]
        ids += [("housekeeping sid", h.local_sid) for h in d.housekeeping]
        for kind, local in ids:
            gid = spec.id_base + local
            other = seen.setdefault((kind, gid), spec.name)
            if other != spec.name:
                raise ConfigError(
                    f"{spec.name}.id_base",
                    f"0x{spec.id_base:04x}: {kind} 0x{gid:04x} is also {other}'s",
                )


def _import_app(dotted: str, key: str) -> type[App]:
    module_name, sep, attr = dotted.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(key, f"{show(dotted)} is not of the form package.module:Class")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any failure of an import named by the file is the file's
        reason = f"cannot import {show(module_name)}: {type(exc).__name__}: {exc}"
        raise ConfigError(key, reason) from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, App)):
        raise ConfigError(key, f"{show(dotted)} is not an App subclass")
    return cls


def mission_link_security(mission: Mission) -> LinkSecurity | None:
    """The link security of the mission's comms service (None: the mission has none)."""
    comms = next((s for s in mission.apps if s.name == "comms"), None)
    return None if comms is None else link_security(comms.options)
