"""The TM and TC pseudo-randomizers: known octets, period, involution."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flightsw.link.randomizer import (
    PERIOD,
    TC_PERIOD_OCTETS,
    TM_PERIOD_OCTETS,
    lfsr_sequence,
    tc_randomize,
    tc_sequence,
    tm_randomize,
    tm_sequence,
)


def _bits(octets: bytes) -> list[int]:
    return [(b >> (7 - i)) & 1 for b in octets for i in range(8)]


def test_tm_sequence_first_octets_as_in_131_0_b() -> None:
    assert tm_sequence(8) == bytes.fromhex("ff480ec09a0d70bc")


def test_tc_sequence_first_40_bits_as_printed_in_231_0_b() -> None:
    printed = "1111 1111 0011 1001 1001 1110 0101 1010 0110 1000"
    assert _bits(tc_sequence(5)) == [int(c) for c in printed.replace(" ", "")]


def test_tc_sequence_matches_the_ldpc_tail_example_of_231_0_b() -> None:
    """231.0-B-4 gives an LDPC tail before and after derandomization: their XOR is the
    first 16 octets of the TC sequence."""
    tail = bytes.fromhex("63a1ed72c6ac79e25555555555555555")
    derandomized = bytes.fromhex("9c987328ae457f1739dc7af4640b5d95")
    assert tc_randomize(tail) == derandomized


def test_the_two_sequences_differ() -> None:
    assert TM_PERIOD_OCTETS != TC_PERIOD_OCTETS


def test_bit_period_is_255_and_not_shorter() -> None:
    for period_octets in (TM_PERIOD_OCTETS, TC_PERIOD_OCTETS):
        bits = _bits(period_octets * 2)
        assert bits[:PERIOD] == bits[PERIOD : 2 * PERIOD]
        for shorter in (1, 3, 5, 15, 17, 51, 85):  # the divisors of 255
            assert bits[:PERIOD] != bits[shorter : shorter + PERIOD]
        assert sum(bits[:PERIOD]) == 128  # an m-sequence: 128 ones, 127 zeros


def test_octet_sequence_repeats_every_255_octets_beyond_the_precomputed_length() -> None:
    long = tm_sequence(40_000)
    assert long[:PERIOD] == TM_PERIOD_OCTETS
    assert long[39_000 : 39_000 + PERIOD] == long[39_000 % PERIOD :][:PERIOD]
    assert tm_randomize(bytes(40_000)) == long
    assert tc_randomize(bytes(20_000)) == tc_sequence(20_000)


def test_lfsr_generator_is_the_recurrence() -> None:
    seq = _bits(lfsr_sequence((1, 3, 5, 8), 4))
    for t in range(len(seq) - 8):
        assert seq[t + 8] == seq[t + 7] ^ seq[t + 5] ^ seq[t + 3] ^ seq[t]


@given(st.binary(max_size=3000))
def test_randomizing_twice_is_identity(data: bytes) -> None:
    assert tm_randomize(tm_randomize(data)) == data
    assert tc_randomize(tc_randomize(bytearray(data))) == data
    if data:
        assert tm_randomize(data) != data


def test_empty_and_memoryview_inputs() -> None:
    assert tm_randomize(b"") == b"" == tc_randomize(memoryview(b""))
    assert tm_randomize(memoryview(b"\x00\x00")) == b"\xff\x48"
