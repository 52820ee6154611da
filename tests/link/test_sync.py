"""ASM and the CADU reader: garbage before and between frames, any chunking, flywheel,
tolerant search, bounded buffer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import EncodeError
from flightsw.link.randomizer import tm_randomize
from flightsw.link.sync import ASM, CaduReader, asm_errors, encode_cadu, find_asm

FRAME_LEN = 64


def frames_of(n: int, length: int = FRAME_LEN) -> list[bytes]:
    return [bytes((k * 31 + i) % 256 for i in range(length)) for k in range(n)]


def flip(raw: bytes, *bits: int) -> bytes:
    out = bytearray(raw)
    for b in bits:
        out[b >> 3] ^= 0x80 >> (b & 7)
    return bytes(out)


def feed_chunks(reader: CaduReader, stream: bytes, sizes: list[int]) -> list[bytes]:
    out: list[bytes] = []
    pos = i = 0
    while pos < len(stream):
        n = sizes[i % len(sizes)]
        out += reader.feed(stream[pos : pos + n])
        pos += n
        i += 1
    return out


def test_encode_cadu() -> None:
    frame = bytes(10)
    assert encode_cadu(frame) == bytes.fromhex("1acffc1d") + tm_randomize(frame)
    assert encode_cadu(frame)[4:8] == bytes.fromhex("ff480ec0")
    assert encode_cadu(frame, randomize=False) == ASM + frame
    with pytest.raises(EncodeError):
        encode_cadu(b"")


def test_back_to_back_cadus_in_one_chunk() -> None:
    frames = frames_of(10)
    reader = CaduReader(FRAME_LEN)
    assert reader.feed(b"".join(encode_cadu(f) for f in frames)) == frames
    assert reader.counters() == {
        "frames": 10,
        "garbage_octets": 0,
        "lock_losses": 0,
        "dropped_octets": 0,
    }
    assert reader.locked


def test_garbage_before_and_between_frames_byte_by_byte() -> None:
    frames = frames_of(4)
    gaps = [b"\x1a\xcf\xfc", b"", b"noise!", b"\x1a"]
    stream = gaps[0]
    for frame, gap in zip(frames, [*gaps[1:], b""], strict=True):
        stream += encode_cadu(frame) + gap
    reader = CaduReader(FRAME_LEN)
    assert feed_chunks(reader, stream, [1]) == frames
    assert reader.buffered == 0
    assert reader.garbage_octets == sum(map(len, gaps))
    assert reader.lock_losses == 2  # at "noise!" and at the lone 0x1a


@given(
    st.lists(st.binary(min_size=FRAME_LEN, max_size=FRAME_LEN), min_size=1, max_size=6),
    st.data(),
)
def test_any_chunking_any_garbage(frames: list[bytes], data: st.DataObject) -> None:
    gap = st.binary(max_size=40).filter(lambda g: b"\x1a" not in g)
    gaps = [data.draw(gap) for _ in frames]
    stream = b"".join(g + encode_cadu(f) for g, f in zip(gaps, frames, strict=True))
    sizes = data.draw(st.lists(st.integers(1, 100), min_size=1, max_size=6))
    reader = CaduReader(FRAME_LEN)
    assert feed_chunks(reader, stream, sizes) == frames
    assert reader.garbage_octets == sum(map(len, gaps))
    assert reader.lock_losses == sum(1 for g in gaps[1:] if g)


def test_flywheel_accepts_up_to_four_asm_errors_when_locked() -> None:
    frames = frames_of(3)
    cadus = [encode_cadu(f) for f in frames]
    reader = CaduReader(FRAME_LEN)
    got = reader.feed(cadus[0] + flip(cadus[1], 0, 9, 17, 31) + cadus[2])
    assert got == frames and reader.lock_losses == 0


def test_flywheel_loses_lock_at_five_asm_errors() -> None:
    frames = frames_of(3)
    cadus = [encode_cadu(f) for f in frames]
    reader = CaduReader(FRAME_LEN)
    got = reader.feed(cadus[0] + flip(cadus[1], 0, 9, 17, 25, 31) + cadus[2])
    assert got == [frames[0], frames[2]]
    assert reader.lock_losses == 1
    assert reader.garbage_octets == len(cadus[1])


def test_search_tolerates_errors_only_when_asked() -> None:
    frame = frames_of(1)[0]
    damaged = b"xx" + flip(encode_cadu(frame), 3, 20)
    exact = CaduReader(FRAME_LEN)
    assert exact.feed(damaged) == []
    tolerant = CaduReader(FRAME_LEN, search_max_errors=2)
    assert tolerant.feed(damaged) == [frame]
    assert tolerant.garbage_octets == 2


@given(st.binary(max_size=200), st.integers(0, 6), st.integers(0, 20))
def test_find_asm_equals_brute_force(buf: bytes, max_errors: int, start: int) -> None:
    want = next(
        (i for i in range(start, len(buf) - 3) if asm_errors(buf, i) <= max_errors),
        -1,
    )
    assert find_asm(buf, start, max_errors) == want


def test_not_randomized_stream() -> None:
    frames = frames_of(2)
    reader = CaduReader(FRAME_LEN, randomize=False)
    assert reader.feed(b"".join(encode_cadu(f, randomize=False) for f in frames)) == frames


def test_buffer_is_bounded_and_drops_oldest_with_a_counter() -> None:
    frames = frames_of(8)
    stream = b"".join(encode_cadu(f) for f in frames)  # 8 * 68 = 544 octets
    reader = CaduReader(FRAME_LEN, max_buffer=200)
    reader.feed(stream[:10])  # locked on the first ASM, waiting for its frame
    assert reader.locked and reader.buffered == 10
    got = reader.feed(stream[10:])
    # 10 + 534 octets against a 200-octet bound: the oldest 344 go, the last 2 CADUs and
    # the tail of the third remain; the search finds the two whole ones
    assert reader.dropped_octets == 344
    assert got == frames[-2:]
    assert reader.lock_losses == 1
    assert reader.buffered <= 200


def test_constructor_checks() -> None:
    with pytest.raises(EncodeError):
        CaduReader(0)
    with pytest.raises(EncodeError):
        CaduReader(100, max_buffer=150)
    with pytest.raises(EncodeError):
        CaduReader(100, search_max_errors=9)


@given(st.lists(st.binary(max_size=300), max_size=8), st.integers(0, 3))
def test_never_raises_on_noise(chunks: list[bytes], search_errors: int) -> None:
    reader = CaduReader(16, max_buffer=256, search_max_errors=search_errors)
    for chunk in [*chunks, encode_cadu(bytes(16))]:
        for frame in reader.feed(chunk):
            assert len(frame) == 16
        assert reader.buffered <= 256
    assert all(v >= 0 for v in reader.counters().values())


@given(st.lists(st.binary(min_size=16, max_size=16), min_size=1, max_size=5), st.data())
def test_never_raises_on_mutated_cadus(frames: list[bytes], data: st.DataObject) -> None:
    stream = bytearray(b"".join(encode_cadu(f) for f in frames))
    for _ in range(data.draw(st.integers(1, 8))):
        stream[data.draw(st.integers(0, len(stream) - 1))] = data.draw(st.integers(0, 255))
    reader = CaduReader(16, search_max_errors=data.draw(st.integers(0, 2)))
    sizes = data.draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
    got = feed_chunks(reader, bytes(stream), sizes)
    assert all(len(f) == 16 for f in got)
    assert len(got) <= len(stream) // 20
