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
SLACK = 1e-9
"""How far (relative) a board's bound sits below its checkpoint threshold: far more than
the rounding of ``progress - checkpointed``, so no board due a checkpoint is above it."""


def _bound(work: FloatArray, checkpointed: FloatArray, interval: FloatArray) -> FloatArray:
    """Progress below which a job is neither done nor due a checkpoint (NaN: done only),
    per board."""
    slack = (np.abs(checkpointed) + np.abs(interval)) * SLACK
    return np.fmin(work, checkpointed + interval - slack)


class Accounted(NamedTuple):
    """What one step of work did: boards whose job is done, work newly checkpointed
    (a named tuple: built every step, cheaper than a frozen dataclass)."""

    done: NDArray[np.intp]
    checkpointed_s: float
    work_s: float  # all work the running jobs did in the step


class RunningJobs:
    """Per-board job id, progress, checkpoint, size, checkpoint interval and priority.

    A free board has an infinite size, interval and bound, so one pass over every board
    (progress against the bound) finds the few jobs that may be done or due a checkpoint
    without masking the free ones; only those few are then tested exactly.
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
        # A lower bound of the progress at which each board's job is done or due a
        # checkpoint (infinite on a free board): account checks exactly only the boards
        # at or past it, a handful, instead of three passes over every board.
        self.bound = np.full(n, np.inf)
        self._mask = np.zeros(n, dtype=bool)  # scratch for account (no allocation per step)

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
        b = slice(board, board + 1)  # (the fields just set, as one-board arrays)
        self.bound[b] = _bound(self.work[b], self.checkpointed[b], self.interval[b])
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
        self.bound[board] = np.inf

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
        self.bound[board] = np.inf

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
        near = np.greater_equal(progress, self.bound, out=self._mask).nonzero()[0]
        if not near.size:
            return Accounted(near, 0.0, work_s)
        # The exact tests, on the boards near their thresholds only (ascending, as a
        # mask over every board would give them: the same boards, the same sum).
        p = progress[near]
        is_done = p >= self.work[near]
        tmp = p - self.checkpointed[near]
        interval = self.interval[near]
        is_due = np.greater(tmp >= interval, is_done)  # due and not done
        done = near[is_done]
        saved = 0.0
        if np.count_nonzero(is_due):
            idx = near[is_due]
            saved = float(tmp[is_due].sum())
            now = p[is_due]
            self.checkpointed[idx] = now
            self.bound[idx] = _bound(self.work[idx], now, interval[is_due])
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
