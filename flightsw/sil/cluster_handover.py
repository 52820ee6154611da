"""The ground's side of cluster jobs: a ledger of every job, hand-over, and cluster FDIR.

:class:`JobLedger` knows every cluster job the ground placed (its tag, size, priority,
checkpoint interval) and the last checkpoint the ground holds for it (the start, until a
node hands it back). It reads the payload's TM as it reaches the ground, by any route
(the node's own pass, a GEO relay, a neighbour): TM(130,4) ``jobs_handed_back`` (a node
in safe mode gives its jobs back from their checkpoints) puts each job back on the
ground to be placed again, from that checkpoint; TM(130,6) ``cluster_status`` brings the
checkpoints a node's running jobs took (the ground keeps the latest for each job it
placed there: a job moved off a node that went silent resumes from it); TM(130,5)
``job_results`` delivers a
result, which is compared with the result computed from the job's own record
(:func:`flightsw.apps.payload.handover.expected_result`). The first result of a job is
kept; any other (a silent node that came back and finished it too) is counted and must
be equal.

:class:`GroundWatch` is the ground's cluster FDIR: each node sends a heartbeat to the
ground (TM(131,1), the relay service) every ``ground_beat_s``; the ground notes when it
last heard a node over any route. A node unheard for ``silent_after_s`` of time in which
the ground's link plan gave it a way down (its pass, a GEO relay, a neighbour with one)
is declared silent (``NODE_SILENT``); the ledger moves its unfinished jobs to other nodes
from the last checkpoint the ground holds; nothing is placed on it until it is heard
again (``NODE_BACK``). Bounded: the event log keeps ``MAX_EVENTS``.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from typing import Any

from flightsw.apps.payload.handover import (
    ClusterJob,
    decode_jobs,
    decode_results,
    decode_status,
    expected_result,
)
from flightsw.base.errors import FlightswError
from flightsw.packets import PusTm
from flightsw.sil.cluster_uplink import verified_request

NS_PER_S = 1_000_000_000
JOB_SERVICE = 130
MAX_EVENTS = 10_000


@dataclass
class Entry:
    """One cluster job as the ground knows it."""

    job: ClusterJob  # its definition and the last checkpoint the ground holds
    node: int | None = None  # where it was last placed (None: waiting on the ground)
    placements: int = 0
    handed_back: int = 0
    moved_from_silent: int = 0
    moved_from_s: float | None = None  # the checkpoint it moved off a silent node from
    resumed_from_s: list[float] | None = None  # checkpoints it was placed again from
    result: int | None = None
    delivered_ns: int | None = None
    delivered_by: int | None = None


class Completions:
    """The PUS-1 completion reports (TM(1,7)) that reached the ground, per node (bounded):
    how a scenario knows a TC it sent by some route really ran."""

    def __init__(self, limit: int = 100_000) -> None:
        self.done: dict[tuple[int, int], int] = {}  # (node, request id) -> first heard ns
        self.limit = limit
        self.not_kept = 0

    def on_packet(self, node: int, pkt: bytes, t_ns: int) -> None:
        rid = verified_request(pkt, (7,))
        if rid is None:
            return
        key = (node, rid)
        if key in self.done:
            return
        if len(self.done) >= self.limit:
            self.not_kept += 1
            return
        self.done[key] = t_ns


class JobLedger:
    """Every cluster job, its checkpoint and its result; see the module docstring."""

    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}
        self.next_tag = 1
        self.pending: deque[int] = deque()  # tags to place again (handed back or moved)
        self.results_wrong = 0
        self.duplicates = 0
        self.duplicates_differing = 0
        self.stale_reports = 0  # a hand-back the ground no longer expects (store replay)
        self.bad_reports = 0
        self.checkpoints = 0  # checkpoints TM(130,6) brought that moved a job forward
        self.unplaced = 0  # jobs back on the ground: their TC was refused or lost

    def new(self, board_hours: float, priority: int, deadline_s: int, ckpt_s: float) -> ClusterJob:
        job = ClusterJob(self.next_tag, board_hours, priority, deadline_s, ckpt_s)
        self.entries[job.tag] = Entry(job)
        self.next_tag += 1
        return job

    def placed(self, tag: int, node: int) -> None:
        e = self.entries[tag]
        e.node = node
        e.placements += 1
        if e.job.done_s > 0:
            e.resumed_from_s = [*(e.resumed_from_s or []), e.job.done_s]

    def take_pending(self, count: int) -> list[ClusterJob]:
        out: list[ClusterJob] = []
        while self.pending and len(out) < count:
            e = self.entries[self.pending.popleft()]
            if e.result is None and e.node is None:
                out.append(e.job)
        return out

    def unplace(self, tags: tuple[int, ...], node: int) -> int:
        """A TC that carried these jobs to ``node`` was refused or lost: those still
        placed there wait on the ground again. Returns how many."""
        back = 0
        for tag in tags:
            e = self.entries.get(tag)
            if e is not None and e.node == node and e.result is None:
                e.node = None
                self.pending.append(tag)
                back += 1
        self.unplaced += back
        return back

    def give_back(self, jobs: list[ClusterJob]) -> None:
        """Jobs taken from ``pending`` that found no node: first in line again."""
        self.pending.extendleft(j.tag for j in reversed(jobs))

    # --- what reached the ground ------------------------------------------------------
    def on_packet(self, node: int, pkt: bytes, t_ns: int) -> None:
        """A TM packet of ``node`` that reached the ground (any route)."""
        if len(pkt) < 9 or pkt[7] != JOB_SERVICE or pkt[8] not in (4, 5, 6):
            return
        try:
            tm = PusTm.decode(pkt)
            if tm.subservice == 4:
                for job in decode_jobs(tm.app_data):
                    self._handed_back(node, job)
            elif tm.subservice == 6:
                for job in decode_status(tm.app_data)[2]:
                    self._checkpoint(node, job)
            else:
                for tag, _job, digest in decode_results(tm.app_data):
                    self._result(node, tag, digest, t_ns)
        except (FlightswError, ValueError):
            self.bad_reports += 1

    def _handed_back(self, node: int, job: ClusterJob) -> None:
        e = self.entries.get(job.tag)
        if e is None or e.result is not None or e.node != node:
            self.stale_reports += 1
            return
        e.job = job
        e.node = None
        e.handed_back += 1
        self.pending.append(job.tag)

    def _checkpoint(self, node: int, job: ClusterJob) -> None:
        """A checkpoint of a job running where the ground placed it, newer than the one
        the ground holds: kept (a checkpoint of a job placed elsewhere is stale)."""
        e = self.entries.get(job.tag)
        if e is None or e.result is not None or e.node != node:
            self.stale_reports += 1
            return
        if job.done_s > e.job.done_s and job.board_hours == e.job.board_hours:
            e.job = job
            self.checkpoints += 1

    def _result(self, node: int, tag: int, digest: int, t_ns: int) -> None:
        e = self.entries.get(tag)
        if e is None:
            self.stale_reports += 1
            return
        if e.result is not None:
            self.duplicates += 1
            if digest != e.result:
                self.duplicates_differing += 1
            return
        e.result, e.delivered_ns, e.delivered_by = digest, t_ns, node
        if digest != expected_result(tag, e.job.board_hours):
            self.results_wrong += 1

    def node_silent(self, node: int) -> int:
        """A node declared silent: its unfinished jobs wait on the ground for another
        node, from the last checkpoint the ground holds. Returns how many moved."""
        moved = 0
        for tag, e in self.entries.items():
            if e.node == node and e.result is None:
                e.node = None
                e.moved_from_silent += 1
                e.moved_from_s = e.job.done_s
                self.pending.append(tag)
                moved += 1
        return moved

    def records(self) -> list[dict[str, Any]]:
        """One row per job (``job_ledger.json``): where it went and what it delivered."""
        return [
            {
                "tag": tag,
                "board_hours": e.job.board_hours,
                "node": e.node,
                "placements": e.placements,
                "handed_back": e.handed_back,
                "moved_from_silent": e.moved_from_silent,
                "resumed_from_s": e.resumed_from_s or [],
                "result": None if e.result is None else f"{e.result:016x}",
                "delivered_by": e.delivered_by,
                "delivered_s": None if e.delivered_ns is None else e.delivered_ns / NS_PER_S,
            }
            for tag, e in sorted(self.entries.items())
        ]

    def summary(self) -> dict[str, Any]:
        es = list(self.entries.values())
        waiting = sum(1 for e in es if e.result is None and e.node is None)
        return {
            "jobs": len(es),
            "delivered": sum(1 for e in es if e.result is not None),
            "results_wrong": self.results_wrong,
            "duplicate_results": self.duplicates,
            "duplicate_results_differing": self.duplicates_differing,
            "handed_back": sum(e.handed_back for e in es),
            "jobs_handed_back": sum(1 for e in es if e.handed_back),
            "moved_from_silent_nodes": sum(e.moved_from_silent for e in es),
            "resumed_from_checkpoint": sum(len(e.resumed_from_s or []) for e in es),
            "moved_and_delivered": sum(
                1 for e in es if (e.handed_back or e.moved_from_silent) and e.result is not None
            ),
            "waiting_on_ground": waiting,
            "stale_reports": self.stale_reports,
            "bad_reports": self.bad_reports,
            "checkpoints_reported": self.checkpoints,
            "unplaced_tc_refused_or_lost": self.unplaced,
        }


class GroundWatch:
    """The ground's cluster FDIR: which nodes it has stopped hearing; see the module."""

    def __init__(self, nodes: int, silent_after_s: float, start_ns: int) -> None:
        if silent_after_s <= 0:
            raise ValueError("silent_after_s must be > 0")
        self.silent_after_s = silent_after_s
        self.start_ns = start_ns
        self.last_heard_ns = [start_ns] * nodes
        self.unheard_s = [0.0] * nodes  # time unheard while a way down existed
        self.heard_now = [False] * nodes
        self.silent: set[int] = set()
        self.events: list[dict[str, Any]] = []
        self.events_not_kept = 0

    def heard(self, node: int, t_ns: int) -> None:
        if 0 <= node < len(self.heard_now):
            self.heard_now[node] = True
            self.last_heard_ns[node] = max(self.last_heard_ns[node], t_ns)

    def _log(self, event: str, node: int, t_ns: int) -> dict[str, Any]:
        entry = {
            "event": event,
            "node": node,
            "t_s": (t_ns - self.start_ns) / NS_PER_S,
            "last_heard_s": (self.last_heard_ns[node] - self.start_ns) / NS_PER_S,
        }
        if len(self.events) >= MAX_EVENTS:
            self.events_not_kept += 1
        else:
            self.events.append(entry)
        return entry

    def window(
        self, end_ns: int, window_s: float, way_down: list[bool]
    ) -> list[tuple[int, dict[str, Any]]]:
        """At the end of a window: the nodes newly declared silent (and their event)."""
        newly = []
        for i, heard in enumerate(self.heard_now):
            if heard:
                self.unheard_s[i] = 0.0
                self.heard_now[i] = False
                if i in self.silent:
                    self.silent.discard(i)
                    self._log("NODE_BACK", i, end_ns)
                continue
            if way_down[i]:
                self.unheard_s[i] += window_s
            if self.unheard_s[i] >= self.silent_after_s and i not in self.silent:
                self.silent.add(i)
                newly.append((i, self._log("NODE_SILENT", i, end_ns)))
        return newly

    def summary(self) -> dict[str, Any]:
        return {
            "silent_after_s": self.silent_after_s,
            "silent_now": sorted(self.silent),
            "events": self.events,
            "events_not_kept": self.events_not_kept,
        }


def job_truth(
    ledger: JobLedger,
    nodes: dict[int, dict[str, Any]],
    inbound: dict[int, list[tuple[int, int, int, bytes]]],
    ground_held: set[int] | None = None,
) -> dict[str, Any]:
    """Where every cluster job the ground placed really is at the end of the run, from
    the nodes' own state (not from what the ground believes): delivered (its result
    reached the ground), live on a node that still runs, on its way (a TC not yet taken,
    a hand-back still held by a relay or between hops), waiting on the ground, or lost.
    And the work the boards really did against the work delivered and in progress:
    what was done twice (``work_redone_s``). ``ground_held``: jobs in TCs the ground's
    uplink still holds unverified (it sends them again): on the ground, not lost."""
    from flightsw.services.relay.app import RelayFrame
    from flightsw.sil.cluster_node import handed_back_tags

    live: dict[int, float] = {}
    transit: set[int] = set()
    # A job a node had when it died: the work it had done then (the dead node's memory)
    # against the checkpoint the ground moved it from: what must be done again.
    behind: list[float] = []
    for n in nodes.values():
        t = n.get("jobs_truth", {"live": [], "in_transit": []})
        for tag, progress in t["live"]:
            live[tag] = max(live.get(tag, 0.0), progress)
        transit.update(t["in_transit"])
        for tag, progress in t.get("dead", []):
            e = ledger.entries.get(tag)
            if e is not None and e.moved_from_s is not None:
                behind.append(max(0.0, progress - e.moved_from_s))
    transit.update(ground_held or ())
    for frames in inbound.values():
        for _at, _src, _seq, raw in frames:
            try:
                transit.update(handed_back_tags(RelayFrame.decode(raw).packet))
            except FlightswError:
                continue
    lost: list[int] = []
    delivered_s = 0.0
    for tag, e in ledger.entries.items():
        if e.result is not None:
            delivered_s += e.job.work_s
        elif (
            tag not in live
            and tag not in transit
            and not (e.node is None and tag in ledger.pending)
        ):
            lost.append(tag)
    work_s = sum(float(n.get("work_board_hours", 0.0)) * 3600.0 for n in nodes.values())
    in_progress_s = sum(live.values())
    return {
        "placed": len(ledger.entries),
        "delivered": sum(1 for e in ledger.entries.values() if e.result is not None),
        "live_on_nodes": len(live),
        "in_transit": len(transit - set(live)),
        "waiting_on_ground": sum(
            1 for e in ledger.entries.values() if e.result is None and e.node is None
        ),
        "lost": len(lost),
        "lost_tags": lost[:50],
        "work_done_s": round(work_s, 1),
        "work_delivered_s": round(delivered_s, 1),
        "work_in_progress_s": round(in_progress_s, 1),
        "work_redone_s": round(work_s - delivered_s - in_progress_s, 1),
        "dead_node_jobs_moved": len(behind),
        "dead_node_jobs_resumed_behind_s": {
            "max": round(max(behind), 1) if behind else None,
            "sum": round(sum(behind), 1),
        },
        # Work kept (delivered or in progress) over the work the boards really did.
        "goodput": round(min(1.0, (delivered_s + in_progress_s) / work_s), 5)
        if work_s > 0
        else None,
    }


def heard_gaps(
    heard: list[tuple[int, int]], nodes: int, start_ns: int, end_ns: int, over_s: float
) -> dict[str, list[list[float]]]:
    """Per node, the spans (s from the start) longer than ``over_s`` in which the ground
    heard nothing from it (the run's ends count as hearings), at most 100, in order."""
    times: list[list[int]] = [[] for _ in range(nodes)]
    for n, t in heard:
        if 0 <= n < nodes:
            times[n].append(t)
    out = {}
    limit = over_s * NS_PER_S
    for n, ts in enumerate(times):
        pts = [start_ns, *sorted(ts), end_ns]
        out[str(n)] = [
            [round((a - start_ns) / NS_PER_S, 3), round((b - start_ns) / NS_PER_S, 3)]
            for a, b in itertools.pairwise(pts)
            if b - a > limit
        ][:100]
    return out
