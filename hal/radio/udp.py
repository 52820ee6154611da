"""A radio over UDP: CLTUs arrive as datagrams, each downlink CADU or frame leaves as one.

For benches and ground systems on another machine (a Yamcs/COSMOS UDP link, or
``flightsw ground``). The socket is non-blocking, so ``receive`` and ``send`` never hold the
executive; both directions are bounded and count what they drop.
"""

from __future__ import annotations

import socket
from collections import deque

from hal.interfaces import RadioStatus

MAX_DATAGRAM = 65_507


class UdpRadio:
    """Uplink datagrams in on ``bind``, downlink datagrams out to ``peer``.

    With ``peer`` None the radio answers whoever sent the latest uplink datagram, so a
    ground tool can connect without configuring the flight side.
    """

    def __init__(
        self,
        bind: tuple[str, int] = ("127.0.0.1", 0),
        peer: tuple[str, int] | None = None,
        rx_depth: int = 32,  # datagrams read per receive(): 320/s at 10 Hz, far above any uplink
        tx_depth: int = 1024,
        downlink_bps: float = 2_000_000.0,
        uplink_bps: float = 64_000.0,
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.bind(bind)
        self.peer = peer
        self._rx_depth = rx_depth
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
        """At most ``rx_depth`` datagrams a call (bounded work under a flood): the rest
        wait in the socket's bounded buffer, where the kernel drops what does not fit."""
        out: list[bytes] = []
        for _ in range(self._rx_depth):
            try:
                data, addr = self._sock.recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                break
            except OSError:
                self.rx_errors += 1
                break
            self.rx_datagrams += 1
            out.append(data)
            if self.peer is None:
                self.peer = (str(addr[0]), int(addr[1]))
        self._flush()
        return out

    def status(self) -> RadioStatus:
        return RadioStatus(
            in_contact=self.peer is not None,
            downlink_bps=self._downlink_bps,
            uplink_bps=self._uplink_bps,
            tx_dropped=self.tx_dropped,
            rx_errors=self.rx_errors,
        )

    def close(self) -> None:
        self._sock.close()
