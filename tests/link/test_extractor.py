from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.base.crc import crc16
from flightsw.link.aos_frame import AosFrame
from flightsw.link.extractor import COUNTERS, PacketExtractor
from flightsw.link.framer import AosFramer, PacketFramer, TmFramer, VirtualChannel
from flightsw.link.sdls import SdlsTm, SecurityAssociation
from flightsw.link.tm_frame import FHP_IDLE, FHP_NO_PACKET_START, TmFrame
from flightsw.packets import SpacePacket, idle_packet

# an op is a packet push (vcid, total octets) or None for "the radio takes a frame now"
ops_strategy = st.lists(
    st.one_of(st.tuples(st.integers(0, 1), st.integers(7, 2000)), st.none()),
    max_size=40,
)


def make_framer(kind: str, frame_len: int, has_fecf: bool = True) -> PacketFramer:
    vcs = [VirtualChannel(0, 0, depth=1000), VirtualChannel(1, 1, depth=1000)]
    if kind == "aos":
        return AosFramer(0x42, frame_len, vcs, has_fecf=has_fecf)
    return TmFramer(0x142, frame_len, vcs, has_fecf=has_fecf)


def run_framer(
    kind: str, frame_len: int, ops: list[tuple[int, int] | None], seed: int
) -> tuple[list[bytes], dict[int, list[bytes]]]:
    """Frames out of the framer for ``ops`` (drained at the end) and the packets per VC."""
    rng = np.random.default_rng(seed)
    framer = make_framer(kind, frame_len)
    sent: dict[int, list[bytes]] = {0: [], 1: []}
    frames: list[bytes] = []
    for op in ops:
        if op is None:
            frames.append(framer.next_frame())
            continue
        vc, size = op
        packet = SpacePacket(
            0x100 + vc, rng.bytes(size - 6), seq_count=len(sent[vc]) & 0x3FFF
        ).encode()
        assert framer.push(vc, packet)
        sent[vc].append(packet)
    while framer.has_data:
        frames.append(framer.next_frame())
    frames.append(framer.next_frame())  # one idle frame at the end
    return frames, sent


def extract(
    frames: list[bytes], kind: str, frame_len: int
) -> tuple[PacketExtractor, dict[int, list[bytes]]]:
    ex = PacketExtractor(frame_len, kind=kind)  # type: ignore[arg-type]
    got: dict[int, list[bytes]] = {0: [], 1: []}
    for raw in frames:
        packets = ex.feed_frame(raw)
        if packets:
            assert ex.last_vcid is not None
            got[ex.last_vcid].extend(packets)
    return ex, got


@dataclass
class Expected:
    delivered: dict[int, list[bytes]] = field(default_factory=lambda: {0: [], 1: []})
    frames_lost: int = 0
    packets_lost_partial: int = 0


def expected_after_loss(frames: list[bytes], kept: list[bool], kind: str) -> Expected:
    """What a perfect extractor delivers when only the frames marked kept arrive.

    Rebuilds each channel's byte stream from all frames, finds every packet and the
    frames it touches: a packet comes out iff all its frames arrived.
    """
    out = Expected()
    by_vc: dict[int, list[tuple[int, bytes, bool]]] = {}
    for i, raw in enumerate(frames):
        f = AosFrame.decode(raw) if kind == "aos" else TmFrame.decode(raw)
        idle = f.first_header_pointer == FHP_IDLE
        by_vc.setdefault(f.vcid, []).append((i, f.data, idle))
    for vcid, vc_frames in by_vc.items():
        kept_pos = [k for k, (i, _, _) in enumerate(vc_frames) if kept[i]]
        if kept_pos:
            first, last = kept_pos[0], kept_pos[-1]
            out.frames_lost += sum(1 for k in range(first, last + 1) if not kept[vc_frames[k][0]])
        if vc_frames[0][2]:
            continue  # the idle channel carries no packets
        stream = b"".join(d for _, d, _ in vc_frames)
        starts = []
        offset = 0
        for _, d, _ in vc_frames:
            starts.append(offset)
            offset += len(d)
        pos = 0
        while pos + 6 <= len(stream):
            total = 6 + int.from_bytes(stream[pos + 4 : pos + 6], "big") + 1
            if pos + total > len(stream):
                break
            k0 = bisect.bisect_right(starts, pos) - 1
            k1 = bisect.bisect_right(starts, pos + total - 1) - 1
            touched = range(k0, k1 + 1)
            packet = stream[pos : pos + total]
            is_idle = SpacePacket.decode(packet).is_idle
            lost = [k for k in touched if not kept[vc_frames[k][0]]]
            if not lost:
                if not is_idle:
                    out.delivered[vcid].append(packet)
            elif kept[vc_frames[k0][0]] and any(k > lost[0] for k in kept_pos):
                # begun in a frame that arrived, cut by a gap the extractor sees
                octets_before_gap = starts[lost[0]] - pos
                if not is_idle or octets_before_gap < 2:
                    out.packets_lost_partial += 1
            pos += total
    return out


@settings(deadline=None)
@given(
    ops_strategy,
    st.sampled_from([64, 223, 1024]),
    st.sampled_from(["tm", "aos"]),
    st.integers(0, 2**32),
)
def test_end_to_end_identical_and_in_order(
    ops: list[tuple[int, int] | None], frame_len: int, kind: str, seed: int
) -> None:
    frames, sent = run_framer(kind, frame_len, ops, seed)
    assert all(len(f) == frame_len for f in frames)
    ex, got = extract(frames, kind, frame_len)
    assert got == sent
    c = ex.counters()
    assert c["frames"] == len(frames) and c["packets"] == sum(len(v) for v in sent.values())
    assert c["frames_bad"] == c["frames_lost"] == c["packets_lost_partial"] == c["resyncs"] == 0
    assert c["idle_frames"] >= 1


@settings(deadline=None)
@given(
    ops_strategy,
    st.sampled_from([64, 223, 1024]),
    st.sampled_from(["tm", "aos"]),
    st.integers(0, 2**32),
    st.floats(0.02, 0.5),
    st.booleans(),
)
def test_lost_or_corrupted_frames_cost_only_the_packets_touching_them(
    ops: list[tuple[int, int] | None],
    frame_len: int,
    kind: str,
    seed: int,
    p_loss: float,
    corrupt: bool,
) -> None:
    frames, _sent = run_framer(kind, frame_len, ops, seed)
    rng = np.random.default_rng(seed + 1)
    kept = [bool(k) for k in rng.random(len(frames)) >= p_loss]
    if corrupt:
        fed = []
        for raw, keep in zip(frames, kept, strict=True):
            if not keep:
                bad = bytearray(raw)
                bad[int(rng.integers(len(bad)))] ^= 1 << int(rng.integers(8))
                raw = bytes(bad)
            fed.append(raw)
    else:
        fed = [raw for raw, keep in zip(frames, kept, strict=True) if keep]
    ex, got = extract(fed, kind, frame_len)
    want = expected_after_loss(frames, kept, kind)
    assert got == want.delivered
    assert ex.frames_lost == want.frames_lost
    assert ex.packets_lost_partial == want.packets_lost_partial
    assert ex.frames_bad == (kept.count(False) if corrupt else 0)
    assert ex.packets == sum(len(v) for v in want.delivered.values())


def test_seeded_long_run_with_losses() -> None:
    """A longer deterministic run: 400 packets, 5 % frame loss, TM with 1115-octet frames."""
    rng = np.random.default_rng(7)
    ops: list[tuple[int, int] | None] = []
    for _ in range(400):
        ops.append((int(rng.integers(2)), int(rng.integers(7, 2001))))
        if rng.random() < 0.3:
            ops.append(None)
    frames, sent = run_framer("tm", 1115, ops, 11)
    kept = [bool(k) for k in rng.random(len(frames)) >= 0.05]
    ex, got = extract([f for f, k in zip(frames, kept, strict=True) if k], "tm", 1115)
    want = expected_after_loss(frames, kept, "tm")
    assert got == want.delivered
    assert ex.frames_lost == want.frames_lost > 0
    assert ex.packets_lost_partial == want.packets_lost_partial > 0
    delivered = sum(len(v) for v in got.values())
    assert 0.5 * 400 < delivered < 400
    for vc in (0, 1):
        assert set(got[vc]) <= set(sent[vc])


@given(st.lists(st.binary(max_size=80), max_size=20), st.sampled_from(["tm", "aos"]))
def test_garbage_frames_never_raise(frames: list[bytes], kind: str) -> None:
    ex = PacketExtractor(frame_len=None, has_fecf=False, kind=kind)  # type: ignore[arg-type]
    for raw in frames:
        for packet in ex.feed_frame(raw):
            assert len(packet) >= 7
    assert ex.frames == len(frames)


@given(ops_strategy, st.integers(0, 2**32), st.sampled_from(["tm", "aos"]))
def test_mutated_frames_without_fecf_never_raise(
    ops: list[tuple[int, int] | None], seed: int, kind: str
) -> None:
    """Without a FECF, corrupted frames reach the reassembly: it must still never raise."""
    rng = np.random.default_rng(seed)
    framer = make_framer(kind, 64, has_fecf=False)
    for op in ops:
        if op is not None:
            framer.push(op[0], SpacePacket(1, rng.bytes(op[1] - 6)).encode())
    ex = PacketExtractor(64, has_fecf=False, kind=kind)  # type: ignore[arg-type]
    for _ in range(200):
        raw = bytearray(framer.next_frame())
        assert len(raw) == 64
        for _ in range(int(rng.integers(0, 3))):
            raw[int(rng.integers(64))] ^= 1 << int(rng.integers(8))
        for packet in ex.feed_frame(bytes(raw)):
            assert 7 <= len(packet) <= 65542
        if not framer.has_data:
            break
    assert ex.frames_bad + ex.frames_other_scid <= ex.frames


def tm(vcid: int, count: int, fhp: int, data: bytes, ocf: bytes | None = None) -> bytes:
    return TmFrame(5, vcid, data, vc_count=count, first_header_pointer=fhp, ocf=ocf).encode()


def test_first_header_pointer_disagreement_resyncs() -> None:
    p1 = SpacePacket(1, b"a" * 20).encode()  # 26 octets
    p2 = SpacePacket(1, b"b" * 10).encode()  # 16 octets
    ex = PacketExtractor(None)
    assert ex.feed_frame(tm(0, 0, 0, p1[:20])) == []
    # in sync, p1 ends at 6 here, but the pointer says 0x7FF: trust the pointer
    assert ex.feed_frame(tm(0, 1, FHP_NO_PACKET_START, p1[20:] + p2[:4])) == []
    assert ex.resyncs == 1 and ex.packets_lost_partial == 1
    assert ex.feed_frame(tm(0, 2, 12, p2[4:] + p2)) == [p2]
    assert ex.packets == 1


def test_header_split_across_frames() -> None:
    p1 = SpacePacket(1, b"x" * 30).encode()
    ex = PacketExtractor(None)
    assert ex.feed_frame(tm(0, 0, 0, p1[:3])) == []
    assert ex.feed_frame(tm(0, 1, FHP_NO_PACKET_START, p1[3:5])) == []
    idle = idle_packet(10)
    assert ex.feed_frame(tm(0, 2, len(p1) - 5, p1[5:] + idle)) == [p1]
    assert ex.idle_packets == 1 and ex.packets == 1


def test_bad_version_where_a_header_must_start_resyncs() -> None:
    ex = PacketExtractor(None)
    assert ex.feed_frame(tm(0, 0, 0, b"\xe0" + bytes(30))) == []
    assert ex.resyncs == 1
    good = SpacePacket(1, b"ok").encode()
    assert ex.feed_frame(tm(0, 1, 0, good)) == [good]


def test_idle_frames_clcw_scid_and_sync_flag() -> None:
    ex = PacketExtractor(None, scid=5)
    assert ex.feed_frame(tm(7, 0, FHP_IDLE, b"\x55" * 20, ocf=b"\x01\x02\x03\x04")) == []
    assert ex.idle_frames == 1 and ex.last_clcw == b"\x01\x02\x03\x04"
    other = TmFrame(6, 0, SpacePacket(1, b"z").encode()).encode()
    assert ex.feed_frame(other) == [] and ex.frames_other_scid == 1
    vca = TmFrame(5, 0, b"abc", sync_flag=1, segment_length_id=0).encode()
    assert ex.feed_frame(vca) == [] and ex.frames_bad == 1
    assert ex.last_error is not None and ex.last_error.field == "sync_flag"
    assert set(ex.counters()) == set(COUNTERS)
    with pytest.raises(ValueError):
        PacketExtractor(kind="uslp")  # type: ignore[arg-type]


def test_aos_idle_vc_and_count_cycle_continuity() -> None:
    ex = PacketExtractor(None, kind="aos")
    p = SpacePacket(1, b"q" * 10).encode()

    def aos(count: int, cycle: int) -> bytes:
        return AosFrame(
            1, 2, p, vc_count=count, vc_count_usage_flag=1, vc_count_cycle=cycle
        ).encode()

    assert ex.feed_frame(AosFrame(1, 63, b"\x00" * 9).encode()) == []
    assert ex.idle_frames == 1
    assert ex.feed_frame(aos(0xFFFFFF, 2)) == [p]
    assert ex.feed_frame(aos(0, 3)) == [p]
    assert ex.frames_lost == 0
    assert ex.feed_frame(aos(2, 3)) == [p]
    assert ex.frames_lost == 1


def test_tm_counter_wrap_is_not_a_gap() -> None:
    ex = PacketExtractor(None)
    p = SpacePacket(1, b"w").encode()
    for i in range(300):
        assert ex.feed_frame(tm(0, i % 256, 0, p)) == [p]
    assert ex.frames_lost == 0 and ex.packets == 300


# ------------------------------------------------- authenticated TM (SDLS on TM frames)


def _tm_sdls(key: bytes = bytes(range(64, 96))) -> SdlsTm:
    return SdlsTm(SecurityAssociation(3, key, arsn_len=8))


@given(ops_strategy, st.integers(0, 2**32 - 1))
@settings(max_examples=30)
def test_authenticated_tm_delivers_everything_and_idle_frames_too(
    ops: list[tuple[int, int] | None], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    vcs = [VirtualChannel(0, 0, depth=1000), VirtualChannel(1, 1, depth=1000)]
    framer = TmFramer(0x142, 512, vcs, has_ocf=True, security=_tm_sdls())
    assert framer.zone_len == 512 - 6 - (2 + 8 + 16) - 4 - 2
    sent: dict[int, list[bytes]] = {0: [], 1: []}
    ex = PacketExtractor(512, has_ocf=True, security=_tm_sdls())
    got: dict[int, list[bytes]] = {0: [], 1: []}
    for op in [*ops, None, None]:
        if op is None:
            for pkt in ex.feed_frame(framer.next_frame()):
                got[ex.last_vcid or 0].append(pkt)
            continue
        vc, size = op
        packet = SpacePacket(0x100 + vc, rng.bytes(size - 6)).encode()
        assert framer.push(vc, packet)
        sent[vc].append(packet)
    while framer.has_data:
        for pkt in ex.feed_frame(framer.next_frame()):
            got[ex.last_vcid or 0].append(pkt)
    assert got == sent
    assert ex.frames_unauthenticated == 0 and ex.frames_lost == 0


def test_forged_or_replayed_tm_is_refused_counted_and_its_clcw_ignored() -> None:
    vcs = [VirtualChannel(0, 0, depth=10)]
    real = TmFramer(0x142, 256, vcs, has_ocf=True, security=_tm_sdls(), clcw_source=lambda: b"RRRR")
    forger = TmFramer(
        0x142,
        256,
        [VirtualChannel(0, 0, depth=10)],
        has_ocf=True,
        security=_tm_sdls(bytes(32)),  # no key: a guess
        clcw_source=lambda: b"FFFF",
    )
    plain = TmFramer(0x142, 256, [VirtualChannel(0, 0, depth=10)], has_ocf=True)
    ex = PacketExtractor(256, has_ocf=True, security=_tm_sdls())
    pkt = SpacePacket(0x100, b"real telemetry").encode()
    real.push(0, pkt)
    genuine = real.next_frame()
    assert ex.feed_frame(genuine) == [pkt] and ex.last_clcw == b"RRRR"
    ex.last_clcw = None
    for framer in (forger, plain):
        framer.push(0, SpacePacket(0x100, b"VERIFY test.ping completed").encode())
        assert ex.feed_frame(framer.next_frame()) == []
    assert ex.feed_frame(genuine) == []  # a replay of the genuine frame
    real.push(0, pkt)
    tampered = bytearray(real.next_frame()[:-2])
    tampered[30] ^= 1  # a bit of the packet, with a FECF that matches again
    assert ex.feed_frame(bytes(tampered) + crc16(bytes(tampered)).to_bytes(2, "big")) == []
    assert ex.frames_unauthenticated == 4 and ex.frames_bad == 0
    assert ex.last_clcw is None  # nothing from a refused frame was used
    assert ex.packets == 1
