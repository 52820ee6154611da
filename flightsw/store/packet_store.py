"""A packet store for store-and-forward telemetry (PUS-15-like), safe across restarts.

Packets are appended as records (``flightsw.store.record``: delimited, byte-stuffed
frames with a sequence number, a header CRC and a payload CRC) to segment files on a
non-volatile store. ``append`` returns once the record is on the medium, so an
acknowledged packet survives the process being killed at any instant.

On open, ``recover`` reads every segment frame by frame. A record is only ever taken
from a closed frame that decodes and whose sequence number follows the one before, so
a torn write (a frame with no closing delimiter) never yields anything, and nothing
inside a payload can be taken for a record. The torn tail of the newest segment is cut
off (counted in bytes). A frame that is not a record between two records (bit rot) is
skipped, counted once and overwritten on the medium with delimiters of the same length
(offsets, hence the persisted cursor, stay valid), so a later open does not count it
again. Nothing that was acknowledged is dropped by recovery, and nothing that was not
appended comes back.

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

from flightsw.base.errors import FlightswError
from flightsw.store.record import END, MAX_PAYLOAD, encode_record, scan_segment

MAX_RECORD = MAX_PAYLOAD


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
    """What the store counted since it was opened."""

    appended: int = 0
    rejected: int = 0
    dropped_segments: int = 0
    dropped_packets: int = 0
    torn_bytes_recovered: int = 0
    corrupt_records_skipped: int = 0
    sequence_gaps: int = 0  # records missing between two that were read (after bit rot)


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
        self.next_seq = 0
        self.recover()

    def _seg(self, number: int) -> str:
        return f"{self.name}.{number:06d}"

    def recover(self) -> None:
        """Rebuild the index from the medium: cut the torn tail, neutralize bit rot."""
        prefix = self.name + "."
        self.segments = sorted(
            int(n[len(prefix) :]) for n in self.nv.names(prefix) if n[len(prefix) :].isdigit()
        )
        self.counts = {}
        last_seq = -1
        for i, number in enumerate(self.segments):
            name = self._seg(number)
            data = self.nv.read(name) or b""
            scan = scan_segment(data, after_seq=last_seq)
            newest = i == len(self.segments) - 1
            tail = len(data) - scan.valid_end
            if tail and newest:
                self.stats.torn_bytes_recovered += tail
            elif tail:
                self.stats.corrupt_records_skipped += 1  # an older segment cannot be torn
            if scan.corrupt:
                self.stats.corrupt_records_skipped += len(scan.corrupt)
                image = bytearray(data[: scan.valid_end])
                for start, end in scan.corrupt:
                    image[start:end] = bytes([END]) * (end - start)
                self.nv.write(name, bytes(image))
            elif tail:
                self.nv.truncate(name, scan.valid_end)
            for seq, _, _ in scan.records:
                if last_seq >= 0 and seq != last_seq + 1:
                    self.stats.sequence_gaps += 1
                last_seq = seq
            self.counts[number] = len(scan.records)
        self.next_seq = last_seq + 1
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
        rec = encode_record(self.next_seq, packet)
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
        self.next_seq += 1
        self.counts[current] += 1
        self.stats.appended += 1
        return True

    def iter_from(
        self, cursor: tuple[int, int] | None = None
    ) -> Iterator[tuple[tuple[int, int], bytes]]:
        """Stored packets from a cursor on, each with the cursor just past it."""
        seg0, off0 = cursor if cursor is not None else self.cursor
        last_seq = -1
        for number in self.segments:
            if number < seg0:
                continue
            data = self.nv.read(self._seg(number)) or b""
            start = off0 if number == seg0 else 0
            for seq, payload, end in scan_segment(data, last_seq, start).records:
                last_seq = seq
                yield (number, end), payload

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
