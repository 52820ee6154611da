"""The ground's end of relayed traffic: each packet kept once per origin, every data
frame acknowledged, and the listener (the ground's FDIR and job ledger) told once."""

from __future__ import annotations

from flightsw.services.relay.app import GROUND_SCID, KIND_ACK, KIND_DATA, RelayFrame
from flightsw.sil.cluster_ground import GroundRelayEndpoint

PKT = bytes([0x08, 0x64, 0xC0, 0x00, 0x00, 0x09, 0x20, 131, 1]) + bytes(8)


def test_identical_packets_from_two_nodes_are_both_kept_and_a_resend_is_not() -> None:
    """Nodes fly the same build: the same TM at the same time has the same octets (this
    lost one node's heartbeats to the ground before packets were told apart by origin)."""
    heard: list[tuple[int, int]] = []
    g = GroundRelayEndpoint()
    g.listener = lambda origin, t, pkt: heard.append((origin, t))
    for origin, seq in ((0x100, 1), (0x101, 1), (0x100, 2)):  # the last: a resend
        replies = g(
            origin - 0x100,
            RelayFrame(KIND_DATA, origin, GROUND_SCID, origin, 0, seq, PKT).encode(),
            5,
            "geo",
        )
        assert [RelayFrame.decode(r).kind for r in replies] == [KIND_ACK]
    assert heard == [(0x100, 5), (0x101, 5)]
    s = g.summary()
    assert s["packets"] == 2 and s["duplicates"] == 1
    assert s["by_origin"] == {"0x100": 1, "0x101": 1}
