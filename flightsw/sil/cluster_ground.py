"""The ground's end of relayed traffic in the cluster SIL.

Frames that reach the ground (over a node's pass or a GEO relay) land here: each packet
is kept once (a frame resent after a lost acknowledgement, or carried by two routes,
is recognised by its origin and octets: two nodes flying the same build send packets
with the same octets), with its origin SCID, arrival time and route, and every
data frame is acknowledged back to the hop that sent it. Bounded: past ``limit``
packets the newest are counted, not kept. ``listener`` (the cluster's ground
operations: its FDIR and job ledger) hears each new packet (origin SCID, arrival, packet).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from flightsw.base.errors import DecodeError
from flightsw.services.relay.app import GROUND_SCID, KIND_DATA, RelayFrame, ack_frame


class GroundRelayEndpoint:
    """Keeps what was relayed to the ground and acknowledges it; see the module docstring."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self.packets: list[tuple[int, int, str, bytes]] = []  # origin, arrival ns, route, pkt
        self._seen: set[tuple[int, bytes]] = set()
        self.duplicates = 0
        self.bad = 0
        self.not_kept = 0
        self.by_route: Counter[str] = Counter()
        self.by_origin: Counter[int] = Counter()
        self.listener: Callable[[int, int, bytes], None] | None = None

    def __call__(self, src: int, frame: bytes, arrive_ns: int, route: str) -> list[bytes]:
        try:
            f = RelayFrame.decode(frame)
        except DecodeError:
            self.bad += 1
            return []
        if f.kind != KIND_DATA:
            return []
        if (f.origin, f.packet) in self._seen:
            self.duplicates += 1
            return [ack_frame(GROUND_SCID, f.seq)]
        if self.listener is not None:
            self.listener(f.origin, arrive_ns, f.packet)
        if len(self.packets) >= self.limit:
            self.not_kept += 1
        else:
            self._seen.add((f.origin, f.packet))
            self.packets.append((f.origin, arrive_ns, route, f.packet))
            self.by_route[route] += 1
            self.by_origin[f.origin] += 1
        return [ack_frame(GROUND_SCID, f.seq)]

    def summary(self) -> dict[str, Any]:
        return {
            "packets": len(self.packets),
            "by_route": dict(sorted(self.by_route.items())),
            "by_origin": {f"{k:#05x}": v for k, v in sorted(self.by_origin.items())},
            "duplicates": self.duplicates,
            "bad_frames": self.bad,
            "not_kept": self.not_kept,
        }
