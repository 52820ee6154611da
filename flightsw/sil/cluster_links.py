"""The cluster's link layer between lockstep windows: what each node sent, carried.

At the end of a window the runner hands every frame the nodes queued on their
crosslink terminals (sent at ns, next hop, frame) to :class:`LinkRouter`. For each frame
the link model (:mod:`sim_hw.isl`) at the time it left decides: the hop was down (lost),
its bits were hit (lost: the frame check rejects it, drawn from a generator seeded by
the cluster seed, the window and the sender, in the sender's order), or it arrives
after its light time and clocking time, but never before the next window starts (the
window bounds the modelled latency). Frames for the ground (over a pass or a GEO relay)
go to a ground endpoint, which may answer (acknowledgements) back along the same path.

Everything is a function of the frames, the seed and the model: the result does not
depend on how nodes were spread over workers or in what order their windows finished.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hal.interfaces import HOP_GEO, HOP_GROUND, CrosslinkStatus
from sim_hw.environment import ContactWindow, GroundStation, station_position_eci_km
from sim_hw.isl import ClusterLinks, LinkState, light_time_s, packet_error_probability

NS_PER_S = 1_000_000_000
ROUTES = ("isl", "geo", "ground")
MAX_SAMPLES = 200_000  # latency samples kept per route (the rest counted, not kept)
MAX_WINDOWS = 1_000_000  # per-window traffic counts kept for the plot

# A ground endpoint: (sender index, frame, arrival ns, route) -> frames to send back.
GroundEndpoint = Callable[[int, bytes, int, str], list[bytes]]


@dataclass
class RouteStats:
    """Per route: frames offered, delivered, lost (link down / bit errors), octets, and
    the latencies (physical and as delivered in the lockstep) of what arrived."""

    offered: int = 0
    delivered: int = 0
    lost_down: int = 0
    lost_errors: int = 0
    octets: int = 0
    latency_s: list[float] = field(default_factory=list)
    delivered_latency_s: list[float] = field(default_factory=list)
    samples_not_kept: int = 0

    def sample(self, latency: float, delivered: float) -> None:
        """Keep a delivered frame's latencies (bounded: past MAX_SAMPLES, counted)."""
        if len(self.latency_s) >= MAX_SAMPLES:
            self.samples_not_kept += 1
            return
        self.latency_s.append(latency)
        self.delivered_latency_s.append(delivered)

    def summary(self) -> dict[str, Any]:
        def pct(values: list[float]) -> dict[str, float] | None:
            if not values:
                return None
            a = np.asarray(values)
            return {
                "p50": round(float(np.percentile(a, 50)), 6),
                "p95": round(float(np.percentile(a, 95)), 6),
                "max": round(float(a.max()), 6),
            }

        return {
            "offered": self.offered,
            "delivered": self.delivered,
            "lost_link_down": self.lost_down,
            "lost_bit_errors": self.lost_errors,
            "octets": self.octets,
            "latency_s": pct(self.latency_s),
            "delivered_latency_s": pct(self.delivered_latency_s),
            "latency_samples_not_kept": self.samples_not_kept,
        }


def hops_to_ground(linked: Sequence[Sequence[int]], way: Sequence[bool]) -> list[int]:
    """ISL hops from each node to the nearest node with a way down of its own (its pass
    or a GEO relay) over the links up now (0: its own; -1: none)."""
    hops = [0 if w else -1 for w in way]
    frontier = [i for i, w in enumerate(way) if w]
    while frontier:
        nxt = []
        for i in frontier:
            for j in linked[i]:
                if hops[j] < 0:
                    hops[j] = hops[i] + 1
                    nxt.append(j)
        frontier = nxt
    return hops


def ways_down(node: int, linked: Sequence[Sequence[int]], hops: Sequence[int]) -> list[int]:
    """The linked peers a node's TM for the ground may go to: those with a way down of
    their own, or, for a node two or more hops away, those nearer to one (so a frame
    gets down through any number of neighbours and never goes round in a loop)."""
    h = hops[node]
    if h <= 1:
        return [j for j in linked[node] if hops[j] == 0]
    return [j for j in linked[node] if 0 <= hops[j] < h]


class LinkRouter:
    """Carries the frames of one window through the link model; see the module docstring."""

    def __init__(
        self,
        links: ClusterLinks,
        contacts: Sequence[Sequence[ContactWindow]],
        stations: Sequence[GroundStation],
        scid_base: int,
        seed: int,
        ground: GroundEndpoint | None = None,
        neighbours: int = 2,
    ) -> None:
        self.links = links
        self.contacts = [list(c) for c in contacts]
        self.stations = {s.name: s for s in stations}
        self.scid_base = scid_base
        self.seed = seed
        self.ground = ground
        self.neighbours = neighbours
        self.n = len(links.orbits)
        self.stats = {r: RouteStats() for r in ROUTES}
        self.seq = [0] * self.n
        self.per_window: list[dict[str, int]] = []
        # Hops of this window, by (sender, hop, sent at ns), all evaluated at once before
        # the frames are carried (the model is a pure function: batching changes no result).
        self._isl: dict[tuple[int, int, int], LinkState] = {}
        self._down: dict[tuple[int, str, int], tuple[bool, float, float]] = {}
        pairs = [(i, j) for i in range(self.n) for j in self.peers_of(i)]
        self._pairs = (
            np.array([i for i, _ in pairs], dtype=np.int64),
            np.array([j for _, j in pairs], dtype=np.int64),
        )

    # --- what each node's terminals see ------------------------------------------
    def _pass(self, node: int, t_s: float) -> ContactWindow | None:
        for w in self.contacts[node]:
            if w.start_s <= t_s < w.end_s:
                return w
        return None

    def _evaluate(self, sent: dict[int, list[tuple[int, int, bytes]]]) -> None:
        """Every hop the window's frames take, at once, into ``_isl`` and ``_down``."""
        isl: list[tuple[int, int, int]] = []
        geo: list[tuple[int, int]] = []
        for src, frames in sent.items():
            for t_ns, hop, _frame in frames:
                if hop == HOP_GEO:
                    geo.append((src, t_ns))
                elif hop == HOP_GROUND:
                    leg = (src, "ground", t_ns)
                    if leg not in self._down:
                        self._down[leg] = self._ground_leg(src, t_ns / NS_PER_S, "ground")
                else:
                    dst = hop - self.scid_base
                    if 0 <= dst < self.n and dst != src:
                        isl.append((src, dst, t_ns))
        keys = sorted(set(isl))
        if keys:
            hops = np.array(keys, dtype=np.int64)
            batch = self.links.isl_batch(hops[:, 0], hops[:, 1], hops[:, 2] / NS_PER_S)
            for m, key in enumerate(keys):
                self._isl[key] = batch.state(m)
        legs = sorted(set(geo))
        if legs:
            g = np.array(legs, dtype=np.int64)
            t_s = g[:, 1] / NS_PER_S
            best, batches = self.links.best_geo_batch(g[:, 0], t_s)
            used = sorted(set(best.tolist()) - {-1})
            down_legs = {r: self.links.relays[r].ground_legs_s(t_s) for r in used}
            for m, (src, t_ns) in enumerate(legs):
                r = int(best[m])
                if r < 0:
                    self._down[(src, "geo", t_ns)] = (False, 0.0, 0.0)
                    continue
                delay = float(batches[r].delay_s[m]) + float(down_legs[r][m])
                self._down[(src, "geo", t_ns)] = (True, delay, float(batches[r].ber[m]))

    def peers_of(self, node: int) -> list[int]:
        """The nodes a node's terminals point at: ``neighbours`` either side in the string."""
        return [
            j
            for j in range(node - self.neighbours, node + self.neighbours + 1)
            if j != node and 0 <= j < self.n
        ]

    def passes(self, t_s: float) -> list[ContactWindow | None]:
        """Every node's pass under way at t (None: no pass; passes over two stations
        may overlap: the one that began first)."""
        return [self._pass(i, t_s) for i in range(self.n)]

    def status(self, t_s: float) -> dict[int, CrosslinkStatus]:
        """Every node's terminal status at t (the start of a window), every hop of the
        cluster evaluated at once (numpy over the node pairs and the relays)."""
        n = self.n
        ground = [w is not None for w in self.passes(t_s)]
        best, _ = self.links.best_geo_batch(np.arange(n), np.full(n, t_s))
        geo = [bool(k >= 0) for k in best]
        a, b = self._pairs
        up = self.links.isl_batch(a, b, np.full(len(a), t_s)).up
        linked: list[list[int]] = [[] for _ in range(n)]
        for i, j, ok in zip(a.tolist(), b.tolist(), up.tolist(), strict=True):
            if ok:
                linked[i].append(j)
        hops = hops_to_ground(linked, [g or r for g, r in zip(ground, geo, strict=True)])
        return {
            i: CrosslinkStatus(
                frozenset(self.scid_base + j for j in linked[i]),
                ground[i],
                geo[i],
                frozenset(self.scid_base + j for j in ways_down(i, linked, hops)),
            )
            for i in range(n)
        }

    # --- carrying a window's frames --------------------------------------------------
    def route(
        self, window: int, end_ns: int, sent: dict[int, list[tuple[int, int, bytes]]]
    ) -> dict[int, list[tuple[int, int, int, bytes]]]:
        """Inbound frames per node for the next window: (arrival ns, sender, seq, frame)."""
        inbound: dict[int, list[tuple[int, int, int, bytes]]] = {}
        counts = dict.fromkeys(ROUTES, 0)
        self._isl.clear()
        self._down.clear()
        self._evaluate(sent)
        for src in sorted(sent):
            frames = sent[src]
            if not frames:
                continue
            rng = np.random.default_rng([self.seed, window, src])
            for t_ns, hop, frame in frames:
                self.seq[src] += 1
                t_s = t_ns / NS_PER_S
                if hop == HOP_GEO:
                    self._to_ground(src, frame, t_ns, "geo", rng, inbound, end_ns)
                    counts["geo"] += 1
                elif hop == HOP_GROUND:
                    self._to_ground(src, frame, t_ns, "ground", rng, inbound, end_ns)
                    counts["ground"] += 1
                else:
                    counts["isl"] += 1
                    st = self.stats["isl"]
                    st.offered += 1
                    dst = hop - self.scid_base
                    if not 0 <= dst < self.n or dst == src:
                        st.lost_down += 1
                        continue
                    key = (src, dst, t_ns)
                    link = self._isl.get(key)
                    if link is None:
                        link = self._isl[key] = self.links.isl(src, dst, t_s)
                    if not link.up:
                        st.lost_down += 1
                        continue
                    if rng.random() < packet_error_probability(len(frame), link.ber):
                        st.lost_errors += 1
                        continue
                    arrive = t_ns + math.ceil(link.transfer_s(len(frame)) * NS_PER_S)
                    at = max(arrive, end_ns)
                    st.delivered += 1
                    st.octets += len(frame)
                    st.sample((arrive - t_ns) / NS_PER_S, (at - t_ns) / NS_PER_S)
                    inbound.setdefault(dst, []).append((at, src, self.seq[src], frame))
        if len(self.per_window) < MAX_WINDOWS:
            self.per_window.append(counts)
        return inbound

    def _ground_leg(self, src: int, t_s: float, route: str) -> tuple[bool, float, float]:
        """(up, one-way delay node->ground, ber) over a pass or the best GEO relay."""
        if route == "geo":
            k = self.links.best_geo(src, t_s)
            if k is None:
                return False, 0.0, 0.0
            s = self.links.geo(src, k, t_s)
            return True, s.delay_s + self.links.relays[k].ground_leg_s(t_s), s.ber
        w = self._pass(src, t_s)
        if w is None:
            return False, 0.0, 0.0
        orbit = self.links.orbits[src]
        station = station_position_eci_km(self.stations[w.station], orbit, t_s)
        rng_km = float(np.linalg.norm(orbit.position_eci_km(t_s) - station))
        return True, light_time_s(rng_km), 0.0

    def _to_ground(
        self,
        src: int,
        frame: bytes,
        t_ns: int,
        route: str,
        rng: np.random.Generator,
        inbound: dict[int, list[tuple[int, int, int, bytes]]],
        end_ns: int,
    ) -> None:
        st = self.stats[route]
        st.offered += 1
        key = (src, route, t_ns)
        leg = self._down.get(key)
        if leg is None:
            leg = self._down[key] = self._ground_leg(src, t_ns / NS_PER_S, route)
        up, delay, ber = leg
        if not up:
            st.lost_down += 1
            return
        if rng.random() < packet_error_probability(len(frame), ber):
            st.lost_errors += 1
            return
        arrive = t_ns + math.ceil(delay * NS_PER_S)
        st.delivered += 1
        st.octets += len(frame)
        st.sample(delay, delay)  # the ground is not in the lockstep
        if self.ground is None:
            return
        for reply in self.ground(src, frame, arrive, route):
            back = arrive + math.ceil(delay * NS_PER_S)
            self.seq[src] += 1
            inbound.setdefault(src, []).append((max(back, end_ns), -1, self.seq[src], reply))

    def summary(self) -> dict[str, Any]:
        return {r: s.summary() for r, s in self.stats.items()}
