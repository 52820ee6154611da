"""The ground decodes a whole SIL run's TM from the dictionary alone.

A run of the default flight build is commanded so that it sends every report the
dictionary declares; the TM and the exported
dictionary go to a fresh interpreter that decodes them with ``flightsw.ground`` and
reports which modules it loaded: no flight service, app or FDIR module may be among them.
What it decoded is checked against what the flight side holds (the truth of this run),
not against the decoder's own view.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from flightsw.base.errors import DecodeError
from flightsw.ground.tm_decoder import TmDecoder, split_packets
from flightsw.packets import PusTm
from flightsw.runtime.dictionary import build_dictionary
from flightsw.sil.harness import SilHarness

_DECODE = r"""
import json, sys
from collections import Counter
from flightsw.ground.tm_decoder import TmDecoder, split_packets
d = json.load(open(sys.argv[1]))
dec = TmDecoder(d)
kinds, errors, samples = Counter(), [], {}
for raw in split_packets(open(sys.argv[2], "rb").read()):
    try:
        x = dec.decode(raw)
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
        continue
    kinds[x.name] += 1
    named = dec.named_values(x).items()
    samples[x.name] = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in named}
flight = ("flightsw.services", "flightsw.apps", "fdir")
loaded = sorted(m for m in sys.modules if m.startswith(flight))
print(json.dumps({"kinds": kinds, "errors": errors, "samples": samples, "loaded": loaded}))
"""


def test_a_sil_run_decodes_from_the_dictionary_alone(tmp_path: Path) -> None:
    h = SilHarness()
    dictionary = build_dictionary(h.mission)
    h.run(5)
    content = b"job list\n" * 7
    h.send("test.ping")
    h.send("test.connection_test", {"apid": h.mission.executive.apid})
    h.send("events.disable_events", {"ids": [dictionary["events"][-1]["id"]]})
    h.send("events.report_disabled_events")
    h.send("storage.report_store_status")
    h.send(
        "files.create_file", {"name": "jobs.csv", "size": len(content), "crc": zlib.crc32(content)}
    )
    h.send("files.write_file", {"name": "jobs.csv", "offset": 0, "chunk": content[:20]})
    h.send("files.report_file", {"name": "jobs.csv"})
    pids = sorted(h.exe.params.by_id)[:3]
    h.send("parameters.report_parameters", {"ids": pids})
    h.send("housekeeping.report_hk_once", {"sids": [dictionary["housekeeping"][0]["sid"]]})
    h.send(
        "payload.submit_job",
        {"board_hours": 2.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 600.0},
    )
    h.run(2)
    h.send("payload.list_jobs")
    h.send_pus(200, 1)  # no such service: a failure report
    h.run(120)

    (tmp_path / "dictionary.json").write_text(json.dumps(dictionary))
    (tmp_path / "tm.bin").write_bytes(b"".join(h.raw_tm))
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            _DECODE,
            str(tmp_path / "dictionary.json"),
            str(tmp_path / "tm.bin"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["loaded"] == [] and got["errors"] == []
    sent = {(p.service, p.subservice) for p in h.tm}
    declared = {(r["service"], r["subservice"]): r["name"] for r in dictionary["reports"]}
    assert sent <= set(declared)
    assert set(got["kinds"]) == {declared[k] for k in sent}
    assert sum(got["kinds"].values()) == len(h.raw_tm)
    # the fields against the flight side's truth
    s = got["samples"]
    assert s["test.on_board_connection"] == {"apid": h.mission.executive.apid}
    assert s["files.file_status"] == {
        "name": "jobs.csv",
        "size": len(content),
        "received": 20,
        "complete": 0,
    }
    assert s["events.disabled_events"] == {"ids": sorted(h.exe.events.disabled)}
    values = {v["id"]: v["value"] for v in s["parameters.parameter_values"]["values"]}
    assert values == {pid: h.exe.params.value_by_id(pid) for pid in pids}
    status = s["storage.store_status"]
    assert status["recording"] == 1 and status["stored"] > 0
    assert s["executive.acceptance_failed"]["failure_code"] == 4  # ILLEGAL_SERVICE
    assert "executive.completion_failed" not in s
    jobs = s["payload.job_list"]["jobs"]
    live = {j.job_id: j for j in h.exe.app("payload").instance.book.live()}
    assert {j["job"] for j in jobs} == set(live) and live


def test_every_report_the_flight_build_sends_is_declared_once() -> None:
    h = SilHarness()
    dictionary = build_dictionary(h.mission)
    keys = [(r["service"], r["subservice"]) for r in dictionary["reports"]]
    assert len(keys) == len(set(keys))
    decoder = TmDecoder(json.loads(json.dumps(dictionary)))
    assert set(decoder.reports) == set(keys)


def test_split_packets_refuses_a_cut_stream() -> None:
    raw = PusTm(1, 17, 2, b"").encode()
    assert split_packets(raw * 2) == [raw, raw]
    with pytest.raises(DecodeError, match="announced"):
        split_packets(raw + raw[:-1])
