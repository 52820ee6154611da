"""Stored command sequences run on board (PUS service 18 style: on-board procedures).

A sequence is compiled on the ground (``flightsw seq compile``, format in
``flightsw.packets.sequence``) and uplinked as a file (PUS 23, ``flightsw.services.files.app``).
Starting one reads the file, checks its CRC and layout, and validates it again against
this flight build: every command must pass the dispatcher's acceptance checks as
encoded, every telemetry point must exist. Only a sequence that passes runs.

Each running sequence advances in every minor frame: a command goes through the
dispatcher like any TC (its PUS-1 reports carry the sequencer's source id) and the
sequence waits for its completion (at most ``command_timeout_s``); a wait ends at the
first minor frame at or after its time (integer nanoseconds: nothing drifts); a
telemetry wait checks its condition each frame until its timeout. A command that fails
or times out, and a telemetry wait that times out, follow the step's ``on_failure``:
abort the sequence, continue with the next step, or go to a step. At most
``max_running`` sequences (at most ``MAX_RUNNING``) run at once, and at most
``max_steps_per_frame`` steps of one sequence run in a frame (a goto loop cannot hold
the executive).

Running sequences are kept over a restart of this service (``ctx.retained``), not over a
reboot: after a processor reset they are started again by the ground or a schedule
(resuming a half-run procedure on a node whose state the reset changed is not safe). The
names of the running ones are kept on the NV store (voted, written at each start and
end), so a reboot that cut them is told: one ``SEQ_LOST_AT_REBOOT`` event with their
number, and each in the next TM(18,9) with state 6 (lost at reboot).

TCs: (18,3) start FILE, (18,4) stop FILE, (18,5) pause FILE, (18,6) resume FILE,
(18,8) report -> TM(18,9): each running and recently ended sequence with its state, step
and failures. Failure codes: ``SEQUENCE_INVALID`` (corrupt, or does not validate against
this build; the reason names the step), UNKNOWN_ID (no such complete file or sequence),
INVALID_STATE, QUEUE_FULL (``max_running`` reached).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from construct import Float64b, Int8ub, Int16ub, PascalString, PrefixedArray, Struct

from flightsw.base.errors import CommandError
from flightsw.framework import msgids
from flightsw.framework.app import (
    WAKE_NEVER,
    App,
    Arg,
    EventDef,
    FailureCode,
    ParameterDef,
    ReportDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.bus import Overflow
from flightsw.framework.exec_services import AppCatalog, CommandPath
from flightsw.framework.ports import Device, Service, Subscribe
from flightsw.framework.verification import TcRequest
from flightsw.packets import PusTc
from flightsw.packets.sequence import OnFailure, Op, SequenceError, compare, decode
from flightsw.services.event_action.app import StartSequence
from flightsw.services.files.app import read_complete_file
from flightsw.store.voting import VotingStore
from hal.interfaces import NonVolatileStore

SEQUENCE_INVALID = 0x1201
START_DEPTH = 8  # event-action start requests queued between two steps of the sequencer
"""PUS-1 failure code: the sequence file is corrupt or does not validate on board."""

MAX_RUNNING = 16
SOURCE_ID = 0x5E0  # the source id of TCs a sequence sends (their reports carry it)
ACK = 0b1001  # sequence TCs ask for acceptance and completion reports
NS_PER_S = 1_000_000_000
RECENT = 8  # ended sequences kept for the report

FILE_NAME = Struct("file" / PascalString(Int8ub, "ascii"))
STATUS_ENTRY = Struct(
    "file" / PascalString(Int8ub, "ascii"),
    "state" / Int8ub,
    "step" / Int16ub,
    "steps" / Int16ub,
    "failures" / Int16ub,
    "last_value" / Float64b,
)
STATUS_REPORT = Struct("sequences" / PrefixedArray(Int8ub, STATUS_ENTRY))
RUNNING_RECORD = Struct("files" / PrefixedArray(Int8ub, PascalString(Int8ub, "ascii")))
NV_RUNNING = "sequencer.running"  # the names of the running sequences (voted record)


class State(IntEnum):
    RUNNING = 1
    PAUSED = 2
    DONE = 3
    ABORTED = 4
    STOPPED = 5
    LOST_AT_REBOOT = 6


@dataclass
class Running:
    """One sequence being run."""

    file: str
    steps: list[dict[str, Any]]
    state: State = State.RUNNING
    pc: int = 0
    entered: bool = False  # the current step has started (its deadline is set)
    deadline_ns: int = 0
    pending: int | None = None  # request id of the command waited for
    outcome: tuple[bool, int] | None = None  # (completed, failure code)
    failures: int = 0
    last_value: float = 0.0
    tlm: dict[str, str] = field(default_factory=dict)  # "app.point" -> app


class SequencerService(App):
    """Runs validated stored sequences; start, stop, pause, resume and report by TC."""

    DEFAULT_RATE_HZ = 10.0  # the mission runs it every minor frame (flightsw.runtime.mission)
    nv = Device(NonVolatileStore)  # sequence files, uploaded with the file service
    catalog = Service(AppCatalog)
    commands = Service(CommandPath)
    SUBSCRIBES = (Subscribe(msgids.START_SEQUENCE, StartSequence),)
    PARAMETERS = (
        ParameterDef(1, "max_running", "u8", 4, 1, MAX_RUNNING, doc="sequences at once"),
        ParameterDef(2, "command_timeout_s", "f32", 10.0, 0.1, 3600.0, unit="s"),
        ParameterDef(3, "max_steps_per_frame", "u16", 8, 1, 1024),
    )
    TELEMETRY = (
        TelemetryDef("running", "u8"),
        TelemetryDef("started", "u32"),
        TelemetryDef("completed", "u32"),
        TelemetryDef("aborted", "u32"),
        TelemetryDef("step_failures", "u32"),
        TelemetryDef("invalid", "u32", doc="start requests refused for an invalid file"),
    )
    EVENTS = (
        EventDef(1, "SEQ_STARTED", Severity.INFO, (Arg("steps", "u16"),), "{steps} steps"),
        EventDef(2, "SEQ_DONE", Severity.INFO, (Arg("failures", "u16"),), "done"),
        EventDef(
            3,
            "SEQ_STEP_FAILED",
            Severity.LOW,
            (Arg("step", "u16"), Arg("code", "u16")),
            "step {step} failed with code {code}",
        ),
        EventDef(
            4,
            "SEQ_ABORTED",
            Severity.MEDIUM,
            (Arg("step", "u16"), Arg("code", "u16")),
            "aborted at step {step} (code {code})",
        ),
        EventDef(
            5,
            "SEQ_START_REFUSED",
            Severity.MEDIUM,
            (Arg("ea_id", "u16"), Arg("code", "u16")),
            "event-action {ea_id} could not start its sequence (code {code})",
        ),
        EventDef(
            6,
            "SEQ_LOST_AT_REBOOT",
            Severity.MEDIUM,
            (Arg("count", "u8"),),
            "{count} sequence(s) were running when the node rebooted: not resumed (TM(18,9))",
        ),
    )
    REPORTS = (ReportDef(18, 9, "status_report", STATUS_REPORT, "sequences and their state"),)

    def init(self) -> None:
        kept = self.ctx.retained
        booted = "running" not in kept  # a first start or a reboot, not a restart
        self.running: dict[str, Running] = kept.setdefault("running", {})
        self.recent: deque[Running] = kept.setdefault("recent", deque(maxlen=RECENT))
        self.counts: dict[str, int] = kept.setdefault(
            "counts", {"started": 0, "completed": 0, "aborted": 0, "failures": 0, "invalid": 0}
        )
        self.seq_count = kept.get("seq_count", 0)
        self.by_request: dict[int, Running] = {
            r.pending: r for r in self.running.values() if r.pending is not None
        }
        self.ctx.verifier.outcomes[SOURCE_ID] = self._outcome
        # event-action's "start a sequence" requests; a full pipe refuses (event-action
        # counts the refusal)
        self.start_pipe = self.listen(msgids.START_SEQUENCE, START_DEPTH, Overflow.REJECT_NEWEST)
        self.record = VotingStore(self.nv, NV_RUNNING)
        if booted:
            self._report_lost()
        self._update_tlm()

    def _report_lost(self) -> None:
        """Sequences the NV record says were running before this boot: reported, cleared."""
        if self.record is None:
            return
        raw = self.record.read()
        try:
            files = list(RUNNING_RECORD.parse(raw)["files"]) if raw else []
        except Exception:  # a record this build cannot read: nothing to report from it
            files = []
        for f in files:
            self.recent.append(Running(str(f), [], state=State.LOST_AT_REBOOT))
        if files:
            self.emit("SEQ_LOST_AT_REBOOT", count=min(len(files), 0xFF))
            self._save_running()

    def _save_running(self) -> None:
        if self.record is not None:
            names = sorted(self.running)
            self.record.write(bytes(RUNNING_RECORD.build({"files": names})))

    # --- validation -------------------------------------------------------------------
    def _tc(self, body: dict[str, Any]) -> PusTc:
        tc = PusTc(
            apid=self.catalog.apid,
            service=body["service"],
            subservice=body["subservice"],
            app_data=body["app_data"],
            seq_count=self.seq_count,
            ack_flags=ACK,
            source_id=SOURCE_ID,
        )
        self.seq_count = (self.seq_count + 1) & 0x3FFF
        self.ctx.retained["seq_count"] = self.seq_count
        return tc

    def load(self, file: str) -> Running:
        """A sequence file read, decoded and validated against this build."""
        data = read_complete_file(self.nv, file)
        if data is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no complete file {file!r}")
        try:
            seq = decode(data)
        except SequenceError as exc:
            self.counts["invalid"] += 1
            raise CommandError(SEQUENCE_INVALID, str(exc)) from None
        run = Running(file, seq["steps"])
        for i, step in enumerate(seq["steps"]):
            body = step["body"]
            try:
                if step["op"] == Op.CMD:
                    self.commands.check(self._tc(body).encode())
                elif step["op"] == Op.WAIT_TLM:
                    app, _, point = body["point"].partition(".")
                    if point not in self.catalog.telemetry(app):
                        raise KeyError(point)
                    run.tlm[body["point"]] = app
            except (CommandError, KeyError) as exc:
                self.counts["invalid"] += 1
                what = exc.reason if isinstance(exc, CommandError) else f"no telemetry {exc}"
                raise CommandError(SEQUENCE_INVALID, f"{file} step {i}: {what}") from None
        return run

    # --- running ----------------------------------------------------------------------
    def _outcome(self, req: TcRequest, code: int | None) -> None:
        run = self.by_request.pop(req.request_id, None)
        if run is not None and run.pending == req.request_id:
            run.outcome = (code is None, code or 0)

    def step(self, now_ns: int) -> None:
        for msg in self.start_pipe.drain(START_DEPTH):
            req = msg.payload
            if isinstance(req, StartSequence):
                try:
                    self._start(req.name)
                except CommandError as exc:
                    self.emit("SEQ_START_REFUSED", ea_id=req.ea_id & 0xFFFF, code=exc.code)
        limit = int(self.param("max_steps_per_frame"))
        for run in list(self.running.values()):
            steps = 0
            while run.state == State.RUNNING and steps < limit and self._advance(run, now_ns):
                steps += 1
        self._update_tlm()

    def _finish(self, run: Running, state: State, code: int = 0) -> None:
        run.state = state
        if run.pending is not None:
            self.by_request.pop(run.pending, None)
            run.pending = None
        self.running.pop(run.file, None)
        self._save_running()
        self.recent.append(run)
        if state == State.DONE:
            self.counts["completed"] += 1
            self.emit("SEQ_DONE", failures=min(run.failures, 0xFFFF))
        elif state == State.ABORTED:
            self.counts["aborted"] += 1
            self.emit("SEQ_ABORTED", step=run.pc, code=code)

    def _failed(self, run: Running, body: dict[str, Any], code: int) -> None:
        run.failures += 1
        self.counts["failures"] += 1
        self.emit("SEQ_STEP_FAILED", step=run.pc, code=code)
        policy = body["on_failure"]
        if policy == OnFailure.ABORT:
            self._finish(run, State.ABORTED, code)
        else:
            self._goto(run, body["target"] if policy == OnFailure.GOTO else run.pc + 1)

    def _goto(self, run: Running, pc: int) -> None:
        run.pc = pc
        run.entered = False
        run.outcome = None
        run.pending = None
        if pc >= len(run.steps):
            self._finish(run, State.DONE)

    def _advance(self, run: Running, now: int) -> bool:
        """Work on the current step; True when it moved on (another step may run now)."""
        step = run.steps[run.pc]
        op, body = step["op"], step["body"]
        if op == Op.CMD:
            if not run.entered:
                run.entered = True
                run.deadline_ns = now + int(float(self.param("command_timeout_s")) * NS_PER_S)
                tc = self._tc(body)
                run.pending = tc.request_id
                self.by_request[tc.request_id] = run
                self.commands.dispatch(tc.encode())
            if run.outcome is not None:
                ok, code = run.outcome
                if ok:
                    self._goto(run, run.pc + 1)
                else:
                    self._failed(run, body, code)
                return True
            if now >= run.deadline_ns:
                self.by_request.pop(run.pending or -1, None)
                self._failed(run, body, FailureCode.TIMEOUT)
                return True
            return False
        if op in (Op.WAIT, Op.AT):
            if not run.entered:
                run.entered = True
                run.deadline_ns = now + body["delay_ns"] if op == Op.WAIT else body["time_ns"]
            if now >= run.deadline_ns:
                self._goto(run, run.pc + 1)
                return True
            return False
        if op == Op.WAIT_TLM:
            if not run.entered:
                run.entered = True
                run.deadline_ns = now + body["timeout_ns"]
            tlm = self.catalog.telemetry(run.tlm[body["point"]])
            value = float(tlm[body["point"].partition(".")[2]])
            run.last_value = value
            if compare(body["compare"], value, body["value"]):
                self._goto(run, run.pc + 1)
                return True
            if now >= run.deadline_ns:
                self._failed(run, body, FailureCode.TIMEOUT)
                return True
            return False
        if op == Op.GOTO:
            self._goto(run, body["target"])
            return True
        self._finish(run, State.DONE)  # END
        return True

    def _tlm_key(self) -> tuple[int, ...]:
        return (len(self.running), *self.counts.values())

    def next_due_ns(self, now_ns: int) -> int:
        """With no sequence running, none waiting to start and the telemetry showing the
        counts: not before a start request or a command wakes the app."""
        if not (self.running or self.start_pipe.queue) and self._tlm_key() == self._shown:
            return WAKE_NEVER
        return now_ns

    def _update_tlm(self) -> None:
        self._shown = self._tlm_key()
        c = self.counts
        self.tlm.update(
            running=len(self.running),
            started=c["started"] & 0xFFFFFFFF,
            completed=c["completed"] & 0xFFFFFFFF,
            aborted=c["aborted"] & 0xFFFFFFFF,
            step_failures=c["failures"] & 0xFFFFFFFF,
            invalid=c["invalid"] & 0xFFFFFFFF,
        )

    def _get(self, file: str) -> Running:
        run = self.running.get(file)
        if run is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no running sequence {file!r}")
        return run

    # --- commands ---------------------------------------------------------------------
    @command(service=18, subservice=3, name="start", layout=FILE_NAME)
    def cmd_start(self, file: str) -> None:
        """Validate the sequence in ``file`` and start it."""
        self._start(file)

    def _start(self, file: str) -> None:
        """Start ``file`` (by TC or by event-action); CommandError when it cannot."""
        if file in self.running:
            raise CommandError(FailureCode.INVALID_STATE, f"{file!r} is already running")
        if len(self.running) >= int(self.param("max_running")):
            raise CommandError(FailureCode.QUEUE_FULL, f"{len(self.running)} already running")
        run = self.load(file)
        self.running[file] = run
        self._save_running()
        self.counts["started"] += 1
        self.emit("SEQ_STARTED", steps=len(run.steps))
        self._update_tlm()

    @command(service=18, subservice=4, name="stop", layout=FILE_NAME)
    def cmd_stop(self, file: str) -> None:
        """Stop a running or paused sequence (a command already sent completes)."""
        self._finish(self._get(file), State.STOPPED)

    @command(service=18, subservice=5, name="pause", layout=FILE_NAME)
    def cmd_pause(self, file: str) -> None:
        """Pause a sequence after its current step (waits keep their deadlines)."""
        run = self._get(file)
        if run.state != State.RUNNING:
            raise CommandError(FailureCode.INVALID_STATE, f"{file!r} is not running")
        run.state = State.PAUSED

    @command(service=18, subservice=6, name="resume", layout=FILE_NAME)
    def cmd_resume(self, file: str) -> None:
        """Resume a paused sequence."""
        run = self._get(file)
        if run.state != State.PAUSED:
            raise CommandError(FailureCode.INVALID_STATE, f"{file!r} is not paused")
        run.state = State.RUNNING

    @command(service=18, subservice=8, name="report")
    def cmd_report(self) -> None:
        """TM(18,9): every running, paused and recently ended sequence."""
        entries = [
            {
                "file": r.file,
                "state": int(r.state),
                "step": min(r.pc, 0xFFFF),
                "steps": len(r.steps),
                "failures": min(r.failures, 0xFFFF),
                "last_value": r.last_value,
            }
            for r in [*self.running.values(), *self.recent]
        ]
        self.send_tm(18, 9, STATUS_REPORT.build({"sequences": entries}))
