"""The XTCE export: well-formed, complete, names legal, every reference resolvable."""

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
    assert total_params == len(d["telemetry"])
    assert len(list(root.iter(X + "MetaCommand"))) == len(d["commands"])
    hk = list(root.iter(X + "SequenceContainer"))
    assert len(hk) == len(d["housekeeping"]) + 1  # plus the abstract PUS TM container


def test_cli_exports_xtce() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "flightsw.cli", "dict", "export", "--format", "xtce"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("<?xml") and "MetaCommandSet" in r.stdout
