"""Mission files: which apps run, at what rates, with which parameters, on which HAL.

A mission is a TOML file. The executive's core services are always loaded first under
fixed names and id bases; ``[services.NAME]`` tunes them. Every ``[[apps]]`` entry names
its class by dotted path (``package.module:Class``). Unknown keys are errors (a typo must
not silently fall back to a default) and every error names the file, the key and the
problem.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from flightsw.app import App, AppSpec
from flightsw.errors import MissionError
from flightsw.executive import EXECUTIVE_APP, ExecutiveConfig
from flightsw.services.events import EventService
from flightsw.services.executive_app import ExecutiveApp
from flightsw.services.files import FileService
from flightsw.services.housekeeping import HousekeepingService
from flightsw.services.parameters import ParameterService
from flightsw.services.storage import PacketStoreService
from flightsw.services.test_service import TestService
from flightsw.services.time_report import TimeService

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
)

_TOP_KEYS = {"mission", "executive", "hal", "orbit", "services", "apps", "workload"}
_MISSION_KEYS = {"name", "description", "seed", "apid"}
_APP_KEYS = {"name", "class", "rate_hz", "id_base", "params", "budget_ms", "pipe_depth", "options"}
_SERVICE_KEYS = {"rate_hz", "params", "budget_ms", "pipe_depth", "options"}


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
    # The ground's workload in simulation (``[workload]``; checked by flightsw.ground.workload).
    workload: dict[str, Any] = field(default_factory=dict)

    @property
    def specs(self) -> list[AppSpec]:
        return self.apps

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
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MissionError(str(path), "-", f"cannot read: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MissionError(str(path), "-", f"not valid TOML: {exc}") from None
    return parse_mission(doc, str(path), seed)


def parse_mission(doc: dict[str, Any], path: str, seed: int | None = None) -> Mission:
    def err(key: str, reason: str) -> MissionError:
        return MissionError(path, key, reason)

    def table(d: dict[str, Any], key: str, allowed: set[str] | None, where: str) -> dict[str, Any]:
        value = d.get(key, {})
        if not isinstance(value, dict):
            raise err(where, "must be a table")
        if allowed is not None:
            extra = set(value) - allowed
            if extra:
                raise err(
                    f"{where}.{sorted(extra)[0]}", f"unknown key (allowed: {sorted(allowed)})"
                )
        return value

    def typed(
        d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any
    ) -> Any:
        if key not in d:
            return default
        v = d[key]
        if isinstance(v, bool) and kind is not bool:
            raise err(f"{where}.{key}", f"expected {_kind_name(kind)}, got a boolean")
        if not isinstance(v, kind):
            raise err(f"{where}.{key}", f"expected {_kind_name(kind)}, got {type(v).__name__}")
        return v

    extra = set(doc) - _TOP_KEYS
    if extra:
        raise err(sorted(extra)[0], f"unknown top-level key (allowed: {sorted(_TOP_KEYS)})")
    m = table(doc, "mission", _MISSION_KEYS, "mission")
    name = typed(m, "name", str, "mission", Path(path).stem)
    description = typed(m, "description", str, "mission", "")
    mission_seed = typed(m, "seed", int, "mission", 0)
    apid = typed(m, "apid", int, "mission", 0x064)
    if not 0 <= apid < 0x7FF:
        raise err("mission.apid", f"{apid} is not an APID in 0..2046")

    ex = table(
        doc, "executive", set(ExecutiveConfig.__dataclass_fields__) - {"apid", "seed"}, "executive"
    )
    cfg = ExecutiveConfig(apid=apid)
    for key in ex:
        default = getattr(cfg, key)
        kind: type | tuple[type, ...] = (int, float) if isinstance(default, float) else int
        setattr(cfg, key, typed(ex, key, kind, "executive", default))
    if cfg.minor_frame_hz <= 0 or cfg.minor_per_major < 1:
        raise err("executive", "minor_frame_hz must be > 0 and minor_per_major >= 1")
    for key in ("tm_queue_depth", "uplink_depth", "max_tc_per_frame", "max_restarts"):
        if getattr(cfg, key) < 1:
            raise err(f"executive.{key}", "must be >= 1")

    hal = table(doc, "hal", None, "hal")
    backend = typed(hal, "backend", str, "hal", "sim")
    hal = {**hal, "backend": backend}
    orbit = table(doc, "orbit", None, "orbit")
    workload = table(doc, "workload", None, "workload")

    services = table(doc, "services", {n for n, _, _ in CORE_SERVICES}, "services")
    specs: list[AppSpec] = []
    for svc_name, cls, base in CORE_SERVICES:
        s = table(services, svc_name, _SERVICE_KEYS, f"services.{svc_name}")
        rate = typed(s, "rate_hz", (int, float), f"services.{svc_name}", cls.DEFAULT_RATE_HZ)
        specs.append(
            AppSpec(
                name=svc_name,
                cls=cls,
                rate_hz=float(rate),
                id_base=base,
                params=dict(typed(s, "params", dict, f"services.{svc_name}", {})),
                budget_ms=typed(s, "budget_ms", (int, float), f"services.{svc_name}", None),
                pipe_depth=typed(s, "pipe_depth", int, f"services.{svc_name}", 16),
                options=dict(typed(s, "options", dict, f"services.{svc_name}", {})),
            )
        )

    apps = doc.get("apps", [])
    if not isinstance(apps, list):
        raise err("apps", "must be an array of tables ([[apps]])")
    used_names = {s.name for s in specs}
    for i, a in enumerate(apps):
        where = f"apps[{i}]"
        if not isinstance(a, dict):
            raise err(where, "must be a table")
        extra = set(a) - _APP_KEYS
        if extra:
            raise err(f"{where}.{sorted(extra)[0]}", f"unknown key (allowed: {sorted(_APP_KEYS)})")
        for required in ("name", "class", "id_base"):
            if required not in a:
                raise err(f"{where}.{required}", "missing")
        app_name = typed(a, "name", str, where, "")
        where = f"apps[{i}] ({app_name})"
        if app_name in used_names:
            raise err(f"{where}.name", f"name {app_name!r} is already used")
        used_names.add(app_name)
        cls = _import_app(typed(a, "class", str, where, ""), err, f"{where}.class")
        id_base = typed(a, "id_base", int, where, 0)
        if not MIN_APP_ID_BASE <= id_base <= 0xFF00:
            raise err(f"{where}.id_base", f"0x{id_base:x} outside 0x1000..0xff00 (core ids below)")
        pipe_depth = typed(a, "pipe_depth", int, where, 16)
        if pipe_depth < 1:
            raise err(f"{where}.pipe_depth", "must be >= 1")
        specs.append(
            AppSpec(
                name=app_name,
                cls=cls,
                rate_hz=float(typed(a, "rate_hz", (int, float), where, cls.DEFAULT_RATE_HZ)),
                id_base=id_base,
                params=dict(typed(a, "params", dict, where, {})),
                budget_ms=typed(a, "budget_ms", (int, float), where, None),
                pipe_depth=pipe_depth,
                options=dict(typed(a, "options", dict, where, {})),
            )
        )
    cfg.seed = mission_seed if seed is None else seed
    return Mission(
        path=path,
        name=name,
        description=description,
        seed=cfg.seed,
        executive=cfg,
        hal=hal,
        orbit=dict(orbit),
        apps=specs,
        workload=dict(workload),
    )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        dict: "a table",
        bool: "a boolean",
        list: "an array",
    }
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _import_app(dotted: str, err: Any, key: str) -> type[App]:
    module_name, sep, attr = dotted.partition(":")
    if not sep or not module_name or not attr:
        raise err(key, f"{dotted!r} is not of the form package.module:Class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise err(key, f"cannot import {module_name!r}: {exc}") from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, App)):
        raise err(key, f"{dotted!r} is not an App subclass")
    return cls
