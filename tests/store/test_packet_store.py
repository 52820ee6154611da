import random
import struct
from pathlib import Path

import pytest

from flightsw.store.packet_store import HEADER_LEN, PacketStore, PacketStoreError, encode_record
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
    rec = encode_record(b"x" * 50)
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
    offset = sum(HEADER_LEN + len(p) for p in pkts[:4]) + HEADER_LEN  # payload of #4
    nv.files[seg][offset] ^= 0xFF
    again = PacketStore(nv)
    assert again.packets() == pkts[:4] + pkts[5:]
    assert again.stats.corrupt_records_skipped == 1


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
