"""Communications Link Transmission Units (CCSDS 231.0-B-4): how TC frames cross the uplink.

A CLTU is the start sequence ``EB 90``, the frame cut into BCH(63,56) codeblocks of 7
information octets (the last one completed with ``55`` fill octets: alternating bits
starting with 0) and the tail sequence ``C5 C5 C5 C5 C5 C5 C5 79``.

When the mission enables it, the TC pseudo-randomizer (231.0-B-4 section 6,
h(x) = x^8 + x^6 + x^4 + x^3 + x^2 + x + 1 -- not the TM one) is applied to the frame
before BCH encoding; fill octets are added after it and are not randomized. The receiver
derandomizes all the information octets it decoded, fill included, so with randomization
the fill comes out as other values: the TC frame's length field says where the frame ends.

The tail is built to be uncorrectable: its syndrome is the one odd-weight syndrome no
single error gives, so the tail with one bit error has an even-weight syndrome and is
uncorrectable too. The decoder therefore ends a CLTU at the first uncorrectable
codeblock (as the standard's decoder does): if that codeblock is the tail with at most
``tail_max_errors`` bit errors the CLTU is good, otherwise it is rejected. With two or
more errors in the tail it is (mis)corrected like data and the CLTU runs on into what
follows; the frame checks above catch that.

The start sequence is searched for byte-aligned and without errors; bit-slipped streams
are a physical-layer matter this module does not handle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flightsw.base.errors import DecodeError, EncodeError
from flightsw.base.stream import StreamReader
from flightsw.link.bch import (
    CODEBLOCK_LEN,
    INFO_LEN,
    NO_ERROR,
    UNCORRECTABLE,
    encode_codeblocks,
    error_positions,
    syndromes,
)
from flightsw.link.randomizer import tc_randomize

START_SEQUENCE = b"\xeb\x90"
TAIL_SEQUENCE = bytes.fromhex("c5c5c5c5c5c5c579")
FILL_OCTET = 0x55
MAX_FRAME_LEN = 1024
MAX_CODEBLOCKS = -(-MAX_FRAME_LEN // INFO_LEN)  # 147: one maximum-length TC frame
DEFAULT_MAX_BUFFER = 64 * 1024
_TAIL_INT = int.from_bytes(TAIL_SEQUENCE, "big")
_CODE_BITS_MASK = (1 << 64) - 2  # the filler bit is not part of the code


def encode_cltu(frame: bytes | bytearray | memoryview, randomize: bool = False) -> bytes:
    """Start sequence, codeblocks of ``frame`` (randomized first if asked), tail sequence."""
    if not len(frame):
        raise EncodeError("frame", "a CLTU carries at least one octet")
    data = tc_randomize(frame) if randomize else bytes(frame)
    short = -len(data) % INFO_LEN
    if short:
        data += bytes((FILL_OCTET,)) * short
    return START_SEQUENCE + encode_codeblocks(data) + TAIL_SEQUENCE


def tail_errors(block: bytes | bytearray | memoryview) -> int:
    """Bit errors between an 8-octet block and the tail sequence (filler bit ignored)."""
    return ((int.from_bytes(block, "big") ^ _TAIL_INT) & _CODE_BITS_MASK).bit_count()


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Codeblocks decoded from one run: their information octets and what ended the run."""

    info: bytes
    codeblocks: int
    corrected: int
    stopped: bool  # True: an uncorrectable codeblock follows the good ones


def scan_codeblocks(buf: bytes | bytearray | memoryview, start: int, max_blocks: int) -> ScanResult:
    """Decode whole codeblocks from ``buf[start:]`` up to the first uncorrectable one.

    At most ``max_blocks`` blocks are looked at. Single-bit errors are corrected.
    """
    n = min((len(buf) - start) // CODEBLOCK_LEN, max_blocks)
    if n <= 0:
        return ScanResult(b"", 0, 0, False)
    blocks = np.frombuffer(buf, dtype=np.uint8, count=n * CODEBLOCK_LEN, offset=start)
    blocks = blocks.reshape(n, CODEBLOCK_LEN)
    positions = error_positions(syndromes(blocks))
    good = n
    stopped = False
    fixes: list[tuple[int, int]] = []
    for i in np.flatnonzero(positions != NO_ERROR).tolist():
        pos = int(positions[i])
        if pos == UNCORRECTABLE:
            good, stopped = i, True
            break
        fixes.append((i, pos))
    info = bytearray(blocks[:good, :INFO_LEN].tobytes())
    for i, pos in fixes:
        if pos < 8 * INFO_LEN:  # a parity-bit error leaves the information as it is
            info[i * INFO_LEN + (pos >> 3)] ^= 0x80 >> (pos & 7)
    return ScanResult(bytes(info), good, len(fixes), stopped)


@dataclass(frozen=True, slots=True)
class Cltu:
    """A decoded CLTU: the information octets (frame and fill) and the codeblock counts."""

    data: bytes
    codeblocks: int
    corrected: int


def decode_cltu(
    raw: bytes | bytearray | memoryview,
    randomize: bool = False,
    tail_max_errors: int = 1,
    max_codeblocks: int = MAX_CODEBLOCKS,
) -> Cltu:
    """Exactly one CLTU, start to tail; anything else is a :class:`DecodeError`."""
    buf = bytes(raw)
    if len(buf) < 2 * CODEBLOCK_LEN + len(START_SEQUENCE):
        raise DecodeError("cltu", 0, f"{len(buf)} octets, a CLTU needs at least 18")
    if buf[:2] != START_SEQUENCE:
        raise DecodeError("start_sequence", 0, f"{buf[:2].hex()}, expected eb90")
    if (len(buf) - 2) % CODEBLOCK_LEN:
        raise DecodeError(
            "cltu", len(buf), f"{len(buf) - 2} octets after the start is not whole codeblocks"
        )
    scan = scan_codeblocks(buf, 2, max_codeblocks + 1)
    end = 2 + scan.codeblocks * CODEBLOCK_LEN
    if not scan.stopped:
        if scan.codeblocks > max_codeblocks:
            raise DecodeError("cltu", end, f"more than {max_codeblocks} codeblocks")
        raise DecodeError("tail_sequence", len(buf), "no tail sequence")
    if tail_errors(buf[end : end + CODEBLOCK_LEN]) > tail_max_errors:
        raise DecodeError("codeblock", end, "uncorrectable codeblock")
    if scan.codeblocks == 0:
        raise DecodeError("codeblock", 2, "a CLTU carries at least one codeblock")
    if end + CODEBLOCK_LEN != len(buf):
        raise DecodeError("tail_sequence", end, "octets follow the tail sequence")
    data = tc_randomize(scan.info) if randomize else scan.info
    return Cltu(data, scan.codeblocks, scan.corrected)


class CltuDecoder(StreamReader):
    """Finds and decodes CLTUs in a byte stream fed in arbitrary chunks.

    :meth:`feed` returns the information octets (frame plus fill) of every CLTU that
    ended with a good tail. Octets outside CLTUs count as ``garbage_octets``. A CLTU is
    rejected (``cltus_rejected``) when a codeblock is uncorrectable and not the tail
    (``rejected_uncorrectable``), when it runs past ``max_codeblocks`` without a tail
    (``rejected_too_long``), or when its octets were dropped. Searching resumes right
    at the codeblock that ended a rejected CLTU (a new start sequence may be in it).

    Bounded: one call takes at most ``max_buffer`` octets (left-over plus new); the
    oldest excess octets are dropped and counted in ``dropped_octets``. That bounds both
    the memory and the work of one call; a decoded CLTU holds at most ``max_codeblocks``.
    """

    def __init__(
        self,
        randomize: bool = False,
        max_codeblocks: int = MAX_CODEBLOCKS,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        tail_max_errors: int = 1,
    ) -> None:
        if max_codeblocks < 1:
            raise EncodeError("max_codeblocks", f"{max_codeblocks}, at least 1")
        if max_buffer < 2 * CODEBLOCK_LEN:
            raise EncodeError("max_buffer", f"{max_buffer}, at least {2 * CODEBLOCK_LEN}")
        self.randomize = randomize
        self.max_codeblocks = max_codeblocks
        self.max_buffer = max_buffer
        self.tail_max_errors = tail_max_errors
        super().__init__(max_buffer)
        self._in_cltu = False
        self._info = bytearray()
        self._blocks = 0
        self.codeblocks = 0
        self.corrected = 0
        self.rejected_uncorrectable = 0
        self.rejected_too_long = 0
        self.cltus_ok = 0
        self.cltus_rejected = 0
        self.garbage_octets = 0

    @property
    def in_cltu(self) -> bool:
        """True between a start sequence and the end of its CLTU."""
        return self._in_cltu

    def counters(self) -> dict[str, int]:
        """All counters by name (for housekeeping)."""
        return {
            "codeblocks": self.codeblocks,
            "corrected": self.corrected,
            "rejected_uncorrectable": self.rejected_uncorrectable,
            "rejected_too_long": self.rejected_too_long,
            "cltus_ok": self.cltus_ok,
            "cltus_rejected": self.cltus_rejected,
            "garbage_octets": self.garbage_octets,
            "dropped_octets": self.dropped_octets,
        }

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Take the next chunk of the stream; return the CLTUs it completed."""
        stream = self._stream
        buf = stream.data
        if stream.feed(data) and self._in_cltu:  # feed runs first, always
            self._reject()
        out: list[bytes] = []
        pos = 0
        while True:
            if not self._in_cltu:
                found = buf.find(START_SEQUENCE, pos)
                if found < 0:
                    # keep a last 0xEB: it may be the first half of a start sequence
                    keep = 1 if pos < len(buf) and buf[-1] == START_SEQUENCE[0] else 0
                    self.garbage_octets += len(buf) - pos - keep
                    pos = len(buf) - keep
                    break
                self.garbage_octets += found - pos
                pos = found + len(START_SEQUENCE)
                self._in_cltu = True
            room = self.max_codeblocks - self._blocks
            scan = scan_codeblocks(buf, pos, room + 1)
            self._info += scan.info
            self._blocks += scan.codeblocks
            self.codeblocks += scan.codeblocks
            self.corrected += scan.corrected
            pos += scan.codeblocks * CODEBLOCK_LEN
            if self._blocks > self.max_codeblocks:
                self.rejected_too_long += 1
                self._reject()
                continue
            if not scan.stopped:
                break  # wait for more codeblocks
            if tail_errors(buf[pos : pos + CODEBLOCK_LEN]) > self.tail_max_errors:
                # search again from the bad codeblock: a new start sequence may be in it
                self.rejected_uncorrectable += 1
                self._reject()
                continue
            if self._blocks == 0:
                self._reject()  # a start sequence straight followed by the tail
            else:
                info = bytes(self._info)
                out.append(tc_randomize(info) if self.randomize else info)
                self.cltus_ok += 1
                self._end()
            pos += CODEBLOCK_LEN
        del buf[:pos]
        return out

    def _reject(self) -> None:
        self.cltus_rejected += 1
        self._end()

    def _end(self) -> None:
        self._in_cltu = False
        self._info = bytearray()
        self._blocks = 0
