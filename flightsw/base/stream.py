"""The bounded buffer of a byte-stream reader (or writer), with its counters.

Every reader that turns a byte stream into units (CADUs from the TM stream, CLTUs from
the TC stream, frames from the bench's serial line) keeps the octets it has not yet
parsed; a writer that cannot send everything at once (a TCP radio) keeps what waits.
That buffer must be bounded, and what it loses counted: this is the one place that is so.

Two policies, one per use:

* :meth:`StreamBuffer.feed` (readers): the chunk is appended and, beyond ``limit``, the
  *oldest* octets are dropped and counted in ``dropped_octets`` (a reader resynchronises
  on what follows; the newest octets are the ones still worth parsing);
* :meth:`StreamBuffer.offer` (writers): the chunk is taken whole or refused whole when
  it would pass ``limit``, counted in ``refused`` and ``refused_octets`` (a writer must
  not send half a frame).

The parser reads ``data`` (a bytearray) in place and calls :meth:`consume` for what it
used.
"""

from __future__ import annotations

from flightsw.base.errors import EncodeError


class StreamBuffer:
    """At most ``limit`` octets of a stream, oldest first, and what did not fit."""

    __slots__ = ("data", "dropped_octets", "limit", "refused", "refused_octets")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise EncodeError("limit", f"{limit}: a stream buffer holds at least one octet")
        self.data = bytearray()
        self.limit = limit
        self.dropped_octets = 0  # oldest octets dropped by feed
        self.refused = 0  # chunks refused by offer
        self.refused_octets = 0

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        """A buffer is always there, empty or not (see tests/test_code_quality.py)."""
        return True

    def feed(self, chunk: bytes | bytearray | memoryview) -> int:
        """Append ``chunk``; drop (and count) the oldest octets beyond ``limit``. Returns
        how many were dropped by this call (0 almost always)."""
        buf = self.data
        buf += chunk
        excess = len(buf) - self.limit
        if excess <= 0:
            return 0
        del buf[:excess]
        self.dropped_octets += excess
        return excess

    def offer(self, chunk: bytes | bytearray | memoryview) -> bool:
        """Append all of ``chunk``, or none of it (counted) when it would pass ``limit``."""
        if len(self.data) + len(chunk) > self.limit:
            self.refused += 1
            self.refused_octets += len(chunk)
            return False
        self.data += chunk
        return True

    def consume(self, n: int) -> None:
        """The parser (or the sender) is done with the first ``n`` octets."""
        del self.data[:n]

    def clear(self) -> None:
        self.data.clear()


class StreamReader:
    """Base of a reader that parses units out of a byte stream fed in arbitrary chunks:
    it owns the :class:`StreamBuffer` (``_stream``) and reports on it."""

    def __init__(self, max_buffer: int) -> None:
        self._stream = StreamBuffer(max_buffer)

    @property
    def buffered(self) -> int:
        """Octets kept for the next call (the start of a unit not complete yet)."""
        return len(self._stream)

    @property
    def dropped_octets(self) -> int:
        """Oldest octets dropped because a call would have held more than the limit."""
        return self._stream.dropped_octets
