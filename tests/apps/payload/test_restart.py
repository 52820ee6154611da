"""The payload over a restart of its app: the job table is kept (ctx.retained), what ran
rolls back to its last checkpoint and says so, and nothing is lost silently, whatever
point of a step the predecessor was cut short at."""

import struct

import numpy as np
import pytest

from flightsw.apps.payload.app import NO_BOARD
from flightsw.apps.payload.jobs import JobState
from flightsw.sil.harness import SilHarness
from tests.apps.conftest import small_node

ROLLED_BACK = (0x2200 + 2).to_bytes(2, "big")


def _submit(h: SilHarness, n: int, hours: float, ckpt: float) -> None:
    data = b"".join(struct.pack(">fBIf", hours, 1, 0, ckpt) for _ in range(n))
    h.send_and_assert_command("payload.submit_jobs", app_data=struct.pack(">H", n) + data)


def _rolled_back(h: SilHarness, since: int) -> list[tuple[int, int, float]]:
    """(job, board, lost_s) of each JOB_ROLLED_BACK event after the first ``since``."""
    out = []
    for p in [p for p in h.tm_of(5, 2) if p.app_data[:2] == ROLLED_BACK][since:]:
        out.append(struct.unpack_from(">IHf", p.app_data, 2))
    return out


def _restart(h: SilHarness, how: str) -> None:
    a = h.exe.app("payload")
    if how == "tc":
        h.send_and_assert_command("executive.restart_app", {"app": a.index})
    else:
        a.instance.step = lambda now_ns: 1 / 0  # type: ignore[method-assign]
        h.run(1)
    assert not a.stats.disabled


@pytest.mark.parametrize(("how", "seed"), [("exception", 3), ("tc", 11)])
def test_a_restart_rolls_running_jobs_back_to_their_checkpoint_and_reports_it(
    how: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    boards = int(rng.integers(3, 7))
    h = small_node(boards=boards, radiation_enabled=False)
    _submit(h, boards + 3, hours=2.0, ckpt=float(rng.uniform(20.0, 50.0)))
    h.run(float(rng.uniform(70.0, 110.0)))
    old = h.exe.app("payload").instance
    running = {int(j): int(b) for b, j in enumerate(old.board_job) if j >= 0}
    assert len(running) == boards
    before = {j: (old.job(j).progress, old.job(j).checkpointed) for j in running}
    assert all(p > c > 0 for p, c in before.values())  # work since a checkpoint to lose
    lost_before, events_before = old.tlm["lost_board_hours"], len(_rolled_back(h, 0))
    _restart(h, how)
    h.run(2)
    new = h.exe.app("payload").instance
    assert new is not old
    events = _rolled_back(h, events_before)
    assert {(j, b) for j, b, _ in events} == set(running.items())
    for j, _b, lost in events:
        job = new.job(j)
        assert job.restarts == 1 and job.checkpointed == before[j][1]
        assert lost == pytest.approx(before[j][0] - before[j][1], rel=1e-5, abs=1.5)
    assert new.tlm["lost_board_hours"] - lost_before == pytest.approx(
        sum(lost for *_, lost in events) / 3600.0, rel=1e-4
    )
    assert new.tlm["jobs_submitted"] == boards + 3  # nothing forgotten, nothing new
    assert new.tlm["jobs_queued"] + new.tlm["jobs_running"] == boards + 3
    assert new.tlm["boards_busy"] == boards  # back at work
    _submit(h, 1, hours=0.01, ckpt=60.0)
    assert max(new.jobs.jobs) == boards + 4  # ids go on, none reused


def test_a_step_cut_short_between_a_board_and_the_table_loses_no_job() -> None:
    """The predecessor freed a finished job's board, then died before booking it done:
    the job is on no board and still 'running'. It is rerun from its checkpoint,
    reported, and the queue is rebuilt from the jobs' states."""
    h = small_node(boards=2, radiation_enabled=False)
    _submit(h, 3, hours=0.02, ckpt=30.0)  # 72 board-seconds
    old = h.exe.app("payload").instance
    finish = old.book.finish
    calls = []

    def dies_once(job, state):  # type: ignore[no-untyped-def]
        if not calls:
            calls.append(job.job_id)
            raise ZeroDivisionError("cut short")
        finish(job, state)

    old.book.finish = dies_once  # the book is kept: so is this, until it has fired
    h.run(120)
    a = h.exe.app("payload")
    assert calls and a.stats.restarts == 1 and not a.stats.disabled
    new = a.instance
    (cut,) = calls
    events = _rolled_back(h, 0)
    assert (cut, NO_BOARD) in {(j, b) for j, b, _ in events}
    h.run(300)
    assert new.tlm["jobs_done"] == 3 and new.tlm["jobs_queued"] == 0
    assert new.job(cut).state == JobState.DONE and new.job(cut).restarts == 1
