"""The job book: queue order, deadlines, bounded history and heaps."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.apps.payload.jobs import JobBook, JobState


def test_the_queue_gives_priority_then_deadline_then_age() -> None:
    book = JobBook()
    a = book.submit(10.0, 1, 0, 60.0, 0)
    b = book.submit(10.0, 3, 0, 60.0, 0)
    c = book.submit(10.0, 3, 5_000, 60.0, 0)
    d = book.submit(10.0, 1, 0, 60.0, 0)
    assert [book.pop_next() for _ in range(4)] == [c, b, a, d]
    assert book.pop_next() is None and book.queued == 0


def test_only_queued_jobs_expire_and_a_requeued_one_keeps_its_deadline() -> None:
    book = JobBook()
    late = book.submit(10.0, 1, 100, 60.0, 0)
    running = book.submit(10.0, 0, 100, 60.0, 0)
    assert book.pop_next() is late
    assert book.pop_next() is running
    book.enqueue(late)  # rolled back
    assert book.expire(99) == []
    assert book.expire(101) == [late]
    assert late.state == JobState.FAILED and running.state == JobState.RUNNING
    assert book.finished[JobState.FAILED] == 1 and book.queued == 0


def test_finished_jobs_are_forgotten_beyond_the_history() -> None:
    book = JobBook(history=3)
    jobs = [book.submit(1.0, 0, 0, 60.0, 0) for _ in range(5)]
    for j in jobs:
        book.unqueue(j)
        book.finish(j, JobState.CANCELLED)
    assert len(book) == 3 and book.forgotten == 2
    assert book.get(jobs[0].job_id) is None and book.get(jobs[4].job_id) is jobs[4]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=1, max_size=200))
def test_any_mix_of_submits_cancels_and_pops_keeps_counts_and_bounded_heaps(
    ops: list[tuple[int, int]],
) -> None:
    book = JobBook(history=16)
    rng = np.random.default_rng(len(ops))
    queued: set[int] = set()
    for op, prio in ops:
        if op <= 1:
            queued.add(book.submit(1.0, prio, 0, 60.0, 0).job_id)
        elif op == 2 and queued:
            job = book[sorted(queued)[int(rng.integers(len(queued)))]]
            book.unqueue(job)
            book.finish(job, JobState.CANCELLED)
            queued.discard(job.job_id)
        else:
            job = book.pop_next()
            if job is not None:
                queued.discard(job.job_id)
                best = min([job.order()] + [book[j].order() for j in queued])
                assert job.order() == best  # nothing queued came before it
                book.finish(job, JobState.DONE)
        assert book.queued == len(queued)
        assert len(book._heap) <= 2 * book.queued + 65
