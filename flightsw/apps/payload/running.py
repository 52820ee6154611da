"""The job on each board, as arrays: one numpy pass per step accounts every board's work.

Work is measured, not assumed: a job's progress grows by its board's own ``work_done``
counter. A checkpoint is taken every ``checkpoint_s`` of progress. Only the boards
whose job finished or checkpointed in a step cost Python work; a thousand busy boards
cost the same handful of array operations as ten.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flightsw.apps.payload.jobs import Job

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Accounted:
    """What one step of work did: boards whose job is done, work newly checkpointed."""

    done: NDArray[np.intp]
    checkpointed_s: float
    work_s: float  # all work the running jobs did in the step


class RunningJobs:
    """Per-board job id, progress, checkpoint, size, checkpoint interval and priority."""

    def __init__(self, n: int) -> None:
        self.job = np.full(n, -1, dtype=np.int64)  # -1: no job on the board
        self.progress = np.zeros(n)
        self.checkpointed = np.zeros(n)
        self.work = np.ones(n)
        self.interval = np.ones(n)
        self.priority = np.zeros(n, dtype=np.int64)

    @property
    def busy(self) -> NDArray[np.bool_]:
        return self.job >= 0

    def place(self, board: int, job: Job) -> None:
        job.board = board
        self.job[board] = job.job_id
        self.progress[board] = job.progress
        self.checkpointed[board] = job.checkpointed
        self.work[board] = job.work
        self.interval[board] = job.checkpoint_s
        self.priority[board] = job.priority

    def release(self, board: int, job: Job) -> None:
        """Write the board's progress back into its job and free the board."""
        job.progress = float(self.progress[board])
        job.checkpointed = float(self.checkpointed[board])
        job.board = -1
        self.job[board] = -1

    def sync(self, board: int, job: Job) -> None:
        """Bring a running job's fields up to date (for a query) without freeing the board."""
        job.progress = float(self.progress[board])
        job.checkpointed = float(self.checkpointed[board])

    def account(self, delta: FloatArray) -> Accounted:
        """Add each board's measured work to its job; checkpoint where an interval is due."""
        busy = self.job >= 0
        if not busy.any():
            return Accounted(np.zeros(0, dtype=np.intp), 0.0, 0.0)
        gain = np.where(busy, delta, 0.0)
        self.progress += gain
        done_mask = busy & (self.progress >= self.work)
        due = busy & ~done_mask & (self.progress - self.checkpointed >= self.interval)
        saved = 0.0
        if due.any():
            saved = float((self.progress[due] - self.checkpointed[due]).sum())
            self.checkpointed[due] = self.progress[due]
        return Accounted(np.flatnonzero(done_mask), saved, float(gain.sum()))

    def victims(self, count: int) -> NDArray[np.intp]:
        """The ``count`` busy boards to give up first: lowest priority, then the least
        work since their last checkpoint."""
        busy = np.flatnonzero(self.job >= 0)
        if count >= busy.size:
            return busy
        unsaved = self.progress[busy] - self.checkpointed[busy]
        order = np.lexsort((busy, unsaved, self.priority[busy]))
        return busy[order[:count]]
