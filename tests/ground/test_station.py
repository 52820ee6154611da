"""The ground station against a SIL node over the simulated radio: a FARM-1 Lockout
driven from the ground and lifted from the ground (``unlock``), the way 232.1-B-2's
procedures do it (Set V(S) from the CLCW, Initiate AD with Unlock)."""

import random

from flightsw.ground.station import GroundStation
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
