"""The lab link's packet splitting and queues: whole packets out of any cut of a stream,
garbage counted and never raised, every queue bounded and counted."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from flightsw.link.packet_link import PacketLink
from flightsw.packets import SpacePacket

packets = st.lists(
    st.builds(
        lambda apid, seq, data: SpacePacket(apid, data, packet_type=1, seq_count=seq).encode(),
        st.integers(0, 2046),
        st.integers(0, 16383),
        st.binary(min_size=1, max_size=300),
    ),
    min_size=1,
    max_size=20,
)


class Sink:
    uplink_depth = 8

    def __init__(self, room: int) -> None:
        self._room = room
        self.got: list[bytes] = []

    def room(self) -> int:
        return self._room - len(self.got)

    def submit(self, tc: bytes) -> bool:
        self.got.append(tc)
        return True


@given(packets, st.lists(st.integers(0, 10_000), max_size=10))
def test_a_stream_cut_anywhere_gives_back_every_packet(pkts: list[bytes], cuts: list[int]) -> None:
    wire = b"".join(pkts)
    marks = sorted({0, len(wire), *(c % (len(wire) + 1) for c in cuts)})
    link = PacketLink(None, stream=True)
    out: list[bytes] = []
    for a, b in pairwise(marks):
        link.accept(wire[a:b])
        out += link.deliver()
    assert out == pkts
    assert (link.packet_errors, link.dropped_octets, link.backlog) == (0, 0, 0)


@given(st.lists(st.binary(max_size=200), max_size=20))
def test_datagrams_of_garbage_are_counted_never_raised(datagrams: list[bytes]) -> None:
    link = PacketLink(None, stream=False)
    for d in datagrams:
        link.accept(d)
        assert link.backlog == sum(len(p) for p in link._tc)  # nothing carried over
        taken = link.deliver()
        assert all(p[0] >> 5 == 0 for p in taken)
    assert link.packet_errors <= len(datagrams)


@given(packets)
def test_a_datagram_with_a_broken_tail_keeps_the_whole_packets(pkts: list[bytes]) -> None:
    link = PacketLink(None, stream=False)
    link.accept(b"".join(pkts) + pkts[0][:5])
    assert link.deliver() == pkts
    assert (link.packet_errors, link.dropped_octets) == (1, 5)


@given(packets, st.integers(0, 5))
def test_the_dispatcher_gets_only_what_it_has_room_for(pkts: list[bytes], room: int) -> None:
    sink = Sink(room)
    link = PacketLink(sink, stream=True, tc_depth=4)
    link.accept(b"".join(pkts))
    link.deliver()
    assert sink.got == pkts[: min(room, 4, len(pkts))]
    assert link.tc_dropped == max(0, len(pkts) - 4)


def test_uplink_buffer_and_downlink_queues_are_bounded() -> None:
    link = PacketLink(None, stream=True, rx_limit=10, tm_depth=2)
    link.accept(b"\x00" * 6)  # a header, the rest not yet here
    link.accept(b"\x00" * 5)  # does not fit: dropped, counted
    assert (link.dropped_octets, link.backlog) == (5, 6)
    assert [link.push(b"rt1"), link.push(b"pb", playback=True), link.push(b"rt2")] == [
        True,
        True,
        True,
    ]
    assert not link.push(b"rt3") and link.tm_dropped == 1
    sent = []
    while (p := link.peek()) is not None:
        sent.append(p)
        link.pop()
    assert sent == [b"rt1", b"rt2", b"pb"] and link.tm_sent == 3
