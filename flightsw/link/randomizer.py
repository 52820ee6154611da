"""The CCSDS pseudo-randomizers: XOR with a fixed 255-bit sequence to ensure bit transitions.

Two different sequences, both from an 8-bit register preset to all ones:

- TM (131.0-B, also AOS and USLP): h(x) = x^8 + x^7 + x^5 + x^3 + 1, octets
  ``FF 48 0E C0 9A 0D 70 BC ...``; applied to each frame after the attached sync marker.
- TC (231.0-B-4 section 6, the "bit transition generator"):
  h(x) = x^8 + x^6 + x^4 + x^3 + x^2 + x + 1, octets ``FF 39 9E 5A 68 E9 06 F5 ...``
  (the first 40 bits are printed in the standard, and its LDPC tail-sequence example
  gives 16 octets we test against); applied to the TC frame before BCH encoding.

The bit sequence has period 255, so the octet sequence has period 255 octets. Both are
precomputed once; randomizing is one numpy XOR. Randomizing twice is the identity, so
one function does both directions.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PERIOD = 255
_PRECOMPUTED_OCTETS = 16 * 1024


def lfsr_sequence(taps: tuple[int, ...], octets: int) -> bytes:
    """``octets`` of the sequence a[t+8] = XOR of a[t+8-d] for d in ``taps``, a[0..7] = 1.

    A slow bit-by-bit generator, run once at import for each randomizer.
    """
    bits = [1] * 8
    while len(bits) < octets * 8:
        t = len(bits) - 8
        bit = 0
        for d in taps:
            bit ^= bits[t + 8 - d]
        bits.append(bit)
    out = bytearray(octets)
    for i in range(octets):
        value = 0
        for b in bits[i * 8 : i * 8 + 8]:
            value = (value << 1) | b
        out[i] = value
    return bytes(out)


# x^8 + x^7 + x^5 + x^3 + 1: a[t+8] = a[t+7] ^ a[t+5] ^ a[t+3] ^ a[t]
TM_TAPS = (1, 3, 5, 8)
# x^8 + x^6 + x^4 + x^3 + x^2 + x + 1: a[t+8] = a[t+6] ^ a[t+4] ^ a[t+3] ^ a[t+2] ^ a[t+1] ^ a[t]
TC_TAPS = (2, 4, 5, 6, 7, 8)

TM_PERIOD_OCTETS = lfsr_sequence(TM_TAPS, PERIOD)
TC_PERIOD_OCTETS = lfsr_sequence(TC_TAPS, PERIOD)


def _tiled(period: bytes, octets: int) -> npt.NDArray[np.uint8]:
    base = np.frombuffer(period, dtype=np.uint8)
    reps = -(-octets // len(base))
    seq = np.tile(base, reps)[:octets]
    seq.flags.writeable = False
    return seq


_TM_SEQ = _tiled(TM_PERIOD_OCTETS, _PRECOMPUTED_OCTETS)
_TC_SEQ = _tiled(TC_PERIOD_OCTETS, _PRECOMPUTED_OCTETS)


def _xor(data: bytes | bytearray | memoryview, seq: npt.NDArray[np.uint8]) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    if n > len(seq):
        seq = _tiled(seq[:PERIOD].tobytes(), n)
    arr = np.frombuffer(data, dtype=np.uint8)
    return (arr ^ seq[:n]).tobytes()


def tm_randomize(data: bytes | bytearray | memoryview) -> bytes:
    """``data`` XOR the TM sequence from its start (randomize or derandomize)."""
    return _xor(data, _TM_SEQ)


def tc_randomize(data: bytes | bytearray | memoryview) -> bytes:
    """``data`` XOR the TC sequence from its start (randomize or derandomize)."""
    return _xor(data, _TC_SEQ)


def tm_sequence(octets: int) -> bytes:
    """The first ``octets`` of the TM sequence."""
    return _tiled(TM_PERIOD_OCTETS, octets).tobytes()


def tc_sequence(octets: int) -> bytes:
    """The first ``octets`` of the TC sequence."""
    return _tiled(TC_PERIOD_OCTETS, octets).tobytes()
