"""The one bounded stream buffer: never more than its limit, every lost octet counted,
and the readers built on it find the same units however the stream is cut."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.stream import StreamBuffer
from hal.serial.protocol import FrameDecoder, encode_frame

chunks = st.lists(st.binary(max_size=300), max_size=30)


@given(st.integers(1, 512), chunks, st.lists(st.integers(0, 600), max_size=30))
def test_feed_keeps_the_newest_octets_within_the_limit_and_counts_the_rest(
    limit: int, fed: list[bytes], used: list[int]
) -> None:
    buf = StreamBuffer(limit)
    kept = bytearray()  # the model: the same stream, cut by hand
    dropped = 0
    for i, chunk in enumerate(fed):
        buf.feed(chunk)
        kept += chunk
        if len(kept) > limit:
            dropped += len(kept) - limit
            del kept[: len(kept) - limit]
        assert len(buf) <= limit
        n = min(used[i] if i < len(used) else 0, len(kept))
        buf.consume(n)
        del kept[:n]
        assert buf.data == kept
    assert buf.dropped_octets == dropped


@given(st.integers(1, 512), chunks)
def test_offer_takes_a_chunk_whole_or_refuses_it_whole(limit: int, fed: list[bytes]) -> None:
    buf = StreamBuffer(limit)
    taken = bytearray()
    refused = []
    for chunk in fed:
        if buf.offer(chunk):
            taken += chunk
        else:
            refused.append(chunk)
        assert len(buf) <= limit
    assert buf.data == taken
    assert (buf.refused, buf.refused_octets) == (len(refused), sum(map(len, refused)))
    assert buf.dropped_octets == 0


def test_the_serial_decoder_finds_the_same_frames_in_one_huge_chunk_or_many_small() -> None:
    """A chunk bigger than the decoder's piece is taken piece by piece: no octet dropped,
    the frames those of the same stream fed in small chunks (seeds vary the cuts)."""
    rng = random.Random(7)
    stream = b"".join(
        rng.randbytes(rng.randrange(0, 9)) + encode_frame(1, i & 0xFF, rng.randbytes(2000))
        for i in range(120)  # ~ 250 KB: four pieces
    )
    assert len(stream) > 3 * FrameDecoder.FEED_PIECE
    whole = FrameDecoder()
    frames_whole = whole.feed(stream)
    for seed in range(3):
        cut = random.Random(seed)
        small = FrameDecoder()
        frames, pos = [], 0
        while pos < len(stream):
            n = cut.randrange(1, 5000)
            frames += small.feed(stream[pos : pos + n])
            pos += n
        assert frames == frames_whole
    assert len(frames_whole) == 120 and whole.dropped_octets == 0 and whole.pending == 0
