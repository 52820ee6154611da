"""Frame synchronization on the downlink (CCSDS 131.0-B): the ASM and a CADU stream reader.

A channel access data unit (CADU) is the attached sync marker ``1A CF FC 1D`` followed by
one fixed-length transfer frame, randomized with the TM pseudo-randomizer when the
mission enables it (the ASM itself is never randomized).

:class:`CaduReader` finds frames in a byte stream fed in arbitrary chunks. Unlocked, it
searches for the ASM allowing ``search_max_errors`` bit errors (0 by default: a 32-bit
exact match is found by chance about once per 4 GB of noise). Locked, it flywheels: the
next ASM is expected right after the previous frame and accepted with up to
``flywheel_max_errors`` bit errors; a worse one loses the lock and searching resumes
one octet further on.

The search is byte-aligned: a stream that slipped by a fraction of an octet is not
re-aligned here (that belongs to a bit synchronizer below this module).
"""

from __future__ import annotations

import numpy as np

from flightsw.base.errors import EncodeError
from flightsw.base.stream import StreamReader
from flightsw.link.randomizer import tm_randomize

ASM = b"\x1a\xcf\xfc\x1d"
ASM_LEN = len(ASM)
_ASM_INT = int.from_bytes(ASM, "big")
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
DEFAULT_MAX_BUFFER = 64 * 1024


def encode_cadu(frame: bytes | bytearray | memoryview, randomize: bool = True) -> bytes:
    """The ASM followed by ``frame`` (TM-randomized unless ``randomize`` is False)."""
    if not len(frame):
        raise EncodeError("frame", "a CADU carries at least one octet")
    return ASM + (tm_randomize(frame) if randomize else bytes(frame))


def asm_errors(buf: bytes | bytearray | memoryview, offset: int = 0) -> int:
    """Bit errors between the 4 octets at ``offset`` and the ASM."""
    return (int.from_bytes(buf[offset : offset + ASM_LEN], "big") ^ _ASM_INT).bit_count()


def find_asm(buf: bytes | bytearray, start: int = 0, max_errors: int = 0) -> int:
    """First offset >= ``start`` where an ASM with at most ``max_errors`` bit errors begins.

    -1 when there is none (a candidate needs all 4 octets in ``buf``).
    """
    if max_errors <= 0:
        return buf.find(ASM, start)
    n = len(buf) - start - ASM_LEN + 1
    if n <= 0:
        return -1
    arr = np.frombuffer(buf, dtype=np.uint8, offset=start)
    dist = _POPCOUNT[arr[:n] ^ ASM[0]].astype(np.int16)
    for k in range(1, ASM_LEN):
        dist += _POPCOUNT[arr[k : k + n] ^ ASM[k]]
    hits = np.flatnonzero(dist <= max_errors)
    return start + int(hits[0]) if len(hits) else -1


class CaduReader(StreamReader):
    """Frames out of a CADU byte stream: ASM search, flywheel, derandomization, bounds.

    ``feed(chunk)`` returns the frames (derandomized if ``randomize``) that the chunk
    completed. Counters: ``frames``, ``garbage_octets`` (skipped while searching),
    ``lock_losses`` (expected ASM missing while locked) and ``dropped_octets``.

    Bounded: one call takes at most ``max_buffer`` octets (left-over plus new); the
    oldest excess octets are dropped and counted, which bounds both memory and the work
    of one call, and loses the lock if it was held.
    """

    def __init__(
        self,
        frame_len: int,
        randomize: bool = True,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        search_max_errors: int = 0,
        flywheel_max_errors: int = 4,
    ) -> None:
        if frame_len < 1:
            raise EncodeError("frame_len", f"{frame_len}, at least 1")
        cadu_len = ASM_LEN + frame_len
        if max_buffer < 2 * cadu_len:
            raise EncodeError("max_buffer", f"{max_buffer}, at least two CADUs ({2 * cadu_len})")
        if not 0 <= search_max_errors <= 8 or not 0 <= flywheel_max_errors <= 16:
            raise EncodeError("max_errors", "search 0..8, flywheel 0..16")
        self.frame_len = frame_len
        self.cadu_len = cadu_len
        self.randomize = randomize
        self.max_buffer = max_buffer
        self.search_max_errors = search_max_errors
        self.flywheel_max_errors = flywheel_max_errors
        super().__init__(max_buffer)
        self._locked = False
        self.frames = 0
        self.garbage_octets = 0
        self.lock_losses = 0

    @property
    def locked(self) -> bool:
        """True while the next ASM is expected right after the last frame."""
        return self._locked

    def counters(self) -> dict[str, int]:
        """All counters by name (for housekeeping)."""
        return {
            "frames": self.frames,
            "garbage_octets": self.garbage_octets,
            "lock_losses": self.lock_losses,
            "dropped_octets": self.dropped_octets,
        }

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Take the next chunk of the stream; return the frames it completed."""
        stream = self._stream
        buf = stream.data
        if stream.feed(data) and self._locked:  # feed runs first, always
            self._locked = False
            self.lock_losses += 1
        out: list[bytes] = []
        pos = 0
        cadu_len = self.cadu_len
        while True:
            if self._locked:
                if len(buf) - pos < ASM_LEN:
                    break
                if asm_errors(buf, pos) > self.flywheel_max_errors:
                    self._locked = False
                    self.lock_losses += 1
                    self.garbage_octets += 1
                    pos += 1
                    continue
            else:
                found = find_asm(buf, pos, self.search_max_errors)
                if found < 0:
                    keep = min(ASM_LEN - 1, len(buf) - pos)
                    self.garbage_octets += len(buf) - pos - keep
                    pos = len(buf) - keep
                    break
                self.garbage_octets += found - pos
                pos = found
                self._locked = True
            if len(buf) - pos < cadu_len:
                break  # wait for the rest of the frame
            frame = bytes(buf[pos + ASM_LEN : pos + cadu_len])
            out.append(tm_randomize(frame) if self.randomize else frame)
            self.frames += 1
            pos += cadu_len
        del buf[:pos]
        return out
