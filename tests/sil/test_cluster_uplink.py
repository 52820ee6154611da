"""The ground's uplink to the cluster: the route each TC leaves by (pass, GEO, the
nearest node with a way down over one or more ISL hops, or none: it waits), frames
lost on the link sent again until PUS-1 verifies them, refused or lost TCs counted and
their jobs given back, a silent node's TCs cancelled; and the job ledger keeping the
latest checkpoint that reached the ground."""

from __future__ import annotations

from typing import Any

import numpy as np

from flightsw.apps.payload.handover import ClusterJob, encode_status
from flightsw.packets import PusTc, PusTm
from flightsw.services.relay.app import GROUND_SCID, RelayFrame
from flightsw.sil.cluster_handover import JobLedger
from flightsw.sil.cluster_uplink import GroundUplink
from hal.interfaces import CrosslinkStatus

NS = 1_000_000_000
BASE = 0x100


class FakeRouter:
    """What the uplink asks the link layer: passes, and a leg's (up, delay, ber)."""

    scid_base = BASE

    def __init__(self, ber: float = 0.0, passes: frozenset[int] = frozenset()) -> None:
        self.ber = ber
        self.passes = passes

    def _pass(self, node: int, t_s: float) -> Any:
        return object() if node in self.passes else None

    def _ground_leg(self, node: int, t_s: float, leg: str) -> tuple[bool, float, float]:
        return (True, 0.005, 0.0) if leg == "ground" else (True, 0.25, self.ber)


def _status(n: int, links: list[tuple[int, int]], ground=(), geo=()) -> dict[int, CrosslinkStatus]:  # type: ignore[no-untyped-def]
    peers: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in links:
        peers[a].add(BASE + b)
        peers[b].add(BASE + a)
    return {
        i: CrosslinkStatus(frozenset(peers[i]), i in ground, i in geo, frozenset())
        for i in range(n)
    }


def _tc(seq: int) -> bytes:
    return PusTc(apid=0x64, service=17, subservice=1, seq_count=seq).encode()


def _report(tc: bytes, sub: int) -> bytes:
    rid = PusTc.decode(tc).request_id.to_bytes(4, "big")
    return PusTm(apid=0x64, service=1, subservice=sub, app_data=rid).encode()


def test_a_tc_leaves_by_the_pass_else_geo_else_the_nearest_node_with_a_way_down() -> None:
    up = GroundUplink(FakeRouter(), 1, 60.0)  # type: ignore[arg-type]
    # A string 0-1-2-3-4: only node 4 has a way down (GEO), node 2 a pass.
    s = _status(5, [(0, 1), (1, 2), (2, 3), (3, 4)], ground={2}, geo={4})
    assert up.route_to(2, s) == ("pass", 2)
    assert up.route_to(4, s) == ("geo", 4)
    assert up.route_to(3, s) == ("neighbour", 2)  # one hop either side: lowest index
    assert up.route_to(0, s) == ("neighbour", 2)  # two ISL hops away
    cut = _status(5, [(0, 1), (2, 3), (3, 4)], ground={2}, geo={4})
    assert up.route_to(0, cut) is None  # no way: it waits on the ground
    inbound: dict[int, list[tuple[int, int, int, bytes]]] = {}
    tc = _tc(1)
    up.submit(5 * NS, 0, tc)
    up.send_due(0, 10 * NS, cut, inbound)
    assert inbound == {} and up.counts["windows_waited"] == 1
    up.send_due(10 * NS, 20 * NS, s, inbound)
    ((at, sender, _seq, raw),) = inbound[2]  # to node 2, which carries it on over two hops
    f = RelayFrame.decode(raw)
    assert (f.origin, f.dest, f.hop, f.packet) == (GROUND_SCID, BASE + 0, GROUND_SCID, tc)
    assert at == 20 * NS and sender == -2  # never before the next window
    assert up.by_route["neighbour"] == 1


def test_lost_frames_are_sent_again_until_verified_and_counted_lost_after_max_tries() -> None:
    """GEO frames hit by bit errors (ber 1: every frame) are never verified: sent three
    times, then lost and their jobs given back; a report from another node with the
    same request id verifies nothing."""
    given_back: list[tuple[int, ...]] = []
    up = GroundUplink(FakeRouter(ber=1.0), 1, 30.0, max_tries=3)  # type: ignore[arg-type]
    up.on_lost = lambda u: given_back.append(u.tags)
    s = _status(2, [(0, 1)], geo={0, 1})
    tc = _tc(7)
    up.submit(0, 0, tc, tags=(11, 12))
    inbound: dict[int, list[tuple[int, int, int, bytes]]] = {}
    for w in range(12):
        up.send_due(w * 10 * NS, (w + 1) * 10 * NS, s, inbound)
        up.on_report(1, _report(tc, 1), (w + 1) * 10 * NS)  # node 1's: not this TC's
        if w == 2:
            assert up.outstanding_jobs(0) == 2 and up.held_tags() == {11, 12}
    assert inbound == {}
    c = up.counts
    assert (c["sent"], c["resent"], c["lost_on_link"], c["lost"]) == (1, 2, 3, 1)
    assert given_back == [(11, 12)] and up.outstanding_jobs(0) == 0 and not up.held_tags()


def test_pus1_settles_a_tc_and_a_refusal_gives_its_jobs_back() -> None:
    given_back: list[tuple[int, ...]] = []
    up = GroundUplink(FakeRouter(passes=frozenset({0})), 1, 30.0)  # type: ignore[arg-type]
    up.on_lost = lambda u: given_back.append(u.tags)
    s = _status(1, [], ground={0})
    a, b, c = _tc(1), _tc(2), _tc(3)
    up.submit(0, 0, a, tags=(1,))
    up.submit(0, 0, b, tags=(2,))
    up.submit(0, 0, c, tags=(3,))
    inbound: dict[int, list[tuple[int, int, int, bytes]]] = {}
    up.send_due(0, 10 * NS, s, inbound)
    assert len(inbound[0]) == 3 and up.by_route["pass"] == 3
    up.on_report(0, _report(a, 1), 11 * NS)
    assert up.outstanding_jobs(0) == 2  # a is on the node now: its view will show it
    up.on_report(0, _report(a, 7), 12 * NS)
    up.on_report(0, _report(b, 2), 12 * NS)  # refused (e.g. the node's queue was full)
    up.on_report(0, _report(c, 7), 12 * NS)  # its acceptance was lost on the way down
    up.on_report(0, b"\x08\x64", 13 * NS)  # garbage that reached the ground: ignored
    for w in range(1, 10):  # nothing is sent again
        up.send_due(w * 10 * NS, (w + 1) * 10 * NS, s, inbound)
    assert len(inbound[0]) == 3
    cnt = up.counts
    assert (cnt["accepted"], cnt["completed"], cnt["refused"], cnt["resent"]) == (2, 2, 1, 0)
    assert given_back == [(2,)] and up.summary()["unverified"] == 0
    # Accepted, its completion never heard: settled after the timeout, never resent.
    d = _tc(4)
    up.submit(100 * NS, 0, d)
    up.send_due(100 * NS, 110 * NS, s, inbound)
    up.on_report(0, _report(d, 1), 111 * NS)
    for w in range(11, 16):
        up.send_due(w * 10 * NS, (w + 1) * 10 * NS, s, inbound)
    assert not up.open and up.counts["completion_unheard"] == 1 and up.counts["resent"] == 0


def test_a_silent_nodes_unverified_tcs_are_cancelled_and_the_uplink_is_bounded() -> None:
    up = GroundUplink(FakeRouter(), 1, 30.0, limit=2)  # type: ignore[arg-type]
    assert up.submit(0, 0, _tc(1), (1,)) and up.submit(0, 1, _tc(2), (2,))
    assert up.submit(0, 1, _tc(3)) is None and up.counts["not_taken"] == 1
    assert up.cancel_node(1) == 1 and up.held_tags() == {1}
    inbound: dict[int, list[tuple[int, int, int, bytes]]] = {}
    up.send_due(0, 10 * NS, _status(2, [(0, 1)], geo={0, 1}), inbound)
    assert list(inbound) == [0]


def _status_tm(jobs: list[ClusterJob]) -> bytes:
    return PusTm(apid=1, service=130, subservice=6, app_data=encode_status(3, 8, jobs)).encode()


def test_the_ledger_keeps_the_newest_checkpoint_from_the_node_a_job_is_placed_on() -> None:
    led = JobLedger()
    hours = float(np.float32(0.05))
    a = led.new(hours, 1, 0, 20.0)
    led.placed(a.tag, 0)
    at = [ClusterJob(a.tag, hours, 1, 0, 20.0, d, int(d // 60)) for d in (40.0, 80.0, 20.0)]
    led.on_packet(0, _status_tm([at[0]]), 1)
    led.on_packet(1, _status_tm([at[1]]), 2)  # from a node it is not placed on: stale
    led.on_packet(0, _status_tm([at[2]]), 3)  # older than the one held: kept the newer
    assert led.entries[a.tag].job.done_s == 40.0 and led.checkpoints == 1
    assert led.stale_reports == 1
    led.on_packet(0, _status_tm([at[1]]), 4)
    assert led.node_silent(0) == 1
    led.placed(a.tag, 1)
    assert led.entries[a.tag].resumed_from_s == [80.0]  # from what reached the ground
    assert led.unplace((a.tag, 999), 0) == 0  # placed on 1 now: a late loss of 0's TC
    assert led.unplace((a.tag,), 1) == 1 and list(led.pending) == [a.tag, a.tag]
    led.on_packet(0, _status_tm([]) + b"x", 5)  # a report that does not decode
    assert led.bad_reports == 1
