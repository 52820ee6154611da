"""The XTCE export: well-formed, complete, names legal, every reference resolvable."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from flightsw.dictionary import build_dictionary
from flightsw.ground.xtce import NS, build_xtce
from flightsw.mission import load_mission

X = f"{{{NS}}}"


def test_xtce_covers_the_dictionary_and_resolves() -> None:
    d = build_dictionary(load_mission())
    root = ET.fromstring(build_xtce(d).split("\n", 1)[1])
    assert root.tag == X + "SpaceSystem" and root.get("name") == "default"
    names = [e.get("name") for e in root.iter() if e.get("name") is not None]
    assert not [n for n in names if "." in n or "/" in n or " " in n]
    systems = {s.get("name"): s for s in root.findall(X + "SpaceSystem")}
    root_params = {
        p.get("name")
        for p in root.iter(X + "Parameter")
        if p in list(root.find(X + "TelemetryMetaData").iter(X + "Parameter"))
    }
    assert {"pus_service", "pus_subservice", "hk_sid"} <= root_params
    total_params = 0
    for app, system in systems.items():
        local = {p.get("name") for p in system.iter(X + "Parameter")}
        total_params += len(local)
        types = {t.get("name") for t in system.iter() if t.tag.endswith("ParameterType")}
        for p in system.iter(X + "Parameter"):
            assert p.get("parameterTypeRef") in types, (app, p.get("name"))
        for ref in system.iter(X + "ParameterRefEntry"):
            target = ref.get("parameterRef")
            if target.startswith("/default/"):
                assert target.removeprefix("/default/") in root_params
            else:
                assert target in local, (app, target)
    reports = [r for r in d["reports"] if (r["service"], r["subservice"]) != (3, 25)]
    report_fields = sum(
        1 + (f["layout"]["type"] == "array") for r in reports for f in r["layout"]["fields"]
    )
    assert total_params == len(d["telemetry"]) + report_fields


def test_variable_layouts_and_reports_are_in_the_xtce() -> None:
    """Each TM report has a container restricted on its (service, subservice), each
    variable command its arguments; every type and argument reference resolves."""
    d = build_dictionary(load_mission())
    root = ET.fromstring(build_xtce(d).split("\n", 1)[1])
    systems = {s.get("name"): s for s in root.findall(X + "SpaceSystem")}
    for r in d["reports"]:
        if (r["service"], r["subservice"]) == (3, 25):
            continue
        app, local = r["name"].split(".")
        c = next(c for c in systems[app].iter(X + "SequenceContainer") if c.get("name") == local)
        values = {
            (x.get("parameterRef").rsplit("/", 1)[1], x.get("value"))
            for x in c.iter(X + "Comparison")
        }
        assert values == {
            ("pus_service", str(r["service"])),
            ("pus_subservice", str(r["subservice"])),
        }
        layout = c.find(f"{X}AncillaryDataSet/{X}AncillaryData").text
        assert json.loads(layout) == r["layout"]
    for cmd in d["commands"]:
        if not isinstance(cmd.get("layout"), dict):
            continue
        app, local = cmd["name"].split(".")
        mc = next(m for m in systems[app].iter(X + "MetaCommand") if m.get("name") == local)
        args = {a.get("name") for a in mc.iter(X + "Argument")}
        assert {f["name"] for f in cmd["layout"]["fields"]} <= args
        assert {e.get("argumentRef") for e in mc.iter(X + "ArgumentRefEntry")} == args
    for system in systems.values():
        types = {t.get("name") for t in system.iter() if t.tag.endswith("Type") and t.get("name")}
        for e in system.iter():
            for attr in ("typeRef", "arrayTypeRef", "argumentTypeRef", "parameterTypeRef"):
                if e.get(attr) is not None:
                    assert e.get(attr) in types, (system.get("name"), attr, e.get(attr))
    assert len(list(root.iter(X + "MetaCommand"))) == len(d["commands"])
    containers = list(root.iter(X + "SequenceContainer"))
    # one a HK structure, one a report other than HK, and the abstract PUS TM container
    assert len(containers) == len(d["housekeeping"]) + len(d["reports"]) - 1 + 1


def test_cli_exports_xtce() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "flightsw.cli", "dict", "export", "--format", "xtce"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("<?xml") and "MetaCommandSet" in r.stdout
