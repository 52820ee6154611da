"""The TM funnel: every PUS TM packet the flight build sends passes through here.

It stamps the on-board time (CUC), the per-APID sequence count and the per-message-
type counter, then queues the packet for the downlink. The queue is bounded and drops
the oldest packet when full, counting each drop: the newest telemetry matters most and
the packet store (a later service) is where nothing may be lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from flightsw.packets import cuc_encode, encode_tm
from hal.interfaces import Clock

TmSink = Callable[[bytes, int], None]
"""Receives each packet with the downlink channel it belongs to."""

CH_REALTIME = 0
"""Live telemetry: HK, events, verification."""
CH_PLAYBACK = 1
"""Packets dumped from the packet store (already stamped when first sent)."""


class TmFunnel:
    """Builds, counts and queues PUS TM packets."""

    def __init__(self, apid: int, clock: Clock, depth: int = 4096) -> None:
        self.apid = apid
        self._clock = clock
        self.depth = depth
        self.queue: deque[tuple[bytes, int]] = deque()
        self._seq = 0
        self._msg_counters: dict[tuple[int, int], int] = {}
        self.sent = 0
        self.dropped = 0
        self.sinks: list[TmSink] = []
        # Sinks owned by an app, by app name: a restarted app replaces its sink.
        self._named_sinks: dict[str, TmSink] = {}
        # Callbacks that see every new realtime packet, by owner name (a restarted owner
        # replaces its tap instead of adding a second one).
        self._taps: dict[str, Callable[[bytes], None]] = {}

    def attach(self, owner: str, sink: TmSink) -> None:
        """``sink`` gets every packet flushed, with its channel (the downlink); one per
        owner: a restarted owner replaces its own."""
        self._named_sinks[owner] = sink

    def tap(self, owner: str, fn: Callable[[bytes], None]) -> None:
        """``fn`` sees every new real-time packet as it is sent; one per owner."""
        self._taps[owner] = fn

    def send(self, service: int, subservice: int, app_data: bytes, dest_id: int = 0) -> None:
        key = (service, subservice)
        counter = self._msg_counters.get(key, 0)
        self._msg_counters[key] = (counter + 1) & 0xFFFF
        pkt = encode_tm(
            self.apid,
            self._seq,
            service,
            subservice,
            counter,
            dest_id,
            cuc_encode(self._clock.now_ns()),
            app_data,
        )
        self._seq = (self._seq + 1) & 0x3FFF
        for tap in self._taps.values():
            tap(pkt)
        self._enqueue(pkt, CH_REALTIME)
        self.sent += 1

    def send_raw(self, pkt: bytes, channel: int = CH_PLAYBACK) -> None:
        """Queue an already-built packet (a store dump) without restamping it."""
        self._enqueue(pkt, channel)

    def _enqueue(self, pkt: bytes, channel: int) -> None:
        if len(self.queue) >= self.depth:
            self.queue.popleft()
            self.dropped += 1
        self.queue.append((pkt, channel))

    def now_ns(self) -> int:
        """On-board time as the funnel stamps it."""
        return self._clock.now_ns()

    def flush(self) -> int:
        """Hand queued packets to every sink; returns how many packets went out."""
        n = len(self.queue)
        if not n:
            return 0
        sinks = [*self.sinks, *self._named_sinks.values()]
        pop = self.queue.popleft
        for _ in range(n):
            pkt, channel = pop()
            for sink in sinks:
                sink(pkt, channel)
        return n


class AppTm:
    """The TM funnel as one app sees it (``ctx.tm``): send its own packets (stamped and
    counted by the funnel), the APID, the on-board time. Not the funnel's sinks, taps or
    raw queue: an app that needs those declares the executive service
    (``TmDownlink``, ``TmTap``, ``TmPlayback`` in :mod:`flightsw.framework.exec_services`)."""

    __slots__ = ("apid", "now_ns", "send")

    def __init__(self, funnel: TmFunnel) -> None:
        self.apid = funnel.apid
        self.send = funnel.send
        self.now_ns = funnel.now_ns
