"""The (63,56) modified BCH code of TC codeblocks (CCSDS 231.0-B-4 section 3).

A codeblock is 8 octets: 56 information bits, 7 parity bits and a filler bit. The parity
is the remainder of info(x) * x^7 divided by g(x) = x^7 + x^6 + x^2 + 1, complemented
(for bit transitions), then the filler bit 0. The first transmitted bit (the MSB of the
first octet) is the highest-order coefficient.

g(x) = (x + 1)(x^6 + x + 1) with x^6 + x + 1 primitive, so this is a Hamming code with an
overall parity check: minimum distance 4. Every single-bit error in the 63 code bits has
its own syndrome and is corrected; every double-bit error has an even-weight syndrome,
which no single error has, so it is always detected, never miscorrected. Three or more
errors may be miscorrected, as with any such code. The filler bit is not part of the code
and the decoder ignores it.

Encoding and syndromes are table-driven, since the code is linear: the parity is the XOR
of one table entry per information octet (256 entries each) for single codeblocks, or per
16-bit word (65536 entries) when whole buffers of codeblocks go through numpy at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from flightsw.base.errors import DecodeError, EncodeError

INFO_LEN = 7
CODEBLOCK_LEN = 8
CODE_BITS = 63
GENERATOR = 0b11000101  # x^7 + x^6 + x^2 + 1
_PARITY_MASK = 0x7F


def poly_mod(value: int, divisor: int = GENERATOR) -> int:
    """``value`` mod ``divisor`` over GF(2) (bit i is the coefficient of x^i)."""
    degree = divisor.bit_length() - 1
    while value.bit_length() > degree:
        value ^= divisor << (value.bit_length() - 1 - degree)
    return value


def _build_tables() -> npt.NDArray[np.uint8]:
    """tables[k][b]: parity (uncomplemented) contributed by octet ``b`` at info position k."""
    tables = np.zeros((INFO_LEN, 256), dtype=np.uint8)
    for k in range(INFO_LEN):
        shift = 8 * (INFO_LEN - 1 - k) + 7
        for b in range(256):
            tables[k, b] = poly_mod(b << shift)
    return tables


_TABLES = _build_tables()
_TABLE_ROWS = [bytes(row.tobytes()) for row in _TABLES]
# Bulk paths look codeblocks up two octets at a time (16-bit words, 64 Ki-entry tables):
# the parity of octets (0, 1), (2, 3), (4, 5); and for the last word, octet 6 with the
# received parity octet, which gives that word's share of the syndrome directly.
_PAIR_TABLES = [
    (_TABLES[2 * k][:, None] ^ _TABLES[2 * k + 1][None, :]).reshape(-1) for k in range(3)
]
_LAST_WORD_SYNDROME = (
    _TABLES[6][:, None] ^ (np.arange(256, dtype=np.uint8)[None, :] >> 1) ^ 0x7F
).reshape(-1)

NO_ERROR = -1
UNCORRECTABLE = -2


def _build_syndrome_table() -> tuple[int, ...]:
    """syndrome -> code-bit position (0 = first sent) of the single error; or a marker."""
    table = [UNCORRECTABLE] * 128
    table[0] = NO_ERROR
    for position in range(CODE_BITS):
        syndrome = poly_mod(1 << (CODE_BITS - 1 - position))
        if table[syndrome] != UNCORRECTABLE:  # pragma: no cover - guarded by the tests
            raise AssertionError("two single errors share a syndrome")
        table[syndrome] = position
    return tuple(table)


SYNDROME_POSITION = _build_syndrome_table()
_SYNDROME_POSITION_NP = np.array(SYNDROME_POSITION, dtype=np.int8)


class BchStatus(IntEnum):
    """What decoding one codeblock found."""

    CLEAN = 0
    CORRECTED = 1
    UNCORRECTABLE = 2


@dataclass(frozen=True, slots=True)
class Bch:
    """One decoded codeblock.

    ``info`` is the 7 information octets, corrected when ``status`` is CORRECTED and as
    received when UNCORRECTABLE. ``error_bit`` is the corrected code-bit position (0 is
    the first bit sent, 0..55 information, 56..62 parity), else None.
    """

    info: bytes
    status: BchStatus
    error_bit: int | None = None

    @property
    def corrected(self) -> bool:
        return self.status is BchStatus.CORRECTED

    @property
    def uncorrectable(self) -> bool:
        return self.status is BchStatus.UNCORRECTABLE


def parity(info: bytes | bytearray | memoryview) -> int:
    """The 7 uncomplemented parity bits of 7 information octets."""
    t0, t1, t2, t3, t4, t5, t6 = _TABLE_ROWS
    return (
        t0[info[0]]
        ^ t1[info[1]]
        ^ t2[info[2]]
        ^ t3[info[3]]
        ^ t4[info[4]]
        ^ t5[info[5]]
        ^ t6[info[6]]
    )


def encode_codeblock(info: bytes | bytearray | memoryview) -> bytes:
    """7 information octets -> one 8-octet codeblock."""
    if len(info) != INFO_LEN:
        raise EncodeError("info", f"{len(info)} octets, a codeblock carries {INFO_LEN}")
    return bytes(info) + bytes((((parity(info) ^ _PARITY_MASK) << 1),))


def encode_codeblocks(data: bytes | bytearray | memoryview) -> bytes:
    """Information octets (a multiple of 7) -> the codeblocks, in one numpy pass."""
    if len(data) % INFO_LEN:
        raise EncodeError("info", f"{len(data)} octets is not a multiple of {INFO_LEN}")
    n = len(data) // INFO_LEN
    if n == 0:
        return b""
    out = np.empty((n, CODEBLOCK_LEN), dtype=np.uint8)
    out[:, :INFO_LEN] = np.frombuffer(data, dtype=np.uint8).reshape(n, INFO_LEN)
    words = out.view(">u2")
    par = (
        _PAIR_TABLES[0][words[:, 0]]
        ^ _PAIR_TABLES[1][words[:, 1]]
        ^ _PAIR_TABLES[2][words[:, 2]]
        ^ _TABLES[6][out[:, 6]]
    )
    out[:, INFO_LEN] = (par ^ _PARITY_MASK) << 1
    return out.tobytes()


def syndrome(block: bytes | bytearray | memoryview) -> int:
    """The 7-bit syndrome of one 8-octet codeblock (0: a codeword; filler bit ignored)."""
    return parity(block) ^ (block[INFO_LEN] >> 1) ^ _PARITY_MASK


def syndromes(blocks: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Syndromes of an (n, 8) array of codeblocks."""
    words = np.ascontiguousarray(blocks, dtype=np.uint8).view(">u2")
    result: npt.NDArray[np.uint8] = (
        _PAIR_TABLES[0][words[:, 0]]
        ^ _PAIR_TABLES[1][words[:, 1]]
        ^ _PAIR_TABLES[2][words[:, 2]]
        ^ _LAST_WORD_SYNDROME[words[:, 3]]
    )
    return result


def error_positions(synd: npt.NDArray[np.uint8]) -> npt.NDArray[np.int8]:
    """Per syndrome: the single-error position, NO_ERROR (-1) or UNCORRECTABLE (-2)."""
    result: npt.NDArray[np.int8] = _SYNDROME_POSITION_NP[synd]
    return result


def correct_info(block: bytes | bytearray | memoryview, position: int) -> bytes:
    """The information octets of ``block`` with code bit ``position`` flipped (if in info)."""
    info = bytearray(block[:INFO_LEN])
    if position < 8 * INFO_LEN:
        info[position >> 3] ^= 0x80 >> (position & 7)
    return bytes(info)


def decode_codeblock(block: bytes | bytearray | memoryview, offset: int = 0) -> Bch:
    """Check and correct one codeblock; ``offset`` only locates it in a DecodeError."""
    if len(block) != CODEBLOCK_LEN:
        raise DecodeError(
            "codeblock", offset, f"{len(block)} octets, a codeblock is {CODEBLOCK_LEN}"
        )
    position = SYNDROME_POSITION[syndrome(block)]
    if position == NO_ERROR:
        return Bch(bytes(block[:INFO_LEN]), BchStatus.CLEAN)
    if position == UNCORRECTABLE:
        return Bch(bytes(block[:INFO_LEN]), BchStatus.UNCORRECTABLE)
    return Bch(correct_info(block, position), BchStatus.CORRECTED, position)
