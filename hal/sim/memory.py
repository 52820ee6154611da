"""Processor-memory upsets in SIL: bit flips in the flight software's registered memory.

The simulated spacecraft logs ``memory_upset`` faults; this device applies each to the
memory region it names (registered by the flight software, or the NV store the backend
owns), flipping one bit of one word (given, or drawn from the seeded generator), and
watches the word until it holds its old bytes again: that is the world's truth of the
repair, stamped in the fault's record.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hal.interfaces import MemoryRegion


class NvRegion:
    """The non-volatile store's files as words (the voting store's copies live there)."""

    def __init__(self, nv: Any) -> None:
        self.nv = nv

    def words(self) -> tuple[str, ...]:
        return tuple(self.nv.names())

    def peek(self, word: str) -> bytes:
        return bytes(self.nv.read(word) or b"")

    def poke(self, word: str, data: bytes) -> None:
        self.nv.write(word, data)


class SimMemory:
    """Registered regions, pending upsets from the spacecraft, and their repair."""

    def __init__(self, spacecraft: Any, rng: np.random.Generator) -> None:
        self.sc = spacecraft
        self.rng = rng
        self.regions: dict[str, MemoryRegion] = {}
        self._open: list[dict[str, Any]] = []

    def register(self, name: str, region: MemoryRegion) -> None:
        self.regions[name] = region

    def apply(self) -> None:
        """Flip the bits of the upsets the spacecraft released."""
        pending = self.sc.memory_upsets
        while pending:
            rec = pending.popleft()
            region = self.regions.get(str(rec["target"]))
            words = region.words() if region is not None else ()
            detail = rec.get("detail", {})
            word = str(detail.get("word", "")) or (
                words[int(self.rng.integers(len(words)))] if words else ""
            )
            if region is None or word not in words:
                why = "no such memory region" if region is None else "no such word"
                rec.update(effective=False, reason=why)
                continue
            data = region.peek(word)
            if not data:
                rec.update(effective=False, reason="empty word")
                continue
            bit = int(detail.get("bit", self.rng.integers(len(data) * 8))) % (len(data) * 8)
            flipped = bytearray(data)
            flipped[bit // 8] ^= 0x80 >> (bit % 8)
            region.poke(word, bytes(flipped))
            rec.update(region=str(rec["target"]), word=word, bit=bit, original=data.hex())
            self._open.append(rec)

    def observe(self, t_s: float) -> None:
        """Stamp upsets whose word holds its old bytes again (repaired by ``t_s``)."""
        if not self._open:
            return
        still = []
        for rec in self._open:
            region = self.regions[rec["region"]]
            if region.peek(rec["word"]).hex() == rec["original"]:
                rec["repaired_s"] = t_s
            else:
                still.append(rec)
        self._open = still
