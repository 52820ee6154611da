"""A crosslink terminal as two bounded mailboxes, filled and emptied by a link model.

The cluster SIL (``flightsw.sil.cluster``) owns the physics of the links: at the end
of each lockstep window it takes what the node sent (``drain_tx``), carries it through
the ISL/GEO model and puts what arrived into the receiving nodes (``deliver``), and it
sets ``status`` from the same model. The flight software sees only the
:class:`hal.interfaces.Crosslink` protocol.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from hal.interfaces import CrosslinkStatus

NO_LINKS = CrosslinkStatus(frozenset(), False, False, frozenset())


class CrosslinkMailbox:
    """Bounded transmit and receive queues with drop counters; ``status`` set from outside.

    ``now_ns`` is read when a frame is queued so the link model knows when it left."""

    def __init__(
        self, clock_ns: Callable[[], int], tx_depth: int = 4096, rx_depth: int = 4096
    ) -> None:
        if tx_depth < 1 or rx_depth < 1:
            raise ValueError("crosslink queues need a depth >= 1")
        self._now = clock_ns
        self.tx: deque[tuple[int, int, bytes]] = deque()
        self.rx: deque[bytes] = deque()
        self.tx_depth = tx_depth
        self.rx_depth = rx_depth
        self.tx_refused = 0
        self.rx_dropped = 0
        self.sent = 0
        self.received = 0
        self.current = NO_LINKS

    # --- the flight side (hal.interfaces.Crosslink) ---------------------------------
    def send(self, hop: int, frame: bytes) -> bool:
        if len(self.tx) >= self.tx_depth:
            self.tx_refused += 1
            return False
        self.tx.append((self._now(), hop, bytes(frame)))
        self.sent += 1
        return True

    def receive(self) -> list[bytes]:
        out = list(self.rx)
        self.rx.clear()
        return out

    def status(self) -> CrosslinkStatus:
        return self.current

    # --- the link model's side ------------------------------------------------------
    def drain_tx(self) -> list[tuple[int, int, bytes]]:
        """(sent at ns, next hop, frame) for everything queued since the last drain."""
        out = list(self.tx)
        self.tx.clear()
        return out

    def deliver(self, frame: bytes) -> bool:
        """A frame arrived; dropped (counted) when the receive queue is full."""
        if len(self.rx) >= self.rx_depth:
            self.rx_dropped += 1
            return False
        self.rx.append(frame)
        self.received += 1
        return True
