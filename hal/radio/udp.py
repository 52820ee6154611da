"""A radio over UDP: CLTUs arrive as datagrams, each downlink CADU or frame leaves as one.

For benches and ground systems on another machine (a Yamcs/COSMOS UDP link, or
``flightsw ground``). The socket is non-blocking, so ``receive`` and ``send`` never hold the
executive; both directions are bounded and count what they drop.

Who it listens to: with ``peer`` configured, only datagrams from that address are taken
(the rest are read, counted in ``rx_foreign`` and dropped) and the downlink goes only
there; without it, the radio answers whoever sent the latest datagram (convenient in a
lab, but then anyone who can reach the port can take the downlink; the uplink is still
protected by SDLS). One ``receive`` reads at most ``rx_budget`` datagrams: a flood is
left in the socket's buffer (where the kernel drops the excess) instead of holding the
executive; ``rx_deferred`` counts the calls that stopped at the budget.
"""

from __future__ import annotations

import socket
from collections import deque

from hal.interfaces import RadioStatus

MAX_DATAGRAM = 65_507


class UdpRadio:
    """Uplink datagrams in on ``bind``, downlink datagrams out to ``peer``.

    With ``peer`` None the radio answers whoever sent the latest uplink datagram, so a
    ground tool can connect without configuring the flight side; with a ``peer`` it
    hears and answers only that address.
    """

    def __init__(
        self,
        bind: tuple[str, int] = ("127.0.0.1", 0),
        peer: tuple[str, int] | None = None,
        rx_depth: int = 32,  # datagrams read per receive(): 320/s at 10 Hz, far above any uplink
        tx_depth: int = 1024,
        downlink_bps: float = 2_000_000.0,
        uplink_bps: float = 64_000.0,
        rx_budget: int | None = None,
        framing: str = "frames",
    ) -> None:
        self.framing = framing  # "frames" (CLTUs up, CADUs down) or "packets" (bare)
        self.stream = False
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.bind(bind)
        self.peer = peer
        self.fixed_peer = peer is not None
        self._rx_depth = rx_depth
        self._rx_budget = 4 * rx_depth if rx_budget is None else rx_budget
        self.rx_foreign = 0
        self.rx_deferred = 0
        self._tx: deque[bytes] = deque()
        self._tx_depth = tx_depth
        self._downlink_bps = downlink_bps
        self._uplink_bps = uplink_bps
        self.tx_dropped = 0
        self.rx_errors = 0
        self.tx_errors = 0
        self.rx_datagrams = 0
        self.tx_datagrams = 0

    @property
    def address(self) -> tuple[str, int]:
        """Where the ground sends uplink datagrams."""
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def send(self, data: bytes) -> bool:
        if len(data) > MAX_DATAGRAM:
            self.tx_dropped += 1
            return False
        if len(self._tx) >= self._tx_depth:
            self.tx_dropped += 1
            return False
        self._tx.append(bytes(data))
        self._flush()
        return True

    def _flush(self) -> None:
        if self.peer is None:
            return  # nobody to talk to yet: keep (bounded) until a ground tool appears
        while self._tx:
            try:
                self._sock.sendto(self._tx[0], self.peer)
            except BlockingIOError:
                return
            except OSError:
                self.tx_errors += 1  # e.g. ICMP port unreachable: the datagram is gone
            else:
                self.tx_datagrams += 1
            self._tx.popleft()

    def receive(self) -> list[bytes]:
        """At most ``rx_depth`` datagrams from the peer, and at most ``rx_budget`` reads, a
        call (bounded work under a flood): the rest wait in the socket's bounded buffer,
        where the kernel drops what does not fit; ``rx_deferred`` counts calls that stopped
        with data possibly left."""
        out: list[bytes] = []
        for _ in range(self._rx_budget):
            try:
                data, addr = self._sock.recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                break
            except OSError:
                self.rx_errors += 1
                break
            sender = (str(addr[0]), int(addr[1]))
            if self.fixed_peer and sender != self.peer:
                self.rx_foreign += 1
                continue
            self.rx_datagrams += 1
            out.append(data)
            if not self.fixed_peer:
                self.peer = sender
            if len(out) >= self._rx_depth:
                self.rx_deferred += 1
                break
        else:
            self.rx_deferred += 1
        self._flush()
        return out

    def status(self) -> RadioStatus:
        return RadioStatus(
            in_contact=self.peer is not None,
            downlink_bps=self._downlink_bps,
            uplink_bps=self._uplink_bps,
            tx_dropped=self.tx_dropped,
            rx_errors=self.rx_errors + self.rx_foreign,
        )

    def close(self) -> None:
        self._sock.close()
