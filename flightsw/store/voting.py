"""Critical state in triplicate: majority read and repair, over the non-volatile store.

Used by FDIR (boot record, safe mode, isolated boards) and by SDLS (anti-replay
counters and keys): anything that must survive a processor reset and a single upset.

Each copy is ``CRC-32 | length | data`` in its own NV file. A read takes the copies
whose CRC checks, votes on their contents, returns the majority (or the only valid
one) and rewrites every copy that disagrees. A single upset copy, torn write or lost
file is repaired on the next read; only losing two copies at once loses the state.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from typing import Protocol

_HEAD = struct.Struct(">II")
COPIES = 3


class Store(Protocol):
    def read(self, name: str) -> bytes | None: ...

    def write(self, name: str, data: bytes) -> None: ...


class VotingStore:
    """One named value kept as three CRC-checked copies."""

    def __init__(self, nv: Store, name: str) -> None:
        self.nv = nv
        self.names = [f"{name}.{i}" for i in range(COPIES)]
        self.repairs = 0
        self.unrecoverable = 0

    @staticmethod
    def _pack(data: bytes) -> bytes:
        return _HEAD.pack(zlib.crc32(data), len(data)) + data

    @staticmethod
    def _unpack(raw: bytes | None) -> bytes | None:
        if raw is None or len(raw) < _HEAD.size:
            return None
        crc, length = _HEAD.unpack_from(raw)
        data = raw[_HEAD.size :]
        if len(data) != length or zlib.crc32(data) != crc:
            return None
        return data

    def write(self, data: bytes) -> None:
        packed = self._pack(data)
        for name in self.names:
            self.nv.write(name, packed)

    def read(self) -> bytes | None:
        """The voted value (None if nothing valid was ever written), repairing copies."""
        copies = [self._unpack(self.nv.read(n)) for n in self.names]
        valid = [c for c in copies if c is not None]
        if not valid:
            if any(self.nv.read(n) is not None for n in self.names):
                self.unrecoverable += 1
            return None
        value, votes = Counter(valid).most_common(1)[0]
        if votes == 1 and len(valid) > 1:
            # Two or three valid copies that all differ: no majority. Take the first valid
            # copy (the write order makes copy 0 the newest) and say so.
            value = valid[0]
            self.unrecoverable += 1
        packed = self._pack(value)
        for name, copy in zip(self.names, copies, strict=True):
            if copy != value:
                self.nv.write(name, packed)
                self.repairs += 1
        return value
