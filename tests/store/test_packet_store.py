import random
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.store.packet_store import PacketStore, PacketStoreError
from flightsw.store.record import END, encode_record, pack_body, stuff
from hal.nvstore import FileNvStore, MemoryNvStore, NvStoreError


def _pkts(n: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [struct.pack(">I", i) + rng.randbytes(rng.randrange(0, 300)) for i in range(n)]


@pytest.mark.parametrize("make", [MemoryNvStore, "file"])
def test_append_and_read_back_across_reopen(make: object, tmp_path: Path) -> None:
    nv = FileNvStore(tmp_path, sync=False) if make == "file" else MemoryNvStore()
    store = PacketStore(nv, segment_bytes=4096)
    pkts = _pkts(200)
    for p in pkts:
        assert store.append(p)
    assert len(store.segments) > 5
    assert store.packets() == pkts
    again = PacketStore(nv, segment_bytes=4096)
    assert again.packets() == pkts
    assert again.packet_count == 200


def test_torn_last_record_is_dropped_and_only_it() -> None:
    nv = MemoryNvStore()
    store = PacketStore(nv)
    pkts = _pkts(20)
    for p in pkts:
        store.append(p)
    seg = store._seg(store.segments[-1])
    full = nv.size(seg)
    rec = encode_record(20, b"x" * 50)
    for cut in range(1, len(rec)):
        nv.files[seg] = nv.files[seg][:full] + bytearray(rec[:cut])
        again = PacketStore(nv)
        assert again.packets() == pkts
        assert nv.size(seg) == full
        assert again.stats.torn_bytes_recovered == cut


def test_corrupt_middle_record_is_skipped_and_counted() -> None:
    nv = MemoryNvStore()
    store = PacketStore(nv)
    pkts = _pkts(10)
    for p in pkts:
        store.append(p)
    seg = store._seg(store.segments[-1])
    offset = sum(len(encode_record(i, p)) for i, p in enumerate(pkts[:4])) + 20  # in #4
    nv.files[seg][offset] ^= 0x01
    again = PacketStore(nv)
    assert again.packets() == pkts[:4] + pkts[5:]
    assert again.stats.corrupt_records_skipped == 1
    assert again.stats.sequence_gaps == 1
    # counted once: the bad frame is neutralized on the medium, offsets unchanged
    assert nv.size(seg) == sum(len(encode_record(i, p)) for i, p in enumerate(pkts))
    for _ in range(3):
        reopened = PacketStore(nv)
        assert reopened.stats.corrupt_records_skipped == 0
        assert reopened.packets() == pkts[:4] + pkts[5:]
    assert reopened.append(b"next") and PacketStore(nv).packets()[-1] == b"next"


def test_bounded_drop_oldest_and_reject() -> None:
    nv = MemoryNvStore()
    circ = PacketStore(nv, "circ", segment_bytes=1000, max_segments=3)
    pkts = [bytes([i % 256]) * 100 for i in range(100)]
    for p in pkts:
        assert circ.append(p)
    kept = circ.packets()
    assert kept == pkts[-len(kept) :]
    assert circ.stats.dropped_packets == 100 - len(kept) > 0
    assert len(circ.segments) == 3
    rej = PacketStore(nv, "rej", segment_bytes=1000, max_segments=2, overflow="reject")
    results = [rej.append(p) for p in pkts]
    assert results.count(True) == len(rej.packets()) and not results[-1]
    assert rej.stats.rejected == results.count(False)
    with pytest.raises(PacketStoreError):
        rej.append(bytes(70_000))


def test_cursor_persists_and_dump_resumes() -> None:
    nv = MemoryNvStore()
    store = PacketStore(nv, segment_bytes=2000)
    pkts = _pkts(50)
    for p in pkts:
        store.append(p)
    it = store.iter_from()
    got = [next(it) for _ in range(20)]
    store.commit_cursor(got[-1][0])
    again = PacketStore(nv, segment_bytes=2000)
    rest = [p for _, p in again.iter_from()]
    assert [p for _, p in got] + rest == pkts
    assert again.delete_up_to(again.cursor) > 0
    assert [p for _, p in again.iter_from()] == pkts[20:]


def test_bad_names_rejected(tmp_path: Path) -> None:
    for bad in ("", "../x", "a/b", "."):
        with pytest.raises(NvStoreError):
            FileNvStore(tmp_path).write(bad, b"")


def _old_format_record(payload: bytes) -> bytes:
    """A record of the format this store used before (magic, length, CRC, payload)."""
    return struct.pack(">2sII", b"\xf5\x7e", len(payload), zlib.crc32(payload)) + payload


@st.composite
def treacherous_payloads(draw: st.DrawFn, seq_hint: int = 0) -> bytes:
    """Payloads that embed records a naive scanner would take for real ones."""
    fake_seq = draw(st.integers(0, 4)) + seq_hint
    inner = draw(st.binary(max_size=30))
    parts = draw(
        st.lists(
            st.sampled_from(
                [
                    encode_record(fake_seq, inner),
                    stuff(pack_body(fake_seq, inner)),
                    pack_body(fake_seq, inner),
                    _old_format_record(inner),
                    bytes([END]),
                    b"\xdb",
                ]
            )
            | st.binary(max_size=20),
            max_size=5,
        )
    )
    return b"".join(parts)


@given(
    st.lists(treacherous_payloads(), max_size=12),
    treacherous_payloads(),
    st.data(),
)
def test_torn_tails_lose_nothing_and_bring_back_nothing(
    before: list[bytes], torn: bytes, data: st.DataObject
) -> None:
    """A crash while appending ``torn``: every earlier packet back, nothing else."""
    nv = MemoryNvStore()
    store = PacketStore(nv, segment_bytes=data.draw(st.sampled_from([200, 1000, 1 << 20])))
    for p in before:
        assert store.append(p)
    # the octets the append writes, whatever the format: run it, then tear it
    snapshot = {name: bytearray(v) for name, v in nv.files.items()}
    store.append(torn)
    (grown,) = [n for n, v in nv.files.items() if len(v) != len(snapshot.get(n, b""))]
    rec = bytes(nv.files[grown][len(snapshot.get(grown, b"")) :])
    cut = data.draw(st.integers(0, len(rec) - 1) | st.sampled_from([0, 1, len(rec) - 1]))
    mode = data.draw(st.sampled_from(["prefix", "junk", "holes"]))
    if mode == "prefix":  # the write stopped at ``cut``
        torn_image = rec[:cut]
    elif mode == "junk":  # then the file was extended with what was on the medium
        torn_image = rec[:cut] + data.draw(
            st.sampled_from([bytes(17), b"\xc0" * 3]) | st.binary(min_size=1, max_size=40)
        )
    else:  # power cut: every octet there, but a window of it never reached the medium
        end = data.draw(st.integers(cut + 1, len(rec)))
        torn_image = rec[:cut] + bytes(end - cut) + rec[end:]
    nv.files = snapshot
    nv.files.setdefault(grown, bytearray()).extend(torn_image)
    again = PacketStore(nv, segment_bytes=store.segment_bytes)
    got = again.packets()
    if torn_image.startswith(rec):  # the whole record reached the medium after all
        assert got == [*before, torn]
    else:
        assert got == before
    assert again.packet_count == len(got)
    assert again.stats.corrupt_records_skipped == 0
    before = got
    # the store goes on: later packets follow, and a reopen changes nothing
    assert again.append(b"after")
    third = PacketStore(nv, segment_bytes=store.segment_bytes)
    assert third.packets() == [*before, b"after"]
    assert third.stats.torn_bytes_recovered == 0


@given(
    st.lists(treacherous_payloads(), min_size=1, max_size=10),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_bit_rot_never_brings_back_a_packet_that_was_not_stored(
    pkts: list[bytes], flips: list[tuple[int, int]]
) -> None:
    nv = MemoryNvStore()
    store = PacketStore(nv)
    spans = []
    for p in pkts:
        start = nv.size(store._seg(store.segments[-1]))
        store.append(p)
        spans.append((start, nv.size(store._seg(store.segments[-1]))))
    seg = store._seg(store.segments[-1])
    image = nv.files[seg]
    hit = set()
    for pos, value in flips:
        pos %= len(image)
        image[pos] = value
        hit.add(pos)
    got = PacketStore(nv).packets()
    # no phantom: what comes back is a subsequence of what was stored
    it = iter(pkts)
    assert all(any(g == p for p in it) for g in got)
    # nothing untouched is lost: every record whose octets were not hit is back
    untouched = [p for p, (a, b) in zip(pkts, spans, strict=True) if not hit & set(range(a, b))]
    it2 = iter(got)
    assert all(any(g == p for g in it2) for p in untouched)
