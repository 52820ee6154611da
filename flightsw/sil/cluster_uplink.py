"""The ground's TCs to the nodes of a cluster, through the link model, verified by PUS-1.

Every TC the cluster's ground sends (a job submission of its scheduler, a command of a
scenario or a procedure) leaves the ground as a relay frame from the ground
(``GROUND_SCID``) by one route, chosen when it leaves (deterministic, from the link
plan at the start of the window):

1. ``pass``: the node has a pass: over it (light time; the pass model has no bit errors);
2. ``geo``: a GEO data relay sees the node: through it (both legs' light time, and the
   Ka-band bit error rate: the frame may be lost);
3. ``neighbour``: the nearest node (fewest ISL hops over links up now, then lowest
   index) with a pass or a GEO relay gets the frame addressed to the node, and its
   relay service carries it on hop by hop (store and forward, custody);
4. none of these: the TC waits on the ground for the next window (counted).

A TC is verified by the PUS-1 reports of the node that reached the ground (by whatever
route they came down): acceptance (1,1) or its failure (1,2), completion (1,7) or its
failure (1,8). A TC not accepted within ``verify_timeout_s`` of leaving is sent again
(a node runs a TC it got twice once: the relay service knows its octets); after
``max_tries`` it is lost (counted, and its cluster jobs go back to the ground's
scheduler). A TC refused by the node (1,2 or 1,8) is counted refused and its jobs go
back too. A TC to a node the ground declared silent is cancelled (its jobs were moved). A TC
accepted whose completion did not come down within ``verify_timeout_s`` is settled as
``completion_unheard`` (it is on the node: it is not sent again).

Frames arrive never before the next window (the lockstep bounds the latency), in the
order (arrival, -2, sequence) the node sorts by. Bounded: at most ``limit`` TCs are
tracked; beyond, a TC is refused at once (counted ``not_taken``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from flightsw.base.errors import FlightswError
from flightsw.packets import PusTc, PusTm
from flightsw.services.relay.app import GROUND_SCID, KIND_DATA, RelayFrame
from flightsw.sil.cluster_links import MAX_SAMPLES, LinkRouter
from hal.interfaces import CrosslinkStatus
from sim_hw.isl import packet_error_probability

NS_PER_S = 1_000_000_000
ROUTES = ("pass", "geo", "neighbour")


def verified_request(pkt: bytes, subservices: tuple[int, ...]) -> int | None:
    """The request id a PUS-1 report of one of ``subservices`` is about; None for any
    other packet (a TC, another service, a report too short or that does not decode)."""
    if len(pkt) < 9 or pkt[0] & 0x10 or pkt[7] != 1 or pkt[8] not in subservices:
        return None
    try:
        data = PusTm.decode(pkt).app_data
    except FlightswError:
        return None
    return int.from_bytes(data[:4], "big") if len(data) >= 4 else None


@dataclass
class Uplinked:
    """One TC the ground sends, and what it knows of it."""

    order: int
    node: int
    tc: bytes
    rid: int
    due_ns: int
    only: str | None  # "geo": by a GEO relay only (a scenario's test of that route)
    tags: tuple[int, ...]  # the cluster jobs it carries
    tries: int = 0
    sent_ns: int = -1
    route: str = ""
    state: str = "waiting"  # waiting, sent, accepted, completed, refused, lost, cancelled
    accepted_ns: int | None = None  # when the ground heard the acceptance


class GroundUplink:
    """The ground's uplink to the cluster's nodes; see the module docstring."""

    def __init__(
        self,
        router: LinkRouter,
        seed: int,
        verify_timeout_s: float,
        max_tries: int = 3,
        limit: int = 100_000,
    ) -> None:
        if not (math.isfinite(verify_timeout_s) and verify_timeout_s > 0) or max_tries < 1:
            raise FlightswError("uplink: verify_timeout_s must be > 0 and max_tries >= 1")
        self.router = router
        self.scid_base = router.scid_base
        self.seed = seed
        self.timeout_ns = round(verify_timeout_s * NS_PER_S)
        self.max_tries = max_tries
        self.limit = limit
        self.open: dict[int, Uplinked] = {}  # order -> TC not yet settled
        self.order = 0
        self.seq = 0
        self.window = 0
        self.counts = dict.fromkeys(
            (
                "tcs",
                "sent",
                "resent",
                "accepted",
                "completed",
                "refused",
                "lost",
                "cancelled",
                "completion_unheard",
                "not_taken",
                "lost_on_link",
                "windows_waited",
                "jobs_sent",
                "jobs_accepted",
            ),
            0,
        )
        self.by_route = dict.fromkeys(ROUTES, 0)
        self.delays_s: list[float] = []
        self.settled: deque[Uplinked] = deque(maxlen=1000)  # the last ones, for reports
        self.on_lost: Callable[[Uplinked], None] | None = None  # its jobs back to the ledger

    # --- what the ground sends -------------------------------------------------------
    def submit(
        self,
        t_ns: int,
        node: int,
        tc: bytes,
        tags: tuple[int, ...] = (),
        only: str | None = None,
    ) -> Uplinked | None:
        """Queue a TC for ``node`` to leave at ``t_ns``; None when the ground's uplink is
        full (counted: the caller keeps it)."""
        if len(self.open) >= self.limit:
            self.counts["not_taken"] += 1
            return None
        self.order += 1
        u = Uplinked(self.order, node, tc, PusTc.decode(tc).request_id, t_ns, only, tags)
        self.open[u.order] = u
        self.counts["tcs"] += 1
        return u

    def outstanding_jobs(self, node: int) -> int:
        """Jobs in TCs to ``node`` not yet known accepted (what its view cannot show)."""
        return sum(
            len(u.tags) for u in self.open.values() if u.node == node and u.accepted_ns is None
        )

    def held_tags(self) -> set[int]:
        """Cluster jobs in TCs the ground still holds and will send (again) if unverified."""
        return {t for u in self.open.values() if u.accepted_ns is None for t in u.tags}

    def cancel_node(self, node: int) -> int:
        """A node declared silent: its unverified TCs are not sent again (the ledger
        moved their jobs). Returns how many."""
        gone = [k for k, u in self.open.items() if u.node == node and u.accepted_ns is None]
        for k in gone:
            self._settle(self.open[k], "cancelled")
        return len(gone)

    def _settle(self, u: Uplinked, state: str) -> None:
        u.state = state
        self.counts[state] += 1
        self.open.pop(u.order, None)
        self.settled.append(u)

    # --- a window's TCs through the link model ---------------------------------------
    def route_to(self, node: int, status: dict[int, CrosslinkStatus]) -> tuple[str, int] | None:
        """(route, the node the frame goes to from the ground) now, or None: wait."""
        st = status[node]
        if st.ground:
            return "pass", node
        if st.geo:
            return "geo", node
        # Fewest ISL hops over links up now to a node with a way to the ground.
        seen, frontier = {node}, [node]
        while frontier:
            nxt: list[int] = []
            for i in frontier:
                for scid in sorted(status[i].peers):
                    j = scid - self.scid_base
                    if j in seen or j not in status:
                        continue
                    seen.add(j)
                    nxt.append(j)
            with_way = sorted(j for j in nxt if status[j].ground or status[j].geo)
            if with_way:
                return "neighbour", with_way[0]
            frontier = sorted(nxt)
        return None

    def send_due(
        self,
        begin_ns: int,
        end_ns: int,
        status: dict[int, CrosslinkStatus],
        inbound: dict[int, list[tuple[int, int, int, bytes]]],
        skip: frozenset[int] = frozenset(),
    ) -> None:
        """Send the TCs due in [begin, end) and those whose verification is late; the
        frames that get through go into ``inbound`` (for the next window)."""
        self.window += 1
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, self.window, 0x0F1])
        for u in sorted(self.open.values(), key=lambda u: (u.due_ns, u.order)):
            if u.accepted_ns is not None:  # on the node; its completion may never come down
                if begin_ns - u.accepted_ns >= self.timeout_ns:
                    self._settle(u, "completion_unheard")
                continue
            t_ns = max(u.due_ns, begin_ns)
            if t_ns >= end_ns:
                continue
            if u.sent_ns >= 0 and begin_ns - u.sent_ns < self.timeout_ns:
                continue  # sent, its verification not yet late
            if u.sent_ns >= 0 and u.tries >= self.max_tries:
                self._settle(u, "lost")
                if self.on_lost is not None:
                    self.on_lost(u)
                continue
            if u.node in skip:
                continue
            way = self.route_to(u.node, status)
            if u.only == "geo":
                way = ("geo", u.node) if status[u.node].geo else None
            if way is None:
                self.counts["windows_waited"] += 1
                continue
            route, via = way
            self._send(u, route, via, t_ns, end_ns, rng, inbound)

    def _send(
        self,
        u: Uplinked,
        route: str,
        via: int,
        t_ns: int,
        end_ns: int,
        rng: np.random.Generator,
        inbound: dict[int, list[tuple[int, int, int, bytes]]],
    ) -> None:
        u.tries += 1
        u.sent_ns = t_ns
        u.route = route
        u.state = "sent"
        self.counts["sent" if u.tries == 1 else "resent"] += 1
        if u.tries == 1:
            self.counts["jobs_sent"] += len(u.tags)
        self.by_route[route] += 1
        # Over the pass of the node it goes to, else through a GEO relay that sees it.
        on_pass = route != "geo" and self.router._pass(via, t_ns / NS_PER_S) is not None
        leg = "ground" if on_pass else "geo"
        up, delay, ber = self.router._ground_leg(via, t_ns / NS_PER_S, leg)
        self.seq += 1
        frame = RelayFrame(
            KIND_DATA, GROUND_SCID, self.scid_base + u.node, GROUND_SCID, 0, self.seq, u.tc
        ).encode()
        if not up or rng.random() < packet_error_probability(len(frame), ber):
            self.counts["lost_on_link"] += 1
            return
        at = max(t_ns + math.ceil(delay * NS_PER_S), end_ns)
        inbound.setdefault(via, []).append((at, -2, self.seq, frame))
        if len(self.delays_s) < MAX_SAMPLES:
            self.delays_s.append(delay)

    # --- what came back --------------------------------------------------------------
    def on_report(self, node: int, pkt: bytes, t_ns: int) -> None:
        """A TM packet of ``node`` that reached the ground: its PUS-1 reports settle TCs."""
        rid = verified_request(pkt, (1, 2, 7, 8))
        if rid is None:
            return
        u = next(
            (u for u in self.open.values() if u.node == node and u.rid == rid and u.tries),
            None,
        )
        if u is None:
            return
        sub = pkt[8]
        if sub == 1 and u.accepted_ns is None:
            u.accepted_ns = t_ns
            u.state = "accepted"
            self.counts["accepted"] += 1
            self.counts["jobs_accepted"] += len(u.tags)
        elif sub == 7:
            if u.accepted_ns is None:  # its acceptance was lost on the way down
                u.accepted_ns = t_ns
                self.counts["accepted"] += 1
                self.counts["jobs_accepted"] += len(u.tags)
            self._settle(u, "completed")
        elif sub in (2, 8):
            self._settle(u, "refused")
            if self.on_lost is not None:
                self.on_lost(u)

    def summary(self) -> dict[str, Any]:
        waiting = sum(1 for u in self.open.values() if u.sent_ns < 0)
        return {
            **self.counts,
            "by_route": dict(self.by_route),
            "waiting": waiting,
            "unverified": sum(1 for u in self.open.values() if u.accepted_ns is None),
            "delay_s": [round(d, 6) for d in self.delays_s[:100]],
        }
