"""The batch CRC-16 check: the same verdict as one ``crc_hqx`` per packet for whole
batches and for damage in one packet anywhere, with and without ``anycrc``; its one
documented limit shown."""

from __future__ import annotations

from binascii import crc_hqx
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.ground import archive_crc
from flightsw.ground.archive_crc import PERIOD, all_whole, zero_run_crcs


@contextmanager
def _anycrc(used: bool) -> Iterator[None]:
    """The check with the joined CRC (``anycrc``) or packet by packet (as without it)."""
    kept = archive_crc.joined_crc
    if not used:
        archive_crc.joined_crc = None
    try:
        yield
    finally:
        archive_crc.joined_crc = kept


def _packet(body: bytes) -> bytes:
    return body + crc_hqx(body, 0xFFFF).to_bytes(2, "big")


def _check(raws: list[bytes]) -> bool:
    lens = np.array([len(r) for r in raws], dtype=np.int64)
    return all_whole(raws, b"".join(raws), np.cumsum(lens) - lens)


def _damaged(raw: bytes, at: int, xor: int) -> bytes:
    out = bytearray(raw)
    out[at % len(raw)] ^= xor
    return bytes(out)


def test_anycrc_is_there_for_the_fast_check() -> None:
    assert archive_crc.joined_crc is not None  # a dependency; the bench measures it


def test_the_zero_run_table_is_crc_hqx_of_zeros_and_repeats_every_32767_octets() -> None:
    table = zero_run_crcs()
    for n in (0, 1, 2, 255, 4096, PERIOD - 1):
        assert int(table[n]) == crc_hqx(bytes(n), 0xFFFF), n
    for n in (PERIOD, PERIOD + 1, 3 * PERIOD + 1000, 100 * PERIOD + 7):
        assert crc_hqx(bytes(n), 0xFFFF) == int(table[n % PERIOD]), n
    assert len(set(table.tolist())) == PERIOD  # the full period: no shorter one


_BODIES = st.lists(st.binary(min_size=1, max_size=120), min_size=1, max_size=30)


@settings(max_examples=60)
@given(bodies=_BODIES, used=st.booleans(), data=st.data())
def test_one_damaged_packet_anywhere_fails_the_batch(
    bodies: list[bytes], used: bool, data: st.DataObject
) -> None:
    raws = [_packet(b) for b in bodies]
    at = data.draw(
        st.sampled_from([0, len(raws) // 2, len(raws) - 1]) | st.integers(0, len(raws) - 1)
    )
    octet = data.draw(st.integers(0, 10_000))
    xor = data.draw(st.integers(1, 255))
    with _anycrc(used):
        assert _check(raws)
        raws[at] = _damaged(raws[at], octet, xor)
        assert not _check(raws)  # one burst of <= 8 bits: always caught


@settings(max_examples=60)
@given(bodies=_BODIES.filter(lambda b: len(b) >= 2), used=st.booleans(), data=st.data())
def test_two_damaged_packets_fail_the_batch(
    bodies: list[bytes], used: bool, data: st.DataObject
) -> None:
    """The same octet damage in two packets of a batch shorter than 4,095 octets: their
    remainders cancel only 32,767 bits apart, so this is always caught."""
    raws = [_packet(b) for b in bodies]
    assert sum(map(len, raws)) < 4095
    first, second = data.draw(
        st.lists(st.integers(0, len(raws) - 1), min_size=2, max_size=2, unique=True)
    )
    xor = data.draw(st.integers(1, 255))
    raws[first] = _damaged(raws[first], data.draw(st.integers(0, 200)), xor)
    raws[second] = _damaged(raws[second], data.draw(st.integers(0, 200)), xor)
    with _anycrc(used):
        assert not _check(raws)


def test_the_documented_limit_two_bit_errors_32767_bits_apart_cancel() -> None:
    """The module's note made concrete: two single-bit errors in two packets, 32,767 bits
    apart in the joined octets, pass the batch check (packet by packet they do not)."""
    raws = [_packet(bytes(range(256)) * 16) for _ in range(3)]  # 4,098 octets each
    bit = 100 * 8 + 3  # in the first packet
    other = bit + PERIOD  # in the second
    joined = bytearray(b"".join(raws))
    for b in (bit, other):
        joined[b // 8] ^= 0x80 >> (b % 8)
    bad = [bytes(joined[k * 4098 : (k + 1) * 4098]) for k in range(3)]
    assert bad[0] != raws[0] and bad[1] != raws[1] and bad[2] == raws[2]
    with _anycrc(True):
        assert _check(bad)  # the limit
    with _anycrc(False):
        assert not _check(bad)


@pytest.mark.parametrize("used", [True, False])
def test_an_empty_batch_is_whole(used: bool) -> None:
    with _anycrc(used):
        assert all_whole([], b"", np.zeros(0, dtype=np.int64))
