"""The cluster's jobs placed on its nodes by headroom (the operator's side, not flight code).

One :class:`flightsw.sil.workload.GroundWorkload` stands for the whole cluster: a
backlog and seeded arrivals at ``load`` times what all its boards could do, topped up
from the jobs every node reports (queued and running, from its payload housekeeping at
the end of the last window, plus what was sent to it since). Each ``submit_jobs`` TC
goes to the node with the most headroom: the boards its own admission policy lets run
now (``boards_target``, which follows its power and thermal budget) plus the queue
allowance, minus the jobs it has. A node in safe mode or with its payload shed
(``boards_target`` 0) gets nothing; ties go to the lowest index; when no node has
headroom the jobs wait on the ground. The same seed places
the same jobs on the same nodes at the same times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import PusTc
from flightsw.sil.workload import GroundWorkload, WorkloadConfig

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class NodeView:
    """What the ground last saw of a node's payload."""

    jobs: int  # queued + running
    boards_target: int  # boards its admission policy lets run (power and thermal headroom)


class ClusterJobs:
    """Places the cluster's job TCs on nodes; see the module docstring."""

    def __init__(
        self,
        cfg: WorkloadConfig,
        boards_per_node: int,
        nodes: int,
        seed: int,
        encoder: CommandEncoder,
    ) -> None:
        # A TC carries at most a quarter of a node's boards in jobs, so that one TC
        # cannot fill a node past its headroom (64 for the default 256-board node).
        per_tc = min(cfg.jobs_per_tc, max(1, math.ceil(boards_per_node / 4)))
        self.cfg = cfg = replace(cfg, jobs_per_tc=per_tc)
        self.views = [NodeView(0, boards_per_node) for _ in range(nodes)]
        self.sent = [0] * nodes  # jobs sent to each node since its view
        self.placed = [0] * nodes  # jobs sent to each node over the run
        self.workload = GroundWorkload(cfg, boards_per_node * nodes, seed, encoder, self._onboard)

    def _onboard(self) -> int:
        return sum(v.jobs for v in self.views) + sum(self.sent)

    def headroom(self, i: int) -> int:
        v = self.views[i]
        if v.boards_target <= 0:
            return -(1 << 30)  # nothing goes to a node that cannot run anything
        allowance = math.ceil((1.0 + self.cfg.queue_per_board) * v.boards_target)
        return allowance - v.jobs - self.sent[i]

    def choose(self) -> int | None:
        """The node with the most headroom (lowest index on a tie); None when no node has
        any (the jobs wait on the ground)."""
        best = max(range(len(self.views)), key=lambda i: (self.headroom(i), -i))
        return best if self.headroom(best) > 0 else None

    def plan(
        self, begin_ns: int, end_ns: int, views: dict[int, NodeView]
    ) -> dict[int, list[tuple[int, bytes]]]:
        """The TCs of one window, per node, with the time each leaves the ground."""
        for i, v in views.items():
            self.views[i] = v
            self.sent[i] = 0
        out: dict[int, list[tuple[int, bytes]]] = {}
        for t in range(begin_ns, end_ns, NS_PER_S):
            for tc in self.workload.poll(t):
                choice = self.choose()
                if choice is None:
                    self.workload.refused(tc)  # back to the ground's outbox, sent later
                    continue
                i = choice
                jobs = int.from_bytes(PusTc.decode(tc).app_data[2:4], "big")
                self.sent[i] += jobs
                self.placed[i] += jobs
                out.setdefault(i, []).append((t, tc))
        return out

    def summary(self) -> dict[str, Any]:
        return {**self.workload.summary(), "jobs_placed_per_node": list(self.placed)}
