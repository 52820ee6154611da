"""A radio over TCP: one ground client; CLTUs up and CADUs/frames down as byte streams.

The stream carries no extra framing: CLTUs delimit themselves (start and tail sequences)
and CADUs start with the attached sync marker, exactly as on an RF link, so a ground
system's TCP "frame" interface can read it. Sockets are non-blocking; the transmit
buffer is bounded in octets and counts what it drops.

With ``peer_host`` configured, a connection from any other host is closed at once and
counted (``refused_connections``). One ``receive`` reads at most ``rx_budget_octets``
(the rest waits in the socket, and TCP slows the sender down), so a flood never holds
the executive; ``rx_deferred`` counts the calls that stopped at the budget.
"""

from __future__ import annotations

import socket

from flightsw.base.stream import StreamBuffer
from hal.interfaces import RadioStatus

RECV_CHUNK = 65_536
ACCEPTS_PER_CALL = 8


class TcpRadio:
    """Listens on ``bind``; the first client to connect (from ``peer_host``, if set) is the
    ground station."""

    def __init__(
        self,
        bind: tuple[str, int] = ("127.0.0.1", 0),
        tx_limit_octets: int = 4 * 1024 * 1024,
        downlink_bps: float = 2_000_000.0,
        uplink_bps: float = 64_000.0,
        peer_host: str | None = None,
        rx_budget_octets: int = 4 * RECV_CHUNK,
        framing: str = "frames",
    ) -> None:
        self.framing = framing  # "frames" (CLTUs up, CADUs down) or "packets" (bare)
        self.stream = True
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(bind)
        self._server.listen(1)
        self._server.setblocking(False)
        self._client: socket.socket | None = None
        self._tx = StreamBuffer(tx_limit_octets)  # a send that does not fit is refused whole
        self._downlink_bps = downlink_bps
        self._uplink_bps = uplink_bps
        self.rx_errors = 0
        self.connections = 0
        self.disconnects = 0
        self.peer_host = peer_host
        self.refused_connections = 0
        self._rx_budget = rx_budget_octets
        self.rx_deferred = 0

    @property
    def tx_dropped(self) -> int:
        """Sends refused because the transmit buffer had no room for them."""
        return self._tx.refused

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.getsockname()[:2]
        return str(host), int(port)

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_CALL):
            if self._client is not None:
                return
            try:
                client, addr = self._server.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.rx_errors += 1
                return
            if self.peer_host is not None and str(addr[0]) != self.peer_host:
                client.close()
                self.refused_connections += 1
                continue
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._client = client
            self.connections += 1

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self.disconnects += 1

    def send(self, data: bytes) -> bool:
        if not self._tx.offer(data):
            return False
        self._flush()
        return True

    def _flush(self) -> None:
        self._accept()
        if self._client is None or not self._tx:
            return
        try:
            n = self._client.send(self._tx.data)
        except BlockingIOError:
            return
        except OSError:
            self._drop_client()
            return
        self._tx.consume(n)

    def receive(self) -> list[bytes]:
        self._accept()
        out: list[bytes] = []
        taken = 0
        while self._client is not None:
            if taken >= self._rx_budget:
                self.rx_deferred += 1
                break
            try:
                data = self._client.recv(RECV_CHUNK)
            except BlockingIOError:
                break
            except OSError:
                self.rx_errors += 1
                self._drop_client()
                break
            if not data:
                self._drop_client()
                break
            out.append(data)
            taken += len(data)
        self._flush()
        return out

    def status(self) -> RadioStatus:
        return RadioStatus(
            in_contact=self._client is not None,
            downlink_bps=self._downlink_bps,
            uplink_bps=self._uplink_bps,
            tx_dropped=self.tx_dropped,
            rx_errors=self.rx_errors,
        )

    def close(self) -> None:
        self._drop_client()
        self._server.close()
