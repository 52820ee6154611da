"""Jobs on the compute payload: what a job is, and the bounded book that holds them.

A job is an amount of work in board-seconds at full power, a priority, an optional
deadline and a checkpoint interval. The book keeps every live job (queued or running),
a bounded history of finished ones (so the ground can still query a job it just saw
finish), the queue as a heap (highest priority, then earliest deadline, then oldest)
and the deadlines as a second heap. A scheduler step therefore costs what the jobs
that change state in it cost, never a pass over every job ever submitted.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from enum import IntEnum

NO_DEADLINE = 1 << 62  # sorts after every real deadline


class JobState(IntEnum):
    QUEUED = 0
    RUNNING = 1
    DONE = 2
    FAILED = 3
    CANCELLED = 4
    HANDED_BACK = 5  # a cluster job given back to the ground from its checkpoint


@dataclass(slots=True)
class Job:
    """One unit of compute; ``work``, ``progress`` and ``checkpointed`` in board-seconds.

    While a job runs, its progress lives in the per-board arrays of
    :class:`~flightsw.apps.payload.running.RunningJobs`; the fields here are brought up
    to date when it leaves its board (done, rolled back, preempted or cancelled).
    """

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
    tag: int = 0  # a cluster job's id across the cluster (0: a job of this node only)
    chain_q: int = 0  # result chain steps taken (flightsw.apps.payload.handover)
    chain_state: int = 0

    def order(self) -> tuple[int, int, int]:
        """Queue order: highest priority, then earliest deadline, then oldest."""
        return (-self.priority, self.deadline_ns or NO_DEADLINE, self.job_id)


@dataclass(slots=True)
class Totals:
    """The payload's running sums (board-seconds and counts) since it started; kept over a
    restart of the app with the job table, so its housekeeping never steps back."""

    useful_s: float = 0.0  # work saved: checkpointed or done
    lost_s: float = 0.0  # work rolled back to a checkpoint
    busy_s: float = 0.0  # board time with a job
    kept_s: float = 0.0  # sum of every job's progress (done, checkpointed, running)
    work_s: float = 0.0  # work the running jobs did, kept or not
    available_s: float = 0.0  # board time not out of service
    rollbacks: int = 0
    preemptions: int = 0
    rejected: int = 0
    integrity_reruns: int = 0


class JobBook:
    """Live jobs, a bounded history of finished ones, the queue and the deadlines."""

    def __init__(self, history: int = 4096) -> None:
        self.jobs: dict[int, Job] = {}
        self.next_id = 1
        self.queued = 0
        self.submitted = 0
        self.finished: dict[JobState, int] = {
            JobState.DONE: 0,
            JobState.FAILED: 0,
            JobState.CANCELLED: 0,
            JobState.HANDED_BACK: 0,
        }
        self.forgotten = 0  # finished jobs dropped from the history (bounded)
        self._history: deque[int] = deque()
        self._history_len = history
        self._heap: list[tuple[int, int, int]] = []
        self._deadlines: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return len(self.jobs)

    def __bool__(self) -> bool:
        return True  # an empty book is still a book

    def __contains__(self, job_id: object) -> bool:
        return job_id in self.jobs

    def __getitem__(self, job_id: int) -> Job:
        return self.jobs[job_id]

    def get(self, job_id: int) -> Job | None:
        return self.jobs.get(job_id)

    def values(self) -> list[Job]:
        """Every job the book holds (live and in the history), oldest first."""
        return list(self.jobs.values())

    def submit(
        self, work_s: float, priority: int, deadline_ns: int, checkpoint_s: float, now_ns: int
    ) -> Job:
        """A new queued job (the caller has checked the queue has room)."""
        job = Job(self.next_id, work_s, priority, deadline_ns, checkpoint_s, submitted_ns=now_ns)
        self.next_id += 1
        self.jobs[job.job_id] = job
        self.submitted += 1
        self.enqueue(job)
        return job

    def enqueue(self, job: Job) -> None:
        """Put a job (new, rolled back or preempted) in the queue."""
        job.state = JobState.QUEUED
        job.board = -1
        self.queued += 1
        heapq.heappush(self._heap, job.order())
        if job.deadline_ns:
            heapq.heappush(self._deadlines, (job.deadline_ns, job.job_id))
        self._compact()

    def pop_next(self) -> Job | None:
        """Take the first job of the queue (it leaves the queue; the caller places it)."""
        heap = self._heap
        while heap:
            _, _, jid = heapq.heappop(heap)
            job = self.jobs.get(jid)
            if job is not None and job.state == JobState.QUEUED:
                self.queued -= 1
                job.state = JobState.RUNNING
                return job
        return None

    def expire(self, now_ns: int) -> list[Job]:
        """Queued jobs whose deadline has passed: failed (running ones run on)."""
        out: list[Job] = []
        dl = self._deadlines
        while dl and dl[0][0] < now_ns:
            _, jid = heapq.heappop(dl)
            job = self.jobs.get(jid)
            if job is not None and job.state == JobState.QUEUED:
                self.queued -= 1
                self.finish(job, JobState.FAILED)
                out.append(job)
        return out

    def unqueue(self, job: Job) -> None:
        """Take a queued job out of the queue (its heap entry goes stale)."""
        if job.state == JobState.QUEUED:
            self.queued -= 1
            job.state = JobState.RUNNING  # not queued; finish() sets the final state

    def finish(self, job: Job, state: JobState) -> None:
        """A job leaves for good; it stays queryable while it is in the history."""
        job.state = state
        job.board = -1
        self.finished[state] += 1
        self._history.append(job.job_id)
        while len(self._history) > self._history_len:
            old = self._history.popleft()
            self.jobs.pop(old, None)
            self.forgotten += 1

    def stranded(self) -> list[Job]:
        """Jobs marked running on no board (a step cut short between the two)."""
        return [j for j in self.jobs.values() if j.state == JobState.RUNNING and j.board < 0]

    def rebuild(self) -> None:
        """The queue count and both heaps again from the jobs' own states (after a restart
        of the app, whatever step its predecessor was cut short in)."""
        queued = [j for j in self.jobs.values() if j.state == JobState.QUEUED]
        self.queued = len(queued)
        self._heap = [j.order() for j in queued]
        heapq.heapify(self._heap)
        self._deadlines = [(j.deadline_ns, j.job_id) for j in queued if j.deadline_ns]
        heapq.heapify(self._deadlines)

    def live(self) -> list[Job]:
        """Queued and running jobs, oldest first."""
        return [j for j in self.jobs.values() if j.state in (JobState.QUEUED, JobState.RUNNING)]

    def _compact(self) -> None:
        """Drop stale heap entries once they outnumber the live ones (bounded heaps)."""
        if len(self._heap) > 2 * self.queued + 64:
            self._heap = [
                e
                for e in self._heap
                if self.jobs.get(e[2]) is not None and self.jobs[e[2]].state == JobState.QUEUED
            ]
            heapq.heapify(self._heap)
        if len(self._deadlines) > 2 * self.queued + 64:
            self._deadlines = [
                e
                for e in self._deadlines
                if self.jobs.get(e[1]) is not None and self.jobs[e[1]].state == JobState.QUEUED
            ]
            heapq.heapify(self._deadlines)
