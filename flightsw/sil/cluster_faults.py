"""Faults of whole nodes in the cluster SIL: a node that dies, a node forced into safe mode.

Link faults (an ISL, a GEO relay, every link of a node) are
:class:`sim_hw.isl.LinkOutage`; these are the faults of a node itself, applied by the
runner at the window they fall in:

- ``halts`` (node, s from the start): the node dies (its avionics stop): it runs no more,
  sends nothing, and frames for it vanish (counted). Its neighbours and the ground must
  notice the silence.
- ``safe_modes`` (node, s from the start): the node is put into safe mode at that time
  (``fdir.enter_safe_mode`` handed to its dispatcher, as its own FDIR would): its payload
  stops and hands its cluster jobs back to the ground from their checkpoints.

The record (when each fault really took effect) is the truth the scorer compares the
ground's detection with.
"""

from __future__ import annotations

from typing import Any, Protocol

from flightsw.ground.commanding import CommandEncoder
from flightsw.runtime.dictionary import build_dictionary
from flightsw.sil.cluster_node import NodeSpec, node_mission

NS_PER_S = 1_000_000_000


class _Opts(Protocol):
    halts: tuple[tuple[int, float], ...]
    safe_modes: tuple[tuple[int, float], ...]


class ClusterFaults:
    """Applies the node faults window by window and keeps when they took effect."""

    def __init__(self, opts: _Opts, start_ns: int, spec: NodeSpec) -> None:
        self.start_ns = start_ns
        self.halts = sorted((round(t * NS_PER_S) + start_ns, n) for n, t in opts.halts)
        self.safe = sorted((round(t * NS_PER_S) + start_ns, n) for n, t in opts.safe_modes)
        self.halted: dict[int, int] = {}  # node -> when it died (ns)
        self.safe_sent: list[tuple[int, int]] = []  # (node, ns)
        self.frames_to_dead = 0
        self._safe_tc: bytes | None = None
        if self.safe:
            enc = CommandEncoder(build_dictionary(node_mission(spec)))
            self._safe_tc = enc.encode("fdir.enter_safe_mode")

    def due(
        self, begin_ns: int, end_ns: int, tcs: dict[int, list[tuple[int, bytes]]]
    ) -> frozenset[int]:
        """The nodes dead from this window on; safe-mode TCs due in it added to ``tcs``.
        A node dies at the start of the window its time falls in."""
        for t, n in self.halts:
            if t < end_ns and n not in self.halted:
                self.halted[n] = begin_ns  # it runs no part of this window
        for t, n in self.safe:
            if begin_ns <= t < end_ns and self._safe_tc is not None:
                tcs.setdefault(n, []).append((t, self._safe_tc))
                tcs[n].sort(key=lambda item: item[0])
                self.safe_sent.append((n, t))
        return frozenset(n for n, t in self.halted.items() if t < end_ns)

    def drop_for_halted(
        self, inbound: dict[int, list[tuple[int, int, int, bytes]]], halted: frozenset[int]
    ) -> None:
        for n in halted:
            self.frames_to_dead += len(inbound.pop(n, []))

    def summary(self) -> dict[str, Any]:
        s0 = self.start_ns
        return {
            "halted": [
                {"node": n, "t_s": (t - s0) / NS_PER_S} for n, t in sorted(self.halted.items())
            ],
            "safe_mode": [{"node": n, "t_s": (t - s0) / NS_PER_S} for n, t in self.safe_sent],
            "frames_to_dead_nodes": self.frames_to_dead,
        }
