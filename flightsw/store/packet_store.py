"""A packet store for store-and-forward telemetry (PUS-15-like), safe across restarts.

Packets are appended as records to segment files on a non-volatile store:

    record = MAGIC (2 octets 0xF5 0x7E) | length u32 | CRC-32 of payload u32 | payload

``append`` returns once the record is on the medium, so an acknowledged packet survives
the process being killed at any instant. On open, ``recover`` scans the newest segment
and cuts off a torn last record (short header, short payload or bad CRC at the end);
a record that is corrupt in the middle of a segment (bit rot) is skipped by searching
for the next valid record, and counted. Nothing else is ever dropped by recovery.

The store is bounded: at most ``max_segments`` segments of ``segment_bytes``. When full,
``overflow="drop_oldest"`` deletes the oldest segment (counted, as a circular store)
and ``overflow="reject"`` refuses new packets (counted). A read cursor (segment,
offset) marks what has been dumped; it is persisted with ``commit_cursor`` when the
ground confirms receipt.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from flightsw.errors import FlightswError

MAGIC = b"\xf5\x7e"
_HDR = struct.Struct(">2sII")
HEADER_LEN = _HDR.size
MAX_RECORD = 65536 + 16


class SegmentStore(Protocol):
    """What the packet store needs from a non-volatile store."""

    def read(self, name: str) -> bytes | None: ...
    def read_range(self, name: str, offset: int, length: int) -> bytes: ...
    def write(self, name: str, data: bytes) -> None: ...
    def append(self, name: str, data: bytes) -> None: ...
    def size(self, name: str) -> int: ...
    def truncate(self, name: str, length: int) -> None: ...
    def delete(self, name: str) -> None: ...
    def names(self, prefix: str = "") -> list[str]: ...


class PacketStoreError(FlightswError):
    """A packet the store cannot take (too big, store full with reject policy)."""


@dataclass
class StoreStats:
    appended: int = 0
    rejected: int = 0
    dropped_segments: int = 0
    dropped_packets: int = 0
    torn_bytes_recovered: int = 0
    corrupt_records_skipped: int = 0


def encode_record(payload: bytes) -> bytes:
    return _HDR.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def scan_records(data: bytes) -> tuple[list[tuple[int, bytes]], int, int]:
    """Valid records in a segment image.

    Returns (records as (offset, payload), end of the last valid record, number of
    corrupt records skipped before it).
    """
    out: list[tuple[int, bytes]] = []
    pos, end, skipped, n = 0, 0, 0, len(data)
    while pos + HEADER_LEN <= n:
        magic, length, crc = _HDR.unpack_from(data, pos)
        if magic == MAGIC and length <= MAX_RECORD and pos + HEADER_LEN + length <= n:
            payload = data[pos + HEADER_LEN : pos + HEADER_LEN + length]
            if zlib.crc32(payload) == crc:
                out.append((pos, payload))
                pos += HEADER_LEN + length
                end = pos
                continue
        nxt = data.find(MAGIC, pos + 1)
        if nxt < 0:
            break
        # only count as a skipped record if a valid one follows (else it is the torn tail)
        if _valid_record_at(data, nxt):
            skipped += 1
        pos = nxt
    return out, end, skipped


def _valid_record_at(data: bytes, pos: int) -> bool:
    if pos + HEADER_LEN > len(data):
        return False
    magic, length, crc = _HDR.unpack_from(data, pos)
    if magic != MAGIC or pos + HEADER_LEN + length > len(data):
        return False
    return bool(zlib.crc32(data[pos + HEADER_LEN : pos + HEADER_LEN + length]) == crc)


class PacketStore:
    """One named store of packets in segment files ``NAME.NNNNNN`` plus ``NAME.cursor``."""

    def __init__(
        self,
        nv: SegmentStore,
        name: str = "tmstore",
        segment_bytes: int = 1 << 20,
        max_segments: int = 64,
        overflow: str = "drop_oldest",
    ) -> None:
        if overflow not in ("drop_oldest", "reject"):
            raise PacketStoreError(f"overflow must be drop_oldest or reject, not {overflow!r}")
        self.nv = nv
        self.name = name
        self.segment_bytes = segment_bytes
        self.max_segments = max_segments
        self.overflow = overflow
        self.stats = StoreStats()
        self.segments: list[int] = []
        self.counts: dict[int, int] = {}
        self.cursor: tuple[int, int] = (0, 0)
        self.recover()

    def _seg(self, number: int) -> str:
        return f"{self.name}.{number:06d}"

    def recover(self) -> None:
        """Rebuild the index from the medium, cutting off a torn last record."""
        prefix = self.name + "."
        self.segments = sorted(
            int(n[len(prefix) :]) for n in self.nv.names(prefix) if n[len(prefix) :].isdigit()
        )
        self.counts = {}
        for i, number in enumerate(self.segments):
            data = self.nv.read(self._seg(number)) or b""
            records, end, skipped = scan_records(data)
            self.stats.corrupt_records_skipped += skipped
            if i == len(self.segments) - 1 and end < len(data):
                self.stats.torn_bytes_recovered += len(data) - end
                self.nv.truncate(self._seg(number), end)
            self.counts[number] = len(records)
        raw = self.nv.read(self.name + ".cursor")
        if raw is not None and len(raw) == 12:
            seg, off, crc = struct.unpack(">III", raw)
            if zlib.crc32(raw[:8]) == crc:
                self.cursor = (seg, off)
        if not self.segments:
            self.segments = [1]
            self.counts[1] = 0

    @property
    def packet_count(self) -> int:
        return sum(self.counts.values())

    def append(self, packet: bytes) -> bool:
        """Store one packet durably; False (counted) if refused under the reject policy."""
        if len(packet) > MAX_RECORD:
            raise PacketStoreError(f"packet of {len(packet)} bytes exceeds {MAX_RECORD}")
        rec = encode_record(packet)
        current = self.segments[-1]
        if (
            self.nv.size(self._seg(current)) + len(rec) > self.segment_bytes
            and self.counts[current]
        ):
            if len(self.segments) >= self.max_segments:
                if self.overflow == "reject":
                    self.stats.rejected += 1
                    return False
                oldest = self.segments.pop(0)
                self.stats.dropped_segments += 1
                self.stats.dropped_packets += self.counts.pop(oldest)
                self.nv.delete(self._seg(oldest))
            current += 1
            self.segments.append(current)
            self.counts[current] = 0
        self.nv.append(self._seg(current), rec)
        self.counts[current] += 1
        self.stats.appended += 1
        return True

    def iter_from(
        self, cursor: tuple[int, int] | None = None
    ) -> Iterator[tuple[tuple[int, int], bytes]]:
        """Stored packets from a cursor on, each with the cursor just past it."""
        seg0, off0 = cursor if cursor is not None else self.cursor
        for number in self.segments:
            if number < seg0:
                continue
            data = self.nv.read(self._seg(number)) or b""
            start = off0 if number == seg0 else 0
            records, _, _ = scan_records(data[start:])
            for off, payload in records:
                yield (number, start + off + HEADER_LEN + len(payload)), payload

    def packets(self) -> list[bytes]:
        """Every stored packet, oldest first."""
        return [p for _, p in self.iter_from((0, 0))]

    def commit_cursor(self, cursor: tuple[int, int]) -> None:
        """Persist the dump position (what the ground has confirmed)."""
        head = struct.pack(">II", *cursor)
        self.nv.write(self.name + ".cursor", head + struct.pack(">I", zlib.crc32(head)))
        self.cursor = cursor

    def delete_up_to(self, cursor: tuple[int, int]) -> int:
        """Delete whole segments entirely before the cursor; returns packets deleted."""
        deleted = 0
        while len(self.segments) > 1 and self.segments[0] < cursor[0]:
            number = self.segments.pop(0)
            deleted += self.counts.pop(number)
            self.nv.delete(self._seg(number))
        return deleted
