"""The procedure API: the shipped procedures in SIL and live, bad input, build-time timeouts."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from flightsw.ground.procedure import Procedure, ProcedureError, ProcedureFailed
from flightsw.ground.procedure_backends import UdpBackend
from flightsw.ground.procedure_runner import load_procedure, run_procedure
from flightsw.runtime.mission import load_mission
from flightsw.sil.harness import SilHarness
from flightsw.sil.procedure_backend import SilBackend
from hal.factory import parse_host_port
from tests.apps.conftest import small_node
from tests.ground.conftest import LiveBuild

SHIPPED = Path(__file__).resolve().parents[2] / "flightsw" / "data" / "procedures"
NAMES = ["ping", "hk_rate", "payload_job", "latchup"]


class _CountingBackend(SilBackend):
    """A SIL back end that counts what went up."""

    def __init__(self, harness: SilHarness) -> None:
        super().__init__(harness)
        self.sent: list[bytes] = []

    def send(self, tc: bytes) -> None:
        self.sent.append(tc)
        super().send(tc)


def _udp(build: LiveBuild, archive: Path) -> UdpBackend:
    return UdpBackend(
        load_mission(),
        parse_host_port(build.radio, "radio"),
        archive,
        state=archive.parent / "ground-sdls.json",
        fault_port=parse_host_port(build.fault_port, "fault port"),
    )


@pytest.fixture(scope="module")
def node() -> SilHarness:
    """One small node shared by the tests that only look or are refused (cheap)."""
    return small_node(boards=4)


def test_shipped_procedures_pass_in_sil() -> None:
    """The four procedures one after another on one SIL build, as an operator would."""
    h = small_node(boards=8, busy=4)
    for name in NAMES:
        path = SHIPPED / f"{name}.py"
        report = run_procedure(load_procedure(path), SilBackend(h), name, path)
        assert report["passed"], (name, report["error"])
        assert report["backend"] == "sil"
    # The world's truth: the fault was injected and the board is back.
    sc = h.hal.harness["sim"]
    assert [f["kind"] for f in sc.fault_log if f["source"] == "schedule"] == ["sel"]
    assert sc.boards.powered[0] and not sc.boards.latched[0] and not sc.boards.damaged[0]


def test_ping_live_over_udp(live_build: LiveBuild, tmp_path: Path) -> None:
    """The same procedure file against a flight build in another process, over UDP."""
    backend = _udp(live_build, tmp_path / "ground.sqlite")
    try:
        path = SHIPPED / "ping.py"
        report = run_procedure(load_procedure(path), backend, "ping", path)
    finally:
        backend.close()
    assert report["passed"], report["error"]
    stages = [s["stage"] for s in report["steps"] if s["step"] == "verification"]
    assert stages == ["accepted", "completed"] and report["backend"] == "udp"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES[1:])
def test_shipped_procedures_pass_live_over_udp(
    live_build: LiveBuild, tmp_path: Path, name: str
) -> None:
    backend = _udp(live_build, tmp_path / "ground.sqlite")
    try:
        path = SHIPPED / f"{name}.py"
        report = run_procedure(load_procedure(path), backend, name, path)
    finally:
        backend.close()
    assert report["passed"], report["error"]


def test_the_fixture_drives_a_sil_build(procedure: Procedure) -> None:
    rid = procedure.send("test.ping")
    procedure.assert_completed(rid)
    assert procedure.await_tm("executive.tc_accepted", lambda v: v >= 1, timeout=11).value >= 1


@pytest.mark.parametrize(
    ("name", "args", "says"),
    [
        ("test.pong", {}, "did you mean test.ping"),
        ("nosuch.thing", {}, "apps: "),
        ("payload.submit_jobz", {}, "did you mean payload.submit_job"),
        ("payload.submit_job", {"prio": 1}, "no argument 'prio'; allowed: payload.submit_job("),
        ("payload.submit_job", {"board_hours": 1.0}, "argument 'priority' missing"),
        (
            "payload.submit_job",
            {"board_hours": 1.0, "priority": "high", "deadline_s": 0, "checkpoint_s": 60.0},
            "payload.submit_job.priority: expected an integer, got 'high'",
        ),
        (
            "payload.submit_job",
            {"board_hours": 1.0, "priority": 1.5, "deadline_s": 0, "checkpoint_s": 60.0},
            "priority: 1.5 is not an integer (u8)",
        ),
        (
            "payload.submit_job",
            {"board_hours": 1.0, "priority": 256, "deadline_s": 0, "checkpoint_s": 60.0},
            "priority: 256 outside u8 range [0, 255]; allowed: payload.submit_job(board_hours: "
            "f32 0.001..10000 h, priority: u8 0..255, deadline_s: u32 0..4294967295",
        ),
        (
            "payload.submit_job",
            {"board_hours": 0.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 60.0},
            "board_hours: 0.0 outside [0.001, 10000.0]",
        ),
        (
            "payload.submit_job",
            {"board_hours": math.nan, "priority": 1, "deadline_s": 0, "checkpoint_s": 60.0},
            "board_hours: nan is not a finite number",
        ),
        ("housekeeping.set_hk_interval", {"sid": 1}, "takes app_data bytes"),
    ],
)
def test_bad_commands_name_the_argument_and_send_nothing(
    name: str, args: dict[str, Any], says: str, node: SilHarness
) -> None:
    h = node
    backend = _CountingBackend(h)
    p = Procedure(backend)
    with pytest.raises(ProcedureError) as err:
        p.send(name, **args)
    assert says in str(err.value)
    assert backend.sent == [] and p.steps == []


def test_bad_waits_are_refused_before_waiting(node: SilHarness) -> None:
    p = Procedure(SilBackend(node))
    t0 = p.now()
    with pytest.raises(ProcedureError, match=r"unknown event 'fdir.BOARD_LATCH'; did you mean"):
        p.await_event("fdir.BOARD_LATCH")
    with pytest.raises(ProcedureError, match="has no argument 'boards'"):
        p.await_event("fdir.BOARD_LATCHUP", boards=1)
    with pytest.raises(ProcedureError, match=r"unknown telemetry point 'power.sok'"):
        p.await_tm("power.sok")
    with pytest.raises(ProcedureError, match="stage 'done' is not one of"):
        p.await_verification(1, "done")
    with pytest.raises(ProcedureError, match="was not sent by this procedure"):
        p.await_verification(0x1234)
    with pytest.raises(ProcedureError, match="timeout"):
        p.await_tm("power.soc", timeout=math.inf)
    with pytest.raises(ProcedureError, match="unknown HK structure"):
        p.set_hk_interval("power.nothing", 2.0)
    assert p.now() == t0  # nothing ran


def test_timeouts_are_build_time(node: SilHarness) -> None:
    """A wait that times out has run exactly its timeout of simulated time (to a frame)."""
    rng = random.Random()
    for _ in range(3):
        timeout = rng.uniform(0.1, 4.0)
        node.run(rng.randint(0, 3))
        p = Procedure(SilBackend(node))
        t0 = p.now()
        with pytest.raises(ProcedureFailed, match=r"no event fdir.BOARD_ISOLATED within"):
            p.await_event("fdir.BOARD_ISOLATED", timeout=timeout)
        assert timeout <= p.now() - t0 < timeout + 0.1 + 1e-9, timeout
        assert p.steps[-1]["step"] == "timeout"


def test_a_failed_command_fails_the_procedure_with_its_code(
    tmp_path: Path, node: SilHarness
) -> None:
    path = tmp_path / "readmit.py"
    path.write_text(
        "def run(p):\n"
        "    rid = p.send('fdir.readmit_board', board=3)\n"
        "    p.await_verification(rid, 'accepted')\n"
        "    p.assert_completed(rid)\n"
    )
    report = run_procedure(load_procedure(path), SilBackend(node), "readmit")
    assert not report["passed"]
    assert report["error"] == "fdir.readmit_board (request 0x" + report["error"].split("0x")[1]
    assert "failed at completed: code 14" in report["error"]  # not isolated: INVALID_STATE
    steps = [(s["step"], s.get("stage")) for s in report["steps"]]
    assert steps[:3] == [
        ("command", None),
        ("verification", "accepted"),
        ("verification", "completed"),
    ]


def test_an_earlier_stage_failure_ends_a_wait_for_a_later_one(node: SilHarness) -> None:
    p = Procedure(SilBackend(node))
    rid = p.send("housekeeping.set_hk_interval", app_data=b"\x01\x00")  # N=1, no room for it
    t0 = p.now()
    with pytest.raises(ProcedureFailed, match="failed at accepted: code 2"):  # BAD_LENGTH
        p.await_verification(rid, "completed", timeout=30)
    assert p.now() - t0 < 1.0  # did not wait for the timeout
    rid = p.send("power.arm_switch", switch=200)  # no such switch
    with pytest.raises(ProcedureFailed, match="code 16"):
        p.await_verification(rid, "completed", timeout=30)


def test_inject_refuses_an_unknown_fault(node: SilHarness) -> None:
    h = node
    p = Procedure(SilBackend(h))
    with pytest.raises(Exception, match="kind: 'meteor' is not one of"):
        p.inject("meteor", 0)
    assert h.hal.harness["sim"].faults.pending == 0


def test_playback_tm_is_not_an_answer(tmp_path: Path) -> None:
    """TM replayed from the packet store (VC1) is archived but never taken as new."""
    from flightsw.ground.procedure_backends import _CollectingConsole
    from flightsw.packets import PusTm

    console = _CollectingConsole(
        load_mission(), ("127.0.0.1", 9), tmp_path / "a.sqlite", state=tmp_path / "s.json"
    )
    try:
        pkt = PusTm(0x64, 17, 2).encode()
        console._describe(pkt, playback=True)  # the packet came on the playback channel
        console._describe(pkt)
    finally:
        console.close()
    assert console.realtime == [pkt] and console.playback_packets == 1


def test_another_sources_tc_with_the_same_request_id_does_not_answer_for_the_procedures() -> None:
    """Another source (the SIL's simulated ground workload, source 0) numbers its TCs
    from 0 on the same APID too, so its ping has the request id of the procedure's
    command. The ping completes first; the procedure's command fails (code 14): the
    procedure must see its own failure, not the other's success."""
    from flightsw.ground.commanding import CommandEncoder
    from flightsw.packets import PusTc

    h = small_node(boards=4)
    p = Procedure(SilBackend(h))
    theirs = PusTc.decode(CommandEncoder(h.dictionary).encode("test.ping"))
    rid = p.send("fdir.readmit_board", board=3)  # not isolated: fails with INVALID_STATE
    h.send_raw(theirs.encode())
    assert theirs.request_id == rid and theirs.source_id != p.source_id
    with pytest.raises(ProcedureFailed, match="failed at completed: code 14"):
        p.await_verification(rid, "completed")
