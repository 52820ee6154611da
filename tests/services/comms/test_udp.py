"""A ground system on the network talks to a running flight build over UDP."""

import socket
import time

from flightsw.ground.station import GroundStation
from flightsw.link.sdls_config import link_security
from flightsw.packets import PusTc, PusTm
from flightsw.runtime.mission import load_mission
from flightsw.services.comms.app import link_config
from flightsw.sil.harness import SilHarness


def test_ground_station_over_udp_commands_and_receives_tm() -> None:
    m = load_mission()
    m.hal = {**m.hal, "radio": {"kind": "udp", "bind": "127.0.0.1:0"}, "spacecraft": {"boards": 8}}
    comms = next(s for s in m.apps if s.name == "comms")
    comms.options["sdls"]["allow_published_key"] = True  # a real socket: must be explicit
    h = SilHarness(m)
    radio = h.hal.devices["radio"]
    opts = next(s.options for s in m.apps if s.name == "comms")
    gs = GroundStation.with_security(link_config(opts), link_security(opts))
    gs.initiate()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    apid = m.executive.apid
    try:
        for i in range(3):
            gs.send_packet(PusTc(apid, 17, 1, seq_count=i).encode())
        got: list[PusTm] = []
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and len([p for p in got if p.service == 17]) < 3:
            for cltu in gs.tick(h.exe.now_ns / 1e9):
                sock.sendto(cltu, radio.address)
            h.exe.run_minor_frame()
            while True:
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    break
                got.extend(PusTm.decode(p) for p in gs.receive(data))
        pongs = [p for p in got if (p.service, p.subservice) == (17, 2)]
        assert len(pongs) == 3
        assert gs.outstanding == 0
    finally:
        sock.close()
        radio.close()
