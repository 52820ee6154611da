"""The space link in SIL: a ground station commands the node over the simulated radio."""

from dataclasses import replace

from flightsw.ground.station import GroundStation
from flightsw.link.sdls import SecurityAssociation
from flightsw.link.sdls_config import link_security
from flightsw.mission import load_mission
from flightsw.packets import PusTc, PusTm
from flightsw.services.comms import link_config
from flightsw.testing import SilHarness


def _node(**radio: object) -> SilHarness:
    m = load_mission()
    m.hal = {**m.hal, "radio": {"always_in_contact": True, **radio}}
    m.hal["spacecraft"] = {"boards": 8}
    return SilHarness(m)


def _comms_options(h: SilHarness) -> dict[str, object]:
    return next(s.options for s in h.mission.apps if s.name == "comms")


def _ground(h: SilHarness, key: bytes | None = None) -> GroundStation:
    opts = _comms_options(h)
    sec = link_security(opts)
    if key is not None and sec.tc is not None:
        sec = replace(sec, tc=SecurityAssociation(spi=sec.tc.spi, key=key))
    gs = GroundStation.with_security(link_config(opts), sec)
    gs.initiate()
    return gs


def _exchange(h: SilHarness, gs: GroundStation, seconds: float) -> list[PusTm]:
    link = h.hal.devices["ground_link"]
    got: list[PusTm] = []
    for _ in range(int(seconds * 10)):
        h.exe.run_minor_frame()
        for cltu in gs.tick(h.exe.now_ns / 1e9):
            link.send(cltu)
        for chunk in link.receive():
            got.extend(PusTm.decode(p) for p in gs.receive(chunk))
    return got


def test_ping_over_the_link_comes_back_through_the_downlink() -> None:
    h = _node()
    gs = _ground(h)
    apid = h.mission.executive.apid
    for i in range(5):
        gs.send_packet(PusTc(apid, 17, 1, seq_count=i).encode())
    tm = _exchange(h, gs, 5.0)
    pongs = [p for p in tm if (p.service, p.subservice) == (17, 2)]
    completions = [p for p in tm if (p.service, p.subservice) == (1, 7)]
    assert len(pongs) == 5 and len(completions) == 5
    assert gs.outstanding == 0  # FOP-1 saw every frame acknowledged in the CLCW
    comms = h.exe.app("comms").instance
    assert comms.tlm["tc_packets"] == 5 and comms.tlm["sdls_rejected"] == 0


def test_wrong_key_is_refused_and_reported() -> None:
    h = _node()
    gs = _ground(h, key=bytes(32))
    gs.send_packet(PusTc(h.mission.executive.apid, 17, 1).encode())
    tm = _exchange(h, gs, 2.0)
    assert not [p for p in tm if p.service == 17]
    comms = h.exe.app("comms").instance
    assert comms.tlm["sdls_rejected"] >= 1 and comms.tlm["tc_packets"] == 0
    assert h.exe.dispatcher.received == 0
    high_events = [p for p in h.tm_of(5, 4) if p.app_data[:2] == (0x1F01).to_bytes(2, "big")]
    assert high_events, "TC_FRAME_UNAUTHENTICATED reported"


def test_lossy_link_still_delivers_commands_once() -> None:
    h = _node(ber_up=2e-4, ber_down=1e-5)
    gs = _ground(h)
    apid = h.mission.executive.apid
    for i in range(20):
        gs.send_packet(PusTc(apid, 17, 1, seq_count=i).encode())
    _exchange(h, gs, 30.0)
    assert h.exe.app("comms").instance.tlm["tc_packets"] == 20
    assert h.exe.dispatcher.accepted == 20
    assert h.hal.devices["rf_link"].bits_flipped > 0


def test_refusals_keep_being_reported_after_the_first_64() -> None:
    h = _node()
    gs = _ground(h, key=bytes(32))  # a forger: every frame fails SDLS
    apid = h.mission.executive.apid
    link = h.hal.devices["ground_link"]
    for i in range(150):
        gs.send_bypass(PusTc(apid, 17, 1, seq_count=i).encode())
        h.exe.run_minor_frame()
        for cltu in gs.tick(h.exe.now_ns / 1e9):
            link.send(cltu)
    h.run(2)
    comms = h.exe.app("comms").instance
    assert comms.tlm["sdls_rejected"] > 100
    events = [p for p in h.tm_of(5, 4) if p.app_data[:2] == (0x1F01).to_bytes(2, "big")]
    assert len(events) > 100  # reporting did not stop when the bounded list filled up
