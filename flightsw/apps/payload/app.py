"""Compute payload: a job queue, a scheduler over healthy boards, checkpoint and restart,
and the boards' power within the budget the power and thermal apps allow.

Jobs arrive by TC, one or many at once, or as a job-list file uplinked to the file
store (PUS 23). Each has an amount of work in board-hours at full power, a priority, an
optional deadline and a checkpoint interval. The scheduler gives each job one board,
highest priority and earliest deadline first, on boards that are powered, alive
(heartbeat advancing) and not taken out of service by FDIR.

When the board under a job stops (heartbeat stalls, power lost, FDIR isolates it), its
memory reports an uncorrectable error, or a result fails the job's own checksums
(silent corruption caught: result integrity), the job rolls back to its last
checkpoint and is queued again; the rolled-back work is counted as lost and checksum
failures as reruns. A job preempted to stay within the power budget is asked to
checkpoint first and loses nothing.

Power: the payload is the only owner of board power caps and of powering boards for
jobs (FDIR owns the boards it has taken out of service). How many boards run is the
admission policy's (``power_policy``): within the power budget, with hysteresis, never
flapping. Each running board's cap is the smaller of its share of the budget and its
thermal cap. Idle boards are powered off beyond a small warm spare pool that the budget
must also afford; a stalled idle board is left powered for ``hang_grace_s`` so FDIR sees
the hang. The payload tells the power app the draw it expects after its own commands,
so the budget does not swing with the payload's last step.

Goodput is the work kept (completed, checkpointed or still in progress) over the work
kept plus the work rolled back and redone.
"""

from __future__ import annotations

import math
import operator
import struct
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flightsw.apps.payload.handover import (
    CLUSTER_JOBS,
    CLUSTER_STATUS,
    JOB_RESULTS,
    RECORD,
    RECORDS_PER_TM,
    ClusterJob,
    advance,
    decode_jobs,
    encode_jobs,
    encode_results,
    encode_status,
    quanta_done,
    result_quanta,
)
from flightsw.apps.payload.job_list import (
    BOARD_HOURS,
    CHECKPOINT_S,
    JobTuple,
    check_ranges,
    parse_binary,
    parse_csv,
)
from flightsw.apps.payload.jobs import Job, JobBook, JobState, Totals
from flightsw.apps.payload.power_policy import AdmissionPolicy, PowerLimits
from flightsw.apps.payload.running import RunningJobs
from flightsw.apps.shared.device_guard import DEVICE_ERROR, DEVICE_ERRORS, DeviceGuard
from flightsw.apps.shared.messages import (
    BOARD_AVAILABILITY,
    PAYLOAD_STATUS,
    POWER_BUDGET,
    SAFE_MODE,
    THERMAL_CAPS,
    BoardAvailability,
    PayloadStatus,
    PowerBudget,
    SafeMode,
    ThermalCaps,
)
from flightsw.base.errors import CommandError, FlightswError
from flightsw.framework import layouts as L
from flightsw.framework.app import (
    App,
    Arg,
    EventDef,
    FailureCode,
    HkDef,
    ParameterDef,
    ReportDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.ports import Device, Publish, Subscribe
from flightsw.services.files.app import read_complete_file
from hal.interfaces import AcceleratorBoards, BoardTelemetry, NonVolatileStore

NS_PER_S = 1_000_000_000
JOB_SERVICE = 130  # mission-specific PUS service for job reports
MAX_JOBS = 65_536
JOBS = L.Struct(
    "jobs"
    / L.counted(
        L.U16,
        L.Struct(
            "board_hours" / L.F32, "priority" / L.U8, "deadline_s" / L.U32, "checkpoint_s" / L.F32
        ),
    )
)
"""``submit_jobs``: what :func:`~flightsw.apps.payload.job_list.parse_binary` reads."""
JOB_FILE = L.Struct("name" / L.text())
JOB_LIST = L.Struct(
    "jobs"
    / L.counted(L.U16, L.Struct("job" / L.U32, "state" / L.U8, "progress" / L.F32, "board" / L.I16))
)
"""TM(130,2), the answer to ``list_jobs``: up to 100 live jobs a packet."""
HISTORY = 4096  # finished jobs kept queryable
POWER_ON_RETRY_S = 60.0  # a board that did not come up when commanded on waits this long
NO_BOARD = 0xFFFF  # a JOB_ROLLED_BACK of a job that was on no board
BUDGET_WAIT_S = 10.0  # for the power app's first budget, before working without one


_LIMIT_VALUES = operator.itemgetter(
    "board_max_w", "board_idle_w", "board_min_w", "admit_margin", "shed_after_steps", "admit_hold_s"
)
"""The parameters :meth:`PayloadApp.limits` is made of, in PowerLimits' order."""


def _same(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """Equal arrays of one dtype and shape, NaNs included (bytewise: fast on small arrays)."""
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


class PayloadApp(DeviceGuard, App):
    """Job queue, scheduler and board power for the accelerator boards."""

    DEFAULT_RATE_HZ = 1.0
    boards = Device(AcceleratorBoards)
    nv = Device(NonVolatileStore)  # job files uploaded with the file service
    SUBSCRIBES = (
        Subscribe(POWER_BUDGET, PowerBudget),
        Subscribe(THERMAL_CAPS, ThermalCaps),
        Subscribe(BOARD_AVAILABILITY, BoardAvailability),
        Subscribe(SAFE_MODE, SafeMode),
    )
    PUBLISHES = (Publish(PAYLOAD_STATUS, PayloadStatus),)
    REPORTS = (
        ReportDef(JOB_SERVICE, 2, "job_list", JOB_LIST, "answer to list_jobs"),
        ReportDef(
            JOB_SERVICE, 4, "jobs_handed_back", CLUSTER_JOBS, "cluster jobs given back: checkpoints"
        ),
        ReportDef(JOB_SERVICE, 5, "job_results", JOB_RESULTS, "cluster jobs done: result digests"),
        ReportDef(
            JOB_SERVICE, 6, "cluster_status", CLUSTER_STATUS, "jobs, headroom, new checkpoints"
        ),
    )
    TELEMETRY = (
        DEVICE_ERRORS,
        TelemetryDef("jobs_submitted", "u32"),
        TelemetryDef("jobs_queued", "u32"),
        TelemetryDef("jobs_running", "u32"),
        TelemetryDef("jobs_done", "u32"),
        TelemetryDef("jobs_failed", "u32"),
        TelemetryDef("boards_powered", "u16"),
        TelemetryDef("boards_busy", "u16"),
        TelemetryDef("boards_suspect", "u16", "", "stalled or out of service"),
        TelemetryDef("payload_power_w", "f32", "W"),
        TelemetryDef("useful_board_hours", "f64", "h"),
        TelemetryDef("lost_board_hours", "f64", "h", "work rolled back to a checkpoint"),
        TelemetryDef("busy_board_hours", "f64", "h"),
        TelemetryDef("rollbacks", "u32"),
        TelemetryDef("integrity_reruns", "u32", "", "results that failed their checksum, redone"),
        TelemetryDef("goodput", "f32", "1"),
        TelemetryDef("budget_w", "f32", "W", "the power budget the payload works to"),
        TelemetryDef("boards_target", "u16", "", "boards the admission policy lets run"),
        TelemetryDef("preemptions", "u32", "", "jobs checkpointed and stopped for the budget"),
        TelemetryDef("work_board_hours", "f64", "h", "work the running jobs did, kept or not"),
        TelemetryDef("available_board_hours", "f64", "h", "board time not out of service"),
        TelemetryDef("jobs_rejected", "u32", "", "submissions refused (range, queue full)"),
    )
    HOUSEKEEPING = (HkDef(1, "payload", tuple(t.name for t in TELEMETRY), interval_s=10.0),)
    EVENTS = (
        DEVICE_ERROR,
        EventDef(
            1,
            "JOB_DONE",
            Severity.INFO,
            (Arg("job", "u32"), Arg("restarts", "u16")),
            "job {job} done after {restarts} restarts",
        ),
        EventDef(
            2,
            "JOB_ROLLED_BACK",
            Severity.LOW,
            (Arg("job", "u32"), Arg("board", "u16"), Arg("lost_s", "f32")),
            "job {job} on board {board} back to its checkpoint ({lost_s:.0f} s lost)",
        ),
        EventDef(
            3, "JOB_FAILED", Severity.MEDIUM, (Arg("job", "u32"),), "job {job} missed its deadline"
        ),
        EventDef(
            4,
            "JOB_STATUS",
            Severity.INFO,
            (Arg("job", "u32"), Arg("state", "u8"), Arg("progress", "f32")),
            "job {job} state {state} progress {progress:.3f}",
        ),
        EventDef(
            5,
            "JOBS_PREEMPTED",
            Severity.INFO,
            (Arg("count", "u16"), Arg("budget_w", "f32")),
            "{count} jobs checkpointed and stopped: budget {budget_w:.0f} W",
        ),
    )
    PARAMETERS = (
        ParameterDef(1, "board_max_w", "f32", 350.0, 1.0, 5000.0, "W"),
        ParameterDef(2, "board_idle_w", "f32", 40.0, 0.0, 5000.0, "W"),
        ParameterDef(3, "spare_boards", "u16", 4, 0, 10_000, "", "kept powered while idle"),
        ParameterDef(4, "stall_steps", "u16", 3, 1, 1000, "", "steps without heartbeat = stalled"),
        ParameterDef(5, "max_queue", "u32", 10_000, 1, MAX_JOBS),
        ParameterDef(6, "default_checkpoint_s", "f32", 600.0, 1.0, 86_400.0, "s"),
        ParameterDef(
            7, "board_min_w", "f32", 150.0, 0.0, 5000.0, "W", "share below which boards are shed"
        ),
        ParameterDef(8, "admit_margin", "f32", 0.05, 0.0, 0.9, "1", "budget kept free"),
        ParameterDef(9, "shed_after_steps", "u16", 2, 1, 1000, "", "steps below board_min_w"),
        ParameterDef(10, "admit_hold_s", "f32", 30.0, 0.0, 86_400.0, "s", "after a shed"),
        ParameterDef(11, "hang_grace_s", "f32", 30.0, 0.0, 3600.0, "s", "stalled idle board"),
        ParameterDef(
            12, "cluster_report_s", "f32", 0.0, 0.0, 86_400.0, "s", "TM(130,6) period, 0: none"
        ),
    )

    def init(self) -> None:
        n = self.boards.count
        self.n: int = int(n)
        # Kept across a restart of this app (ctx.retained): the job table (queue, ids,
        # history), what runs on each board, the admission policy's hysteresis and the
        # running sums. A restart then loses no job: running ones roll back to their last
        # checkpoint on the first step (reported), the rest wait where they were.
        kept = self.ctx.retained
        if kept.get("boards") != n:
            kept.clear()
            kept["boards"] = n
        self.book: JobBook = kept.setdefault("book", JobBook(HISTORY))
        self.run: RunningJobs = kept.setdefault("run", RunningJobs(n))
        self.policy: AdmissionPolicy = kept.setdefault("policy", AdmissionPolicy())
        self.totals: Totals = kept.setdefault("totals", Totals())
        # Cluster jobs: results and hand-backs not yet sent down, and whether a hand-back
        # is due (safe mode, or a cluster job arrived while in it).
        self.cluster_out: dict[str, list[Any]] = kept.setdefault(
            "cluster_out", {"results": [], "handed": [], "due": [False], "count": [0, 0]}
        )
        self.recovering = True  # the first step takes back what a predecessor left running
        self.next_status_ns = 0  # TM(130,6) cluster_status: next due, checkpoints sent
        self.status_sent: dict[int, float] = {}
        self.target = 0
        self.last_heartbeat = np.zeros(n, dtype=np.int64)
        self.stalled_steps = np.zeros(n, dtype=np.int64)
        self.last_work = np.zeros(n, dtype=np.float64)
        self.last_uncorrectable = np.zeros(n, dtype=np.int64)
        self.unavailable = np.zeros(n, dtype=bool)
        self.thermal_cap = np.full(n, np.nan)
        self.budget_w: float | None = None
        self.last_t: int | None = None
        self.first_ns: int | None = None
        self.step_s = 1.0
        self.power_pipe = self.listen(POWER_BUDGET)
        self.thermal_pipe = self.listen(THERMAL_CAPS)
        self.fdir_pipe = self.listen(BOARD_AVAILABILITY)
        self.safe_pipe = self.listen(SAFE_MODE)
        self.safe_mode = False
        self.caps_sent = np.full(n, -1.0)
        self.util_sent = np.full(n, -1.0)
        self.util_busy: NDArray[np.bool_] | None = None  # the busy boards util_sent is of
        self.on_pending: NDArray[np.intp] | None = None  # boards commanded on last step
        self.on_retry_ns = np.zeros(n, dtype=np.int64)
        self.n_available = n
        self.plan_dirty = True
        self.caps_new = True
        self.any_stalled = False
        self.stalled_before = False
        self.no_boards = np.zeros(n, dtype=bool)
        self.share_sent = -1.0
        self.idle_on = 0
        self.powered_left = np.zeros(n, dtype=bool)
        self.all_on = np.ones(n, dtype=bool)  # the plan of a node with every board busy
        self.all_on.flags.writeable = False
        self.last_checksum = np.zeros(n, dtype=np.int64)
        self._limits_raw: tuple[Any, ...] = ()
        self._limits = PowerLimits()
        try:
            tel = self.boards.read_boards()
        except FlightswError:
            return  # a device that does not answer yet: the first good step sets these
        self.last_heartbeat = tel.heartbeat  # snapshots are never modified: kept as they are
        self.last_work = tel.work_done
        self.last_uncorrectable = tel.ecc_uncorrectable
        if tel.checksum_errors is not None:
            self.last_checksum = tel.checksum_errors

    # --- views kept for callers (FDIR tests, ground summaries) -------------------------
    @property
    def board_job(self) -> NDArray[np.int64]:
        """Per board the id of the job it runs, -1 for none (read-only)."""
        v = self.run.job.view()
        v.flags.writeable = False
        return v

    @property
    def jobs(self) -> JobBook:
        return self.book

    def job(self, job_id: int) -> Job:
        """A job with its progress brought up to date (UNKNOWN_ID if it is not known)."""
        found = self.book.get(job_id)
        if found is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no job {job_id}")
        if found.state == JobState.RUNNING and found.board >= 0:
            self.run.sync(found.board, found)
        return found

    def limits(self) -> PowerLimits:
        """The power limits from the parameters as they are now (read each step: a value
        set by command or changed by an upset counts at once); the same object while the
        values are the same."""
        raw = _LIMIT_VALUES(self.ctx.params.values)
        # (equal numbers convert to the same floats, but for the sign of a zero)
        if raw != self._limits_raw or 0 in raw:
            max_w, idle_w, min_w, margin, shed_after, hold_s = raw
            self._limits = PowerLimits(
                max_w=float(max_w),
                idle_w=float(idle_w),
                min_w=float(min_w),
                margin=float(margin),
                shed_after=int(shed_after),
                hold_s=float(hold_s),
            )
            self._limits_raw = raw
        return self._limits

    # --- the scheduler ----------------------------------------------------------------
    def step(self, now_ns: int) -> None:
        self.guarded(self._step, now_ns)

    def _step(self, now_ns: int) -> None:
        if self.recovering:
            self._recover()
        self._read_bus()
        dt = 0.0 if self.last_t is None else (now_ns - self.last_t) / NS_PER_S
        self.last_t = now_ns
        if self.first_ns is None:
            self.first_ns = now_ns
        if dt > 0.0:
            self.step_s = dt
        tel = self.boards.read_boards()
        self._note_power_refused(tel.powered, now_ns)
        alive = self._track_health(tel)
        self._account_work(tel.work_done, dt)
        self._expire_deadlines(now_ns)
        lim = self.limits()
        budget = self._budget(now_ns)
        self._schedule(tel.powered, alive, budget, now_ns, lim)
        expected_w, measured_w = self._apply_power(tel, alive, budget, now_ns, lim)
        if self.safe_mode and self.cluster_out["due"][0]:
            self._hand_back()
        elif self.cluster_out.setdefault("board_lost", []):
            self._hand_back(set(self.cluster_out["board_lost"]))
        if self.cluster_out["results"] or self.cluster_out["handed"]:
            self._send_cluster_reports()
        self._cluster_status(now_ns)
        self.ctx.bus.publish(PAYLOAD_STATUS, PayloadStatus(expected_w, self.run.count))
        self._telemetry(tel, alive, budget, measured_w)

    def _budget(self, now_ns: int) -> float:
        """The payload's power budget: none in safe mode; until the power app has
        published one, nothing for ``BUDGET_WAIT_S``, then no limit (a node without a
        power app)."""
        if self.safe_mode:
            return 0.0
        if self.budget_w is None:
            waited = now_ns - (self.first_ns if self.first_ns is not None else now_ns)
            return math.inf if waited >= BUDGET_WAIT_S * NS_PER_S else 0.0
        return max(0.0, self.budget_w)

    def _read_bus(self) -> None:
        for msg in self.safe_pipe.drain():
            if isinstance(msg.payload, SafeMode):
                if msg.payload.active and not self.safe_mode:
                    self.cluster_out["due"][0] = True
                self.safe_mode = msg.payload.active
        for msg in self.power_pipe.drain():
            if isinstance(msg.payload, PowerBudget):
                self.budget_w = msg.payload.payload_w
        for msg in self.thermal_pipe.drain():
            caps = msg.payload
            if isinstance(caps, ThermalCaps) and caps.cap_w.shape == (self.n,):
                if caps.cap_w is not self.thermal_cap and not _same(caps.cap_w, self.thermal_cap):
                    self.caps_new = True
                self.thermal_cap = caps.cap_w
        for msg in self.fdir_pipe.drain():
            p = msg.payload
            if isinstance(p, BoardAvailability) and p.unavailable.shape == (self.n,):
                if _same(p.unavailable, self.unavailable):
                    continue
                newly = p.unavailable & ~self.unavailable
                self.unavailable = p.unavailable.copy()
                self.n_available = self.n - int(np.count_nonzero(self.unavailable))
                self.plan_dirty = True
                for b in newly.nonzero()[0]:
                    jid = int(self.run.job[int(b)])
                    self._roll_back(int(b))
                    job = self.book.get(jid)
                    if job is not None and job.tag:  # a cluster job goes to another node
                        self.cluster_out.setdefault("board_lost", []).append(jid)

    def _note_power_refused(self, powered: NDArray[np.bool_], now_ns: int) -> None:
        """A board commanded on that is still off (its supply is open) waits a while."""
        if self.on_pending is None:
            return
        refused = self.on_pending[~powered[self.on_pending]]
        if refused.size:
            self.on_retry_ns[refused] = now_ns + int(POWER_ON_RETRY_S * NS_PER_S)
        self.on_pending = None

    def _track_health(self, tel: BoardTelemetry) -> NDArray[np.bool_]:
        """Alive boards (powered, heartbeat advancing); the jobs of boards that stopped,
        hit an uncorrectable memory error or failed a result checksum roll back."""
        powered = tel.powered
        stalled_now = powered & (tel.heartbeat == self.last_heartbeat)
        self.last_heartbeat = tel.heartbeat
        self.any_stalled = bool(np.count_nonzero(stalled_now))
        if self.any_stalled or self.stalled_before:
            self.stalled_steps += 1
            self.stalled_steps *= stalled_now
            alive = powered & (self.stalled_steps < int(self.param("stall_steps")))
        else:
            alive = powered  # nothing stalled: every powered board is alive
        self.stalled_before = self.any_stalled
        memory = tel.ecc_uncorrectable > self.last_uncorrectable
        self.last_uncorrectable = tel.ecc_uncorrectable
        hit = memory
        failed: NDArray[np.bool_] | None = None
        if tel.checksum_errors is not None:
            failed = tel.checksum_errors > self.last_checksum
            self.last_checksum = tel.checksum_errors
            hit = memory | failed
        # Busy and hit, or busy and not alive (off, when nothing stalled): busy and not
        # (alive and not hit), in two passes.
        bad = np.greater(self.run.busy, np.greater(alive, hit))
        if np.count_nonzero(bad):
            for b in bad.nonzero()[0]:
                if failed is not None and failed[b] and alive[b] and not memory[b]:
                    self.totals.integrity_reruns += 1  # a result that failed its checksum is redone
                self._roll_back(int(b))
        return alive

    def _account_work(self, work_done: NDArray[np.float64], dt: float) -> None:
        delta = work_done - self.last_work
        if np.isnan(delta.sum()):
            # A counter the device did not give (NaN) adds nothing now and is measured
            # from its last good value when it reads again.
            missing = np.isnan(work_done)
            work_done = np.where(missing, self.last_work, work_done)
            delta = np.nan_to_num(work_done - self.last_work, nan=0.0)
        np.maximum(delta, 0.0, out=delta)  # a power cycle may reset a board's counter
        self.last_work = work_done
        self.totals.busy_s += dt * self.run.count
        self.totals.available_s += dt * self.n_available
        if not self.run.count:
            return
        acc = self.run.account(delta)
        self.totals.work_s += acc.work_s
        self.totals.kept_s += acc.work_s
        self.totals.useful_s += acc.checkpointed_s
        done = acc.done
        jids = self.run.job[done].tolist() if done.size else []
        for board, jid in zip(done.tolist(), jids, strict=True):
            job = self.book[jid]
            self.run.release(board, job)
            self.totals.kept_s -= job.progress - job.work  # the overshoot past its size is not kept
            self.totals.useful_s += job.work - job.checkpointed
            job.progress = job.checkpointed = job.work
            self.book.finish(job, JobState.DONE)
            self.emit("JOB_DONE", job=job.job_id, restarts=min(job.restarts, 0xFFFF))
            if job.tag:
                digest = advance(job.chain_state, job.chain_q, result_quanta(job.work))
                self.cluster_out["results"].append((job.tag, job.job_id, digest))

    def _roll_back(self, board: int) -> None:
        jid = int(self.run.job[board])
        if jid < 0:
            return
        job = self.book[jid]
        self.run.release(board, job)
        self._lose(job, board)

    def _lose(self, job: Job, board: int) -> None:
        """A job back to its last checkpoint and into the queue; the work lost reported."""
        lost = job.progress - job.checkpointed
        t = self.totals
        t.lost_s += lost
        t.kept_s -= lost
        t.rollbacks += 1
        job.progress = job.checkpointed
        job.restarts += 1
        self.book.enqueue(job)
        self.emit("JOB_ROLLED_BACK", job=job.job_id, board=board, lost_s=lost)

    def _recover(self) -> None:
        """After a restart (the job table kept in ctx.retained): every job its
        predecessor left running rolls back to its last checkpoint and waits again,
        reported like any rollback; a board the table does not agree on is freed; the
        queue is rebuilt from the jobs' states. On a first start there is nothing."""
        self.recovering = False
        run, book = self.run, self.book
        for b in run.busy.nonzero()[0]:
            board = int(b)
            job = book.get(int(run.job[board]))
            if job is None or job.state != JobState.RUNNING or job.board != board:
                run.free(board)
            else:
                run.release(board, job)
                self._lose(job, board)
        run.count = int(np.count_nonzero(run.busy))
        for job in book.stranded():
            self._lose(job, NO_BOARD)
        book.rebuild()
        self.plan_dirty = True

    def _preempt(self, count: int, budget: float) -> None:
        """Stop ``count`` jobs for the budget; each checkpoints first, nothing is lost."""
        victims = self.run.victims(count)
        for b in victims:
            board = int(b)
            job = self.book[int(self.run.job[board])]
            self.run.release(board, job)
            self.totals.useful_s += job.progress - job.checkpointed
            job.checkpointed = job.progress
            self.book.enqueue(job)
        self.totals.preemptions += int(victims.size)
        if victims.size:
            self.emit(
                "JOBS_PREEMPTED",
                count=min(int(victims.size), 0xFFFF),
                budget_w=min(budget, 3.0e38),
            )

    def _hand_back(self, only: set[int] | None = None) -> None:
        """Safe mode: every cluster job goes back to the ground from its checkpoint (a
        running one checkpoints first, as a preempted job does) and leaves this node.
        ``only``: the cluster jobs whose board FDIR took out of service (rolled back to
        their checkpoint), unless they already run again on another board here."""
        if only is None:
            self.cluster_out["due"][0] = False
        self.cluster_out["board_lost"] = []
        now = self.ctx.now_ns()
        for job in self.book.live():
            if not job.tag or (only is not None and job.job_id not in only):
                continue
            if only is not None and job.state != JobState.QUEUED:
                continue
            if job.state == JobState.RUNNING and job.board >= 0:
                self.run.release(job.board, job)
                self.totals.useful_s += job.progress - job.checkpointed
                job.checkpointed = job.progress
            else:
                self.book.unqueue(job)
                job.progress = job.checkpointed
            self.cluster_out["handed"].append(self._checkpoint(job, job.checkpointed, now))
            self.book.finish(job, JobState.HANDED_BACK)
        self.plan_dirty = True

    def _checkpoint(self, job: Job, done_s: float, now: int) -> ClusterJob:
        """A cluster job as it travels from its checkpoint at ``done_s`` (its result
        chain advanced to the checkpoint's quanta, as a node resuming it needs)."""
        q = quanta_done(done_s)
        job.chain_state = advance(job.chain_state, job.chain_q, q)
        job.chain_q = q
        left = 0
        if job.deadline_ns:
            left = max(1, (job.deadline_ns - now + NS_PER_S - 1) // NS_PER_S)
        return ClusterJob(
            job.tag,
            job.work / 3600.0,
            job.priority,
            int(left),
            job.checkpoint_s,
            done_s,
            q,
            job.chain_state,
        )

    def _cluster_status(self, now_ns: int) -> None:
        """TM(130,6) every ``cluster_report_s`` (0: never): jobs here, boards the
        admission policy lets run, and the checkpoints cluster jobs took since the last
        report (at most RECORDS_PER_TM; the rest next time). A job's checkpoint that
        reached the ground is where it resumes if this node goes silent."""
        period = float(self.ctx.params.values["cluster_report_s"])
        if period <= 0.0 or now_ns < self.next_status_ns:
            return
        self.next_status_ns = now_ns + int(period * NS_PER_S)
        sent = self.status_sent
        records: list[ClusterJob] = []
        live: set[int] = set()
        for job in self.book.live():
            if not job.tag:
                continue
            live.add(job.tag)
            done = job.checkpointed
            if job.state == JobState.RUNNING and job.board >= 0:
                done = float(self.run.checkpointed[job.board])
            if done <= sent.get(job.tag, 0.0) or len(records) >= RECORDS_PER_TM:
                continue
            records.append(self._checkpoint(job, done, now_ns))
            sent[job.tag] = done
        for tag in [t for t in sent if t not in live]:  # bounded by the live jobs
            del sent[tag]
        jobs = self.book.queued + self.run.count
        self.send_tm(JOB_SERVICE, 6, encode_status(jobs, self.target, records))

    def _send_cluster_reports(self) -> None:
        """TM(130,4) checkpoints handed back and TM(130,5) results, 32 a packet."""
        out = self.cluster_out
        handed, results = out["handed"], out["results"]
        for start in range(0, len(handed), RECORDS_PER_TM):
            self.send_tm(JOB_SERVICE, 4, encode_jobs(handed[start : start + RECORDS_PER_TM]))
        for start in range(0, len(results), RECORDS_PER_TM):
            self.send_tm(JOB_SERVICE, 5, encode_results(results[start : start + RECORDS_PER_TM]))
        out["count"][0] += len(handed)
        out["count"][1] += len(results)
        handed.clear()
        results.clear()

    @property
    def jobs_handed_back(self) -> int:
        return int(self.cluster_out["count"][0])

    def live_tags(self) -> list[int]:
        """Tags of the cluster jobs queued or running here (for scoring)."""
        return sorted(j.tag for j in self.book.live() if j.tag)

    def _expire_deadlines(self, now_ns: int) -> None:
        for job in self.book.expire(now_ns):
            self.emit("JOB_FAILED", job=job.job_id)

    def _schedule(
        self,
        powered: NDArray[np.bool_],
        alive: NDArray[np.bool_],
        budget: float,
        now_ns: int,
        lim: PowerLimits,
    ) -> None:
        """Decide how many boards run, stop the excess, start queued jobs on ready boards."""
        running = self.run.count
        wanted = min(running + self.book.queued, self.n_available)
        target = self.policy.target(running, wanted, budget, now_ns, lim)
        if target < running:
            self._preempt(running - target, budget)
            running = target
        if target != self.target:
            self.plan_dirty = True
        self.target = target
        room = min(target - running, self.book.queued)
        if room <= 0:
            return
        # alive, and neither FDIR's nor busy (alive implies powered): two passes, not four
        ready = np.greater(alive, self.unavailable | self.run.busy)
        for b in ready.nonzero()[0][:room].tolist():
            job = self.book.pop_next()
            if job is None:
                break
            self.run.place(b, job)

    def _apply_power(
        self,
        tel: BoardTelemetry,
        alive: NDArray[np.bool_],
        budget: float,
        now_ns: int,
        lim: PowerLimits,
    ) -> tuple[float, float]:
        """Power the boards the plan needs and cap them; returns the draw to expect once
        the commands act, and the draw measured now.

        A step costs what changed in it: the boards are re-planned only when a job was
        placed or freed, the target or board availability changed, a board is not
        powered as left, boards are still to be brought up or a stalled idle board
        waits out its grace; caps are recomputed only when the thermal caps or the
        budget's share changed; the expected draw is the measured one plus the change
        of the boards that were commanded.
        """
        powered = tel.powered
        measured = tel.total_power_w  # a missing reading adds nothing
        busy = self.run.busy
        n_busy = self.run.count
        grace = float(self.param("hang_grace_s")) / self.step_s
        stalled_idle = self.no_boards
        waiting = False
        if self.any_stalled:  # a powered board with no job that stopped beating
            stalled_idle = powered & (self.stalled_steps > 0)
            stalled_idle &= ~self.unavailable  # FDIR's own boards are FDIR's to switch
            stalled_idle &= ~busy
            waiting = bool(np.count_nonzero(stalled_idle & (self.stalled_steps <= grace + 1)))
        replan = (
            self.plan_dirty
            or self.run.changed
            or waiting
            or (self.book.queued > 0 and self.target > n_busy)
            or not _same(powered, self.powered_left)
        )
        touched: list[NDArray[np.intp]] = []
        on_after = powered
        if replan:
            on_after = self._plan_power(tel, alive, stalled_idle, grace, budget, now_ns, lim)
            touched.append((on_after != powered).nonzero()[0])
        share = AdmissionPolicy.share_w(budget, n_busy, self.idle_on, lim)
        caps_before = self.caps_sent
        util_before = self.util_sent
        # The same share and thermal caps (no new ones since) as last time give the caps
        # last computed, and none of those differs from caps_sent by more than 0.5.
        same_caps = not self.caps_new and share == self.share_sent
        if not same_caps and (replan or self.caps_new or abs(share - self.share_sent) > 0.5):
            self.caps_new = False
            self.share_sent = share
            caps = np.fmin(np.full(self.n, share), self.thermal_cap)
            changed = (np.abs(caps - self.caps_sent) > 0.5).nonzero()[0]
            if changed.size:
                self.boards.set_power_cap(changed, caps[changed])
                self.caps_sent = self.caps_sent.copy()
                self.caps_sent[changed] = caps[changed]
                touched.append(changed)
        # util_sent is the busy boards of the last re-plan as floats: unchanged boards
        # (a job done and the next placed on its board in one step) change nothing.
        if replan and (self.util_busy is None or not _same(busy, self.util_busy)):
            self.util_busy = busy.copy()
            util = busy.astype(np.float64)
            changed = (util != self.util_sent).nonzero()[0]
            if changed.size:  # only what changed: a command per board per step is bus traffic
                self.boards.set_utilization(changed, util[changed])
                self.util_sent = util
                touched.append(changed)
        if not touched:
            return measured, measured
        touched = [idx for idx in touched if idx.size]
        if not touched:  # re-planned, and no board's power, cap or load changed
            return measured + 0.0, measured
        if len(touched) == 1:
            t = touched[0]  # each list is ascending and without repeats (nonzero)
        else:  # the union, ascending, as np.unique would give it
            mask = np.zeros(self.n, dtype=bool)
            for idx in touched:
                mask[idx] = True
            t = mask.nonzero()[0]
        u_before = tel.utilization[t] if tel.utilization is not None else util_before[t]
        c_before = tel.power_cap_w[t] if tel.power_cap_w is not None else caps_before[t]
        was_on, now_on = powered[t], on_after[t]
        after = self._draw(now_on, self.util_sent[t], self.caps_sent[t], lim)
        before = self._draw(was_on, u_before, c_before, lim)
        drew = np.nan_to_num(tel.power_w[t], nan=0.0)
        before = np.where(was_on & ~now_on, drew, before)  # off: all it drew
        return measured + float(after.sum() - before.sum()), measured

    def _plan_power(
        self,
        tel: BoardTelemetry,
        alive: NDArray[np.bool_],
        stalled_idle: NDArray[np.bool_],
        grace: float,
        budget: float,
        now_ns: int,
        lim: PowerLimits,
    ) -> NDArray[np.bool_]:
        """Switch boards on and off for the plan; returns the boards that will be on."""
        self.plan_dirty = False
        self.run.changed = False
        powered = tel.powered
        busy = self.run.busy
        n_busy = self.run.count
        mine = ~self.unavailable
        if n_busy == self.n:
            # Every board runs a job (the usual step of a full node): all are wanted on,
            # so there is none to bring up, keep spare or switch off.
            on = (mine & ~powered).nonzero()[0]
            if on.size:
                self.boards.set_board_power(on, True)
                self.on_pending = on
            self.powered_left = self.all_on
            self.idle_on = 0
            return self.powered_left
        want_on = busy.copy()
        idle_on = powered & ~busy & mine
        # Boards to bring up for queued jobs the plan admits (they get jobs next step).
        bring_up = max(0, min(self.target - n_busy, self.book.queued))
        if bring_up:
            keep = (idle_on & alive).nonzero()[0][:bring_up]
            want_on[keep] = True
            more = bring_up - keep.size
            if more:
                cand = (~powered & mine & (self.on_retry_ns <= now_ns)).nonzero()[0]
                want_on[cand[:more]] = True
        # A warm spare pool, when the budget affords it beside the running boards.
        if self.book.queued == 0:
            spares = AdmissionPolicy.spares(budget, n_busy, int(self.param("spare_boards")), lim)
            spare_now = (idle_on & alive & ~want_on).nonzero()[0]
            want_on[spare_now[:spares]] = True
        # A stalled idle board stays on for a while: a hang is FDIR's to see and report.
        want_on |= stalled_idle & (self.stalled_steps <= grace)
        on = (want_on & ~powered & mine).nonzero()[0]
        off = (~want_on & powered & mine).nonzero()[0]
        if on.size:
            self.boards.set_board_power(on, True)
            self.on_pending = on
        if off.size:
            self.boards.set_board_power(off, False)
        on_after = want_on | (powered & ~mine)
        self.powered_left = on_after
        self.idle_on = int(np.count_nonzero(on_after)) - n_busy
        return on_after

    @staticmethod
    def _draw(
        on: NDArray[np.bool_], util: NDArray[np.float64], cap: NDArray[np.float64], lim: PowerLimits
    ) -> NDArray[np.float64]:
        """A board's draw from its settings: idle plus its utilization of what its cap
        leaves (NaN or never set: no cap), nothing when off."""
        dyn = max(lim.max_w - lim.idle_w, 0.0)
        room = np.where(np.isnan(cap) | (cap < 0.0), dyn, cap - lim.idle_w)
        np.clip(room, 0.0, dyn, out=room)
        room *= np.clip(util, 0.0, 1.0)
        room += lim.idle_w
        room *= on
        return room

    def _telemetry(
        self, tel: BoardTelemetry, alive: NDArray[np.bool_], budget: float, power_w: float
    ) -> None:
        """This step's housekeeping values (the suspect count from FDIR's boards when
        nothing stalled: the mask would be theirs alone)."""
        busy = self.run.count
        if alive is tel.powered:  # nothing stalled: the suspect boards are FDIR's own
            n_suspect = self.n - self.n_available
        else:
            suspect = np.less(alive, tel.powered)  # powered and not alive
            suspect |= self.unavailable
            n_suspect = int(np.count_nonzero(suspect))
        self.tlm.update(
            jobs_submitted=self.book.submitted,
            jobs_queued=self.book.queued,
            jobs_running=busy,
            jobs_done=self.book.finished[JobState.DONE],
            jobs_failed=self.book.finished[JobState.FAILED],
            boards_powered=int(np.count_nonzero(tel.powered)),
            boards_busy=busy,
            boards_suspect=n_suspect,
            payload_power_w=power_w,
            useful_board_hours=self.totals.useful_s / 3600.0,
            lost_board_hours=self.totals.lost_s / 3600.0,
            busy_board_hours=self.totals.busy_s / 3600.0,
            rollbacks=self.totals.rollbacks,
            integrity_reruns=self.totals.integrity_reruns,
            goodput=self.goodput(),
            budget_w=min(budget, 3.0e38),
            boards_target=min(self.target, 0xFFFF),
            preemptions=self.totals.preemptions,
            work_board_hours=self.totals.work_s / 3600.0,
            available_board_hours=self.totals.available_s / 3600.0,
            jobs_rejected=self.totals.rejected,
        )

    # The running sums most tests and reports read, by their old names.
    @property
    def rollbacks(self) -> int:
        return self.totals.rollbacks

    @property
    def lost_s(self) -> float:
        return self.totals.lost_s

    @property
    def preemptions(self) -> int:
        return self.totals.preemptions

    @property
    def integrity_reruns(self) -> int:
        return self.totals.integrity_reruns

    def goodput(self) -> float:
        """Work kept (done, checkpointed or in progress) over work kept plus rolled back."""
        total = self.totals.kept_s + self.totals.lost_s
        return self.totals.kept_s / total if total > 0 else 1.0

    # --- commands ---------------------------------------------------------------------
    def _checked(self, jobs: list[JobTuple], where: list[str]) -> list[JobTuple]:
        """The jobs if every one is in range and all fit the queue (all or none)."""
        try:
            check_ranges(jobs, where)
            if self.book.queued + len(jobs) > int(self.param("max_queue")):
                raise CommandError(FailureCode.QUEUE_FULL, f"{len(jobs)} jobs do not fit the queue")
        except CommandError:
            self.totals.rejected += len(jobs)
            raise
        return jobs

    @command(
        function_id=1,
        args=(
            Arg("board_hours", "f32", *BOARD_HOURS, "h"),
            Arg("priority", "u8"),
            Arg("deadline_s", "u32", doc="seconds from now, 0 = none"),
            Arg("checkpoint_s", "f32", *CHECKPOINT_S, "s"),
        ),
    )
    def cmd_submit_job(
        self, board_hours: float, priority: int, deadline_s: int, checkpoint_s: float
    ) -> None:
        """Queue a job; its id is reported in a JOB_STATUS event."""
        job = (board_hours, priority, deadline_s, checkpoint_s)
        self.cmd_submit_jobs(self._checked([job], ["job"]))

    def _parse_jobs(self, data: bytes) -> dict[str, Any]:
        """N:u16, then N x (board_hours f32, priority u8, deadline_s u32, checkpoint_s f32)."""
        jobs = parse_binary(data)
        return {"jobs": self._checked(jobs, [f"job {i}" for i in range(len(jobs))])}

    @command(function_id=5, parser="_parse_jobs", layout=JOBS)
    def cmd_submit_jobs(self, jobs: list[JobTuple]) -> None:
        """Queue many jobs at once (all or none); one JOB_STATUS event for the first id."""
        now = self.ctx.now_ns()
        first = self.book.next_id
        for hours, prio, deadline_s, ckpt in jobs:
            deadline = now + deadline_s * NS_PER_S if deadline_s else 0
            self.book.submit(hours * 3600.0, prio, deadline, ckpt, now)
        self.emit("JOB_STATUS", job=first, state=JobState.QUEUED, progress=0.0)

    def _parse_file(self, data: bytes) -> dict[str, Any]:
        """A job list uplinked as a file: one ``board_hours,priority,deadline_s,
        checkpoint_s`` line per job, ``#`` comments; checked whole before any is queued."""
        if not data or len(data) != 1 + data[0]:
            raise CommandError(FailureCode.BAD_LENGTH, "name: u8 length + ASCII")
        name = data[1:].decode("ascii", errors="replace")
        content = read_complete_file(self.nv, name)
        if content is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no complete file {name!r}")
        jobs, where = parse_csv(name, content)
        return {"jobs": self._checked(jobs, where)}

    @command(function_id=6, parser="_parse_file", layout=JOB_FILE)
    def cmd_submit_jobs_file(self, jobs: list[JobTuple]) -> None:
        """Queue the jobs of an uplinked job-list file (all or none)."""
        self.cmd_submit_jobs(jobs)

    def _parse_cluster_jobs(self, data: bytes) -> dict[str, Any]:
        """N:u16, then N cluster-job records (handover.CLUSTER_JOB), checked whole."""
        try:
            jobs = decode_jobs(data)
            if self.book.queued + len(jobs) > int(self.param("max_queue")):
                raise CommandError(FailureCode.QUEUE_FULL, f"{len(jobs)} jobs do not fit the queue")
        except CommandError:
            self.totals.rejected += max(0, (len(data) - 2) // RECORD.size)
            raise
        return {"jobs": jobs}

    @command(function_id=7, parser="_parse_cluster_jobs", layout=CLUSTER_JOBS)
    def cmd_run_cluster_jobs(self, jobs: list[ClusterJob]) -> None:
        """Queue cluster jobs, fresh or resumed from a checkpoint another node handed
        back (all or none); one JOB_STATUS event for the first id. In safe mode they
        go straight back to the ground."""
        now = self.ctx.now_ns()
        first = self.book.next_id
        for j in jobs:
            deadline = now + j.deadline_s * NS_PER_S if j.deadline_s else 0
            job = self.book.submit(j.work_s, j.priority, deadline, j.checkpoint_s, now)
            job.tag, job.chain_q, job.chain_state = j.tag, j.quanta, j.state
            job.progress = job.checkpointed = j.done_s
        if self.safe_mode:
            self.cluster_out["due"][0] = True
        self.emit("JOB_STATUS", job=first, state=JobState.QUEUED, progress=0.0)

    @command(function_id=2, args=(Arg("job", "u32"),))
    def cmd_cancel_job(self, job: int) -> None:
        """Cancel a queued or running job."""
        j = self.job(job)
        if j.state not in (JobState.QUEUED, JobState.RUNNING):
            raise CommandError(FailureCode.INVALID_STATE, f"job {job} is {j.state.name}")
        if j.state == JobState.RUNNING and j.board >= 0:
            self.run.release(j.board, j)
        else:
            self.book.unqueue(j)
        self.book.finish(j, JobState.CANCELLED)

    @command(function_id=3, args=(Arg("job", "u32"),))
    def cmd_query_job(self, job: int) -> None:
        """Report one job's state and progress as a JOB_STATUS event."""
        j = self.job(job)
        self.emit("JOB_STATUS", job=job, state=int(j.state), progress=j.progress / j.work)

    @command(function_id=4)
    def cmd_list_jobs(self) -> None:
        """TM(130,2): every job not yet finished: id u32, state u8, progress f32, board i16."""
        live = [self.job(j.job_id) for j in self.book.live()]
        for start in range(0, max(1, len(live)), 100):
            chunk = live[start : start + 100]
            body = struct.pack(">H", len(chunk)) + b"".join(
                struct.pack(">IBfh", j.job_id, j.state, j.progress / j.work, j.board) for j in chunk
            )
            self.send_tm(JOB_SERVICE, 2, body)
