import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.crc import crc16
from flightsw.base.errors import EncodeError
from flightsw.link.aos_frame import AosFrame
from flightsw.link.framer import AosFramer, TmFramer, VirtualChannel, check_packet, default_vcs
from flightsw.link.tm_frame import FHP_IDLE, FHP_NO_PACKET_START, TmFrame
from flightsw.packets import SpacePacket, idle_packet, iter_packets


def pkt(apid: int, total: int, seq: int = 0) -> bytes:
    """A space packet of ``total`` octets whose data is its sequence number repeated."""
    return SpacePacket(apid, bytes([seq & 0xFF]) * (total - 6), seq_count=seq).encode()


def test_idle_frames_when_empty() -> None:
    framer = TmFramer(0x55, frame_len=64)
    frames = [framer.next_frame() for _ in range(3)]
    for i, raw in enumerate(frames):
        assert len(raw) == 64 and crc16(raw) == 0
        f = TmFrame.decode(raw, 64)
        assert (f.vcid, f.first_header_pointer, f.mc_count, f.vc_count) == (7, FHP_IDLE, i, i)
        assert f.is_idle and f.data == b"\x55" * (64 - 8)
    assert framer.idle_frames == 3 and framer.frames == 3 and not framer.has_data


def test_aos_idle_frames_on_vc63() -> None:
    framer = AosFramer(0x12, frame_len=64, idle_fill=0xAA)
    f = AosFrame.decode(framer.next_frame(), 64)
    assert (f.scid, f.vcid, f.first_header_pointer, f.vc_count) == (0x12, 63, FHP_IDLE, 0)
    assert f.data == b"\xaa" * (64 - 10)


def test_small_packet_then_idle_packet_fill() -> None:
    framer = TmFramer(1, frame_len=100)
    p = pkt(0x10, 30)
    assert framer.push(0, p)
    f = TmFrame.decode(framer.next_frame(), 100)
    assert (f.vcid, f.first_header_pointer, f.vc_count) == (0, 0, 0)
    inside = list(iter_packets(f.data))
    assert inside[0] == p and len(inside) == 2
    idle = SpacePacket.decode(inside[1])
    assert idle.is_idle and len(inside[1]) == 92 - 30
    assert framer.idle_packets == 1
    # nothing waiting now: an idle frame follows
    assert TmFrame.decode(framer.next_frame(), 100).vcid == 7


def test_packet_spanning_frames_sets_first_header_pointer() -> None:
    framer = TmFramer(1, frame_len=100)  # zone of 92 octets
    big, small = pkt(0x10, 200, 1), pkt(0x10, 20, 2)
    framer.push(0, big)
    framer.push(0, small)
    frames = [TmFrame.decode(framer.next_frame(), 100) for _ in range(3)]
    assert [f.first_header_pointer for f in frames] == [0, FHP_NO_PACKET_START, 200 - 184]
    assert [f.vc_count for f in frames] == [0, 1, 2]
    stream = b"".join(f.data for f in frames)
    got = list(iter_packets(stream))
    assert got[:2] == [big, small] and SpacePacket.decode(got[2]).is_idle


def test_short_remainder_spills_an_idle_tail_into_the_next_frame() -> None:
    framer = TmFramer(1, frame_len=100)  # zone 92: a 89-octet packet leaves 3 octets
    framer.push(0, pkt(0x10, 89))
    first = TmFrame.decode(framer.next_frame(), 100)
    assert first.data[89:] == idle_packet(7)[:3]
    assert not framer.has_data  # an idle tail alone does not make a frame
    assert TmFrame.decode(framer.next_frame(), 100).vcid == 7
    framer.push(0, pkt(0x10, 20))
    second = TmFrame.decode(framer.next_frame(), 100)
    assert second.vcid == 0 and second.first_header_pointer == 4
    assert second.data[:4] == idle_packet(7)[3:] and second.data[4:24] == pkt(0x10, 20)


def test_priority_realtime_before_playback() -> None:
    framer = TmFramer(1, frame_len=100)
    for i in range(5):
        framer.push(1, pkt(0x20, 80, i))
    framer.push(0, pkt(0x10, 80, 100))
    framer.push(0, pkt(0x10, 80, 101))
    vcids = [TmFrame.decode(framer.next_frame(), 100).vcid for _ in range(9)]
    assert vcids == [0, 0, 1, 1, 1, 1, 1, 7, 7]


def test_playback_tail_resumes_after_realtime_interrupts() -> None:
    framer = TmFramer(1, frame_len=100)
    framer.push(1, pkt(0x20, 150, 1))
    f1 = TmFrame.decode(framer.next_frame(), 100)
    framer.push(0, pkt(0x10, 30, 2))
    f2 = TmFrame.decode(framer.next_frame(), 100)
    f3 = TmFrame.decode(framer.next_frame(), 100)
    assert (f1.vcid, f2.vcid, f3.vcid) == (1, 0, 1)
    assert f3.data[: 150 - 92] == pkt(0x20, 150, 1)[92:]
    assert f3.first_header_pointer == 150 - 92  # the idle fill packet starts there
    assert (f1.mc_count, f2.mc_count, f3.mc_count) == (0, 1, 2)
    assert (f1.vc_count, f2.vc_count, f3.vc_count) == (0, 0, 1)


def test_bounded_queues_count_drops() -> None:
    framer = TmFramer(1, vcs=[VirtualChannel(0, 0, depth=2)])
    assert framer.push(0, pkt(1, 10)) and framer.push(0, pkt(1, 10))
    assert not framer.push(0, pkt(1, 10))
    assert not framer.push(0, pkt(1, 10))
    vc = framer.vcs[0]
    assert (vc.accepted, vc.dropped, len(vc.queue)) == (2, 2, 2)
    framer.next_frame()
    assert framer.push(0, pkt(1, 10))


def test_tm_counters_wrap_at_8_bits() -> None:
    framer = TmFramer(1, frame_len=32)
    counts = []
    for i in range(300):
        if i % 3 == 0:
            framer.push(0, pkt(1, 10))
        f = TmFrame.decode(framer.next_frame(), 32)
        counts.append((f.vcid, f.mc_count, f.vc_count))
    assert [c[1] for c in counts] == [i % 256 for i in range(300)]
    vc0 = [c[2] for c in counts if c[0] == 0]
    vc7 = [c[2] for c in counts if c[0] == 7]
    assert vc0 == [i % 256 for i in range(100)]
    assert vc7 == [i % 256 for i in range(200)]


def test_aos_counters_wrap_at_24_bits() -> None:
    framer = AosFramer(1, frame_len=64)
    framer.idle_vc.vc_count = 0xFFFFFE
    counts = [AosFrame.decode(framer.next_frame(), 64).vc_count for _ in range(3)]
    assert counts == [0xFFFFFE, 0xFFFFFF, 0]


def test_aos_count_cycle_extends_the_counter() -> None:
    framer = AosFramer(1, frame_len=64, use_count_cycle=True)
    framer.idle_vc.vc_count = 0x0FFFFFF
    got = []
    for _ in range(2):
        f = AosFrame.decode(framer.next_frame(), 64)
        got.append((f.vc_count_usage_flag, f.vc_count_cycle, f.vc_count))
    framer.idle_vc.vc_count = 0xFFFFFFF
    for _ in range(2):
        f = AosFrame.decode(framer.next_frame(), 64)
        got.append((f.vc_count_usage_flag, f.vc_count_cycle, f.vc_count))
    assert got == [(1, 0, 0xFFFFFF), (1, 1, 0), (1, 15, 0xFFFFFF), (1, 0, 0)]


def test_ocf_carries_the_clcw_in_every_frame() -> None:
    clcws = iter([b"\x01\x00\x00\x05", b"\x01\x00\x00\x06"])
    framer = TmFramer(1, frame_len=64, has_ocf=True, clcw_source=lambda: next(clcws))
    framer.push(0, pkt(1, 10))
    f1 = TmFrame.decode(framer.next_frame(), 64, has_ocf=True)
    f2 = TmFrame.decode(framer.next_frame(), 64, has_ocf=True)
    assert (f1.ocf, f2.ocf) == (b"\x01\x00\x00\x05", b"\x01\x00\x00\x06")
    assert len(f1.data) == 64 - 12
    plain = TmFramer(1, frame_len=64, has_ocf=True)
    assert TmFrame.decode(plain.next_frame(), 64).ocf == bytes(4)
    bad = TmFramer(1, frame_len=64, has_ocf=True, clcw_source=lambda: b"\x00")
    with pytest.raises(EncodeError) as exc:
        bad.next_frame()
    assert exc.value.field == "ocf"
    aos = AosFramer(1, frame_len=64, has_ocf=True, clcw_source=lambda: b"abcd")
    assert AosFrame.decode(aos.next_frame(), 64, has_ocf=True).ocf == b"abcd"


def test_without_fecf() -> None:
    framer = TmFramer(1, frame_len=64, has_fecf=False)
    framer.push(0, pkt(1, 10))
    raw = framer.next_frame()
    assert len(raw) == 64
    f = TmFrame.decode(raw, 64, has_fecf=False)
    assert f.fecf is None and len(f.data) == 58


@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(7, 300)), max_size=20),
    st.sampled_from([16, 64, 223]),
    st.booleans(),
    st.booleans(),
)
def test_frames_equal_the_checked_encoders(
    pushes: list[tuple[int, int]], frame_len: int, aos: bool, has_ocf: bool
) -> None:
    """The framer's header fast path gives the same bytes as TmFrame/AosFrame.encode."""
    framer: TmFramer | AosFramer = (
        AosFramer(3, frame_len, has_ocf=has_ocf) if aos else TmFramer(3, frame_len, has_ocf=has_ocf)
    )
    for vc, size in pushes:
        framer.push(vc, pkt(0x30 + vc, size))
    for _ in range(len(pushes) * 300 // framer.zone_len + 3):
        raw = framer.next_frame()
        assert len(raw) == frame_len
        if aos:
            f_aos = AosFrame.decode(raw, frame_len, has_ocf=has_ocf)
            assert f_aos.encode() == raw
        else:
            f_tm = TmFrame.decode(raw, frame_len, has_ocf=has_ocf)
            assert f_tm.encode() == raw
    assert not framer.has_data


def test_push_and_configuration_errors() -> None:
    framer = TmFramer(1)
    for vcid, packet, field in [
        (5, pkt(1, 10), "vcid"),
        (0, b"\x00" * 6, "packet"),
        (0, pkt(1, 10) + b"x", "packet"),
        (0, b"\xe0" + pkt(1, 10)[1:], "packet"),
        (0, "text", "packet"),
    ]:
        with pytest.raises(EncodeError) as exc:
            framer.push(vcid, packet)  # type: ignore[arg-type]
        assert exc.value.field == field
    for kwargs, field in [
        ({"vcs": [VirtualChannel(7, 0)]}, "vcid"),
        ({"vcs": [VirtualChannel(0, 0), VirtualChannel(0, 1)]}, "vcid"),
        ({"frame_len": 8}, "frame_len"),
        ({"frame_len": 4096}, "frame_len"),
        ({"idle_fill": 256}, "idle_fill"),
    ]:
        with pytest.raises(EncodeError) as exc:
            TmFramer(1, **kwargs)  # type: ignore[arg-type]
        assert exc.value.field == field
    with pytest.raises(EncodeError):
        TmFramer(0x400)
    with pytest.raises(EncodeError):
        AosFramer(0x100)
    with pytest.raises(EncodeError):
        AosFramer(1, vcs=[VirtualChannel(63, 0)])
    with pytest.raises(EncodeError):
        VirtualChannel(0, 0, depth=0)
    assert AosFramer(1, vcs=[VirtualChannel(62, 0)]).vcs[62].vcid == 62


def test_defaults_and_check_packet() -> None:
    vcs = default_vcs(depth=8)
    assert [(v.vcid, v.priority, v.depth) for v in vcs] == [(0, 0, 8), (1, 1, 8)]
    assert check_packet(bytearray(pkt(1, 9))) == pkt(1, 9)
    assert "queued=0" in repr(vcs[0])
