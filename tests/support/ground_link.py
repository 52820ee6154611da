"""A SIL node and a ground station exchanging frames over the simulated radio, frame by
frame: the tests of comms, its security and the ground station all drive the link so."""

from __future__ import annotations

from flightsw.ground.station import GroundStation
from flightsw.packets import PusTm
from flightsw.sil.harness import SilHarness


def exchange(
    h: SilHarness, gs: GroundStation | None, seconds: float, record: list[bytes] | None = None
) -> list[PusTm]:
    """Run ``seconds`` of minor frames; the ground's CLTUs go up, the node's TM comes down
    and is returned decoded. With no ground station the downlink is drained unread;
    ``record`` gets every CLTU sent (for replaying them later)."""
    link = h.hal.harness["ground_link"]
    got: list[PusTm] = []
    for _ in range(round(seconds * 10)):
        h.exe.run_minor_frame()
        if gs is None:
            link.receive()
            continue
        for cltu in gs.tick(h.exe.now_ns / 1e9):
            link.send(cltu)
            if record is not None:
                record.append(cltu)
        for chunk in link.receive():
            got.extend(PusTm.decode(p) for p in gs.receive(chunk))
    return got
