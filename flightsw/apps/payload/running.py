"""The job on each board, as arrays: one numpy pass per step accounts every board's work.

Work is measured, not assumed: a job's progress grows by its board's own ``work_done``
counter. A checkpoint is taken every ``checkpoint_s`` of progress. Only the boards
whose job finished or checkpointed in a step cost Python work; a thousand busy boards
cost the same handful of array operations as ten.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from flightsw.apps.payload.jobs import Job

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class Accounted(NamedTuple):
    """What one step of work did: boards whose job is done, work newly checkpointed
    (a named tuple: built every step, cheaper than a frozen dataclass)."""

    done: NDArray[np.intp]
    checkpointed_s: float
    work_s: float  # all work the running jobs did in the step


class RunningJobs:
    """Per-board job id, progress, checkpoint, size, checkpoint interval and priority.

    A free board has an infinite size and interval, so one pass over every board finds
    the jobs that are done or due a checkpoint without masking the free ones.
    """

    def __init__(self, n: int) -> None:
        self.job = np.full(n, -1, dtype=np.int64)  # -1: no job on the board
        self.busy = np.zeros(n, dtype=bool)
        # busy as 1.0/0.0, kept beside it: the work sum is a float dot product, and a
        # bool operand would be converted to floats (an n-array) in every step
        self.weight = np.zeros(n)
        self.count = 0
        self.changed = True  # a job was placed or released since the caller last looked
        self.progress = np.zeros(n)
        self.checkpointed = np.zeros(n)
        self.work = np.full(n, np.inf)
        self.interval = np.full(n, np.inf)
        self.priority = np.zeros(n, dtype=np.int64)
        self._tmp = np.zeros(n)  # scratch for account (no allocation per step)
        self._mask = np.zeros(n, dtype=bool)

    def place(self, board: int, job: Job) -> None:
        job.board = board
        self.job[board] = job.job_id
        self.busy[board] = True
        self.weight[board] = 1.0
        self.count += 1
        self.changed = True
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
        self.busy[board] = False
        self.weight[board] = 0.0
        self.count -= 1
        self.changed = True
        self.work[board] = np.inf
        self.interval[board] = np.inf

    def free(self, board: int) -> None:
        """Free a board whose job the job table does not place there (a restart's repair)."""
        if self.busy[board]:
            self.count -= 1
        self.job[board] = -1
        self.busy[board] = False
        self.weight[board] = 0.0
        self.changed = True
        self.work[board] = np.inf
        self.interval[board] = np.inf

    def sync(self, board: int, job: Job) -> None:
        """Bring a running job's fields up to date (for a query) without freeing the board."""
        job.progress = float(self.progress[board])
        job.checkpointed = float(self.checkpointed[board])

    def account(self, delta: FloatArray) -> Accounted:
        """Add each board's measured work to its job; checkpoint where an interval is due.

        ``delta`` is each board's new work (>= 0); only busy boards' work is counted.
        """
        work_s = float(np.dot(delta, self.weight))  # the same sum as with busy's bools
        progress = self.progress
        progress += delta
        mask = self._mask
        done = np.greater_equal(progress, self.work, out=mask).nonzero()[0]
        tmp = np.subtract(progress, self.checkpointed, out=self._tmp)
        due = np.greater_equal(tmp, self.interval, out=mask)
        if done.size:
            due[done] = False
        # The few boards due as indices (ascending, as the mask orders them): gathering
        # by index reads a handful of elements where a mask would scan every board.
        idx = due.nonzero()[0]
        saved = 0.0
        if idx.size:
            saved = float(tmp[idx].sum())
            self.checkpointed[idx] = progress[idx]
        return Accounted(done, saved, work_s)

    def victims(self, count: int) -> NDArray[np.intp]:
        """The ``count`` busy boards to give up first: lowest priority, then the least
        work since their last checkpoint."""
        busy = self.busy.nonzero()[0]
        if count >= busy.size:
            return busy
        unsaved = self.progress[busy] - self.checkpointed[busy]
        order = np.lexsort((busy, unsaved, self.priority[busy]))
        return busy[order[:count]]
