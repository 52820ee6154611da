"""Compute payload: a job queue, a scheduler over healthy boards, checkpoint and restart.

Jobs arrive by TC, one or many at once, or as a job-list file uplinked to the file
store (PUS 23); in the default mission also from a seeded background workload that
stands for batches the ground submits. Each has an amount of work in board-hours at
full power, a priority, an optional deadline and a checkpoint interval. The scheduler
gives each job one board, highest priority and earliest deadline first, on boards that
are powered, alive (heartbeat advancing) and not taken out of service by FDIR.

Work is measured, not assumed: a job's progress is the board's own ``work_done``
counter. A checkpoint is taken every ``checkpoint_s`` of progress. When the board under
a job stops (heartbeat stalls, power lost, FDIR isolates it), its memory reports an
uncorrectable error, or a result fails the job's own checksums (silent corruption
caught: result integrity), the job rolls back to its last checkpoint and is queued
again; the rolled-back work is counted as lost and checksum failures as reruns.

Power: the payload is the only owner of board power caps. Each board's cap is the
smaller of its share of the power budget (from the power app) and its thermal cap (from
thermal control). Boards with nothing to do are powered off, beyond a small warm spare
pool. Goodput is the work kept (completed, checkpointed or still in progress) over the
work kept plus the work rolled back and redone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flightsw.app import (
    App,
    Arg,
    EventDef,
    FailureCode,
    HkDef,
    ParameterDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.apps.device_guard import DEVICE_ERROR, DEVICE_ERRORS, DeviceGuard
from flightsw.apps.messages import (
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
from flightsw.errors import CommandError, FlightswError
from flightsw.schema import REQUIRED, Opt, Schema
from flightsw.services.files import read_complete_file
from hal.interfaces import AcceleratorBoards

NS_PER_S = 1_000_000_000
_JOB = struct.Struct(">fBIf")
BOARD_HOURS = (0.001, 10_000.0)  # a job's size, as every submission path accepts it
CHECKPOINT_S = (1.0, 86_400.0)
JOB_SERVICE = 130  # mission-specific PUS service for job reports
MAX_JOBS = 65_536


class JobState(IntEnum):
    QUEUED = 0
    RUNNING = 1
    DONE = 2
    FAILED = 3
    CANCELLED = 4


@dataclass
class Job:
    """One unit of compute; ``work`` and progress are in board-seconds at full power."""

    job_id: int
    work: float
    priority: int
    deadline_ns: int  # 0: none
    checkpoint_s: float
    state: JobState = JobState.QUEUED
    progress: float = 0.0
    checkpointed: float = 0.0
    board: int = -1
    restarts: int = 0
    submitted_ns: int = 0


class PayloadApp(DeviceGuard, App):
    """Job queue and scheduler for the accelerator boards."""

    DEFAULT_RATE_HZ = 1.0
    OPTIONS = Schema(
        Opt(
            "workload",
            "table",
            None,
            doc="a seeded background stream of jobs (absent: none)",
            fields=Schema(
                Opt("jobs_per_hour", "float", REQUIRED, min=0, max=100_000),
                Opt("mean_board_hours", "float", REQUIRED, above=0, max=10_000, unit="h"),
                Opt("checkpoint_s", "float", 600.0, above=0, max=1e7, unit="s"),
                Opt("seed", "int", 0, min=0, max=2**63 - 1, doc="mixed with the mission seed"),
            ),
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
    )
    PARAMETERS = (
        ParameterDef(1, "board_max_w", "f32", 350.0, 1.0, 5000.0, "W"),
        ParameterDef(2, "board_idle_w", "f32", 40.0, 0.0, 5000.0, "W"),
        ParameterDef(3, "spare_boards", "u16", 4, 0, 10_000, "", "kept powered while idle"),
        ParameterDef(4, "stall_steps", "u16", 3, 1, 1000, "", "steps without heartbeat = stalled"),
        ParameterDef(5, "max_queue", "u32", 10_000, 1, MAX_JOBS),
        ParameterDef(6, "default_checkpoint_s", "f32", 600.0, 1.0, 86_400.0, "s"),
    )

    def init(self) -> None:
        self.boards: AcceleratorBoards = self.ctx.hal.devices["boards"]
        n = self.boards.count
        self.n: int = int(n)
        self.jobs: dict[int, Job] = {}
        self.queue: list[int] = []
        self.next_id = 1
        self.board_job = np.full(n, -1, dtype=np.int64)
        self.last_heartbeat = np.zeros(n, dtype=np.int64)
        self.stalled_steps = np.zeros(n, dtype=np.int64)
        self.last_work = np.zeros(n, dtype=np.float64)
        self.last_uncorrectable = np.zeros(n, dtype=np.int64)
        self.unavailable = np.zeros(n, dtype=bool)
        self.thermal_cap = np.full(n, np.nan)
        self.budget_w: float | None = None
        self.last_t: int | None = None
        self.counts = {s: 0 for s in JobState}
        self.useful_s = 0.0
        self.lost_s = 0.0
        self.busy_s = 0.0
        self.rollbacks = 0
        self.power_pipe = self.listen(POWER_BUDGET)
        self.thermal_pipe = self.listen(THERMAL_CAPS)
        self.fdir_pipe = self.listen(BOARD_AVAILABILITY)
        self.safe_pipe = self.listen(SAFE_MODE)
        self.safe_mode = False
        self.workload = self._workload_from_options()
        self.caps_sent = np.full(n, -1.0)
        self.util_sent = np.full(n, -1.0)
        self.integrity_reruns = 0
        self.last_checksum = np.zeros(n, dtype=np.int64)
        try:
            tel = self.boards.read_boards()
        except FlightswError:
            return  # a device that does not answer yet: the first good step sets these
        self.last_heartbeat[:] = tel.heartbeat
        self.last_work[:] = tel.work_done  # NaN where missing: the first good read sets it
        self.last_uncorrectable[:] = tel.ecc_uncorrectable
        if tel.checksum_errors is not None:
            self.last_checksum[:] = tel.checksum_errors

    def _workload_from_options(self) -> _Workload | None:
        opts = self.ctx.options.get("workload")
        if not opts:
            return None
        return _Workload(
            seed=int(opts.get("seed", 0)) ^ self.ctx.seed,
            jobs_per_hour=float(opts["jobs_per_hour"]),
            mean_board_hours=float(opts["mean_board_hours"]),
            checkpoint_s=float(opts.get("checkpoint_s", 600.0)),
        )

    # --- the scheduler ----------------------------------------------------------------
    def step(self, now_ns: int) -> None:
        self.guarded(self._step, now_ns)

    def _step(self, now_ns: int) -> None:
        self._read_bus()
        dt = 0.0 if self.last_t is None else (now_ns - self.last_t) / NS_PER_S
        self.last_t = now_ns
        if self.workload is not None:
            for work_s, prio in self.workload.arrivals(now_ns):
                self._submit(work_s, prio, 0, self.workload.checkpoint_s, now_ns)
        tel = self.boards.read_boards()
        alive = self._track_health(tel.powered, tel.heartbeat, tel.ecc_uncorrectable)
        self._check_results(tel.checksum_errors)
        self._account_work(tel.work_done, dt)
        self._expire_deadlines(now_ns)
        usable = tel.powered & alive & ~self.unavailable
        self._assign(usable, tel.powered)
        self._apply_power(tel.powered)
        busy = int((self.board_job >= 0).sum())
        power = float(np.nansum(tel.power_w[tel.powered]))  # a missing value adds nothing
        self.ctx.bus.publish(PAYLOAD_STATUS, PayloadStatus(power, busy))
        self._telemetry(tel.powered, busy, power, alive)

    def _read_bus(self) -> None:
        for msg in self.safe_pipe.drain():
            if isinstance(msg.payload, SafeMode):
                self.safe_mode = msg.payload.active
        for msg in self.power_pipe.drain():
            if isinstance(msg.payload, PowerBudget):
                self.budget_w = msg.payload.payload_w
        if self.safe_mode:
            self.budget_w = 0.0
        for msg in self.thermal_pipe.drain():
            if isinstance(msg.payload, ThermalCaps) and msg.payload.cap_w.shape == (self.n,):
                self.thermal_cap = msg.payload.cap_w
        for msg in self.fdir_pipe.drain():
            p = msg.payload
            if isinstance(p, BoardAvailability) and p.unavailable.shape == (self.n,):
                newly = p.unavailable & ~self.unavailable
                self.unavailable = p.unavailable.copy()
                for b in np.flatnonzero(newly):
                    self._roll_back(int(b))

    def _track_health(
        self, powered: NDArray[np.bool_], heartbeat: NDArray[np.int64], unc: NDArray[np.int64]
    ) -> NDArray[np.bool_]:
        beating = heartbeat != self.last_heartbeat
        self.last_heartbeat = heartbeat.copy()
        self.stalled_steps = np.where(powered & ~beating, self.stalled_steps + 1, 0)
        alive = powered & (self.stalled_steps < int(self.param("stall_steps")))
        memory_hit = unc > self.last_uncorrectable
        self.last_uncorrectable = unc.copy()
        for b in np.flatnonzero((self.board_job >= 0) & (~alive | memory_hit)):
            self._roll_back(int(b))
        return alive

    def _check_results(self, checksum_errors: NDArray[np.int64] | None) -> None:
        """A result that failed its checksum is redone from the last checkpoint."""
        if checksum_errors is None:
            return
        failed = checksum_errors > self.last_checksum
        self.last_checksum = checksum_errors.copy()
        for b in np.flatnonzero(failed & (self.board_job >= 0)):
            self.integrity_reruns += 1
            self._roll_back(int(b))

    def _account_work(self, work_done: NDArray[np.float64], dt: float) -> None:
        # A power cycle resets the counter (no negative work); a board whose counter is
        # missing (NaN from the HAL) adds nothing now and is measured from its last good
        # value when it reads again.
        read = ~np.isnan(work_done)
        delta = np.where(read & ~np.isnan(self.last_work), work_done - self.last_work, 0.0)
        delta = np.maximum(delta, 0.0)
        self.last_work = np.where(read, work_done, self.last_work)
        running = np.flatnonzero(self.board_job >= 0)
        self.busy_s += dt * len(running)
        for b in running:
            job = self.jobs[int(self.board_job[b])]
            job.progress += float(delta[b])
            if job.progress >= job.work:
                job.progress = job.work
                self.useful_s += job.work - job.checkpointed
                job.checkpointed = job.work
                self._finish(job, JobState.DONE)
                self.emit("JOB_DONE", job=job.job_id, restarts=min(job.restarts, 0xFFFF))
            elif job.progress - job.checkpointed >= job.checkpoint_s:
                self.useful_s += job.progress - job.checkpointed
                job.checkpointed = job.progress

    def _roll_back(self, board: int) -> None:
        jid = int(self.board_job[board])
        if jid < 0:
            return
        job = self.jobs[jid]
        lost = job.progress - job.checkpointed
        self.lost_s += lost
        self.rollbacks += 1
        job.progress = job.checkpointed
        job.restarts += 1
        job.state = JobState.QUEUED
        job.board = -1
        self.board_job[board] = -1
        self.queue.append(jid)
        self.emit("JOB_ROLLED_BACK", job=jid, board=board, lost_s=lost)

    def _finish(self, job: Job, state: JobState) -> None:
        if job.board >= 0:
            self.board_job[job.board] = -1
        job.board = -1
        job.state = state
        self.counts[state] += 1

    def _expire_deadlines(self, now_ns: int) -> None:
        for jid in list(self.queue):
            job = self.jobs[jid]
            if job.deadline_ns and now_ns > job.deadline_ns:
                self.queue.remove(jid)
                self._finish(job, JobState.FAILED)
                self.emit("JOB_FAILED", job=jid)

    def _assign(self, usable: NDArray[np.bool_], powered: NDArray[np.bool_]) -> None:
        free = np.flatnonzero(usable & (self.board_job < 0))
        self.queue = [j for j in self.queue if self.jobs[j].state == JobState.QUEUED]
        if not self.queue:
            return
        self.queue.sort(
            key=lambda j: (-self.jobs[j].priority, self.jobs[j].deadline_ns or 1 << 62, j)
        )
        take = min(len(free), len(self.queue), self._affordable_boards())
        for board, jid in zip(free[:take], self.queue[:take], strict=True):
            job = self.jobs[jid]
            job.state = JobState.RUNNING
            job.board = int(board)
            self.board_job[board] = jid
        self.queue = self.queue[take:]

    def _affordable_boards(self) -> int:
        if self.budget_w is None:
            return int(self.n)
        running = int((self.board_job >= 0).sum())
        per_board = float(self.param("board_max_w"))
        return max(0, int(self.budget_w // per_board) - running)

    def _apply_power(self, powered: NDArray[np.bool_]) -> None:
        busy = self.board_job >= 0
        want_on = busy.copy()
        spare = int(self.param("spare_boards")) + len(self.queue)
        idle_ok = np.flatnonzero(~busy & ~self.unavailable)
        want_on[idle_ok[:spare]] = True
        if self.budget_w is not None and self.budget_w <= 0.0:
            want_on[:] = False
            for b in np.flatnonzero(busy):
                self._roll_back(int(b))
        on = np.flatnonzero(want_on & ~powered & ~self.unavailable)
        off = np.flatnonzero(~want_on & powered & ~self.unavailable)
        if on.size:
            self.boards.set_board_power(on, True)
        if off.size:
            self.boards.set_board_power(off, False)
        max_w = float(self.param("board_max_w"))
        share = max_w
        n_busy = int(busy.sum())
        if self.budget_w is not None and n_busy:
            idle_w = float(self.param("board_idle_w"))
            share = (self.budget_w - idle_w * (int(want_on.sum()) - n_busy)) / n_busy
        caps = np.fmin(np.full(self.n, min(max_w, max(share, 0.0))), self.thermal_cap)
        changed = np.flatnonzero(np.abs(caps - self.caps_sent) > 0.5)
        if changed.size:
            self.boards.set_power_cap(changed, caps[changed])
            self.caps_sent[changed] = caps[changed]
        util = np.where(busy, 1.0, 0.0)
        changed = np.flatnonzero(util != self.util_sent)
        if changed.size:  # only what changed: a command per board per step is bus traffic
            self.boards.set_utilization(changed, util[changed])
            self.util_sent[changed] = util[changed]

    def _telemetry(
        self, powered: NDArray[np.bool_], busy: int, power: float, alive: NDArray[np.bool_]
    ) -> None:
        busy_h = self.busy_s / 3600.0
        self.tlm.update(
            jobs_submitted=self.counts[JobState.QUEUED],
            jobs_queued=len(self.queue),
            jobs_running=busy,
            jobs_done=self.counts[JobState.DONE],
            jobs_failed=self.counts[JobState.FAILED],
            boards_powered=int(powered.sum()),
            boards_busy=busy,
            boards_suspect=int(((powered & ~alive) | self.unavailable).sum()),
            payload_power_w=power,
            useful_board_hours=self.useful_s / 3600.0,
            lost_board_hours=self.lost_s / 3600.0,
            busy_board_hours=busy_h,
            rollbacks=self.rollbacks,
            integrity_reruns=self.integrity_reruns,
            goodput=self.goodput(),
        )

    def goodput(self) -> float:
        """Work kept (done, checkpointed or in progress) over work kept plus rolled back."""
        kept = sum(j.progress for j in self.jobs.values())
        total = kept + self.lost_s
        return kept / total if total > 0 else 1.0

    # --- commands ---------------------------------------------------------------------
    def _submit(self, work_s: float, priority: int, deadline_ns: int, ckpt: float, now: int) -> int:
        if len(self.queue) >= int(self.param("max_queue")):
            raise CommandError(FailureCode.QUEUE_FULL, "job queue full")
        jid = self.next_id
        self.next_id += 1
        self.jobs[jid] = Job(jid, work_s, priority, deadline_ns, ckpt, submitted_ns=now)
        self.queue.append(jid)
        self.counts[JobState.QUEUED] += 1
        return jid

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
        self.cmd_submit_jobs([(board_hours, priority, deadline_s, checkpoint_s)])

    def _parse_jobs(self, data: bytes) -> dict[str, Any]:
        """N:u16, then N x (board_hours f32, priority u8, deadline_s u32, checkpoint_s f32)."""
        if len(data) < 2:
            raise CommandError(FailureCode.BAD_LENGTH, "missing N")
        (n,) = struct.unpack_from(">H", data)
        if len(data) != 2 + n * _JOB.size:
            raise CommandError(FailureCode.BAD_LENGTH, f"N={n} needs {2 + n * _JOB.size} bytes")
        jobs = [_JOB.unpack_from(data, 2 + i * _JOB.size) for i in range(n)]
        return {"jobs": self._checked(jobs, [f"job {i}" for i in range(n)])}

    def _checked(
        self, jobs: list[tuple[float, int, int, float]], where: list[str]
    ) -> list[tuple[float, int, int, float]]:
        """The jobs if every one is in range and all fit the queue (all or none)."""
        for (hours, prio, deadline, ckpt), at in zip(jobs, where, strict=True):
            if not (
                BOARD_HOURS[0] <= hours <= BOARD_HOURS[1]
                and 0 <= prio <= 255
                and 0 <= deadline < 2**32
                and CHECKPOINT_S[0] <= ckpt <= CHECKPOINT_S[1]
            ):
                raise CommandError(FailureCode.ARG_OUT_OF_RANGE, f"{at} out of range")
        if len(self.queue) + len(jobs) > int(self.param("max_queue")):
            raise CommandError(FailureCode.QUEUE_FULL, f"{len(jobs)} jobs do not fit the queue")
        return jobs

    @command(function_id=5, parser="_parse_jobs")
    def cmd_submit_jobs(self, jobs: list[tuple[float, int, int, float]]) -> None:
        """Queue many jobs at once (all or none); one JOB_STATUS event for the first id."""
        now = self.ctx.now_ns()
        first = self.next_id
        for hours, prio, deadline_s, ckpt in jobs:
            deadline = now + deadline_s * NS_PER_S if deadline_s else 0
            self._submit(hours * 3600.0, prio, deadline, ckpt, now)
        self.emit("JOB_STATUS", job=first, state=JobState.QUEUED, progress=0.0)

    def _parse_file(self, data: bytes) -> dict[str, Any]:
        """A job list uplinked as a file: one ``board_hours,priority,deadline_s,
        checkpoint_s`` line per job, ``#`` comments; checked whole before any is queued."""
        if not data or len(data) != 1 + data[0]:
            raise CommandError(FailureCode.BAD_LENGTH, "name: u8 length + ASCII")
        name = data[1:].decode("ascii", errors="replace")
        content = read_complete_file(self.ctx.hal.nv, name)
        if content is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no complete file {name!r}")
        jobs: list[tuple[float, int, int, float]] = []
        where: list[str] = []
        for lineno, line in enumerate(content.decode("ascii", errors="replace").splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                hours_s, prio_s, deadline_s, ckpt_s = (x.strip() for x in line.split(","))
                jobs.append((float(hours_s), int(prio_s), int(deadline_s), float(ckpt_s)))
            except ValueError:
                raise CommandError(FailureCode.BAD_APP_DATA, f"{name} line {lineno}") from None
            where.append(f"{name} line {lineno}")
        return {"jobs": self._checked(jobs, where)}

    @command(function_id=6, parser="_parse_file")
    def cmd_submit_jobs_file(self, jobs: list[tuple[float, int, int, float]]) -> None:
        """Queue the jobs of an uplinked job-list file (all or none)."""
        self.cmd_submit_jobs(jobs)

    def _job(self, job: int) -> Job:
        found = self.jobs.get(job)
        if found is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no job {job}")
        return found

    @command(function_id=2, args=(Arg("job", "u32"),))
    def cmd_cancel_job(self, job: int) -> None:
        """Cancel a queued or running job."""
        j = self._job(job)
        if j.state not in (JobState.QUEUED, JobState.RUNNING):
            raise CommandError(FailureCode.INVALID_STATE, f"job {job} is {j.state.name}")
        if j.job_id in self.queue:
            self.queue.remove(j.job_id)
        self._finish(j, JobState.CANCELLED)

    @command(function_id=3, args=(Arg("job", "u32"),))
    def cmd_query_job(self, job: int) -> None:
        """Report one job's state and progress as a JOB_STATUS event."""
        j = self._job(job)
        self.emit("JOB_STATUS", job=job, state=int(j.state), progress=j.progress / j.work)

    @command(function_id=4)
    def cmd_list_jobs(self) -> None:
        """TM(130,2): every job not yet finished: id u32, state u8, progress f32, board i16."""
        live = [j for j in self.jobs.values() if j.state in (JobState.QUEUED, JobState.RUNNING)]
        for start in range(0, max(1, len(live)), 100):
            chunk = live[start : start + 100]
            body = struct.pack(">H", len(chunk)) + b"".join(
                struct.pack(">IBfh", j.job_id, j.state, j.progress / j.work, j.board) for j in chunk
            )
            self.send_tm(JOB_SERVICE, 2, body)


class _Workload:
    """A seeded Poisson stream of jobs: the batches the ground would uplink."""

    def __init__(
        self, seed: int, jobs_per_hour: float, mean_board_hours: float, checkpoint_s: float
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.rate_per_s = jobs_per_hour / 3600.0
        self.mean_s = mean_board_hours * 3600.0
        self.checkpoint_s = checkpoint_s
        self.last_ns: int | None = None

    def arrivals(self, now_ns: int) -> list[tuple[float, int]]:
        if self.last_ns is None:
            self.last_ns = now_ns
            return []
        dt = (now_ns - self.last_ns) / NS_PER_S
        self.last_ns = now_ns
        n = int(self.rng.poisson(self.rate_per_s * dt))
        sizes = self.rng.exponential(self.mean_s, n) + 60.0
        prios = self.rng.integers(0, 4, n)
        return [(float(s), int(p)) for s, p in zip(sizes, prios, strict=True)]
