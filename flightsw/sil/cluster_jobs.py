"""The cluster's jobs placed on its nodes by headroom (the operator's side, not flight code).

One :class:`flightsw.sil.workload.GroundWorkload` stands for the whole cluster: a
backlog and seeded arrivals at ``load`` times what all its boards could do, topped up
from the jobs every node reports (queued and running, from the last TM(130,6)
``cluster_status`` of the node that reached the ground, plus the jobs in TCs whose
acceptance the ground has not heard yet: ``outstanding``, the uplink's count). Each
``submit_jobs`` TC goes to the node with the most headroom: the boards its own
admission policy lets run now (``boards_target``, which follows its power and thermal
budget) plus the queue allowance, minus the jobs it has. A node in safe mode or with its
payload shed (``boards_target`` 0) gets nothing; ties go to the lowest index; when no
node has headroom the jobs wait on the ground. The same seed places the same jobs on
the same nodes at the same times.

Every job is a cluster job (``payload.run_cluster_jobs``: a tag and a checkpoint, see
:mod:`flightsw.apps.payload.handover`) recorded in a
:class:`~flightsw.sil.cluster_handover.JobLedger`. Jobs a node handed back (safe mode)
or that the ground moved off a silent node are placed again first, from the checkpoint
the ground holds, on a node with headroom that is not silent (``blocked``) and has a way
to deliver its results (``path``: its pass, a GEO relay or a neighbour with one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flightsw.apps.payload.handover import decode_jobs, decode_status, encode_jobs
from flightsw.apps.payload.job_list import parse_binary
from flightsw.base.errors import FlightswError
from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import PusTc, PusTm
from flightsw.sil.cluster_handover import JobLedger
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
        self.encoder = encoder
        self.ledger = JobLedger()
        self.blocked: set[int] = set()  # nodes the ground declared silent
        self.path = [True] * nodes  # nodes with a way to deliver results now
        self.resume_tcs = 0
        # Jobs in TCs to a node not yet known accepted (the uplink's count); None: the
        # jobs sent since the view was given (views given by the caller each window).
        self.outstanding: Callable[[int], int] | None = None
        self.views_heard = 0

    def on_packet(self, node: int, pkt: bytes, t_ns: int) -> None:
        """A TM packet of ``node`` that reached the ground: its job reports to the
        ledger, its TM(130,6) view of jobs and headroom to the placement."""
        self.ledger.on_packet(node, pkt, t_ns)
        if len(pkt) < 9 or pkt[0] & 0x10 or pkt[7] != 130 or pkt[8] != 6:
            return
        try:
            jobs, target, _ = decode_status(PusTm.decode(pkt).app_data)
        except FlightswError:
            return  # the ledger counted it bad
        if 0 <= node < len(self.views):
            self.views[node] = NodeView(jobs, target)
            self.views_heard += 1

    def tags_of(self, tc: bytes) -> tuple[int, ...]:
        """The cluster jobs a ``payload.run_cluster_jobs`` TC of this ground carries."""
        cmd = self.encoder.commands.get("payload.run_cluster_jobs")
        if cmd is None:
            return ()
        t = PusTc.decode(tc)
        fid = int(cmd["function_id"]).to_bytes(2, "big")
        if (t.service, t.subservice) != (cmd["service"], cmd["subservice"]):
            return ()
        if t.app_data[:2] != fid:
            return ()
        return tuple(j.tag for j in decode_jobs(t.app_data[2:]))

    def _unaccounted(self, i: int) -> int:
        """Jobs sent to node i its last view cannot show."""
        if self.outstanding is None:
            return self.sent[i]
        return self.sent[i] + self.outstanding(i)

    def _onboard(self) -> int:
        return sum(v.jobs for v in self.views) + sum(
            self._unaccounted(i) for i in range(len(self.views))
        )

    def headroom(self, i: int) -> int:
        v = self.views[i]
        if v.boards_target <= 0 or i in self.blocked or not self.path[i]:
            return -(1 << 30)  # nothing goes to a node that cannot run anything
        allowance = math.ceil((1.0 + self.cfg.queue_per_board) * v.boards_target)
        return allowance - v.jobs - self._unaccounted(i)

    def choose(self) -> int | None:
        """The node with the most headroom (lowest index on a tie); None when no node has
        any (the jobs wait on the ground)."""
        best = max(range(len(self.views)), key=lambda i: (self.headroom(i), -i))
        return best if self.headroom(best) > 0 else None

    def plan(
        self, begin_ns: int, end_ns: int, views: dict[int, NodeView]
    ) -> dict[int, list[tuple[int, bytes]]]:
        """The TCs of one window, per node, with the time each leaves the ground.
        ``views``: what the caller knows of the nodes now (none when the views come
        from TM(130,6) through :meth:`on_packet` and ``outstanding`` is set)."""
        for i, v in views.items():
            self.views[i] = v
            self.sent[i] = 0
        if self.outstanding is not None:  # what was sent is in the uplink's count now
            self.sent = [0] * len(self.sent)
        out: dict[int, list[tuple[int, bytes]]] = {}
        self._place_pending(begin_ns, out)
        for t in range(begin_ns, end_ns, NS_PER_S):
            refused: list[bytes] = []
            for tc in self.workload.poll(t):
                choice = self.choose()
                if choice is None:
                    refused.append(tc)
                    continue
                i = choice
                tuples = parse_binary(PusTc.decode(tc).app_data[2:])
                jobs = [self.ledger.new(*j) for j in tuples]
                self._send(i, t, jobs, out)
            # Back to the front of the ground's outbox, sent later: last first, so the
            # jobs keep their order (a job's tag is its place in the stream: the same
            # jobs get the same tags however they were placed).
            for tc in reversed(refused):
                self.workload.refused(tc)
        return out

    def _send(
        self, node: int, t: int, jobs: list[Any], out: dict[int, list[tuple[int, bytes]]]
    ) -> None:
        tc = self.encoder.encode("payload.run_cluster_jobs", app_data=encode_jobs(jobs))
        for j in jobs:
            self.ledger.placed(j.tag, node)
        self.sent[node] += len(jobs)
        self.placed[node] += len(jobs)
        out.setdefault(node, []).append((t, tc))

    def _place_pending(self, t: int, out: dict[int, list[tuple[int, bytes]]]) -> None:
        """Jobs handed back or moved off a silent node, placed again first."""
        while self.ledger.pending:
            jobs = self.ledger.take_pending(self.cfg.jobs_per_tc)
            if not jobs:
                return
            choice = self.choose()
            if choice is None:
                self.ledger.give_back(jobs)
                return
            self._send(choice, t, jobs, out)
            self.resume_tcs += 1

    def summary(self) -> dict[str, Any]:
        return {
            **self.workload.summary(),
            "jobs_placed_per_node": list(self.placed),
            "resume_tcs": self.resume_tcs,
            "views_heard": self.views_heard,
            "ledger": self.ledger.summary(),
        }
