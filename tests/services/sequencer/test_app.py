"""Stored sequences on board: run through the real link, branches, limits, bad files.

Truth is what happened (the recorder app's log of the commands that ran and when, the
TCs the ground saw completed), not the sequencer's own counters.
"""

from __future__ import annotations

import random
import struct
import zlib

from flightsw.framework.app import FailureCode
from flightsw.framework.layouts import parse_fields
from flightsw.framework.verification import parse_report
from flightsw.ground.sequences import compile_text
from flightsw.ground.station import GroundStation
from flightsw.link.sdls_config import link_security
from flightsw.packets import PusTc, PusTm
from flightsw.packets.sequence import Op, encode
from flightsw.runtime.mission import load_mission
from flightsw.services.comms.app import link_config
from flightsw.services.sequencer.app import (
    FILE_NAME,
    SEQUENCE_INVALID,
    SOURCE_ID,
    STATUS_REPORT,
    State,
)
from flightsw.sil.harness import SilHarness
from tests.support.light_node import FRAME_NS, LightNode

S = 1_000_000_000


def _put(n: LightNode, name: str, data: bytes) -> None:
    """A file as the PUS-23 service leaves it once complete (the light node's shortcut)."""
    n.hal.nv.write("file." + name, data)
    n.hal.nv.write("file." + name + ".ok", b"1")


def _light(text: str, name: str = "s1", **params: object) -> tuple[LightNode, bytes]:
    n = LightNode(params={"sequencer": dict(params)})
    data, _ = compile_text(text, n.exe_dictionary(), name)
    _put(n, name, data)
    return n, data


def _start(n: LightNode, name: str) -> int:
    return n.send("sequencer.start", FILE_NAME.build({"file": name}))


def test_a_sequence_written_compiled_uplinked_over_the_link_runs_with_its_reports() -> None:
    m = load_mission()
    m.hal = {**m.hal, "radio": {"always_in_contact": True}, "spacecraft": {"boards": 8}}
    h = SilHarness(m)
    opts = next(s.options for s in h.mission.apps if s.name == "comms")
    gs = GroundStation.with_security(link_config(opts), link_security(opts))
    gs.initiate()
    text = """
        sequence checkout
        cmd test.ping
        wait 0.35
        cmd test.connection_test apid=0x7ff else continue   # fails: no such process
        wait_tlm files.complete_files >= 1 timeout 5
        cmd test.connection_test apid=100
    """
    data, critical = compile_text(text, h.dictionary, "checkout.seq")
    assert critical == []
    enc = h.encoder
    name = bytes([8]) + b"checkout"
    tcs = [
        enc.encode(
            "files.create_file", app_data=name + struct.pack(">II", len(data), zlib.crc32(data))
        )
    ]
    for off in range(0, len(data), 48):
        tcs.append(
            enc.encode(
                "files.write_file", app_data=name + struct.pack(">I", off) + data[off : off + 48]
            )
        )
    start = enc.encode("sequencer.start", app_data=FILE_NAME.build({"file": "checkout"}))
    tcs.append(start)
    for tc in tcs:
        gs.send_packet(tc)
    link = h.hal.harness["ground_link"]
    got: list[PusTm] = []
    for _ in range(100):
        h.exe.run_minor_frame()
        for cltu in gs.tick(h.exe.now_ns / 1e9):
            link.send(cltu)
        for chunk in link.receive():
            got.extend(PusTm.decode(p) for p in gs.receive(chunk))
    reports = [
        (p.subservice, *parse_report(p.subservice, p.app_data)) for p in got if p.service == 1
    ]
    start_id = PusTc.decode(start).request_id
    assert (1, start_id, None) in reports and (7, start_id, None) in reports
    # The sequence's own TCs: verified under the sequencer's source id, one failure.
    mine = [p for p in got if p.service == 1 and p.dest_id == SOURCE_ID]
    subs = [p.subservice for p in mine]
    assert subs.count(7) == 2 and subs.count(8) == 1 and subs.count(1) == 3
    failed = [parse_report(8, p.app_data)[1] for p in mine if p.subservice == 8]
    assert failed == [FailureCode.ILLEGAL_APID]
    assert len([p for p in got if (p.service, p.subservice) == (17, 2)]) == 1  # the ping
    assert len([p for p in got if (p.service, p.subservice) == (17, 4)]) == 1  # the last
    seq = h.exe.app("sequencer").instance
    assert seq.tlm["completed"] == 1 and seq.tlm["step_failures"] == 1


def test_a_telemetry_wait_that_times_out_takes_the_failure_branch_on_time() -> None:
    timeout = random.choice([0.3, 0.55, 1.25])
    n, _ = _light(
        f"""
        wait_tlm scheduler.scheduled >= 5 timeout {timeout} else goto fallback
        cmd rec.mark tag=1
        end
        fallback:
        cmd rec.mark tag=2
        """
    )
    n.frames(1)
    _start(n, "s1")
    started_frame = n.exe.frame  # the next frame dispatches the start TC and runs it
    n.frames(int(timeout * 10) + 5)
    assert [tag for tag, _ in n.ran] == [2]
    deadline = started_frame * FRAME_NS + int(timeout * S)
    assert n.ran[0][1] == -(-deadline // FRAME_NS) * FRAME_NS  # the first frame at/after
    n.send("sequencer.report")
    n.frames(1)
    rep = parse_fields(
        STATUS_REPORT, [p for p in n.tm if (p.service, p.subservice) == (18, 9)][-1].app_data, "r"
    )
    assert rep["sequences"][0]["state"] == State.DONE and rep["sequences"][0]["failures"] == 1


def test_a_condition_met_goes_on_and_a_failed_command_aborts_by_default() -> None:
    n, _ = _light(
        """
        wait_tlm scheduler.enabled == 1 timeout 1
        cmd rec.mark tag=1
        cmd test.connection_test apid=0x7ff
        cmd rec.mark tag=2
        """
    )
    n.frames(1)
    rid = _start(n, "s1")
    n.frames(10)
    assert [tag for tag, _ in n.ran] == [1]
    assert (7, None) in n.reports(rid)
    assert n.exe.app("sequencer").instance.tlm["aborted"] == 1


def test_corrupt_and_unknown_command_binaries_are_refused_on_board() -> None:
    n, data = _light("cmd rec.mark tag=1\n")
    _put(n, "flip", data[:10] + bytes([data[10] ^ 0x40]) + data[11:])
    unknown = encode(
        "x",
        [
            {
                "op": Op.CMD,
                "body": {
                    "name": "gone.cmd",
                    "critical": 0,
                    "service": 99,
                    "subservice": 1,
                    "app_data": b"",
                    "on_failure": 0,
                    "target": 0,
                },
            }
        ],
    )
    _put(n, "unknown", unknown)
    no_tlm = encode(
        "y",
        [
            {
                "op": Op.WAIT_TLM,
                "body": {
                    "point": "rec.nothing",
                    "compare": 1,
                    "value": 0.0,
                    "timeout_ns": 1,
                    "on_failure": 0,
                    "target": 0,
                },
            }
        ],
    )
    _put(n, "notlm", no_tlm)
    n.frames(1)
    codes = {f: _start(n, f) for f in ("flip", "unknown", "notlm", "absent")}
    n.frames(2)
    assert (8, SEQUENCE_INVALID) in n.reports(codes["flip"])
    assert (8, SEQUENCE_INVALID) in n.reports(codes["unknown"])
    assert (8, SEQUENCE_INVALID) in n.reports(codes["notlm"])
    assert (8, FailureCode.UNKNOWN_ID) in n.reports(codes["absent"])
    assert n.ran == [] and n.exe.app("sequencer").instance.tlm["invalid"] == 3


def test_several_at_once_up_to_the_limit_pause_resume_stop() -> None:
    n = LightNode(params={"sequencer": {"max_running": 3}})
    d = n.exe_dictionary()
    for i in range(4):
        data, _ = compile_text(f"loop:\ncmd rec.mark tag={i}\nwait 0.5\ngoto loop\n", d, f"s{i}")
        _put(n, f"s{i}", data)
    n.frames(1)
    ids = [_start(n, f"s{i}") for i in range(4)]
    n.frames(2)
    assert all((7, None) in n.reports(r) for r in ids[:3])
    assert (8, FailureCode.QUEUE_FULL) in n.reports(ids[3])
    n.send("sequencer.pause", FILE_NAME.build({"file": "s1"}))
    n.frames(20)
    counts = {t: sum(1 for tag, _ in n.ran if tag == t) for t in range(3)}
    assert counts[1] == 1 and counts[0] >= 4 and counts[2] >= 4
    n.send("sequencer.resume", FILE_NAME.build({"file": "s1"}))
    n.send("sequencer.stop", FILE_NAME.build({"file": "s0"}))
    n.frames(20)
    after = {t: sum(1 for tag, _ in n.ran if tag == t) for t in range(3)}
    assert after[1] >= 4 and after[0] - counts[0] <= 1  # one may have gone before the stop
    n.frames(20)
    assert sum(1 for tag, _ in n.ran if tag == 0) == after[0]
    rid = n.send("sequencer.resume", FILE_NAME.build({"file": "s0"}))
    n.frames(1)
    assert (8, FailureCode.UNKNOWN_ID) in n.reports(rid)


def test_a_goto_loop_with_no_wait_cannot_hold_the_executive() -> None:
    n, _ = _light("spin:\ngoto spin\n", max_steps_per_frame=8)
    n.frames(1)
    _start(n, "s1")
    n.frames(50)  # returns: each frame the sequence takes at most 8 steps
    assert n.exe.app("sequencer").instance.tlm["running"] == 1


def test_running_sequences_survive_a_restart_of_the_sequencer() -> None:
    n, _ = _light("cmd rec.mark tag=1\nwait 1\ncmd rec.mark tag=2\n")
    n.frames(1)
    _start(n, "s1")
    n.frames(5)
    n.exe.restart_app(n.exe.app("sequencer"))
    n.frames(15)
    assert [tag for tag, _ in n.ran] == [1, 2]


def test_the_target_app_disabled_mid_sequence_makes_its_commands_fail_into_the_policy() -> None:
    n, _ = _light(
        """
        cmd rec.mark tag=1
        wait 0.5
        cmd rec.mark tag=2 else goto gone
        end
        gone:
        wait_tlm sequencer.step_failures >= 1 timeout 1
        cmd test.ping
        """
    )
    n.frames(1)
    _start(n, "s1")
    n.frames(2)
    n.exe.disable_app(n.exe.app("rec"))
    n.frames(10)
    seq = n.exe.app("sequencer").instance
    assert [tag for tag, _ in n.ran] == [1]
    assert seq.tlm["completed"] == 1 and seq.tlm["step_failures"] == 1
    failures = [
        parse_report(p.subservice, p.app_data)[1]
        for p in n.tm
        if p.service == 1 and p.subservice == 2 and p.dest_id == SOURCE_ID
    ]
    assert failures == [FailureCode.APP_UNAVAILABLE]


def test_a_reboot_says_which_running_sequences_it_cut_and_runs_none_of_them() -> None:
    n, _ = _light("cmd rec.mark tag=1\nwait 5\ncmd rec.mark tag=2\n")
    _put(n, "s2", n.hal.nv.read("file.s1") or b"")
    n.frames(1)
    _start(n, "s1")
    _start(n, "s2")
    n.frames(5)
    n.reboot()
    n.frames(100)
    assert [tag for tag, _ in n.ran] == [1, 1]  # the second commands never ran

    def lost() -> list[int]:
        key = (0x0A06).to_bytes(2, "big")  # sequencer.SEQ_LOST_AT_REBOOT
        return [p.app_data[2] for p in n.tm if p.service == 5 and p.app_data[:2] == key]

    assert lost() == [2]
    n.send("sequencer.report")
    n.frames(2)
    last = [p for p in n.tm if (p.service, p.subservice) == (18, 9)][-1]
    rep = parse_fields(STATUS_REPORT, last.app_data, "tm")
    assert [(e["file"], e["state"]) for e in rep["sequences"]] == [
        ("s1", State.LOST_AT_REBOOT),
        ("s2", State.LOST_AT_REBOOT),
    ]
    _start(n, "s1")  # one that ends before the next reboot is not reported by it
    n.frames(5)
    n.send("sequencer.stop", FILE_NAME.build({"file": "s1"}))
    n.frames(2)
    n.reboot()
    n.frames(10)
    assert lost() == [2]
