"""The XTCE export: valid against the XTCE 1.2 schema in both forms, every name legal and
every reference resolvable, and a SIL run's ``tm.bin`` decoded by space-packet-parser from
the flat export alone gives the archive's values."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import space_packet_parser
import xmlschema
from space_packet_parser.generators import ccsds_generator
from space_packet_parser.xtce.definitions import XtcePacketDefinition

from flightsw.ground.archive_query import ArchiveReader
from flightsw.ground.commanding import CommandEncoder
from flightsw.ground.tm_decoder import TmDecoder
from flightsw.ground.xtce import NS, build_xtce
from flightsw.packets import PusTc
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import load_mission
from flightsw.sil.simulate import SimOptions, run_sim
from sim_hw.faults import FaultKind, ScheduledFault

X = f"{{{NS}}}"
XSD = Path(space_packet_parser.__file__).parent / "xtce" / "schemas" / "SpaceSystem.xsd"


@cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


@cache
def _dictionary() -> dict[str, Any]:
    return build_dictionary(load_mission())


@pytest.mark.parametrize("flat", [False, True])
def test_export_is_valid_xtce_1_2(flat: bool) -> None:
    doc = build_xtce(_dictionary(), flat=flat)
    errors = [f"{e.path}: {e.reason}" for e in _schema().iter_errors(doc.split("\n", 1)[1])]
    assert errors == []


def test_validation_catches_what_the_old_export_lacked() -> None:
    """The check can fail: the Header without validationStatus (the old export's fault)."""
    doc = build_xtce(_dictionary()).split("\n", 1)[1].replace(' validationStatus="Working"', "")
    reasons = [str(e.reason) for e in _schema().iter_errors(doc)]
    assert any("validationStatus" in r for r in reasons)


@pytest.mark.parametrize("flat", [False, True])
def test_every_name_legal_and_every_reference_resolves(flat: bool) -> None:
    d = _dictionary()
    root = ET.fromstring(build_xtce(d, flat=flat).split("\n", 1)[1])
    mission = root.get("name")
    defined: set[str] = set()

    def walk(system: ET.Element, path: str) -> None:
        for e in system:
            if e.tag == X + "SpaceSystem":
                walk(e, f"{path}/{e.get('name')}")
            else:
                for x in e.iter():
                    if x.get("name") is not None and x.tag != X + "AncillaryData":
                        defined.add(f"{path}/{x.get('name')}" if not flat else x.get("name"))

    walk(root, f"/{mission}")
    names = [e.get("name") for e in root.iter() if e.get("name") is not None]
    assert not [n for n in names if set(n) & set("./:[] ")]
    for e in root.iter():
        for attr in (
            "parameterRef",
            "parameterTypeRef",
            "containerRef",
            "typeRef",
            "arrayTypeRef",
            "metaCommandRef",
        ):
            ref = e.get(attr)
            if ref is None or (not flat and not ref.startswith("/")):
                continue  # nested: a bare name is an argument or a member, local
            assert ref in defined, (attr, ref)
    containers = [c.get("name") for c in root.iter(X + "SequenceContainer")]
    assert len(containers) == len(set(containers)) or not flat
    # one container per HK structure and per event, one per other report, plus the
    # headers: CCSDSPacket, PUS_TM, IDLE
    others = [r for r in d["reports"] if r["service"] not in (3, 5) or r["subservice"] == 8]
    assert len(containers) == (len(d["housekeeping"]) + len(d["events"]) + len(others) + 1 + 4 + 3)
    commands = [m for m in root.iter(X + "MetaCommand") if m.get("abstract") != "true"]
    assert len(commands) == len(d["commands"])


def test_command_arguments_carry_range_and_units() -> None:
    d = _dictionary()
    root = ET.fromstring(build_xtce(d, flat=True).split("\n", 1)[1])
    types = {t.get("name"): t for t in root.iter() if t.tag.endswith("ArgumentType")}
    checked = 0
    for c in d["commands"]:
        for a in c["args"] or []:
            t = types[f"{c['name'].replace('.', '__')}_{a['name']}_t"]
            rng = t.find(f"{X}ValidRangeSet/{X}ValidRange")
            if a["min"] is not None:
                assert rng is not None and float(rng.get("minInclusive")) == a["min"]
                assert float(rng.get("maxInclusive")) == a["max"]
                checked += 1
            unit = t.find(f"{X}UnitSet/{X}Unit")
            assert (unit.text if unit is not None else "") == a["unit"]
    assert checked > 5


# --- a SIL run decoded from the export alone ---------------------------------------------


def _run(tmp: Path, seed: int) -> tuple[Path, dict[str, Any]]:
    """A short SIL run with verification, events (a latch-up) and reports of every kind
    of layout (lists, names, values typed by an id, octets to the end)."""
    m = load_mission(seed=seed)
    m.hal = {**m.hal, "radio": {"always_in_contact": True}}
    d = build_dictionary(m)
    enc = CommandEncoder(d)
    rng = random.Random(seed)
    script = [(1.0, PusTc(m.executive.apid, 17, 1, seq_count=1).encode())]
    for i, (name, args) in enumerate(
        [
            ("events.report_disabled_events", {}),
            ("parameters.report_parameters", {"ids": []}),
            ("storage.report_store_status", {}),
            ("sequencer.report", {}),
            ("monitoring.report_monitoring_definitions", {"pmon_ids": []}),
            ("event_action.report_event_action_definitions", {}),
            ("payload.list_jobs", {}),
            ("test.connection_test", {"apid": m.executive.apid}),
            ("executive.noop", {}),
        ]
    ):
        script.append((2.0 + i + rng.random(), enc.encode(name, args)))
    faults = [ScheduledFault(5.0 + rng.random() * 10, FaultKind.SEL, rng.randrange(8))]
    out = tmp / "run"
    run_sim(
        m,
        SimOptions(
            duration_s=40.0,
            out_dir=out,
            progress=False,
            plots=False,
            tc_script=script,
            faults=faults,
        ),
    )
    return out, d


def _spp_packets(xtce: Path, tm: bytes) -> list[dict[str, Any]]:
    definition = XtcePacketDefinition.from_xtce(xtce)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a length mismatch is a warning there: fail on it
        return [
            {
                k: (v.raw_value if k == "PUS_TIME" else v)
                for k, v in definition.parse_bytes(p).items()
            }
            for p in ccsds_generator(tm)
        ]


def _time_ns(raw: int) -> int:
    """As :func:`flightsw.packets.cuc_decode` turns coarse and fine into ns."""
    from flightsw.packets import cuc_decode

    return cuc_decode(raw.to_bytes(6, "big"), 4)


def test_space_packet_parser_decodes_a_sil_run_to_the_archives_values(tmp_path: Path) -> None:
    seed = random.randrange(1000)
    out, d = _run(tmp_path, seed)
    xtce = tmp_path / "flat.xml"
    xtce.write_text(build_xtce(d, flat=True))
    tm = (out / "tm.bin").read_bytes()
    packets = _spp_packets(xtce, tm)
    ours = TmDecoder(d)
    raw_packets = list(ccsds_generator(tm))
    assert len(packets) == len(raw_packets) > 50
    db = sqlite3.connect(out / "archive.sqlite")
    sids = {h["name"]: h["sid"] for h in d["housekeeping"]}
    hk_app = {h["sid"]: h["app"] for h in d["housekeeping"]}
    with ArchiveReader(out / "archive.sqlite") as reader:
        archive_hk = {(t, sids[s], p, v) for t, _sid, s, p, v in reader.hk_points()}
    archive_events = {
        (t, e, json.dumps(json.loads(a), sort_keys=True))
        for t, e, a in db.execute("SELECT time_ns, event_id, args FROM events")
    }
    archive_verif = set(
        db.execute("SELECT time_ns, subservice, request_id, failure_code FROM verification")
    )
    events = {e["id"]: e for e in d["events"]}
    got_hk, got_events, got_verif = set(), set(), set()
    reports_checked = set()
    for p, raw in zip(packets, raw_packets, strict=True):
        t = _time_ns(p["PUS_TIME"])
        service, sub = p["SERVICE"], p["SUBSERVICE"]
        if (service, sub) == (3, 25):
            sid = p["housekeeping__hk_report_sid"]
            app = hk_app[sid]
            got_hk |= {
                (t, sid, k.split("__", 1)[1], float(v))
                for k, v in p.items()
                if k.startswith(f"{app}__")
            }
        elif service == 5 and sub <= 4:
            severity = ["info", "low", "medium", "high"][sub - 1]
            eid = p[f"events__event_{severity}_event_id"]
            ev = events[eid]["name"].replace(".", "__")
            args = {a["name"]: p[f"{ev}_{a['name']}"] for a in events[eid]["args"]}
            got_events.add((t, eid, json.dumps(args, sort_keys=True)))
        elif service == 1:
            got_verif.add(
                (
                    t,
                    sub,
                    p["executive__" + _verif_name(sub) + "_request_id"],
                    p.get("executive__" + _verif_name(sub) + "_failure_code"),
                )
            )
        else:  # every scalar field as our own decoder reads it from the dictionary
            decoded = ours.decode(bytes(raw))
            prefix = decoded.name.replace(".", "__") + "_"
            for k, v in decoded.fields.items():
                if isinstance(v, int | float) and not isinstance(v, bool) and prefix + k in p:
                    assert p[prefix + k] == v, (decoded.name, k)
                    reports_checked.add(decoded.name)
                elif isinstance(v, list) and prefix + k + "_count" in p:
                    assert p[prefix + k + "_count"] == len(v)
                    reports_checked.add(decoded.name)
    assert got_hk == {(t, s, pt, float(v)) for t, s, pt, v in archive_hk} and len(got_hk) > 200
    assert got_events == archive_events and archive_events
    assert got_verif == archive_verif and len(archive_verif) >= 10
    assert len(reports_checked) >= 5, reports_checked


def _verif_name(sub: int) -> str:
    return [
        "acceptance_ok",
        "acceptance_failed",
        "start_ok",
        "start_failed",
        "progress_ok",
        "progress_failed",
        "completion_ok",
        "completion_failed",
    ][sub - 1]


def test_cli_exports_both_forms(tmp_path: Path) -> None:
    """``--flat`` writes the form space-packet-parser loads; the default is nested."""
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "flightsw.cli.main",
            "dict",
            "export",
            "--format",
            "xtce",
            "--flat",
            "-o",
            str(tmp_path / "flat.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "flat.xml").read_text() == build_xtce(_dictionary(), flat=True)
    XtcePacketDefinition.from_xtce(tmp_path / "flat.xml")
    root = ET.fromstring(build_xtce(_dictionary()).split("\n", 1)[1])
    assert {s.get("name") for s in root.findall(X + "SpaceSystem")} >= {"executive", "power"}
