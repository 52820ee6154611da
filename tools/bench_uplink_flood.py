"""A UDP radio flood against the whole node: the minor frame must stay bounded.

The default mission (all apps, 256 boards, simulated spacecraft) with its radio on UDP;
a sender on the same host fires datagrams of random octets (the worst case: nothing
decodes, everything is searched) as fast as the socket takes them, between frames. The
comms step decodes at most ``uplink_octets_per_step`` octets, so a flood can cost a frame
only a bounded amount: reported as the mean frame time under the flood over the quiet
one (target at most 4x; measured 2.8-3.4x, and 4.3-5.6x before the bound, when the
comms step decoded everything the kernel's socket buffer held).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.runtime.executive import Executive
from flightsw.runtime.mission import load_mission
from hal.clocks import SimClock
from hal.factory import build_hal


def _node() -> Executive:
    m = load_mission()
    m.hal = {**m.hal, "radio": {"kind": "udp", "bind": "127.0.0.1:0"}}
    comms = next(s for s in m.apps if s.name == "comms")
    # A UDP radio is a real radio: the published test key needs the explicit allowance
    # (without it comms refuses to start and the flood would measure nothing).
    comms.options = {
        **comms.options,
        "sdls": {**comms.options["sdls"], "allow_published_key": True},
    }
    hal = build_hal(m.hal_config(), m.seed, SimClock())
    exe = Executive(m.executive, m.specs, hal)
    if exe.app("comms").stats.disabled:
        raise RuntimeError("comms did not start: the flood would reach no decoder")
    exe.run_for(30.0)  # warm-up
    return exe


def frame_ms(frames: int, flood_datagrams: int) -> float:
    exe = _node()
    radio = exe.hal.devices["radio"]
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setblocking(False)
    junk = os.urandom(1400)
    total = 0.0
    try:
        for _ in range(frames):
            for _ in range(flood_datagrams):
                try:
                    tx.sendto(junk, radio.address)
                except BlockingIOError:
                    break
            t0 = time.perf_counter()
            exe.run_minor_frame()
            total += time.perf_counter() - t0
        if flood_datagrams and not exe.app("comms").instance.tlm["uplink_limited"]:
            raise RuntimeError("the flood never hit the per-step bound: nothing measured")
    finally:
        tx.close()
        radio.close()
    return total / frames * 1000


def run(quick: bool) -> dict[str, float]:
    frames = 100 if quick else 600
    quiet = frame_ms(frames, 0)
    flood = frame_ms(frames, 400)
    return {
        "frame_ms_quiet": quiet,
        "frame_ms_udp_flood": flood,
        "frame_time_udp_flood_vs_quiet": flood / quiet,
    }


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:14,.3f}")
