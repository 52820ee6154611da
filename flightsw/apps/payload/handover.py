"""Cluster jobs: a job that can move between nodes from its checkpoint, and its result.

A job the cluster's ground scheduler places carries a ``tag`` (its id across the
cluster). Its computation is a hash chain over quanta of work (``QUANTUM_S`` of
board-seconds at full power): the state after quantum q is
SHA-256(state(q-1) || q) cut to 64 bits, starting from a state drawn from the tag. A
checkpoint is (progress, quanta, state); a job resumed on another node continues the
chain from the state it was handed, so its result (the state after its last quantum)
is the same wherever and in however many pieces it ran — and differs if a checkpoint
was lost, cut or corrupted on the way. The ground computes the expected result from
the job's own record (tag and size) and compares it with what a node delivered.

One record layout (:data:`CLUSTER_JOB`) serves both ways: the ground's
``payload.run_cluster_jobs`` TC (a fresh job: progress 0, quanta 0, the tag's first
state) and the node's TM(130,4) ``jobs_handed_back`` (a job's last checkpoint).
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass

from flightsw.apps.payload.job_list import check_ranges
from flightsw.base.errors import CommandError
from flightsw.framework import layouts as L
from flightsw.framework.app import FailureCode

QUANTUM_S = 60.0  # board-seconds of work per step of a job's result chain
RECORDS_PER_TM = 32  # hand-back and result records per TM packet
RECORD = struct.Struct(">IfBIfdIQ")  # tag, hours, prio, deadline_s, ckpt_s, done_s, q, state
RESULT = struct.Struct(">IIQ")  # tag, node's job id, result digest
COUNT = struct.Struct(">H")

CLUSTER_JOB = L.Struct(
    "tag" / L.U32,
    "board_hours" / L.F32,
    "priority" / L.U8,
    "deadline_s" / L.U32,
    "checkpoint_s" / L.F32,
    "done_s" / L.F64,
    "quanta" / L.U32,
    "state" / L.U64,
)
CLUSTER_JOBS = L.Struct("jobs" / L.counted(L.U16, CLUSTER_JOB))
"""``payload.run_cluster_jobs`` and TM(130,4) ``jobs_handed_back``."""
JOB_RESULTS = L.Struct(
    "results" / L.counted(L.U16, L.Struct("tag" / L.U32, "job" / L.U32, "digest" / L.U64))
)
"""TM(130,5) ``job_results``: a cluster job's result as it finished."""
CLUSTER_STATUS = L.Struct(
    "jobs" / L.U16,
    "boards_target" / L.U16,
    "checkpoints" / L.counted(L.U16, CLUSTER_JOB),
)
"""TM(130,6) ``cluster_status``, every ``cluster_report_s``: what the ground's scheduler
needs of a node (jobs queued and running, boards its admission policy lets run) and the
checkpoints its cluster jobs took since the last report, so that a job moved off a node
that went silent resumes from the last checkpoint that reached the ground."""
STATUS_HEAD = struct.Struct(">HH")


@dataclass(frozen=True)
class ClusterJob:
    """A cluster job as it travels: its definition and its last checkpoint."""

    tag: int
    board_hours: float
    priority: int
    deadline_s: int  # seconds from arrival, 0 = none
    checkpoint_s: float
    done_s: float = 0.0  # work already done (board-seconds), kept in the checkpoint
    quanta: int = 0  # chain steps taken: floor(done_s / QUANTUM_S)
    state: int = -1  # chain state after ``quanta`` steps (-1: the tag's first state)

    def __post_init__(self) -> None:
        if self.state < 0:
            object.__setattr__(self, "state", initial_state(self.tag))

    @property
    def work_s(self) -> float:
        return work_seconds(self.board_hours)


def work_seconds(board_hours: float) -> float:
    """A job's size in board-seconds from its board-hours (as the node computes it)."""
    return float(board_hours) * 3600.0


def initial_state(tag: int) -> int:
    """The chain's first state: drawn from the tag (the job's input)."""
    digest = hashlib.sha256(b"flightsw-cluster-job" + struct.pack(">I", tag)).digest()
    return int.from_bytes(digest[:8], "big")


def quanta_done(done_s: float) -> int:
    """Chain steps covered by ``done_s`` of work."""
    return int(done_s // QUANTUM_S)


def result_quanta(work_s: float) -> int:
    """Chain steps of a whole job (at least one)."""
    return max(1, math.ceil(work_s / QUANTUM_S))


def advance(state: int, q_from: int, q_to: int) -> int:
    """The chain state after step ``q_to`` from the state after step ``q_from``."""
    s = state.to_bytes(8, "big")
    for q in range(q_from + 1, q_to + 1):
        s = hashlib.sha256(s + struct.pack(">I", q)).digest()[:8]
    return int.from_bytes(s, "big")


def expected_result(tag: int, board_hours: float) -> int:
    """The result a job must deliver, from its own record alone (the ground's check)."""
    return advance(initial_state(tag), 0, result_quanta(work_seconds(board_hours)))


def encode_jobs(jobs: list[ClusterJob]) -> bytes:
    """N:u16 then N records (the application data of the TC and of TM(130,4))."""
    return COUNT.pack(len(jobs)) + b"".join(
        RECORD.pack(
            j.tag,
            j.board_hours,
            j.priority,
            j.deadline_s,
            j.checkpoint_s,
            j.done_s,
            j.quanta,
            j.state,
        )
        for j in jobs
    )


def decode_jobs(data: bytes) -> list[ClusterJob]:
    """Records from their octets; CommandError (BAD_LENGTH / ARG_OUT_OF_RANGE /
    BAD_APP_DATA) naming the first that is wrong."""
    if len(data) < COUNT.size:
        raise CommandError(FailureCode.BAD_LENGTH, "missing N")
    (n,) = COUNT.unpack_from(data)
    if len(data) != COUNT.size + n * RECORD.size:
        raise CommandError(FailureCode.BAD_LENGTH, f"N={n} needs {2 + n * RECORD.size} bytes")
    out = []
    for i in range(n):
        tag, hours, prio, deadline, ckpt, done, q, state = RECORD.unpack_from(
            data, COUNT.size + i * RECORD.size
        )
        check_ranges([(hours, prio, deadline, ckpt)], [f"job {i}"])
        work = work_seconds(hours)
        if tag == 0 or not (math.isfinite(done) and 0.0 <= done < work):
            raise CommandError(FailureCode.ARG_OUT_OF_RANGE, f"job {i}: tag or done_s")
        if q != quanta_done(done):
            raise CommandError(FailureCode.BAD_APP_DATA, f"job {i}: quanta {q} != done_s's")
        out.append(ClusterJob(tag, hours, prio, deadline, ckpt, done, q, state))
    return out


def encode_results(results: list[tuple[int, int, int]]) -> bytes:
    return COUNT.pack(len(results)) + b"".join(RESULT.pack(*r) for r in results)


def decode_results(data: bytes) -> list[tuple[int, int, int]]:
    """(tag, job, digest) records of TM(130,5); ValueError when the length is wrong."""
    if len(data) < COUNT.size:
        raise ValueError("job_results: missing N")
    (n,) = COUNT.unpack_from(data)
    if len(data) != COUNT.size + n * RESULT.size:
        raise ValueError(f"job_results: N={n} needs {2 + n * RESULT.size} bytes")
    return [RESULT.unpack_from(data, COUNT.size + i * RESULT.size) for i in range(n)]


def encode_status(jobs: int, boards_target: int, checkpoints: list[ClusterJob]) -> bytes:
    """TM(130,6)'s application data (counts clipped to u16)."""
    return STATUS_HEAD.pack(min(jobs, 0xFFFF), min(boards_target, 0xFFFF)) + encode_jobs(
        checkpoints
    )


def decode_status(data: bytes) -> tuple[int, int, list[ClusterJob]]:
    """(jobs, boards_target, checkpoints) of TM(130,6); CommandError naming what is wrong."""
    if len(data) < STATUS_HEAD.size:
        raise CommandError(FailureCode.BAD_LENGTH, "cluster_status: missing jobs, boards")
    jobs, target = STATUS_HEAD.unpack_from(data)
    return jobs, target, decode_jobs(data[STATUS_HEAD.size :])
