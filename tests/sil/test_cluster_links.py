"""The link router's view of a window, evaluated for every hop at once, against the
one-hop link model asked hop by hop (what the router did before it was vectorised)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.sil.cluster_links import LinkRouter
from hal.interfaces import CrosslinkStatus
from sim_hw.environment import DEFAULT_STATIONS, contact_windows
from sim_hw.isl import ClusterLinks, LinkOutage, formation, geo_relays
from sim_hw.orbit import CircularOrbit

BASE = 0x100


def _status_hop_by_hop(router: LinkRouter, t_s: float) -> dict[int, CrosslinkStatus]:
    links = router.links
    ground = [any(w.start_s <= t_s < w.end_s for w in router.contacts[i]) for i in range(router.n)]
    geo = [links.best_geo(i, t_s) is not None for i in range(router.n)]
    peers = [[j for j in router.peers_of(i) if links.isl(i, j, t_s).up] for i in range(router.n)]
    # Hops to a node with a way down, by relaxing until nothing changes (not a BFS).
    far = router.n + 1
    hops = [0 if ground[i] or geo[i] else far for i in range(router.n)]
    for _ in range(router.n):
        hops = [min([hops[i]] + [hops[j] + 1 for j in peers[i]]) for i in range(router.n)]
    out = {}
    for i in range(router.n):
        down = [j for j in peers[i] if hops[j] == 0]
        if 1 < hops[i] < far:
            down = [j for j in peers[i] if hops[j] < hops[i]]
        out[i] = CrosslinkStatus(
            frozenset(BASE + j for j in peers[i]),
            ground[i],
            geo[i],
            frozenset(BASE + j for j in down),
        )
    return out


@given(
    nodes=st.integers(1, 8),
    spacing=st.floats(1.0, 25.0),
    t=st.lists(st.floats(0.0, 3_000.0), min_size=1, max_size=4),
    silent=st.integers(0, 7),
)
@settings(max_examples=8, deadline=None)
def test_status_of_every_node_equals_the_hop_by_hop_model(
    nodes: int, spacing: float, t: list[float], silent: int
) -> None:
    orbits = formation(CircularOrbit(), nodes, spacing)
    outages = (LinkOutage(f"node:{silent}", 0.0, 3_000.0), LinkOutage("geo:TL-17E", 0.0, 1e4))
    links = ClusterLinks(orbits, geo_relays(80.0), outages=outages)
    contacts = [contact_windows(o, DEFAULT_STATIONS, -1.0, 3_001.0) for o in orbits]
    router = LinkRouter(links, contacts, DEFAULT_STATIONS, BASE, 1, None, 2)
    for t_s in t:
        assert router.status(t_s) == _status_hop_by_hop(router, t_s)


def test_a_node_hops_away_from_any_way_down_sends_to_the_peer_nearer_to_one() -> None:
    """A string 0-1-2-3-4 where only node 4 has a way down, and a node 5 linked to none:
    every node's way down is its neighbour towards 4 (no loop back), 5 has none."""
    from flightsw.sil.cluster_links import hops_to_ground, ways_down

    linked = [[1], [0, 2], [1, 3], [2, 4], [3], []]
    way = [False, False, False, False, True, False]
    hops = hops_to_ground(linked, way)
    assert hops == [4, 3, 2, 1, 0, -1]
    assert [ways_down(i, linked, hops) for i in range(6)] == [[1], [2], [3], [4], [], []]
    way[0] = True  # a second way down, at the other end: each goes to the nearer
    hops = hops_to_ground(linked, way)
    assert hops == [0, 1, 2, 1, 0, -1]
    assert [ways_down(i, linked, hops) for i in range(5)] == [[], [0], [1, 3], [4], []]
