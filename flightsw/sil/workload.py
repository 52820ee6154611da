"""The ground's workload for a simulated node: a backlog at the start, then arrivals, so
that the node runs at the budget its power and thermal apps allow.

This is the operator's side, not flight code. Jobs arrive at the ground as a seeded
Poisson stream sized to the node (``load`` times what every board could do at full
power); a backlog is waiting at the start. Every ``uplink_period_s`` the ground reads
the jobs queued and running that the payload reports in its housekeeping and tops the
node up to a job for every board plus ``queue_per_board`` queued per board. Jobs go up
as ``payload.submit_jobs`` TCs of ``jobs_per_tc`` jobs (one TC frame), at most
``tcs_per_s`` a second (the payload's command pipe holds 16 and runs at 1 Hz). Jobs
waiting on the ground are bounded; those beyond the bound are counted as dropped.

Same mission, same seed: the same jobs at the same times.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from flightsw.apps.payload.job_list import JobTuple, encode_binary
from flightsw.base.errors import MissionError
from flightsw.base.schema import ConfigError
from flightsw.ground.commanding import CommandEncoder
from flightsw.runtime.workload_schema import WORKLOAD

NS_PER_S = 1_000_000_000
# The source id of the workload's TCs: their PUS-1 reports come back addressed to it, so
# they are told apart from the console's (0x0C0), a procedure's (0x0C1) and the onboard
# sequencer's (0x5E0).
SOURCE_ID = 0x0C2


@dataclass(frozen=True)
class WorkloadConfig:
    """The ``[workload]`` table of a mission (declared in ``flightsw.runtime.workload_schema``;
    the defaults here are the same, a test keeps them so)."""

    enabled: bool = True
    seed: int = 0  # mixed with the mission seed
    load: float = 1.2  # arrivals as a fraction of the node's full-power capacity
    backlog_per_board: float = 2.0  # jobs waiting on the ground at the start
    queue_per_board: float = 1.0  # the node's queue is kept this deep
    mean_board_hours: float = 1.0  # job size: exponential, within min/max
    min_board_hours: float = 0.05
    max_board_hours: float = 24.0
    checkpoint_s: float = 600.0
    priorities: int = 4  # priorities 0 .. priorities-1, uniformly
    uplink_period_s: float = 30.0  # how often the ground looks at the node's queue
    jobs_per_tc: int = 64
    tcs_per_s: int = 8
    max_ground_jobs: int = 200_000

    @classmethod
    def from_table(cls, table: dict[str, Any], where: str = "workload") -> WorkloadConfig:
        """From a mission's ``[workload]`` table (``WORKLOAD``); a wrong key or value is a
        MissionError naming it."""
        try:
            values = WORKLOAD.validate(table, "workload")
        except ConfigError as exc:
            raise MissionError(where, exc.key, exc.reason) from None
        return cls(**values)


class GroundWorkload:
    """Generates the jobs and the TCs that carry them to one node.

    ``onboard_jobs`` returns the jobs the node has not finished (queued and running), as
    its housekeeping reports them.
    Call :meth:`poll` at least once a simulated second; it returns the TCs to uplink now.
    """

    def __init__(
        self,
        cfg: WorkloadConfig,
        boards: int,
        seed: int,
        encoder: CommandEncoder,
        onboard_jobs: Callable[[], int],
    ) -> None:
        self.cfg = cfg
        self.boards = boards
        self.rng = np.random.default_rng([seed & 0xFFFFFFFF, cfg.seed & 0xFFFFFFFF, 0x574B])
        self.encoder = encoder
        self.onboard_jobs = onboard_jobs
        self.rate_per_s = cfg.load * boards / (cfg.mean_board_hours * 3600.0)
        self.ground: deque[JobTuple] = deque()
        self.outbox: deque[tuple[bytes, int]] = deque()  # a TC and the jobs it carries
        self.next_look_ns: int | None = None
        self.next_send_ns = 0
        self.last_arrival_ns: int | None = None
        self.arrived = 0
        self.dropped = 0
        self.uplinked_jobs = 0
        self.uplinked_tcs = 0
        self.in_flight = 0  # jobs in TCs built and not yet sent
        self.refused_tcs = 0  # TCs the node's uplink refused, sent again later
        self._sent: dict[bytes, int] = {}  # the last poll's TCs and the jobs in each
        self._arrive(round(cfg.backlog_per_board * boards))

    def _arrive(self, count: int) -> None:
        cfg = self.cfg
        if count <= 0:
            return
        # Exponential sizes clipped to [min, max]: the mean is shifted so it stays cfg's.
        scale = max(cfg.mean_board_hours - cfg.min_board_hours, 1e-9)
        hours = np.clip(
            cfg.min_board_hours + self.rng.exponential(scale, count),
            cfg.min_board_hours,
            cfg.max_board_hours,
        )
        prios = self.rng.integers(0, cfg.priorities, count)
        room = cfg.max_ground_jobs - len(self.ground)
        take = max(0, min(count, room))
        self.dropped += count - take
        self.arrived += count
        # The sizes go up as f32: rounded here as a whole array (the same values one
        # np.float32 at a time would give), and the jobs appended in one extend.
        sizes = hours[:take].astype(np.float32).tolist()
        prio = prios[:take].tolist()
        ckpt = cfg.checkpoint_s
        self.ground.extend([(h, p, 0, ckpt) for h, p in zip(sizes, prio, strict=True)])

    def poll(self, now_ns: int) -> list[bytes]:
        """The TCs due now (new arrivals, then a top-up of the node's jobs)."""
        if self.next_look_ns is None:
            self.next_look_ns = self.last_arrival_ns = now_ns
        if now_ns >= self.next_look_ns:
            self.next_look_ns = now_ns + int(self.cfg.uplink_period_s * NS_PER_S)
            dt = (now_ns - (self.last_arrival_ns or now_ns)) / NS_PER_S
            self.last_arrival_ns = now_ns
            self._arrive(int(self.rng.poisson(self.rate_per_s * dt)))
            self._top_up()
        if not self.outbox or now_ns < self.next_send_ns:
            return []
        self.next_send_ns = now_ns + NS_PER_S
        out: list[bytes] = []
        self._sent.clear()
        while self.outbox and len(out) < self.cfg.tcs_per_s:
            tc, jobs = self.outbox.popleft()
            self.in_flight -= jobs
            self.uplinked_jobs += jobs  # counted when sent, taken back if refused
            self._sent[tc] = jobs
            out.append(tc)
        self.uplinked_tcs += len(out)
        return out

    def refused(self, tc: bytes) -> None:
        """A TC of the last :meth:`poll` the node's uplink refused (its queue was full):
        it goes back to the front of the outbox, to be sent again; counted."""
        jobs = self._sent.pop(tc, None)
        if jobs is None:
            return
        self.outbox.appendleft((tc, jobs))
        self.in_flight += jobs
        self.uplinked_tcs -= 1
        self.uplinked_jobs -= jobs
        self.refused_tcs += 1

    def _top_up(self) -> None:
        """Enough jobs for every board plus ``queue_per_board`` queued per board."""
        cfg = self.cfg
        target = math.ceil((1.0 + cfg.queue_per_board) * self.boards)
        want = target - self.onboard_jobs() - self.in_flight
        while want > 0 and self.ground:
            n = min(want, cfg.jobs_per_tc, len(self.ground))
            batch = [self.ground.popleft() for _ in range(n)]
            want -= n
            tc = self.encoder.encode(
                "payload.submit_jobs", app_data=encode_binary(batch), source_id=SOURCE_ID
            )
            self.outbox.append((tc, n))
            self.in_flight += n

    def summary(self) -> dict[str, Any]:
        return {
            "jobs_arrived": self.arrived,
            "jobs_uplinked": self.uplinked_jobs,  # in TCs sent and not refused
            "jobs_in_outbox": self.in_flight,
            "tcs_uplinked": self.uplinked_tcs,
            "tcs_refused": self.refused_tcs,
            "jobs_waiting_on_ground": len(self.ground),
            "jobs_dropped_on_ground": self.dropped,
            "arrivals_per_hour": round(self.rate_per_s * 3600.0, 3),
        }
