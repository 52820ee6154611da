"""CLTUs: known vectors from independent encoders, round trips, error correction, stream
decoding with garbage, chunking, rejection and bounds."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError, EncodeError
from flightsw.link.cltu import (
    MAX_CODEBLOCKS,
    START_SEQUENCE,
    TAIL_SEQUENCE,
    CltuDecoder,
    decode_cltu,
    encode_cltu,
    tail_errors,
)
from flightsw.link.tc_frame import TcFrame

# dariolucia/ccsds (Java) TcEncoderTest: TC frame SCID 123, VC 1, N(S) 0, no FECF, data
# 01..0A, TC-randomized then CLTU-encoded. Fill octets are added after randomization.
DARIOLUCIA_FRAME = bytes.fromhex("007b040e000102030405060708090a")
DARIOLUCIA_CLTU = bytes.fromhex(
    "eb90ff429a5468e804bef6688c29a63957c20255555555555556c5c5c5c5c5c5c579"
)
# A CLTU from the tests of a public C flight stack (Zephyr "akira" CCSDS profile): not
# randomized; the frame (SCID 123, VC 0, N(S) 31, segment header, FECF) is 26 octets.
AKIRA_CLTU = bytes.fromhex(
    "eb90007b00191fc0186410c006000b100e16020000010319008800bbe915465555d2c5c5c5c5c5c5c579"
)


def flip(raw: bytes, *bits: int) -> bytes:
    out = bytearray(raw)
    for b in bits:
        out[b >> 3] ^= 0x80 >> (b & 7)
    return bytes(out)


def test_randomized_cltu_equals_an_independent_encoder() -> None:
    assert encode_cltu(DARIOLUCIA_FRAME, randomize=True) == DARIOLUCIA_CLTU
    cltu = decode_cltu(DARIOLUCIA_CLTU, randomize=True)
    assert cltu.data[: len(DARIOLUCIA_FRAME)] == DARIOLUCIA_FRAME
    assert (cltu.codeblocks, cltu.corrected) == (3, 0)
    frame = TcFrame.decode(cltu.data, has_fecf=False, trailing_ok=True)
    assert (frame.scid, frame.vcid, frame.data) == (123, 1, bytes(range(1, 11)))


def test_plain_cltu_from_another_implementation_decodes_to_a_valid_frame() -> None:
    cltu = decode_cltu(AKIRA_CLTU)
    assert cltu.codeblocks == 4
    frame = TcFrame.decode(cltu.data, has_segment_header=True, trailing_ok=True)
    assert (frame.scid, frame.vcid, frame.seq, frame.seq_flags, frame.map_id) == (123, 0, 31, 3, 0)
    assert cltu.data[26:] == b"\x55\x55"
    assert encode_cltu(cltu.data[:26]) == AKIRA_CLTU


@pytest.mark.parametrize("length", [1, 6, 7, 8, 13, 14, 100, 1024])
def test_layout_start_codeblocks_fill_tail(length: int) -> None:
    frame = bytes((i * 37 + 1) % 256 for i in range(length))
    raw = encode_cltu(frame)
    blocks = -(-length // 7)
    assert raw[:2] == START_SEQUENCE and raw[-8:] == TAIL_SEQUENCE
    assert len(raw) == 2 + 8 * blocks + 8
    info = b"".join(raw[2 + 8 * i : 9 + 8 * i] for i in range(blocks))
    assert info == frame + b"\x55" * (7 * blocks - length)


@given(st.binary(min_size=1, max_size=1100), st.booleans())
def test_round_trip(frame: bytes, randomize: bool) -> None:
    raw = encode_cltu(frame, randomize=randomize)
    cltu = decode_cltu(raw, randomize=randomize, max_codeblocks=200)
    assert cltu.data[: len(frame)] == frame
    assert cltu.codeblocks == -(-len(frame) // 7) and cltu.corrected == 0


def test_every_single_bit_error_in_every_codeblock_is_corrected() -> None:
    frame = bytes(range(40))  # 6 codeblocks
    raw = encode_cltu(frame, randomize=True)
    for block in range(6):
        for bit in range(64):
            damaged = flip(raw, 16 + 64 * block + bit)
            cltu = decode_cltu(damaged, randomize=True)
            assert cltu.data[:40] == frame, (block, bit)
            assert cltu.corrected == (1 if bit < 63 else 0)


def test_one_single_bit_error_in_each_codeblock_at_once() -> None:
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, 1024, dtype=np.uint8).tobytes()
    raw = encode_cltu(frame)
    bits = [16 + 64 * b + int(rng.integers(0, 63)) for b in range(MAX_CODEBLOCKS)]
    cltu = decode_cltu(flip(raw, *bits))
    assert cltu.data[:1024] == frame and cltu.corrected == MAX_CODEBLOCKS


def test_tail_is_uncorrectable_with_up_to_one_error_and_then_ends_the_cltu() -> None:
    frame = b"tail test"
    raw = encode_cltu(frame)
    tail_at = len(raw) - 8
    for bit in range(64):
        cltu = decode_cltu(flip(raw, 8 * tail_at + bit))
        assert cltu.data[: len(frame)] == frame
        assert tail_errors(flip(TAIL_SEQUENCE, bit)) == (1 if bit < 63 else 0)


def test_tail_with_two_errors_is_miscorrected_into_data() -> None:
    """Documents the code's limit: the tail is at distance 3 from the nearest codeword."""
    raw = encode_cltu(b"x" * 7)
    with pytest.raises(DecodeError) as exc:
        decode_cltu(flip(raw, 8 * (len(raw) - 8), 8 * (len(raw) - 8) + 1))
    assert exc.value.field == "tail_sequence"


def test_uncorrectable_codeblock_is_rejected_with_its_offset() -> None:
    raw = encode_cltu(bytes(30))
    with pytest.raises(DecodeError) as exc:
        decode_cltu(flip(raw, 16 + 64 * 2 + 5, 16 + 64 * 2 + 40))
    assert (exc.value.field, exc.value.offset) == ("codeblock", 2 + 8 * 2)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"", "cltu"),
        (b"\xeb\x91" + bytes(16), "start_sequence"),
        (encode_cltu(b"abc")[:-1], "cltu"),
        (encode_cltu(b"abcdefghij")[:-8], "tail_sequence"),
        (encode_cltu(b"abc") + encode_cltu(b"abc")[2:10], "tail_sequence"),
        (START_SEQUENCE + TAIL_SEQUENCE + TAIL_SEQUENCE, "codeblock"),
    ],
)
def test_malformed_cltus(raw: bytes, field: str) -> None:
    with pytest.raises(DecodeError) as exc:
        decode_cltu(raw)
    assert exc.value.field == field


def test_too_many_codeblocks() -> None:
    raw = encode_cltu(bytes(7 * 5))
    assert decode_cltu(raw, max_codeblocks=5).codeblocks == 5
    with pytest.raises(DecodeError, match="more than 4"):
        decode_cltu(raw, max_codeblocks=4)


def test_encode_rejects_empty_frame() -> None:
    with pytest.raises(EncodeError):
        encode_cltu(b"")


@given(st.binary(max_size=300))
def test_decode_random_bytes_only_decode_error(raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_cltu(raw)
    with contextlib.suppress(DecodeError):
        decode_cltu(START_SEQUENCE + raw)


@given(st.binary(min_size=1, max_size=60), st.data())
def test_decode_mutated_cltu_only_decode_error(frame: bytes, data: st.DataObject) -> None:
    raw = bytearray(encode_cltu(frame))
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    for candidate in (bytes(raw), bytes(raw[:cut])):
        with contextlib.suppress(DecodeError):
            decode_cltu(candidate, randomize=data.draw(st.booleans()))


# --- the stream decoder ------------------------------------------------------------------


def _stream(frames: list[bytes], gaps: list[bytes], randomize: bool = False) -> bytes:
    out = bytearray(gaps[0])
    for frame, gap in zip(frames, gaps[1:], strict=True):
        out += encode_cltu(frame, randomize=randomize) + gap
    return bytes(out)


def _feed_in_chunks(dec: CltuDecoder, stream: bytes, sizes: list[int]) -> list[bytes]:
    out: list[bytes] = []
    pos = 0
    i = 0
    while pos < len(stream):
        n = sizes[i % len(sizes)] if sizes else len(stream)
        out += dec.feed(stream[pos : pos + n])
        pos += n
        i += 1
    return out


def test_stream_with_garbage_between_cltus_byte_by_byte() -> None:
    frames = [bytes([k]) * (10 + 9 * k) for k in range(5)]
    gaps = [b"\x00\x01", b"", b"\xaa" * 20, b"\xeb", b"\x55" * 3, b"\xeb\x91\xeb"]
    stream = _stream(frames, gaps, randomize=True)
    dec = CltuDecoder(randomize=True)
    got = _feed_in_chunks(dec, stream, [1])
    assert [g[: len(f)] for g, f in zip(got, frames, strict=True)] == frames
    assert dec.cltus_ok == 5 and dec.cltus_rejected == 0
    assert dec.buffered == 1  # the last 0xEB may start a start sequence
    assert dec.garbage_octets + dec.buffered == sum(map(len, gaps))
    assert dec.codeblocks == sum(-(-len(f) // 7) for f in frames)


@given(
    st.lists(st.binary(min_size=1, max_size=80), min_size=1, max_size=5),
    st.data(),
)
def test_stream_any_chunking_any_garbage(frames: list[bytes], data: st.DataObject) -> None:
    # garbage without the start sequence, so every octet of it is counted as garbage
    gap = st.binary(max_size=30).filter(lambda g: b"\xeb" not in g)
    gaps = [data.draw(gap) for _ in range(len(frames) + 1)]
    sizes = data.draw(st.lists(st.integers(1, 64), min_size=1, max_size=8))
    dec = CltuDecoder()
    got = _feed_in_chunks(dec, _stream(frames, gaps), sizes)
    assert [g[: len(f)] for g, f in zip(got, frames, strict=True)] == frames
    assert dec.garbage_octets == sum(map(len, gaps))


def test_stream_corrects_and_rejects_and_recovers() -> None:
    good = encode_cltu(b"A" * 20)
    corrected = flip(good, 16 + 3)
    uncorrectable = flip(good, 16 + 64 + 1, 16 + 64 + 2)
    dec = CltuDecoder()
    got = dec.feed(corrected + uncorrectable + good)
    assert len(got) == 2 and all(g[:20] == b"A" * 20 for g in got)
    assert dec.corrected == 1
    assert dec.rejected_uncorrectable == 1 and dec.cltus_rejected == 1 and dec.cltus_ok == 2


def test_stream_resumes_search_inside_the_bad_codeblock() -> None:
    """A CLTU whose tail was lost: the next start sequence ends it as an uncorrectable
    codeblock, and the next CLTU is still found."""
    first = encode_cltu(b"B" * 14)[:-8]  # tail lost
    second = encode_cltu(b"C" * 14)
    dec = CltuDecoder()
    got = dec.feed(first + second)
    assert [g[:14] for g in got] == [b"C" * 14]
    assert dec.cltus_rejected == 1


def test_stream_too_long_cltu_is_rejected() -> None:
    dec = CltuDecoder(max_codeblocks=3)
    got = dec.feed(encode_cltu(bytes(7 * 4)) + encode_cltu(bytes(7 * 3)))
    assert len(got) == 1 and dec.rejected_too_long == 1 and dec.cltus_rejected == 1


def test_stream_start_then_tail_is_rejected() -> None:
    dec = CltuDecoder()
    assert dec.feed(START_SEQUENCE + TAIL_SEQUENCE) == []
    assert dec.cltus_rejected == 1 and dec.cltus_ok == 0


def test_buffer_is_bounded_and_drops_oldest_with_a_counter() -> None:
    dec = CltuDecoder(max_buffer=256)
    cltu = encode_cltu(b"D" * 50)
    # a partial CLTU, then a chunk larger than the buffer: the partial one is dropped
    assert dec.feed(cltu[:30]) == [] and dec.in_cltu
    assert dec.buffered == 4  # start + 3 codeblocks consumed, half a codeblock kept
    flood = b"\x00" * 300 + cltu
    got = dec.feed(flood)
    assert [g[:50] for g in got] == [b"D" * 50]
    assert dec.dropped_octets == 4 + len(flood) - 256
    assert dec.cltus_rejected == 1
    assert dec.buffered == 0


def test_constructor_checks() -> None:
    with pytest.raises(EncodeError):
        CltuDecoder(max_codeblocks=0)
    with pytest.raises(EncodeError):
        CltuDecoder(max_buffer=8)


@given(st.lists(st.binary(max_size=200), max_size=8), st.booleans())
def test_stream_never_raises_on_noise(chunks: list[bytes], randomize: bool) -> None:
    dec = CltuDecoder(randomize=randomize, max_buffer=512)
    fed = 0
    for chunk in [*chunks, encode_cltu(b"end")]:
        dec.feed(chunk)
        fed += len(chunk)
        assert dec.buffered <= 512
    counts = dec.counters()
    assert all(v >= 0 for v in counts.values())
    assert counts["garbage_octets"] + counts["dropped_octets"] <= fed


@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=4), st.data())
def test_stream_never_raises_on_mutated_cltus(frames: list[bytes], data: st.DataObject) -> None:
    stream = bytearray(b"".join(encode_cltu(f) for f in frames))
    for _ in range(data.draw(st.integers(1, 8))):
        stream[data.draw(st.integers(0, len(stream) - 1))] = data.draw(st.integers(0, 255))
    dec = CltuDecoder(max_codeblocks=8)
    sizes = data.draw(st.lists(st.integers(1, 50), min_size=1, max_size=4))
    for out in _feed_in_chunks(dec, bytes(stream), sizes):
        assert 0 < len(out) <= 8 * 7 and len(out) % 7 == 0
    assert dec.cltus_ok + dec.cltus_rejected <= len(stream) // 2  # each used a start
