"""The dictionary as XTCE (OMG XML Telemetric and Command Exchange, v1.2), for Yamcs,
COSMOS and other ground systems that import it.

What is expressed: every telemetry point as a Parameter with its type (integer size
and signedness, IEEE float size, boolean), each housekeeping structure as a
SequenceContainer restricted on the PUS (3,25) report and its SID, and each command as
a MetaCommand with typed, range-limited arguments and its PUS service/subservice (and
function id for TC(8,1)) as fixed entries. Variable layouts (:mod:`flightsw_layouts`) of
commands and of the TM reports (a SequenceContainer each, restricted on its PUS
service and subservice; HK reports are the per-SID containers above) become XTCE types:
a counted list an ``<name>_count`` entry and an ArrayType sized by it, an item of several
fields an AggregateType, a name a StringType with an 8-bit leading size. Each container
and variable command also carries its layout's JSON in AncillaryData ``flightsw_layout``:
what XTCE cannot say is there, values typed by an id in a dictionary table (parameter
values by parameter id, event arguments by event id), which XTCE shows as binary, and
octets up to the end of the packet. Not expressed: calibrations (none exist).
"""

from __future__ import annotations

import json
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
    reports = [
        r
        for r in d.get("reports", [])
        if r["app"] == app and (r["service"], r["subservice"]) != (3, 25)
    ]
    if points or reports:
        tm = _el(system, "TelemetryMetaData")
        type_set = _el(tm, "ParameterTypeSet")
        params = _el(tm, "ParameterSet")
        report_types = _Types(type_set, "Parameter")
        report_containers = []
        for r in reports:
            c = ET.Element(f"{{{NS}}}SequenceContainer", {"name": _local(r["name"])})
            _ancillary(c, r["layout"])
            entries = _el(c, "EntryList")
            for f in r["layout"]["fields"]:
                report_types.field(params, entries, f"{_local(r['name'])}_{f['name']}", f["layout"])
            bc = _el(c, "BaseContainer", containerRef=f"/{mission}/pus_tm")
            rc = _el(_el(bc, "RestrictionCriteria"), "ComparisonList")
            _el(rc, "Comparison", parameterRef=f"/{mission}/pus_service", value=r["service"])
            _el(rc, "Comparison", parameterRef=f"/{mission}/pus_subservice", value=r["subservice"])
            report_containers.append(c)
        _add_types(type_set, "Parameter", {t["type"] for t in points} | report_types.scalars)
        for t in points:
            p = _el(
                params, "Parameter", name=_local(t["name"]), parameterTypeRef=_type_name(t["type"])
            )
            if t.get("doc"):
                p.set("shortDescription", t["doc"])
        if hks or report_containers:
            containers = _el(tm, "ContainerSet")
            containers.extend(report_containers)
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
    arg_type_set = _el(tc, "ArgumentTypeSet")
    variable = _Types(arg_type_set, "Argument")
    commands = _el(tc, "MetaCommandSet")
    for c in cmds:
        mc = _el(commands, "MetaCommand", name=_local(c["name"]))
        if c.get("doc"):
            mc.set("shortDescription", c["doc"])
        args = c["args"] or []
        layout = c.get("layout")
        var_entries: ET.Element | None = None
        if isinstance(layout, dict):
            _ancillary(mc, layout)
            al = _el(mc, "ArgumentList")
            var_entries = ET.Element(f"{{{NS}}}EntryList")
            for f in layout["fields"]:
                variable.field(al, var_entries, f["name"], f["layout"])
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
        if var_entries is not None:
            el.extend(list(var_entries))
    _add_types(arg_type_set, "Argument", arg_types | variable.scalars)
    if not len(arg_type_set):
        tc.remove(arg_type_set)


def _ancillary(element: ET.Element, layout: dict[str, Any]) -> None:
    ads = _el(element, "AncillaryDataSet")
    _el(ads, "AncillaryData", name="flightsw_layout").text = json.dumps(layout)


class _Types:
    """The XTCE types of variable layouts in one type set (``kind`` Parameter or Argument),
    each made once; scalar types are collected for :func:`_add_types`."""

    def __init__(self, type_set: ET.Element, kind: str) -> None:
        self.set, self.kind = type_set, kind
        self.scalars: set[str] = set()
        self.made: set[str] = set()

    def _new(self, tag: str, name: str, **attrs: Any) -> ET.Element | None:
        if name in self.made:
            return None
        self.made.add(name)
        return _el(self.set, f"{tag}{self.kind}Type", name=name, **attrs)

    def type_of(self, name: str, lay: dict[str, Any]) -> str:
        """The XTCE type name of a layout that is not a counted list."""
        t = lay["type"]
        if t in _INT or t in _FLOAT:
            self.scalars.add(t)
            return _type_name(t)
        if t == "string":
            pt = self._new("String", "string_u8_t")
            if pt is not None:
                enc = _el(pt, "StringDataEncoding", encoding="US-ASCII")
                _el(
                    _el(enc, "Variable", maxSizeInBits=255 * 8),
                    "LeadingSize",
                    sizeInBitsOfSizeTag=8,
                )
            return "string_u8_t"
        if t == "bytes" and isinstance(lay.get("length"), int):
            name_t = f"bytes{lay['length']}_t"
            pt = self._new("Binary", name_t)
            if pt is not None:
                size = _el(_el(pt, "BinaryDataEncoding"), "SizeInBits")
                _el(size, "FixedValue").text = str(8 * lay["length"])
            return name_t
        if t == "struct":
            name_t = f"{name}_t"
            pt = self._new("Aggregate", name_t)
            if pt is not None:
                members = _el(pt, "MemberList")
                for f in lay["fields"]:
                    sub = self.type_of(f"{name}_{f['name']}", f["layout"])
                    _el(members, "Member", name=f["name"], typeRef=sub)
            return name_t
        # octets to the end of the packet, or typed by an id (see AncillaryData)
        pt = self._new("Binary", "bytes_variable_t", shortDescription="see flightsw_layout")
        if pt is not None:
            _el(_el(pt, "BinaryDataEncoding"), "SizeInBits")
        return "bytes_variable_t"

    def field(self, items: ET.Element, entries: ET.Element, name: str, lay: dict[str, Any]) -> None:
        """``name`` as a Parameter (Argument) in ``items`` and its entry in ``entries``."""
        item_tag = "Parameter" if self.kind == "Parameter" else "Argument"
        ref = "parameterRef" if self.kind == "Parameter" else "argumentRef"
        if lay["type"] == "array":
            self.field(items, entries, f"{name}_count", {"type": lay["count"]})
            item = self.type_of(f"{name}_item", lay["item"])
            at = self._new("Array", f"{name}_t", arrayTypeRef=item)
            if at is not None:
                dim = _el(_el(at, "DimensionList"), "Dimension")
                _el(_el(dim, "StartingIndex"), "FixedValue").text = "0"
                dv = _el(_el(dim, "EndingIndex"), "DynamicValue")
                _el(dv, f"{item_tag}InstanceRef", **{ref: f"{name}_count"})
                _el(dv, "LinearAdjustment", intercept=-1)
            type_name = f"{name}_t"
        else:
            type_name = self.type_of(name, lay)
        _el(items, item_tag, name=name, **{f"{item_tag.lower()}TypeRef": type_name})
        _el(entries, f"{item_tag}RefEntry", **{ref: name})
