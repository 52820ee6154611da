"""The command and telemetry dictionary, generated from the apps' declarations.

This is the one source of names and layouts the ground tools use: commands with their
routing and argument types and ranges (or variable layouts, :mod:`flightsw.framework.layouts`),
telemetry points, housekeeping structures, events, parameters and the TM reports with
their layouts, all with global ids. ``flightsw dict export`` writes it as JSON.
"""

from __future__ import annotations

from typing import Any

from flightsw.framework import layouts
from flightsw.framework.app import FUNCTION_MANAGEMENT, Arg
from flightsw.runtime.mission import Mission

DICTIONARY_VERSION = 2  # 2: variable command layouts and TM reports with their layouts


def _arg(a: Arg) -> dict[str, Any]:
    return {
        "name": a.name,
        "type": a.type,
        "min": a.min,
        "max": a.max,
        "unit": a.unit,
        "doc": a.doc,
    }


def build_dictionary(mission: Mission) -> dict[str, Any]:
    """Everything the ground needs to command and decode this mission's flight build."""
    apps: list[dict[str, Any]] = []
    commands: list[dict[str, Any]] = []
    telemetry: list[dict[str, Any]] = []
    housekeeping: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    parameters: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    for index, spec in enumerate(mission.specs):
        decl = spec.cls.declarations()
        base = spec.id_base
        apps.append(
            {
                "index": index,
                "name": spec.name,
                "class": f"{spec.cls.__module__}:{spec.cls.__qualname__}",
                "rate_hz": spec.rate_hz,
                "id_base": base,
                "doc": (spec.cls.__doc__ or "").strip().split("\n")[0],
            }
        )
        for c in decl.commands:
            entry: dict[str, Any] = {
                "name": f"{spec.name}.{c.name}",
                "app": spec.name,
                "doc": c.doc,
                "critical": c.critical,
            }
            if c.function_id is not None:
                entry.update(
                    service=FUNCTION_MANAGEMENT[0],
                    subservice=FUNCTION_MANAGEMENT[1],
                    function_id=base + c.function_id,
                )
            else:
                entry.update(service=c.service, subservice=c.subservice, function_id=None)
            if c.layout is not None:
                entry["args"] = None
                entry["layout"] = layouts.describe(c.layout)
            elif c.parser:
                entry["args"] = None
                entry["layout"] = "variable; see doc of the app"
            else:
                entry["args"] = [_arg(a) for a in c.args]
            commands.append(entry)
        types = {t.name: t.type for t in decl.telemetry}
        for t in decl.telemetry:
            telemetry.append(
                {
                    "name": f"{spec.name}.{t.name}",
                    "app": spec.name,
                    "type": t.type,
                    "unit": t.unit,
                    "doc": t.doc,
                }
            )
        for h in decl.housekeeping:
            housekeeping.append(
                {
                    "sid": base + h.local_sid,
                    "name": f"{spec.name}.{h.name}",
                    "app": spec.name,
                    "interval_s": h.interval_s,
                    "enabled": h.enabled,
                    "points": [{"name": p, "type": types[p]} for p in h.points],
                }
            )
        for e in decl.events:
            events.append(
                {
                    "id": base + e.local_id,
                    "name": f"{spec.name}.{e.name}",
                    "app": spec.name,
                    "severity": e.severity.name,
                    "args": [_arg(a) for a in e.args],
                    "text": e.text,
                }
            )
        for r in decl.reports:
            reports.append(
                {
                    "service": r.service,
                    "subservice": r.subservice,
                    "name": f"{spec.name}.{r.name}",
                    "app": spec.name,
                    "layout": layouts.describe(r.layout),
                    "doc": r.doc,
                }
            )
        for p in decl.parameters:
            value = spec.params.get(p.name, p.default)
            parameters.append(
                {
                    "id": base + p.local_id,
                    "name": f"{spec.name}.{p.name}",
                    "app": spec.name,
                    "type": p.type,
                    "default": value,
                    "min": p.min,
                    "max": p.max,
                    "unit": p.unit,
                    "doc": p.doc,
                }
            )
    return {
        "dictionary_version": DICTIONARY_VERSION,
        "mission": mission.name,
        "apid": mission.executive.apid,
        "tm_time": {"format": "CUC", "coarse_octets": 4, "fine_octets": 2, "p_field": False},
        "apps": apps,
        "commands": commands,
        "telemetry": telemetry,
        "housekeeping": housekeeping,
        "events": events,
        "parameters": parameters,
        "reports": reports,
    }
