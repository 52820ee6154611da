"""BCH(63,56): encoder against a bit-by-bit shift register, single-error correction at
every position, double errors always detected."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError, EncodeError
from flightsw.link.bch import (
    CODE_BITS,
    NO_ERROR,
    SYNDROME_POSITION,
    UNCORRECTABLE,
    BchStatus,
    decode_codeblock,
    encode_codeblock,
    encode_codeblocks,
    error_positions,
    syndrome,
    syndromes,
)


def reference_codeblock(info: bytes) -> bytes:
    """The encoder of 231.0-B-4 figure 3-1, one bit at a time: a 7-cell register cleared
    to zero, feedback taps of g(x) = x^7 + x^6 + x^2 + 1, parity complemented, filler 0."""
    reg = 0
    for octet in info:
        for i in range(8):
            feedback = ((octet >> (7 - i)) & 1) ^ (reg >> 6)
            reg = (reg << 1) & 0x7F
            if feedback:
                reg ^= 0b1000101  # x^6 + x^2 + 1: g(x) without its x^7 term
    return bytes(info) + bytes((((~reg) & 0x7F) << 1,))


def flip(block: bytes, *positions: int) -> bytes:
    out = bytearray(block)
    for p in positions:
        out[p >> 3] ^= 0x80 >> (p & 7)
    return bytes(out)


SAMPLES = [
    bytes(7),
    b"\xff" * 7,
    bytes.fromhex("0123456789abcd"),
    bytes.fromhex("c5c5c5c5c5c5c5"),
    bytes.fromhex("55555555555555"),
    bytes(range(7)),
]


def test_known_vectors() -> None:
    # all-zero information: remainder 0, complemented to 1111111, filler 0
    assert encode_codeblock(bytes(7)) == bytes.fromhex("00000000000000fe")
    # a codeblock of an independent encoder (a CLTU in dariolucia/ccsds TcEncoderTest)
    assert encode_codeblock(bytes.fromhex("ff429a5468e804")) == bytes.fromhex("ff429a5468e804be")


@given(st.binary(min_size=7, max_size=7))
def test_table_encoder_equals_shift_register(info: bytes) -> None:
    block = encode_codeblock(info)
    assert block == reference_codeblock(info)
    assert block[7] & 1 == 0
    assert syndrome(block) == 0


@given(st.lists(st.binary(min_size=7, max_size=7), max_size=40))
def test_bulk_encoder_equals_single(infos: list[bytes]) -> None:
    data = b"".join(infos)
    blocks = encode_codeblocks(data)
    assert blocks == b"".join(reference_codeblock(i) for i in infos)
    arr = np.frombuffer(blocks, dtype=np.uint8).reshape(-1, 8)
    assert not syndromes(arr).any()


def test_syndrome_table_is_a_perfect_single_error_map() -> None:
    positions = [p for p in SYNDROME_POSITION if p >= 0]
    assert sorted(positions) == list(range(CODE_BITS))
    assert SYNDROME_POSITION[0] == NO_ERROR
    assert SYNDROME_POSITION.count(UNCORRECTABLE) == 128 - 1 - CODE_BITS


@pytest.mark.parametrize("info", SAMPLES)
def test_every_single_bit_error_is_corrected(info: bytes) -> None:
    block = encode_codeblock(info)
    assert decode_codeblock(block).status is BchStatus.CLEAN
    for position in range(64):
        result = decode_codeblock(flip(block, position))
        assert result.info == info, position
        if position < CODE_BITS:
            assert result.status is BchStatus.CORRECTED and result.corrected
            assert result.error_bit == position
        else:  # the filler bit is not part of the code
            assert result.status is BchStatus.CLEAN


@pytest.mark.parametrize("info", SAMPLES)
def test_every_double_bit_error_is_detected_never_miscorrected(info: bytes) -> None:
    """Measured: all 1953 double errors in the 63 code bits of each sample are
    uncorrectable (distance 4: the syndromes have even weight, single errors odd)."""
    block = encode_codeblock(info)
    pairs = list(itertools.combinations(range(CODE_BITS), 2))
    detected = sum(decode_codeblock(flip(block, *pair)).uncorrectable for pair in pairs)
    assert detected == len(pairs) == 1953


def test_bulk_error_positions_agree_with_single_decoder() -> None:
    rng = np.random.default_rng(7)
    info = rng.integers(0, 256, size=(200, 7), dtype=np.uint8).tobytes()
    blocks = bytearray(encode_codeblocks(info))
    for i in range(200):  # 0, 1 or 2 bit errors per block
        for p in rng.choice(64, size=int(rng.integers(0, 3)), replace=False).tolist():
            blocks[8 * i + (p >> 3)] ^= 0x80 >> (p & 7)
    arr = np.frombuffer(bytes(blocks), dtype=np.uint8).reshape(200, 8)
    positions = error_positions(syndromes(arr))
    for i in range(200):
        result = decode_codeblock(bytes(blocks[8 * i : 8 * i + 8]))
        want = {
            NO_ERROR: BchStatus.CLEAN,
            UNCORRECTABLE: BchStatus.UNCORRECTABLE,
        }.get(int(positions[i]), BchStatus.CORRECTED)
        assert result.status is want
        if want is not BchStatus.UNCORRECTABLE:
            assert result.info == info[7 * i : 7 * i + 7]


def test_bad_lengths_raise_project_errors() -> None:
    with pytest.raises(DecodeError) as exc:
        decode_codeblock(b"\x00" * 7, offset=42)
    assert exc.value.field == "codeblock" and exc.value.offset == 42
    with pytest.raises(EncodeError):
        encode_codeblock(b"\x00" * 8)
    with pytest.raises(EncodeError):
        encode_codeblocks(b"\x00" * 13)
    assert encode_codeblocks(b"") == b""
