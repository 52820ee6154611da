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
    out = {}
    for i in range(router.n):
        peers = [j for j in router.peers_of(i) if links.isl(i, j, t_s).up]
        out[i] = CrosslinkStatus(
            frozenset(BASE + j for j in peers),
            ground[i],
            geo[i],
            frozenset(BASE + j for j in peers if ground[j] or geo[j]),
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
