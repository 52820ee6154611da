"""RunningJobs.account against the plain rule it stands for, over every board."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.apps.payload.jobs import Job
from flightsw.apps.payload.running import RunningJobs


def _reference(
    progress: np.ndarray, checkpointed: np.ndarray, work: np.ndarray, interval: np.ndarray
) -> tuple[np.ndarray, float]:
    """Done: progress at its size; due: progress - checkpointed at its interval, not done
    (masks over every board, as account once computed them); updates ``checkpointed``."""
    done = (progress >= work).nonzero()[0]
    tmp = progress - checkpointed
    due = tmp >= interval
    due[done] = False
    saved = float(tmp[due].sum())
    checkpointed[due] = progress[due]
    return done, saved


JOB = st.tuples(
    st.sampled_from([0.1, 1.0, 3.0, 600.0, 1e7]),  # size in checkpoint intervals' scale
    st.sampled_from([0.1, 0.3, 1.0, 2.5, 600.0]),  # checkpoint interval
    st.floats(0.0, 1.0),  # progress as a fraction of the size
)


@settings(max_examples=60, deadline=None)
@given(
    jobs=st.lists(st.one_of(st.none(), JOB), min_size=1, max_size=40),
    steps=st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 1.0]), min_size=1, max_size=40),
)
def test_account_gives_the_same_boards_sums_and_checkpoints_as_masks_over_every_board(
    jobs: list[tuple[float, float, float] | None], steps: list[float]
) -> None:
    n = len(jobs)
    run = RunningJobs(n)
    for b, spec in enumerate(jobs):
        if spec is not None:
            size, ckpt, frac = spec
            job = Job(b + 1, size * ckpt, 1, 0, ckpt)
            job.progress = job.checkpointed = frac * size * ckpt
            run.place(b, job)
    progress, checkpointed = run.progress.copy(), run.checkpointed.copy()
    work, interval = run.work.copy(), run.interval.copy()
    for k, step in enumerate(steps):
        delta = np.full(n, step) * (1.0 + (np.arange(n) + k) % 3)
        acc = run.account(delta)
        progress += delta
        done, saved = _reference(progress, checkpointed, work, interval)
        assert acc.done.tolist() == done.tolist()
        assert np.float64(acc.checkpointed_s).tobytes() == np.float64(saved).tobytes()
        assert run.checkpointed.tobytes() == checkpointed.tobytes()
        for b in acc.done.tolist():  # done: the board is freed, as the payload does
            run.free(b)
            work[b] = interval[b] = np.inf
