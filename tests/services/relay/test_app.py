"""The relay service: its frame format, priorities and bounded queues, custody and
duplicates, and bad input at each edge (commands, frames)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.base.errors import DecodeError
from flightsw.framework import layouts as L
from flightsw.framework.app import FailureCode
from flightsw.services.relay.app import (
    GROUND_SCID,
    KIND_ACK,
    KIND_DATA,
    KIND_HEARTBEAT,
    RELAY_FRAME,
    RelayFrame,
    ack_frame,
    heartbeat_frame,
)
from flightsw.sil.cluster_node import SCID_BASE, NodeSpec, node_mission
from flightsw.sil.harness import SilHarness
from hal.crosslink import CrosslinkMailbox
from hal.interfaces import HOP_GEO, HOP_GROUND, CrosslinkStatus

ME = SCID_BASE
PEER = SCID_BASE + 1

frames = st.builds(
    RelayFrame,
    st.sampled_from([KIND_DATA, KIND_ACK, KIND_HEARTBEAT]),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 2),
    st.integers(0, 0xFFFFFFFF),
    st.binary(min_size=7, max_size=300),
)


@given(frames)
def test_frame_round_trips_and_matches_its_declaration(f: RelayFrame) -> None:
    raw = f.encode()
    assert RelayFrame.decode(raw) == f
    declared = L.parse_fields(RELAY_FRAME, raw, "relay_frame")
    assert {k: declared[k] for k in ("kind", "origin", "dest", "hop", "priority", "seq")} == {
        "kind": f.kind,
        "origin": f.origin,
        "dest": f.dest,
        "hop": f.hop,
        "priority": f.priority,
        "seq": f.seq,
    }
    assert bytes(declared["packet"]) == f.packet


@given(st.binary(max_size=64))
@settings(max_examples=300)
def test_decoder_rejects_garbage_with_our_error_only(data: bytes) -> None:
    try:
        f = RelayFrame.decode(data)
    except DecodeError:
        return
    assert f.encode() == data


def _node(**params: object) -> tuple[SilHarness, CrosslinkMailbox]:
    m = node_mission(NodeSpec(0, "n", None, 1, 0.0, ME, "/tmp/unused", boards=4))
    relay = next(s for s in m.apps if s.name == "relay")
    relay.params = {**relay.params, **params}
    h = SilHarness(m)
    box = CrosslinkMailbox(h.clock.now_ns)
    h.hal.devices["crosslink"] = box
    h.exe.app("relay").instance.link = box
    return h, box


def _status(**kw: object) -> CrosslinkStatus:
    base: dict[str, object] = {
        "peers": frozenset(),
        "ground": False,
        "geo": False,
        "peers_with_ground": frozenset(),
    }
    base.update(kw)
    return CrosslinkStatus(**base)  # type: ignore[arg-type]


def _sent(box: CrosslinkMailbox) -> list[tuple[int, RelayFrame]]:
    return [(hop, RelayFrame.decode(raw)) for _t, hop, raw in box.drain_tx()]


def test_forward_refuses_bad_requests_with_pus1_and_keeps_running() -> None:
    h, _box = _node()
    ping = h.encoder.encode("test.ping")
    for args, code in (
        ({"dest": ME, "packet": ping}, FailureCode.ARG_OUT_OF_RANGE),
        ({"dest": 2000, "packet": ping}, FailureCode.ARG_OUT_OF_RANGE),
        ({"dest": PEER, "packet": b"\x08" * 12}, FailureCode.BAD_APP_DATA),  # a TM
        ({"dest": PEER, "packet": b"\x18"}, FailureCode.BAD_APP_DATA),  # too short
    ):
        rid = h.send("relay.forward", args)
        assert h.failure_code(rid) == code
    h.send_and_assert_command("relay.forward", {"dest": PEER, "packet": ping})
    assert h.exe.app("relay").instance.tlm["tc_forwarded"] == 1


def test_commands_and_events_go_first_and_full_queues_drop_their_oldest() -> None:
    """Out of reach the queues fill (bounded, drops counted and reported); when a GEO
    relay comes into view priority 0 leaves before 1 and 2, each in its order."""
    h, box = _node(queue_depth=4, frames_per_step=100)
    relay = h.exe.app("relay").instance
    for i in range(6):
        for p in (2, 1, 0):
            pkt = bytes([0x08, 0, 0xC0, i, 0, 9, 0x20, 3, 25, 0, 0, 0, 0, 0, 0, p])
            relay._enqueue(RelayFrame(KIND_DATA, ME, GROUND_SCID, ME, p, 0, pkt))
    h.run(0.2)
    assert box.drain_tx() == []  # nowhere to send: all held
    t = relay.tlm
    assert [t[f"queued_p{p}"] for p in range(3)] == [4, 4, 4]
    assert all(t[f"dropped_p{p}"] >= 2 for p in range(3))
    assert h.tm_of(5, 3)  # RELAY_DROPPED (medium)
    box.current = _status(geo=True)
    h.run(0.2)
    sent = _sent(box)
    assert all(hop == HOP_GEO for hop, _ in sent)
    prios = [f.priority for _, f in sent]
    # 0s, then 1s, then 2s (then what this node reported since: its GROUND_ROUTE event)
    assert prios[:12] == sorted(prios[:12]) == [0] * 4 + [1] * 4 + [2] * 4
    for p in (1, 2):  # each priority kept its newest, in order
        assert [f.packet[3] for _, f in sent if f.priority == p] == [2, 3, 4, 5]
    assert len({f.seq for _, f in sent}) == len(sent)  # one number per frame


def test_custody_resend_after_timeout_and_ack_clears_it() -> None:
    h, box = _node(ack_timeout_s=2.0)
    box.current = _status(peers=frozenset({PEER}))
    h.send_and_assert_command(
        "relay.forward", {"dest": PEER, "packet": h.encoder.encode("test.ping")}
    )
    h.run(0.3)
    first = [f for hop, f in _sent(box) if hop == PEER and f.kind == KIND_DATA]
    assert len(first) == 1
    h.run(2.5)  # no acknowledgement: sent again, same number
    again = [f for hop, f in _sent(box) if hop == PEER and f.kind == KIND_DATA]
    assert [f.seq for f in again] == [first[0].seq]
    assert h.exe.app("relay").instance.tlm["retransmits"] >= 1
    box.deliver(ack_frame(PEER, first[0].seq))
    h.run(3.0)
    assert [f for hop, f in _sent(box) if hop == PEER and f.kind == KIND_DATA] == []
    assert h.exe.app("relay").instance.tlm["unacked"] == 0


def test_a_tc_arriving_twice_runs_once_and_bad_frames_are_counted() -> None:
    h, box = _node()
    box.current = _status(ground=True)
    ping = h.encoder.encode("test.ping")
    box.deliver(RelayFrame(KIND_DATA, PEER, ME, PEER, 0, 7, ping).encode())
    box.deliver(RelayFrame(KIND_DATA, PEER, ME, PEER, 0, 7, ping).encode())  # resent
    box.deliver(RelayFrame(KIND_DATA, PEER, ME, PEER + 1, 0, 3, ping).encode())  # other route
    for junk in (b"", b"\x09" * 5, b"\x01" + b"\x00" * 6 + b"\x07" + b"\x00" * 8):
        box.deliver(junk)
    h.run(1.0)
    t = h.exe.app("relay").instance.tlm
    assert t["tc_delivered"] == 1 and t["duplicates"] == 2 and t["frames_bad"] == 3
    assert len(h.tm_of(17, 2)) == 1  # the ping ran once
    acks = [(hop, f.seq) for hop, f in _sent(box) if f.kind == KIND_ACK]
    assert sorted(acks) == [(PEER, 7), (PEER, 7), (PEER + 1, 3)]
    # Own TM is not captured while in contact (comms sends it).
    assert all(hop != HOP_GROUND for hop, f in _sent(box))


def test_a_linked_neighbour_without_heartbeats_is_silent_and_one_out_of_reach_is_not() -> None:
    """Silence counts only while the link is up (a link down by geometry says nothing
    about the node); a heartbeat brings it back. Beats go to every linked neighbour."""
    h, box = _node(heartbeat_s=2.0, silent_after_s=6.0)
    other = PEER + 1
    box.current = _status(peers=frozenset({PEER}))
    h.run(4.0)
    beats = [(hop, f.seq) for hop, f in _sent(box) if f.kind == KIND_HEARTBEAT]
    assert beats == [(PEER, 1), (PEER, 2)]
    box.deliver(heartbeat_frame(PEER, 1))
    h.run(5.0)  # heard at 4 s: not silent yet at 9 s
    assert not h.tm_of(5, 4)
    box.current = _status(peers=frozenset({other}))  # PEER out of reach, other linked
    h.run(5.0)
    assert not h.tm_of(5, 4)  # nobody silent for 6 s while linked yet
    h.run(2.0)
    silent = h.tm_of(5, 4)
    assert len(silent) == 1 and silent[0].app_data[-2:] == other.to_bytes(2, "big")
    assert h.exe.app("relay").instance.tlm["peers_silent"] == 1
    box.deliver(heartbeat_frame(other, 9))
    h.run(0.5)
    assert h.exe.app("relay").instance.tlm["heartbeats_received"] == 2
    assert len(h.tm_of(5, 1)) >= 1 and h.exe.app("relay").instance.silent == set()


def test_a_silent_neighbour_is_routed_around_to_the_ground_and_to_a_node() -> None:
    """Frames for the ground go through the lowest linked neighbour with a way down,
    until it is silent: then through the next one; frames for a node skip it too. A
    node whose neighbours are all silent keeps its frames (store and forward)."""
    h, box = _node(heartbeat_s=1.0, silent_after_s=3.0, ack_timeout_s=1.0)
    relay = h.exe.app("relay").instance
    far = PEER + 1
    both = frozenset({PEER, far})
    box.current = _status(peers=both, peers_with_ground=both)
    h.run(0.5)
    assert relay.tlm["ground_route_hop"] == PEER  # the lowest first
    for t in range(5):  # only `far` keeps beating: PEER goes silent after 3 s
        box.deliver(heartbeat_frame(far, t))
        h.run(1.0)
    assert relay.silent == {PEER}
    box.drain_tx()
    h.send_and_assert_command("test.ping")  # its PUS-1 reports go down by relay
    h.send_and_assert_command(
        "relay.forward", {"dest": PEER + 2, "packet": h.encoder.encode("test.ping")}
    )
    h.run(0.5)
    data = [(hop, f) for hop, f in _sent(box) if f.kind == KIND_DATA]
    assert data and all(hop == far for hop, _ in data)
    assert {f.dest for _, f in data} == {GROUND_SCID, PEER + 2}
    assert relay.tlm["ground_route_hop"] == far
    h.run(5.0)  # `far` silent too: nothing leaves, nothing is dropped
    assert relay.silent == {PEER, far}
    box.drain_tx()
    h.send_and_assert_command("test.ping")
    h.run(2.0)
    assert [f for _, f in _sent(box) if f.kind == KIND_DATA] == []
    assert relay.tlm["queued_p0"] > 0 and relay.tlm["dropped_p0"] == 0


def test_the_heartbeat_to_the_ground_goes_by_relay_out_of_contact_and_not_in_contact() -> None:
    h, box = _node(ground_beat_s=5.0)
    box.current = _status(geo=True)
    h.run(11.0)
    beats = [f for hop, f in _sent(box) if f.kind == KIND_DATA and f.packet[7] == 131]
    assert len(beats) == 3 and all(f.priority == 0 for f in beats)  # at 0, 5 and 10 s
    assert len(h.tm_of(131, 1)) == 3
    box.current = _status(ground=True)  # in contact: comms sends it, not the relay
    h.run(10.0)
    assert [f for hop, f in _sent(box) if f.kind == KIND_DATA and f.packet[7] == 131] == []
    assert len(h.tm_of(131, 1)) == 5


def test_job_reports_go_by_relay_with_custody_in_contact_too() -> None:
    """The real-time downlink loses what a bit error hits: the payload's cluster-job
    reports (custody_services: 130) go by relay over the pass as well, kept until the
    ground acknowledges them; other TM does not (comms sends it)."""
    h, box = _node(ack_timeout_s=2.0)
    relay = h.exe.app("relay").instance
    box.current = _status(ground=True)
    h.run(0.5)
    box.drain_tx()
    report = bytes([0x08, 0x64, 0xC0, 0, 0, 9, 0x20, 130, 5]) + bytes(8)
    hk = bytes([0x08, 0x64, 0xC0, 1, 0, 9, 0x20, 3, 25]) + bytes(8)
    relay._tap(report)
    relay._tap(hk)
    h.run(0.5)

    def mine() -> list[tuple[int, RelayFrame]]:  # (what queued before the pass is resent)
        return [(hop, f) for hop, f in _sent(box) if f.kind == KIND_DATA and f.packet[7] != 5]

    sent = mine()
    assert [(hop, f.packet) for hop, f in sent] == [(HOP_GROUND, report)]
    h.run(2.5)  # not acknowledged: sent again
    assert [f.packet for _, f in mine()] == [report]
    box.deliver(ack_frame(GROUND_SCID, sent[0][1].seq))
    h.run(3.0)
    assert mine() == [] and sent[0][1].seq not in relay.unacked
