"""A lab link of bare space packets: TC packets up, TM packets down, no frames.

The convention of cFS CI_LAB/TO_LAB, COSMOS and tmtccmd on a bench: over UDP each
datagram holds whole space packets (one, usually), over TCP the stream is space packets
back to back, each delimited by its own length field. There is no CLTU, TC frame, FARM-1,
SDLS or virtual channel: a bench tool speaks to the build without a link layer, and the
uplink is not authenticated (the comms service says so with its ``SDLS_OFF`` event).

Bounded both ways, counted: uplink octets wait in a buffer of ``rx_limit`` octets (a
datagram or chunk that does not fit is dropped and counted), whole TC packets wait for the
dispatcher's room in a queue of ``tc_depth`` (then dropped and counted: UDP has no
back-pressure); downlink packets wait in two queues of ``tm_depth`` (real time first,
then playback). A datagram whose octets are not whole packets loses its broken tail
(``packet_errors``); on a stream, a header that is not a space packet's (version not 0)
means the stream lost its alignment: the buffered octets are dropped and counted, as a
reconnect would.
"""

from __future__ import annotations

from collections import deque

from flightsw.link.onboard import TcSink

HEADER_LEN = 6


class PacketLink:
    """Space packets in from octets (``stream`` for TCP, else datagrams), to ``sink`` as
    it has room; TM packets queued for the radio."""

    def __init__(
        self,
        sink: TcSink | None,
        stream: bool,
        rx_limit: int = 256 * 1024,
        tc_depth: int = 64,
        tm_depth: int = 4096,
    ) -> None:
        self.sink = sink
        self.stream = stream
        self.rx_limit = rx_limit
        self.tc_depth = tc_depth
        self.tm_depth = tm_depth
        self._rx = bytearray()
        self._tc: deque[bytes] = deque()
        self._tm: tuple[deque[bytes], deque[bytes]] = (deque(), deque())
        self.packets = 0  # TC packets handed to the sink
        self.packet_errors = 0  # broken tails and misaligned streams
        self.dropped_octets = 0  # uplink octets refused: buffer full or misaligned
        self.tc_dropped = 0  # whole TC packets refused: queue full
        self.tm_dropped = 0  # TM packets refused: queue full
        self.tm_sent = 0

    # --- uplink ----------------------------------------------------------------
    def accept(self, data: bytes) -> None:
        """Octets from the radio: one datagram, or the next piece of the stream."""
        if len(self._rx) + len(data) > self.rx_limit:
            self.dropped_octets += len(data)
            return
        self._rx += data
        self._split()
        if not self.stream and self._rx:  # a datagram ends with whole packets
            self.packet_errors += 1
            self.dropped_octets += len(self._rx)
            self._rx.clear()

    def _split(self) -> None:
        rx = self._rx
        pos = 0
        while len(rx) - pos >= HEADER_LEN:
            if rx[pos] >> 5 != 0:  # not a version-0 space packet: alignment lost
                self.packet_errors += 1
                self.dropped_octets += len(rx) - pos
                pos = len(rx)
                break
            n = HEADER_LEN + 1 + int.from_bytes(rx[pos + 4 : pos + 6], "big")
            if len(rx) - pos < n:
                break
            if len(self._tc) >= self.tc_depth:
                self.tc_dropped += 1
            else:
                self._tc.append(bytes(rx[pos : pos + n]))
            pos += n
        del rx[:pos]

    def deliver(self) -> list[bytes]:
        """TC packets to the sink while it has room; without a sink, all of them returned."""
        out: list[bytes] = []
        sink = self.sink
        while self._tc and (sink is None or sink.room() > 0):
            pkt = self._tc.popleft()
            self.packets += 1
            if sink is None:
                out.append(pkt)
            else:
                sink.submit(pkt)
        return out

    @property
    def backlog(self) -> int:
        """Octets received and not yet whole packets, plus packets waiting."""
        return len(self._rx) + sum(len(p) for p in self._tc)

    # --- downlink ----------------------------------------------------------------
    def push(self, packet: bytes, playback: bool = False) -> bool:
        """Queue a TM packet; False (counted) when its queue is full."""
        q = self._tm[1 if playback else 0]
        if len(q) >= self.tm_depth:
            self.tm_dropped += 1
            return False
        q.append(bytes(packet))
        return True

    def peek(self) -> bytes | None:
        """The next TM packet to send (real time before playback), or None."""
        for q in self._tm:
            if q:
                return q[0]
        return None

    def pop(self) -> None:
        """The packet :meth:`peek` gave has gone."""
        for q in self._tm:
            if q:
                q.popleft()
                self.tm_sent += 1
                return
