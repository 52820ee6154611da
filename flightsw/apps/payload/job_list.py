"""Job submissions as they arrive: a binary list in a TC, or a CSV job list uplinked as a
file. Both are checked whole (every job in range, all fit the queue) before any job is
queued, and bad input is refused with the PUS-1 code that names what is wrong.
"""

from __future__ import annotations

import struct

from flightsw.base.errors import CommandError
from flightsw.framework.app import FailureCode

JOB = struct.Struct(">fBIf")  # board_hours, priority, deadline_s, checkpoint_s
COUNT = struct.Struct(">H")
BOARD_HOURS = (0.001, 10_000.0)  # a job's size, as every submission path accepts it
CHECKPOINT_S = (1.0, 86_400.0)

JobTuple = tuple[float, int, int, float]


def parse_binary(data: bytes) -> list[JobTuple]:
    """N:u16, then N x (board_hours f32, priority u8, deadline_s u32, checkpoint_s f32)."""
    if len(data) < COUNT.size:
        raise CommandError(FailureCode.BAD_LENGTH, "missing N")
    (n,) = COUNT.unpack_from(data)
    if len(data) != COUNT.size + n * JOB.size:
        raise CommandError(FailureCode.BAD_LENGTH, f"N={n} needs {2 + n * JOB.size} bytes")
    return [JOB.unpack_from(data, COUNT.size + i * JOB.size) for i in range(n)]


def encode_binary(jobs: list[JobTuple]) -> bytes:
    """The application data of ``payload.submit_jobs`` (after the function id)."""
    return COUNT.pack(len(jobs)) + b"".join(JOB.pack(*j) for j in jobs)


def parse_csv(name: str, content: bytes) -> tuple[list[JobTuple], list[str]]:
    """One ``board_hours,priority,deadline_s,checkpoint_s`` line per job, ``#`` comments;
    returns the jobs and where each came from (``name line N``)."""
    jobs: list[JobTuple] = []
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
    return jobs, where


def check_ranges(jobs: list[JobTuple], where: list[str]) -> None:
    """Every job in range, or ARG_OUT_OF_RANGE naming the first that is not."""
    for (hours, prio, deadline, ckpt), at in zip(jobs, where, strict=True):
        if not (
            BOARD_HOURS[0] <= hours <= BOARD_HOURS[1]
            and 0 <= prio <= 255
            and 0 <= deadline < 2**32
            and CHECKPOINT_S[0] <= ckpt <= CHECKPOINT_S[1]
        ):
            raise CommandError(FailureCode.ARG_OUT_OF_RANGE, f"{at} out of range")
