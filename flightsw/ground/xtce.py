"""The dictionary as XTCE (OMG XML Telemetric and Command Exchange, v1.2) that a ground
system loads: valid against the XTCE 1.2 schema and describing whole packets.

Telemetry: the abstract container ``CCSDSPacket`` holds the CCSDS primary header
(``VERSION``, ``TYPE``, ``SEC_HDR_FLG``, ``PKT_APID``, ``SEQ_FLGS``, ``SRC_SEQ_CTR``,
``PKT_LEN``, the names space-packet-parser and most tools use); ``PUS_TM`` extends it
(restricted to TM of the mission's APID with a secondary header) with the PUS-C TM
secondary header and the CUC time, calibrated to seconds. Each TM report of the
dictionary extends ``PUS_TM`` restricted on its service and subservice, and ends with
the packet error control ``PUS_CRC``; housekeeping extends the (3,25) report restricted
on its SID (one container per HK structure, its points as typed parameters with units),
events extend the (5,severity) report restricted on their id (their arguments as
parameters). The idle packet (APID 2047) has its own container, so every packet of a
stream decodes.

Layouts (:mod:`flightsw.framework.layouts`) become entries: scalars and enums are typed parameters,
a CUC time an integer calibrated to seconds, a name or octets after a length a length
parameter and a string (binary) sized by it. What XTCE decoders cannot size without
arrays (a counted list of items; values typed by an id inside a list; octets up to the
end) is one binary parameter sized from ``PKT_LEN`` and the fixed fields before it (its
layout's JSON in AncillaryData ``flightsw_layout``), after a ``_count`` parameter for a
list. Commands: the abstract MetaCommand ``PUS_TC`` builds the primary and TC secondary
headers; each command extends it with its service, subservice (and function id),
arguments typed with their range (ValidRangeSet) and units; the sender computes
``packet_length`` and the trailing CRC (said in AncillaryData).

Two forms: nested (default) puts each app in a child SpaceSystem and refers to names by
absolute path (``/mission/app/name``), as Yamcs and other full XTCE consumers read it;
``flat=True`` puts everything in one SpaceSystem with names ``app__name``, the form
space-packet-parser reads (it reads only the root level and resolves bare names).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

NS = "http://www.omg.org/spec/XTCE/20180204"
IDLE_APID = 2047
PUS_SEC_LEN = 7  # TM secondary header without the time
CRC_BITS = 16
_INT = {
    "u8": (8, False),
    "u16": (16, False),
    "u32": (32, False),
    "u64": (64, False),
    "i8": (8, True),
    "i16": (16, True),
    "i32": (32, True),
    "i64": (64, True),
    "bool": (8, False),
}
_FLOAT = {"f32": 32, "f64": 64}
SEVERITY_SUBSERVICE = {"INFO": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4}
_PRIMARY = (  # name, bits
    ("VERSION", 3),
    ("TYPE", 1),
    ("SEC_HDR_FLG", 1),
    ("PKT_APID", 11),
    ("SEQ_FLGS", 2),
    ("SRC_SEQ_CTR", 14),
    ("PKT_LEN", 16),
)
_PUS_TM = (
    ("PUS_VERSION", 4),
    ("TIME_REF_STATUS", 4),
    ("SERVICE", 8),
    ("SUBSERVICE", 8),
    ("MSG_COUNTER", 16),
    ("DEST_ID", 16),
)


def _el(parent: ET.Element | None, tag: str, **attrs: Any) -> ET.Element:
    a = {k.rstrip("_"): str(v) for k, v in attrs.items() if v is not None}
    if parent is None:
        return ET.Element(f"{{{NS}}}{tag}", a)
    return ET.SubElement(parent, f"{{{NS}}}{tag}", a)


def _local(name: str) -> str:
    return name.split(".", 1)[1]


@dataclass
class _System:
    """The sets of one SpaceSystem, filled in any order, written in the schema's order."""

    name: str
    param_types: list[ET.Element] = field(default_factory=list)
    params: list[ET.Element] = field(default_factory=list)
    containers: list[ET.Element] = field(default_factory=list)
    arg_types: list[ET.Element] = field(default_factory=list)
    commands: list[ET.Element] = field(default_factory=list)
    names: set[tuple[str, str]] = field(default_factory=set)

    def element(self, tag: str, header: ET.Element | None = None) -> ET.Element:
        system = _el(None, tag, name=self.name)
        if header is not None:
            system.append(header)
        if self.param_types or self.params or self.containers:
            tm = _el(system, "TelemetryMetaData")
            for set_tag, items in (
                ("ParameterTypeSet", self.param_types),
                ("ParameterSet", self.params),
                ("ContainerSet", self.containers),
            ):
                if items:
                    _el(tm, set_tag).extend(items)
        if self.commands:
            tc = _el(system, "CommandMetaData")
            if self.arg_types:
                _el(tc, "ArgumentTypeSet").extend(self.arg_types)
            _el(tc, "MetaCommandSet").extend(self.commands)
        return system


class _Builder:
    """Builds either form; ``sys`` is None for the mission's root, else an app name."""

    def __init__(self, dictionary: dict[str, Any], flat: bool) -> None:
        self.d, self.flat = dictionary, flat
        self.mission = str(dictionary["mission"])
        self.root = _System(self.mission)
        self.apps: dict[str, _System] = {}
        t = dictionary.get("tm_time", {})
        self.coarse = int(t.get("coarse_octets", 4))
        self.fine = int(t.get("fine_octets", 2))

    # --- names ---------------------------------------------------------------------

    def system(self, sys: str | None) -> _System:
        if sys is None or self.flat:
            return self.root
        if sys not in self.apps:
            self.apps[sys] = _System(sys)
        return self.apps[sys]

    def name(self, sys: str | None, local: str, kind: str) -> str:
        """The defined name of ``local`` in ``sys``; a second definition is an error."""
        n = local if sys is None or not self.flat else f"{sys}__{local}"
        key = (kind, n)
        owner = self.system(sys)
        if key in owner.names:
            raise ValueError(f"XTCE {kind} name {n!r} defined twice in {owner.name}")
        owner.names.add(key)
        return n

    def ref(self, sys: str | None, local: str) -> str:
        if self.flat:
            return local if sys is None else f"{sys}__{local}"
        return f"/{self.mission}/{local}" if sys is None else f"/{self.mission}/{sys}/{local}"

    # --- types and parameters ------------------------------------------------------

    def scalar_type(
        self,
        sys: str | None,
        local: str,
        t: str,
        kind: str = "Parameter",
        unit: str = "",
        bits: int | None = None,
        lo: float | None = None,
        hi: float | None = None,
        calibration: float | None = None,
    ) -> str:
        """A type named ``local`` for wire type ``t`` (or ``bits`` unsigned), with its unit,
        its valid range (arguments) and a linear calibration; returns its reference."""
        name = self.name(sys, local, kind + "Type")
        target = self.system(sys).param_types if kind == "Parameter" else self.system(sys).arg_types
        if bits is not None:
            size, signed = bits, False
        elif t in _INT:
            size, signed = _INT[t]
        else:
            size, signed = _FLOAT[t], True
        if t == "bool" and bits is None:
            ty = _el(None, f"Boolean{kind}Type", name=name)
        elif t in _FLOAT and bits is None:
            ty = _el(None, f"Float{kind}Type", name=name, sizeInBits=size)
        elif calibration is not None:
            ty = _el(None, f"Float{kind}Type", name=name, sizeInBits=64)
        else:
            ty = _el(
                None, f"Integer{kind}Type", name=name, signed=str(signed).lower(), sizeInBits=size
            )
        if unit:
            _el(_el(ty, "UnitSet"), "Unit").text = unit
        if t in _FLOAT and bits is None:
            _el(ty, "FloatDataEncoding", sizeInBits=size, encoding="IEEE754_1985")
        else:
            enc = _el(
                ty,
                "IntegerDataEncoding",
                sizeInBits=size,
                encoding="twosComplement" if signed else "unsigned",
            )
            if calibration is not None:
                poly = _el(_el(enc, "DefaultCalibrator"), "PolynomialCalibrator")
                _el(poly, "Term", exponent=1, coefficient=repr(calibration))
        if kind == "Argument" and (lo is not None or hi is not None) and t not in ("bool",):
            rng = _el(_el(ty, "ValidRangeSet"), "ValidRange")
            if lo is not None:
                rng.set("minInclusive", str(lo))
            if hi is not None:
                rng.set("maxInclusive", str(hi))
        target.append(ty)
        return self.ref(sys, local)

    def shared_type(self, t: str) -> str:
        """The root's type for a plain wire type (``u16_t``), made once."""
        local = f"{t}_t"
        if ("ParameterType", local) not in self.root.names:
            self.scalar_type(None, local, t)
        return self.ref(None, local)

    def binary_type(self, sys: str | None, local: str, size: tuple[str, int, int] | int) -> str:
        """A binary type of ``size`` bits: a number, or (parameter ref, slope, intercept)."""
        name = self.name(sys, local, "ParameterType")
        ty = _el(None, "BinaryParameterType", name=name)
        _el(ty, "BinaryDataEncoding").append(self._size(size))
        self.system(sys).param_types.append(ty)
        return self.ref(sys, local)

    def string_type(self, sys: str | None, local: str, length_ref: str, max_octets: int) -> str:
        name = self.name(sys, local, "ParameterType")
        ty = _el(None, "StringParameterType", name=name)
        var = _el(_el(ty, "StringDataEncoding", encoding="US-ASCII"), "Variable")
        var.set("maxSizeInBits", str(8 * max_octets))
        dv = _el(var, "DynamicValue")
        _el(dv, "ParameterInstanceRef", parameterRef=length_ref)
        _el(dv, "LinearAdjustment", slope=8)
        self.system(sys).param_types.append(ty)
        return self.ref(sys, local)

    def _size(self, size: tuple[str, int, int] | int) -> ET.Element:
        el = _el(None, "SizeInBits")
        if isinstance(size, int):
            _el(el, "FixedValue").text = str(size)
        else:
            ref, slope, intercept = size
            dv = _el(el, "DynamicValue")
            _el(dv, "ParameterInstanceRef", parameterRef=ref)
            _el(dv, "LinearAdjustment", slope=slope, intercept=intercept)
        return el

    def parameter(self, sys: str | None, local: str, type_ref: str, doc: str = "") -> str:
        name = self.name(sys, local, "Parameter")
        p = _el(None, "Parameter", name=name, parameterTypeRef=type_ref)
        if doc:
            p.set("shortDescription", doc)
        self.system(sys).params.append(p)
        return self.ref(sys, local)

    # --- containers ----------------------------------------------------------------

    def container(
        self,
        sys: str | None,
        local: str,
        entries: list[str],
        base: str | None = None,
        restrict: Sequence[tuple[str, int]] = (),
        abstract: bool = False,
        doc: str = "",
        layout: dict[str, Any] | None = None,
    ) -> str:
        name = self.name(sys, local, "Container")
        c = _el(None, "SequenceContainer", name=name, abstract="true" if abstract else None)
        if doc:
            c.set("shortDescription", doc)
        if layout is not None:
            _ancillary(c, "flightsw_layout", json.dumps(layout))
        el = _el(c, "EntryList")
        for e in entries:
            _el(el, "ParameterRefEntry", parameterRef=e)
        if base is not None:
            rc = _el(_el(c, "BaseContainer", containerRef=base), "RestrictionCriteria")
            parent = _el(rc, "ComparisonList") if len(restrict) > 1 else rc
            for ref, value in restrict:
                _el(parent, "Comparison", parameterRef=ref, value=value)
        self.system(sys).containers.append(c)
        return self.ref(sys, local)

    # --- telemetry -----------------------------------------------------------------

    def headers(self) -> None:
        primary = [
            self.parameter(None, n, self.scalar_type(None, f"{n}_t", "u16", bits=b))
            for n, b in _PRIMARY
        ]
        self.ccsds = self.container(
            None, "CCSDSPacket", primary, abstract=True, doc="CCSDS space packet primary header"
        )
        self.apid, self.pkt_len = self.ref(None, "PKT_APID"), self.ref(None, "PKT_LEN")
        idle = self.parameter(
            None, "IDLE_DATA", self.binary_type(None, "IDLE_DATA_t", (self.pkt_len, 8, 8))
        )
        self.container(
            None, "IDLE", [idle], self.ccsds, [(self.apid, IDLE_APID)], doc="idle packet"
        )
        secondary = [
            self.parameter(None, n, self.scalar_type(None, f"{n}_t", "u16", bits=b))
            for n, b in _PUS_TM
        ]
        time_bits = 8 * (self.coarse + self.fine)
        time_t = self.scalar_type(
            None, "PUS_TIME_t", "u64", unit="s", bits=time_bits, calibration=2.0 ** (-8 * self.fine)
        )
        secondary.append(self.parameter(None, "PUS_TIME", time_t, "CUC time, seconds"))
        self.pus_tm = self.container(
            None,
            "PUS_TM",
            secondary,
            self.ccsds,
            [
                (self.ref(None, "TYPE"), 0),
                (self.ref(None, "SEC_HDR_FLG"), 1),
                (self.apid, int(self.d["apid"])),
            ],
            abstract=True,
            doc="PUS-C TM secondary header",
        )
        self.service, self.subservice = self.ref(None, "SERVICE"), self.ref(None, "SUBSERVICE")
        self.crc = self.parameter(None, "PUS_CRC", self.shared_type("u16"), "packet error control")
        self.header_bits = 8 * (PUS_SEC_LEN + self.coarse + self.fine)

    def fields(
        self, sys: str | None, prefix: str, fields: list[dict[str, Any]], offset: int | None
    ) -> tuple[list[str], int | None]:
        """Entries for ``fields`` starting ``offset`` bits after the primary header (None
        once a size varies); a field XTCE decoders cannot size ends the list as one binary
        up to the CRC, which needs a known offset."""
        entries: list[str] = []
        for f in fields:
            lay, local = f["layout"], f"{prefix}_{f['name']}"
            t = lay["type"]
            if t in _INT or t in _FLOAT:
                entries.append(self.parameter(sys, local, self.shared_type(t)))
                bits = _INT[t][0] if t in _INT else _FLOAT[t]
                offset = None if offset is None else offset + bits
            elif t == "enum":
                entries.append(self.parameter(sys, local, self.enum_type(sys, local, lay)))
                offset = None if offset is None else offset + _INT[lay["base"]][0]
            elif t == "cuc":
                bits = 8 * (lay["coarse"] + lay["fine"])
                ty = self.scalar_type(
                    sys, f"{local}_t", "u64", "s", bits=bits, calibration=2.0 ** (-8 * lay["fine"])
                )
                entries.append(self.parameter(sys, local, ty))
                offset = None if offset is None else offset + bits
            elif t == "bytes" and isinstance(lay.get("length"), int):
                ty = self.binary_type(sys, f"{local}_t", 8 * lay["length"])
                entries.append(self.parameter(sys, local, ty))
                offset = None if offset is None else offset + 8 * lay["length"]
            elif t in ("bytes", "string") and "prefix" in lay:
                n = self.parameter(sys, f"{local}_length", self.shared_type(lay["prefix"]))
                max_octets = (1 << _INT[lay["prefix"]][0]) - 1
                ty = (
                    self.string_type(sys, f"{local}_t", n, max_octets)
                    if t == "string"
                    else self.binary_type(sys, f"{local}_t", (n, 8, 0))
                )
                entries += [n, self.parameter(sys, local, ty)]
                offset = None
            else:  # a list, values typed by an id, octets to the end: binary to the CRC
                if t == "array" and isinstance(lay["count"], str):
                    entries.append(
                        self.parameter(sys, f"{local}_count", self.shared_type(lay["count"]))
                    )
                    offset = None if offset is None else offset + _INT[lay["count"]][0]
                if offset is None:
                    return entries, None
                ty = self.binary_type(sys, f"{local}_t", (self.pkt_len, 8, 8 - offset - CRC_BITS))
                entries.append(self.parameter(sys, local, ty, "see flightsw_layout"))
                return entries, None
        return entries, offset

    def enum_type(self, sys: str | None, local: str, lay: dict[str, Any]) -> str:
        name = self.name(sys, f"{local}_t", "ParameterType")
        ty = _el(None, "EnumeratedParameterType", name=name)
        _el(ty, "IntegerDataEncoding", sizeInBits=_INT[lay["base"]][0], encoding="unsigned")
        values = _el(ty, "EnumerationList")
        for label, value in sorted(lay["values"].items(), key=lambda kv: int(kv[1])):
            _el(values, "Enumeration", value=int(value), label=label)
        self.system(sys).param_types.append(ty)
        return self.ref(sys, f"{local}_t")

    def reports(self) -> None:
        for r in self.d.get("reports", []):
            app, local = r["app"], _local(r["name"])
            fields = r["layout"]["fields"]
            keyed = [f for f in fields if f["layout"]["type"] == "by_id"]
            restrict = [(self.service, r["service"]), (self.subservice, r["subservice"])]
            if keyed and len(fields) == 2 and fields[0]["name"] == keyed[0]["layout"]["key"]:
                key = self.parameter(
                    app,
                    f"{local}_{fields[0]['name']}",
                    self.shared_type(fields[0]["layout"]["type"]),
                )
                base = self.container(
                    app, local, [key], self.pus_tm, restrict, abstract=True, doc=r.get("doc", "")
                )
                table = keyed[0]["layout"]["table"]
                if table == "housekeeping":
                    for h in self.d["housekeeping"]:
                        entries = [self.ref(h["app"], p["name"]) for p in h["points"]]
                        self.container(
                            h["app"],
                            _local(h["name"]),
                            [*entries, self.crc],
                            base,
                            [(key, h["sid"])],
                            doc=f"HK structure SID {h['sid']}",
                        )
                elif table == "events":
                    for e in self.d["events"]:
                        if SEVERITY_SUBSERVICE[e["severity"]] != r["subservice"]:
                            continue
                        ev = _local(e["name"])
                        entries = [
                            self.parameter(
                                e["app"],
                                f"{ev}_{a['name']}",
                                self.arg_param_type(e["app"], f"{ev}_{a['name']}_t", a),
                            )
                            for a in e["args"]
                        ]
                        self.container(
                            e["app"],
                            ev,
                            [*entries, self.crc],
                            base,
                            [(key, e["id"])],
                            doc=e.get("text", ""),
                        )
                continue
            entries, _ = self.fields(app, local, fields, self.header_bits)
            self.container(
                app,
                local,
                [*entries, self.crc],
                self.pus_tm,
                restrict,
                doc=r.get("doc", ""),
                layout=r["layout"],
            )
        for t in self.d["telemetry"]:
            app = t["app"]
            ty = self.scalar_type(app, f"{_local(t['name'])}_t", t["type"], unit=t.get("unit", ""))
            self.parameter(app, _local(t["name"]), ty, t.get("doc", ""))

    def arg_param_type(self, sys: str, local: str, a: dict[str, Any]) -> str:
        if a.get("unit"):
            return self.scalar_type(sys, local, a["type"], unit=a["unit"])
        return self.shared_type(a["type"])

    # --- commands ------------------------------------------------------------------

    def tc_base(self) -> None:
        root = self.root
        args = [
            ("apid", 11, int(self.d["apid"])),
            ("seq_count", 14, 0),
            ("packet_length", 16, 0),
            ("ack_flags", 4, 15),
            ("service", 8, None),
            ("subservice", 8, None),
            ("source_id", 16, 0),
        ]
        mc = _el(None, "MetaCommand", name="PUS_TC", abstract="true")
        mc.set("shortDescription", "CCSDS primary and PUS-C TC secondary headers")
        _ancillary(
            mc,
            "flightsw_sender",
            "packet_length is the data field length minus one; a CRC-16/CCITT-FALSE over "
            "the whole packet follows the application data",
        )
        al = _el(mc, "ArgumentList")
        for n, bits, initial in args:
            type_name = self.name(None, f"tc_{n}_t", "ArgumentType")
            ty = _el(
                None,
                "IntegerArgumentType",
                name=type_name,
                signed="false",
                sizeInBits=bits,
                initialValue=initial,
            )
            _el(ty, "IntegerDataEncoding", sizeInBits=bits, encoding="unsigned")
            root.arg_types.append(ty)
            _el(al, "Argument", name=n, argumentTypeRef=self.ref(None, type_name))
        cc = _el(mc, "CommandContainer", name="PUS_TC_container")
        el = _el(cc, "EntryList")
        fixed = {"version": (3, "00"), "type": (1, "01"), "sec_hdr_flag": (1, "01")}
        for n, (bits, value) in fixed.items():
            _el(el, "FixedValueEntry", name=n, binaryValue=value, sizeInBits=bits)
        _el(el, "ArgumentRefEntry", argumentRef="apid")
        _el(el, "FixedValueEntry", name="seq_flags", binaryValue="03", sizeInBits=2)
        for n in ("seq_count", "packet_length"):
            _el(el, "ArgumentRefEntry", argumentRef=n)
        _el(el, "FixedValueEntry", name="pus_version", binaryValue="02", sizeInBits=4)
        for n in ("ack_flags", "service", "subservice", "source_id"):
            _el(el, "ArgumentRefEntry", argumentRef=n)
        self.name(None, "PUS_TC", "MetaCommand")
        root.commands.append(mc)

    def commands(self) -> None:
        base = self.ref(None, "PUS_TC")
        for c in self.d["commands"]:
            app, local = c["app"], _local(c["name"])
            name = self.name(app, local, "MetaCommand")
            mc = _el(None, "MetaCommand", name=name)
            if c.get("doc"):
                mc.set("shortDescription", c["doc"])
            layout = c.get("layout")
            if isinstance(layout, dict):
                _ancillary(mc, "flightsw_layout", json.dumps(layout))
            assign = _el(_el(mc, "BaseMetaCommand", metaCommandRef=base), "ArgumentAssignmentList")
            for n in ("service", "subservice"):
                _el(assign, "ArgumentAssignment", argumentName=n, argumentValue=c[n])
            al = _el(mc, "ArgumentList")
            entries: list[ET.Element] = []
            for a in c["args"] or []:
                ty = self.scalar_type(
                    app,
                    f"{local}_{a['name']}_t",
                    a["type"],
                    "Argument",
                    a.get("unit", ""),
                    lo=a.get("min"),
                    hi=a.get("max"),
                )
                arg = _el(al, "Argument", name=a["name"], argumentTypeRef=ty)
                if a.get("doc"):
                    arg.set("shortDescription", a["doc"])
                entries.append(_el(None, "ArgumentRefEntry", argumentRef=a["name"]))
            if isinstance(layout, dict):
                types = _ArgTypes(self, app, local)
                for f in layout["fields"]:
                    entries += types.field(al, f["name"], f["layout"])
            if not len(al):
                mc.remove(al)
            cc = _el(mc, "CommandContainer", name=f"{name}_container")
            el = _el(cc, "EntryList")
            if c.get("function_id") is not None:
                _el(
                    el,
                    "FixedValueEntry",
                    name="function_id",
                    binaryValue=f"{c['function_id']:04x}",
                    sizeInBits=16,
                )
            el.extend(entries)
            _el(cc, "BaseContainer", containerRef=f"{self.ref(None, 'PUS_TC_container')}")
            self.system(app).commands.append(mc)


class _ArgTypes:
    """The XTCE argument types of one command's variable layout: arrays sized by a count
    argument, items of several fields as aggregates, names and prefixed octets sized by
    a length argument."""

    def __init__(self, b: _Builder, sys: str, command: str) -> None:
        self.b, self.sys, self.command = b, sys, command

    def _new(self, tag: str, local: str, **attrs: Any) -> tuple[ET.Element, str]:
        name = self.b.name(self.sys, f"{self.command}_{local}", "ArgumentType")
        ty = _el(None, tag, name=name, **attrs)
        self.b.system(self.sys).arg_types.append(ty)
        return ty, self.b.ref(self.sys, f"{self.command}_{local}")

    def type_of(self, local: str, lay: dict[str, Any], length_ref: str | None = None) -> str:
        t = lay["type"]
        if t in _INT or t in _FLOAT:
            return self.b.scalar_type(self.sys, f"{self.command}_{local}_t", t, "Argument")
        if t == "string" and length_ref is not None:
            ty, ref = self._new("StringArgumentType", f"{local}_t")
            var = _el(_el(ty, "StringDataEncoding", encoding="US-ASCII"), "Variable")
            var.set("maxSizeInBits", str(255 * 8))
            dv = _el(var, "DynamicValue")
            _el(dv, "ArgumentInstanceRef", argumentRef=length_ref)
            _el(dv, "LinearAdjustment", slope=8)
            return ref
        if t == "struct":
            ty, ref = self._new("AggregateArgumentType", f"{local}_t")
            members = _el(ty, "MemberList")
            for f in lay["fields"]:
                _el(
                    members,
                    "Member",
                    name=f["name"],
                    typeRef=self.type_of(f"{local}_{f['name']}", f["layout"]),
                )
            return ref
        ty, ref = self._new(
            "BinaryArgumentType", f"{local}_t", shortDescription="see flightsw_layout"
        )
        enc = _el(ty, "BinaryDataEncoding")
        if t == "bytes" and isinstance(lay.get("length"), int):
            _el(_el(enc, "SizeInBits"), "FixedValue").text = str(8 * lay["length"])
        elif length_ref is not None:
            dv = _el(_el(enc, "SizeInBits"), "DynamicValue")
            _el(dv, "ArgumentInstanceRef", argumentRef=length_ref)
            _el(dv, "LinearAdjustment", slope=8)
        else:  # to the end of the packet: the sender knows the length
            _el(_el(enc, "SizeInBits"), "FixedValue").text = "0"
        return ref

    def field(self, al: ET.Element, name: str, lay: dict[str, Any]) -> list[ET.Element]:
        """``name`` as arguments in ``al``; returns its entries."""
        out: list[ET.Element] = []
        t = lay["type"]
        length_ref = None
        if (t == "array" and isinstance(lay["count"], str)) or "prefix" in lay:
            length_ref = f"{name}_count" if t == "array" else f"{name}_length"
            size = lay["count"] if t == "array" else lay["prefix"]
            _el(
                al,
                "Argument",
                name=length_ref,
                argumentTypeRef=self.type_of(length_ref, {"type": size}),
            )
            out.append(_el(None, "ArgumentRefEntry", argumentRef=length_ref))
        if t == "array":
            item = self.type_of(f"{name}_item", lay["item"])
            ty, ref = self._new("ArrayArgumentType", f"{name}_t", arrayTypeRef=item)
            dim = _el(_el(ty, "DimensionList"), "Dimension")
            _el(_el(dim, "StartingIndex"), "FixedValue").text = "0"
            end = _el(dim, "EndingIndex")
            if length_ref is None:
                _el(end, "FixedValue").text = str(int(lay["count"]) - 1)
            else:
                dv = _el(end, "DynamicValue")
                _el(dv, "ArgumentInstanceRef", argumentRef=length_ref)
                _el(dv, "LinearAdjustment", intercept=-1)
        else:
            ref = self.type_of(name, lay, length_ref)
        _el(al, "Argument", name=name, argumentTypeRef=ref)
        out.append(_el(None, "ArgumentRefEntry", argumentRef=name))
        return out


def _ancillary(element: ET.Element, name: str, text: str) -> None:
    _el(_el(element, "AncillaryDataSet"), "AncillaryData", name=name).text = text


def build_xtce(dictionary: dict[str, Any], flat: bool = False) -> str:
    """The XTCE document for a dictionary from ``flightsw.runtime.dictionary.build_dictionary``:
    nested (a SpaceSystem per app) or, with ``flat``, one SpaceSystem level."""
    ET.register_namespace("xtce", NS)
    b = _Builder(dictionary, flat)
    b.headers()
    b.reports()
    b.tc_base()
    b.commands()
    header = _el(
        None,
        "Header",
        version=str(dictionary.get("dictionary_version", 1)),
        validationStatus="Working",
    )
    root = b.root.element("SpaceSystem", header)
    for app in sorted(b.apps):
        root.append(b.apps[app].element("SpaceSystem"))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
