"""Cluster jobs on one node: a job handed back from its checkpoint in safe mode and
resumed on another node delivers the result it would have delivered uninterrupted (a
hash chain over its work, checked against the one computed from the job's record);
a corrupted or cut checkpoint gives a different result; bad records are refused."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.apps.payload import PayloadApp
from flightsw.apps.payload.handover import (
    QUANTUM_S,
    RECORD,
    ClusterJob,
    advance,
    decode_jobs,
    decode_results,
    decode_status,
    encode_jobs,
    encode_status,
    expected_result,
    initial_state,
    quanta_done,
)
from flightsw.base.errors import CommandError
from flightsw.framework.app import FailureCode
from flightsw.sil.harness import SilHarness
from tests.apps.conftest import small_node


def _run(h: SilHarness, jobs: list[ClusterJob]) -> None:
    h.send_and_assert_command("payload.run_cluster_jobs", app_data=encode_jobs(jobs))


def _results(h: SilHarness) -> dict[int, int]:
    return {tag: d for p in h.tm_of(130, 5) for tag, _job, d in decode_results(p.app_data)}


def _payload(h: SilHarness) -> PayloadApp:
    p = h.exe.app("payload").instance
    assert isinstance(p, PayloadApp)
    return p


def _handed(h: SilHarness) -> list[ClusterJob]:
    return [j for p in h.tm_of(130, 4) for j in decode_jobs(p.app_data)]


@pytest.mark.parametrize(
    "seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)]
)
def test_safe_mode_hands_jobs_back_from_checkpoints_and_they_finish_elsewhere_the_same(
    seed: int,
) -> None:
    """Seeds vary the job sizes, checkpoint intervals and when safe mode strikes."""
    # 72..180 s, as the f32 a TC carries
    hours = [float(np.float32(0.02 + 0.01 * ((seed * 7 + i * 3) % 5))) for i in range(3)]
    ckpt = 10.0 + 5 * seed
    jobs = [ClusterJob(100 * seed + i, h, 1, 0, ckpt) for i, h in enumerate(hours)]
    a = small_node(boards=2, radiation_enabled=False)
    _run(a, jobs)  # two run, one waits
    a.run(40.0 + 9 * seed)
    a.send_and_assert_command("fdir.enter_safe_mode")
    a.run(3.0)
    handed = _handed(a)
    assert sorted(j.tag for j in handed) == sorted(j.tag for j in jobs)  # none kept, none lost
    assert _payload(a).live_tags() == []
    started = [j for j in handed if j.done_s > 0]
    assert len(started) == 2  # the two that ran come back with their work
    for j in handed:
        assert j.quanta == quanta_done(j.done_s)
        assert j.state == advance(initial_state(j.tag), 0, j.quanta)
    b = small_node(boards=4, radiation_enabled=False)
    _run(b, handed)
    b.run(200.0)
    got = _results(b)
    assert got == {j.tag: expected_result(j.tag, j.board_hours) for j in jobs}
    # Resumed from the checkpoint: node b did only the rest of the work (+1 s steps).
    p = _payload(b)
    rest = sum(j.work_s - j.done_s for j in handed)
    assert p.totals.work_s <= rest + 2.0 * len(handed)


def test_a_checkpoint_cut_or_corrupted_on_the_way_gives_a_different_result() -> None:
    hours = float(np.float32(0.05))  # 180 s (as f32: a hair more): four quanta
    job = ClusterJob(7, hours, 1, 0, 20.0)
    done = 2 * QUANTUM_S + 5.0
    good = ClusterJob(7, hours, 1, 0, 20.0, done, 2, advance(initial_state(7), 0, 2))
    corrupt = ClusterJob(7, hours, 1, 0, 20.0, done, 2, good.state ^ 1)
    cut = ClusterJob(7, hours, 1, 0, 20.0, done, 1, advance(initial_state(7), 0, 1))
    h = small_node(boards=2, radiation_enabled=False)
    _run(h, [good])
    h.run(80.0)
    assert _results(h) == {7: expected_result(7, job.board_hours)}
    h2 = small_node(boards=2, radiation_enabled=False)
    _run(h2, [corrupt])
    h2.run(80.0)
    assert _results(h2)[7] != expected_result(7, job.board_hours)
    with pytest.raises(CommandError):  # a checkpoint whose chain is behind its work
        decode_jobs(encode_jobs([cut]))


def test_bad_cluster_job_records_are_refused_whole_with_pus1() -> None:
    h = small_node(boards=2, radiation_enabled=False)
    fid = struct.pack(">H", 0x2200 + 7)
    ok = ClusterJob(1, 0.02, 1, 0, 10.0)
    for bad, code in (
        (ClusterJob(0, 0.02, 1, 0, 10.0), FailureCode.ARG_OUT_OF_RANGE),  # tag 0
        (ClusterJob(2, 0.02, 1, 0, 10.0, 72.0, 1), FailureCode.ARG_OUT_OF_RANGE),  # done = work
        (ClusterJob(3, 0.02, 1, 0, 10.0, 61.0, 0), FailureCode.BAD_APP_DATA),  # quanta wrong
        (ClusterJob(4, -1.0, 1, 0, 10.0), FailureCode.ARG_OUT_OF_RANGE),
        (ClusterJob(5, 0.02, 1, 0, 10.0, float("nan"), 0), FailureCode.ARG_OUT_OF_RANGE),
    ):
        rid = h.send_pus(8, 1, fid + encode_jobs([ok, bad]))
        h.run(0.5)
        assert h.failure_code(rid) == code
    rid = h.send_pus(8, 1, fid + encode_jobs([ok])[:-3])
    h.run(0.5)
    assert h.failure_code(rid) == FailureCode.BAD_LENGTH
    assert _payload(h).live_tags() == []  # all or none


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3 * RECORD.size + 4))
def test_record_decoder_takes_garbage_with_our_error_only(data: bytes) -> None:
    try:
        jobs = decode_jobs(data)
    except CommandError:
        return
    assert encode_jobs(jobs) == data


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 2**32 - 1),
    st.floats(0.0010000000474974513, 10.0, width=32),
    st.integers(0, 255),
    st.floats(1.0, 86_400.0, width=32),
    st.floats(0.0, 1.0),
)
def test_records_round_trip(tag: int, hours: float, prio: int, ckpt: float, frac: float) -> None:
    done = min(frac * hours * 3600.0, hours * 3600.0 * 0.999)
    job = ClusterJob(tag, hours, prio, 0, ckpt, done, quanta_done(done))
    assert decode_jobs(encode_jobs([job])) == [job]


def test_a_board_taken_out_of_service_hands_its_cluster_job_back_when_no_board_is_free() -> None:
    """FDIR takes a computing board out of service (health command): its cluster job
    goes back to the ground from its last checkpoint; the other keeps running here."""
    hours = float(np.float32(0.05))
    jobs = [ClusterJob(t, hours, 1, 0, 15.0) for t in (41, 42)]
    h = small_node(boards=2, radiation_enabled=False)
    _run(h, jobs)
    h.run(50.0)
    p = _payload(h)
    board = 1
    tag = p.job(int(p.board_job[board])).tag
    h.send_and_assert_command("fdir.set_health", {"kind": 0, "unit": board, "health": 3})
    h.run(3.0)
    handed = _handed(h)
    assert [j.tag for j in handed] == [tag]
    assert handed[0].done_s >= 30.0  # its last checkpoint (15 s interval), not the start
    assert p.live_tags() == [t for t in (41, 42) if t != tag]


def test_checkpoint_reports_let_a_job_resume_without_a_hand_back_and_give_its_result() -> None:
    """TM(130,6) every 10 s: the node's jobs and headroom and each new checkpoint. A node
    that dies says nothing more; its job resumed elsewhere from the last checkpoint it
    reported delivers the result it would have delivered uninterrupted."""
    hours = float(np.float32(0.04))  # 144 s: three quanta
    a = small_node(boards=2, radiation_enabled=False)
    a.exe.params.set("payload", "cluster_report_s", 10.0)
    _run(a, [ClusterJob(9, hours, 1, 0, 15.0), ClusterJob(10, hours, 1, 0, 15.0)])
    a.run(95.0)
    reports = [decode_status(p.app_data) for p in a.tm_of(130, 6)]
    assert 8 <= len(reports) <= 11  # every 10 s
    assert reports[-1][:2] == (2, _payload(a).target) and reports[-1][1] > 0
    ckpts = [j for _, _, js in reports for j in js if j.tag == 9]
    assert len(ckpts) >= 4  # a new checkpoint every 15 s, reported once each
    assert [j.done_s for j in ckpts] == sorted({j.done_s for j in ckpts})
    last = ckpts[-1]
    assert 60.0 <= last.done_s < last.work_s and last.quanta == quanta_done(last.done_s)
    b = small_node(boards=2, radiation_enabled=False)
    _run(b, [last])
    b.run(last.work_s - last.done_s + 10.0)
    assert _results(b) == {9: expected_result(9, hours)}
    assert _payload(b).totals.work_s <= last.work_s - last.done_s + 2.0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=RECORD.size + 8))
def test_status_decoder_takes_garbage_with_our_error_only(data: bytes) -> None:
    try:
        jobs, target, ckpts = decode_status(data)
    except CommandError:
        return
    assert encode_status(jobs, target, ckpts) == data


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 3))
def test_status_round_trips(jobs: int, target: int, n: int) -> None:
    ckpts = [ClusterJob(t + 1, 0.5, 1, 0, 10.0, 61.0 * t, t) for t in range(n)]
    assert decode_status(encode_status(jobs, target, ckpts)) == (jobs, target, ckpts)
