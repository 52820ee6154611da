"""CFDP throughput over the in-process link, against the link's own rate.

A default node (simulated spacecraft, radio always in contact, no bit errors) and a
ground station in the same process, joined by the simulated RF link: CFDP PDUs in PUS
packets, TC frames as CLTUs up (bypass frames), TM frames as CADUs down. The node's CFDP
share of the downlink is set to 90 % of the radio's rate (the rest stays for HK and
events), the ground's to 90 % of the uplink.

- ``cfdp_down_mb_s`` / ``cfdp_up_mb_s``: file octets delivered per second of simulated
  time (class 2, from the request to the Finished PDU), in MB/s;
- ``cfdp_down_vs_link`` / ``cfdp_up_vs_link``: that over the radio's own rate (1.0 would
  be every bit of the link carrying file data): the protocol's efficiency;
- ``cfdp_down_wall_mb_s`` and ``cfdp_down_wall_vs_link``: the same file octets per second
  of host time for the whole node and ground in one process, over the link's rate: how
  many times faster than the real link the SIL moves a file (at least 1: it keeps up).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.ground.file_transfer import GroundConfig, GroundFiles
from flightsw.ground.station import GroundStation
from flightsw.link.sdls_config import link_security
from flightsw.runtime.mission import load_mission
from flightsw.services.comms.app import link_config
from flightsw.sil.harness import SilHarness
from flightsw.store.files import read_complete_file

MB = 1_000_000


def _pass(root: Path) -> tuple[SilHarness, GroundStation, GroundFiles]:
    m = load_mission()
    m.hal = {**m.hal, "spacecraft": {"boards": 8}}
    m.hal["radio"] = {**m.hal.get("radio", {}), "always_in_contact": True}
    m.hal["radio"].update(ber_down=0.0, ber_up=0.0)
    h = SilHarness(m)
    radio = m.hal["radio"]
    h.exe.params.set("files", "cfdp_downlink_bps", 0.9 * float(radio["downlink_bps"]))
    opts = next(s.options for s in m.apps if s.name == "comms")
    gs = GroundStation.with_security(link_config(opts), link_security(opts))
    gs.initiate()
    cfg = GroundConfig(apid=m.executive.apid, root=root, uplink_bps=0.9 * radio["uplink_bps"])
    return h, gs, GroundFiles(cfg, gs.send_bypass, gs.send_packet)


def _until_done(h: SilHarness, gs: GroundStation, files: GroundFiles, limit_s: float) -> float:
    """Simulated seconds until the ground entity finished a transfer."""
    link = h.hal.harness["ground_link"]
    t0 = h.exe.now_ns
    while (h.exe.now_ns - t0) / 1e9 < limit_s:
        h.exe.run_minor_frame()
        now = h.exe.now_ns
        for cltu in gs.tick(now / 1e9):
            link.send(cltu)
        for cadu in link.receive():
            for pkt in gs.receive(cadu):
                files.feed(pkt)
        files.step(now, True)
        done = files.finished()
        if done:
            if not done[0].delivered:
                raise RuntimeError(f"transfer failed: {done[0]}")
            return (now - t0) / 1e9
    raise RuntimeError("no transfer finished: nothing measured")


def run(quick: bool) -> dict[str, float]:
    size_down = 1 * MB if quick else 4 * MB
    size_up = 50_000 if quick else 200_000
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        h, gs, files = _pass(root)
        h.exe.run_for(2.0)
        radio = h.mission.hal["radio"]
        down_rate = float(radio["downlink_bps"]) / 8 / MB
        up_rate = float(radio["uplink_bps"]) / 8 / MB
        data = random.Random(1).randbytes(size_down)
        store = h.exe.app("files").instance.store
        store.create("result.bin")
        store.write_at("result.bin", 0, data)
        store.mark_complete("result.bin")
        files.get("result.bin", "result.bin", acknowledged=True)
        w0 = time.perf_counter()
        sim_s = _until_done(h, gs, files, 600.0)
        wall_s = time.perf_counter() - w0
        if (root / "result.bin").read_bytes() != data:
            raise RuntimeError("the file arrived wrong: nothing measured")
        out["cfdp_down_mb_s"] = size_down / MB / sim_s
        out["cfdp_down_vs_link"] = out["cfdp_down_mb_s"] / down_rate
        out["cfdp_down_wall_mb_s"] = size_down / MB / wall_s
        out["cfdp_down_wall_vs_link"] = out["cfdp_down_wall_mb_s"] / down_rate
        up = random.Random(2).randbytes(size_up)
        (root / "up.bin").write_bytes(up)
        files.put("up.bin", "up.bin", acknowledged=True)
        sim_s = _until_done(h, gs, files, 600.0)
        if read_complete_file(h.hal.nv, "up.bin") != up:
            raise RuntimeError("the uplinked file arrived wrong: nothing measured")
        out["cfdp_up_mb_s"] = size_up / MB / sim_s
        out["cfdp_up_vs_link"] = out["cfdp_up_mb_s"] / up_rate
    return out


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:30s} {v:12.4f}")
