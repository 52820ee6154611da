"""The dictionary as XTCE (OMG XML Telemetric and Command Exchange, v1.2), for Yamcs,
COSMOS and other ground systems that import it.

What is expressed: every telemetry point as a Parameter with its type (integer size
and signedness, IEEE float size, boolean), each housekeeping structure as a
SequenceContainer restricted on the PUS (3,25) report and its SID, and each command as
a MetaCommand with typed, range-limited arguments and its PUS service/subservice (and
function id for TC(8,1)) as fixed entries. Not expressed: events and PUS-1 reports
(ground systems decode those with their PUS support), calibrations (none exist), and the
application data of commands that take a variable-length layout (they have no argument
list here).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

NS = "http://www.omg.org/spec/XTCE/20180204"
_INT = {
    "u8": (8, False),
    "u16": (16, False),
    "u32": (32, False),
    "u64": (64, False),
    "i8": (8, True),
    "i16": (16, True),
    "i32": (32, True),
    "i64": (64, True),
}
_FLOAT = {"f32": 32, "f64": 64}


def _el(parent: ET.Element, tag: str, **attrs: Any) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items()})


def _type_name(t: str) -> str:
    return f"{t}_t"


def _add_types(parent: ET.Element, kind: str, types: set[str]) -> None:
    """``kind`` is Parameter or Argument: XTCE has a type set for each."""
    for t in sorted(types):
        if t in _INT:
            bits, signed = _INT[t]
            pt = _el(
                parent,
                f"Integer{kind}Type",
                name=_type_name(t),
                signed=str(signed).lower(),
                sizeInBits=bits,
            )
            _el(
                pt,
                "IntegerDataEncoding",
                sizeInBits=bits,
                encoding="twosComplement" if signed else "unsigned",
            )
        elif t in _FLOAT:
            pt = _el(parent, f"Float{kind}Type", name=_type_name(t), sizeInBits=_FLOAT[t])
            _el(pt, "FloatDataEncoding", sizeInBits=_FLOAT[t], encoding="IEEE754_1985")
        elif t == "bool":
            pt = _el(parent, f"Boolean{kind}Type", name=_type_name(t))
            _el(pt, "IntegerDataEncoding", sizeInBits=8, encoding="unsigned")


def build_xtce(dictionary: dict[str, Any]) -> str:
    """The XTCE document for a dictionary from ``flightsw.dictionary.build_dictionary``.

    XTCE names may not contain dots, so each app is a child SpaceSystem holding its own
    parameters, housekeeping containers and commands; the PUS header fields and the
    abstract PUS TM container are in the mission's root SpaceSystem.
    """
    ET.register_namespace("xtce", NS)
    mission = str(dictionary["mission"])
    root = ET.Element(f"{{{NS}}}SpaceSystem", {"name": mission})
    _el(root, "Header", version=str(dictionary.get("dictionary_version", 1)))
    tm = _el(root, "TelemetryMetaData")
    _add_types(_el(tm, "ParameterTypeSet"), "Parameter", {"u8", "u16"})
    params = _el(tm, "ParameterSet")
    for name, t in (("pus_service", "u8"), ("pus_subservice", "u8"), ("hk_sid", "u16")):
        _el(params, "Parameter", name=name, parameterTypeRef=_type_name(t))
    base = _el(_el(tm, "ContainerSet"), "SequenceContainer", name="pus_tm", abstract="true")
    entries = _el(base, "EntryList")
    _el(entries, "ParameterRefEntry", parameterRef="pus_service")
    _el(entries, "ParameterRefEntry", parameterRef="pus_subservice")
    apps = sorted(
        {t["app"] for t in dictionary["telemetry"]} | {c["app"] for c in dictionary["commands"]}
    )
    for app in apps:
        _app_system(root, mission, app, dictionary)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _local(name: str) -> str:
    return name.split(".", 1)[1]


def _app_system(root: ET.Element, mission: str, app: str, d: dict[str, Any]) -> None:
    system = _el(root, "SpaceSystem", name=app)
    points = [t for t in d["telemetry"] if t["app"] == app]
    hks = [h for h in d["housekeeping"] if h["app"] == app]
    if points:
        tm = _el(system, "TelemetryMetaData")
        _add_types(_el(tm, "ParameterTypeSet"), "Parameter", {t["type"] for t in points})
        params = _el(tm, "ParameterSet")
        for t in points:
            p = _el(
                params, "Parameter", name=_local(t["name"]), parameterTypeRef=_type_name(t["type"])
            )
            if t.get("doc"):
                p.set("shortDescription", t["doc"])
        if hks:
            containers = _el(tm, "ContainerSet")
            for h in hks:
                c = _el(containers, "SequenceContainer", name=_local(h["name"]))
                el = _el(c, "EntryList")
                _el(el, "ParameterRefEntry", parameterRef=f"/{mission}/hk_sid")
                for p in h["points"]:
                    _el(el, "ParameterRefEntry", parameterRef=p["name"])
                bc = _el(c, "BaseContainer", containerRef=f"/{mission}/pus_tm")
                rc = _el(_el(bc, "RestrictionCriteria"), "ComparisonList")
                _el(rc, "Comparison", parameterRef=f"/{mission}/pus_service", value=3)
                _el(rc, "Comparison", parameterRef=f"/{mission}/pus_subservice", value=25)
                _el(rc, "Comparison", parameterRef=f"/{mission}/hk_sid", value=h["sid"])
    cmds = [c for c in d["commands"] if c["app"] == app]
    if not cmds:
        return
    tc = _el(system, "CommandMetaData")
    arg_types = {a["type"] for c in cmds for a in (c["args"] or [])}
    if arg_types:
        _add_types(_el(tc, "ArgumentTypeSet"), "Argument", arg_types)
    commands = _el(tc, "MetaCommandSet")
    for c in cmds:
        mc = _el(commands, "MetaCommand", name=_local(c["name"]))
        if c.get("doc"):
            mc.set("shortDescription", c["doc"])
        args = c["args"] or []
        if args:
            al = _el(mc, "ArgumentList")
            for a in args:
                arg = _el(al, "Argument", name=a["name"], argumentTypeRef=_type_name(a["type"]))
                if a.get("min") is not None or a.get("max") is not None:
                    arg.set("shortDescription", f"range [{a.get('min')}, {a.get('max')}]")
        cc = _el(mc, "CommandContainer", name=f"{_local(c['name'])}_container")
        el = _el(cc, "EntryList")
        _el(el, "FixedValueEntry", name="service", binaryValue=f"{c['service']:02x}", sizeInBits=8)
        _el(
            el,
            "FixedValueEntry",
            name="subservice",
            binaryValue=f"{c['subservice']:02x}",
            sizeInBits=8,
        )
        if c.get("function_id") is not None:
            _el(
                el,
                "FixedValueEntry",
                name="function_id",
                binaryValue=f"{c['function_id']:04x}",
                sizeInBits=16,
            )
        for a in args:
            _el(el, "ArgumentRefEntry", argumentRef=a["name"])
