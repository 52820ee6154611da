"""The ground station against a SIL node over the simulated radio: a FARM-1 Lockout
driven from the ground and lifted from the ground (``unlock``), the way 232.1-B-2's
procedures do it (Set V(S) from the CLCW, Initiate AD with Unlock)."""

import random

from flightsw.ground.station import GroundStation
from flightsw.link.clcw import Clcw
from flightsw.link.fop import AlertCode, Directive, FopState, Response
from flightsw.link.sdls_config import link_security
from flightsw.packets import PusTc
from flightsw.runtime.mission import load_mission
from flightsw.services.comms.app import link_config
from flightsw.sil.harness import SilHarness
from tests.support.ground_link import exchange


def _node() -> SilHarness:
    m = load_mission(seed=random.randrange(1000))
    m.hal = {**m.hal, "radio": {"always_in_contact": True}, "spacecraft": {"boards": 8}}
    return SilHarness(m)


def test_a_lockout_driven_and_lifted_from_the_ground() -> None:
    h = _node()
    opts = next(s.options for s in h.mission.apps if s.name == "comms")
    gs = GroundStation.with_security(link_config(opts), link_security(opts))
    apid = h.mission.executive.apid
    far = random.randrange(60, 200)  # outside both FARM windows of V(R) = 0
    gs.fop.directive(Directive.SET_VS, far)
    gs.initiate()  # without a CLCW check: FOP-1 believes V(R) = far
    gs.send_packet(PusTc(apid, 17, 1, seq_count=1).encode())
    tm = exchange(h, gs, 3.0)
    assert gs.last_clcw is not None and gs.last_clcw.lockout  # FARM-1 in Lockout (E5)
    assert gs.fop.state is FopState.INITIAL
    alerts = {n.alert for n in gs.notices if n.response is Response.ALERT}
    assert alerts & {AlertCode.LOCKOUT, AlertCode.NNR}  # FOP-1 stopped, out of step
    assert not [p for p in tm if p.service == 17]
    gs.unlock()
    tm = exchange(h, gs, 3.0)
    assert gs.fop.state is FopState.ACTIVE and not gs.last_clcw.lockout
    vr = gs.last_clcw.report_value
    gs.send_packet(PusTc(apid, 17, 1, seq_count=2).encode())
    tm += exchange(h, gs, 3.0)
    assert [p.service for p in tm if p.service == 17] == [17]  # the ping, once
    assert gs.last_clcw.report_value == (vr + 1) & 0xFF and gs.outstanding == 0


def _station_pair() -> tuple[GroundStation, GroundStation]:
    """Two like stations; the second always takes FOP-1's outputs and notices on a tick
    (the fast path for a quiet FOP-1 turned off)."""
    opts = next(s.options for s in load_mission().apps if s.name == "comms")
    fast, full = (GroundStation(link_config(opts), fop_window=3, t1_s=1.5) for _ in range(2))

    class Loud(type(full.fop)):  # type: ignore[misc]
        quiet = False

    full.fop.__class__ = Loud
    return fast, full


def test_a_quiet_tick_sends_and_notes_what_a_full_tick_would() -> None:
    """Random directives, AD and BD requests, CLCWs (some acknowledging, some asking for a
    retransmission or in Lockout) and ticks across T1 expiries: the same CLTUs at each
    tick and the same notices, with or without the quiet fast path."""
    rng = random.Random(random.randrange(1 << 30))
    fast, full = _station_pair()
    now = 0.0
    quiet_ticks = 0
    for _ in range(400):
        op = rng.randrange(8)
        for gs in (fast, full):
            r = random.Random(now)  # the same draws for both stations
            if op == 0:
                gs.initiate()
            elif op == 1:
                gs.send_packet(PusTc(0x64, 17, 1, seq_count=r.randrange(100)).encode())
            elif op == 2:
                gs.send_bypass(PusTc(0x64, 17, 1, seq_count=r.randrange(100)).encode())
            elif op == 3:
                clcw = Clcw(
                    vcid=gs.fop.vcid,
                    report_value=r.randrange(256),
                    lockout=r.random() < 0.1,
                    retransmit=r.random() < 0.3,
                    wait=r.random() < 0.1,
                )
                gs.fop.clcw_received(clcw)
            elif op == 4:
                gs.fop.directive(Directive.SET_VS, r.randrange(256))
        now += rng.choice((0.05, 0.1, 0.5, 2.0))
        quiet_ticks += fast.fop.quiet and not fast._urgent
        assert fast.tick(now) == full.tick(now)
        assert fast.notices == full.notices
        assert fast.cltus_sent == full.cltus_sent
    assert quiet_ticks > 20  # the fast path was taken ...
    assert fast.cltus_sent > 20  # ... and so was the other one
