"""PUS-11 cost: a minor frame of the whole default node with 10,000 scheduled commands.

Two identical nodes (default mission, simulated spacecraft) are built in the same run;
one holds 10,000 time-tagged TCs (TC(17,1), no acknowledgement asked), the other none.
Frames of the two are timed in alternating blocks so host load hits both alike. Two
ratios, both targets at most 1.10: with the 10,000 waiting (due an hour later: the
common case) against none, and with one released in every measured frame against a
node releasing as often from a schedule of a few hundred (the cost of the schedule's
size, not of running a TC).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.packets import PusTc
from flightsw.runtime.executive import NS_PER_S, Executive
from flightsw.runtime.mission import load_mission
from flightsw.services.scheduling.app import INSERT
from hal.clocks import SimClock
from hal.factory import build_hal

N = 10_000
PER_TC = 200


def _node(n: int, first_release_s: float, spacing_s: float) -> Executive:
    m = load_mission()
    hal = build_hal(m.hal_config(), m.seed, SimClock())
    exe = Executive(m.executive, m.specs, hal)
    exe.run_for(5.0)
    apid = m.executive.apid
    t0 = exe.now_ns + int(first_release_s * NS_PER_S)
    step = int(spacing_s * NS_PER_S)
    acts = [
        {
            "release_time": t0 + i * step,
            "tc": PusTc(apid, 17, 1, seq_count=i & 0x3FFF, ack_flags=0).encode(),
        }
        for i in range(n)
    ]
    for k in range(0, n, PER_TC):
        body = INSERT.build({"activities": acts[k : k + PER_TC]})
        exe.submit_tc(PusTc(apid, 11, 4, app_data=body, seq_count=k & 0x3FFF).encode())
        exe.run_minor_frame()
    exe.run_for(2.0)
    tlm = exe.app("scheduler").instance.tlm
    if tlm["scheduled"] + tlm["released"] != n:
        raise RuntimeError(f"scheduler took {tlm['scheduled']} of {n}: nothing measured")
    return exe


def _timed(exe: Executive, frames: int) -> float:
    t0 = time.perf_counter()
    exe.run_frames(frames)
    return time.perf_counter() - t0


def _ratio(loaded: Executive, base: Executive, blocks: int, frames: int) -> float:
    a = b = 0.0
    for _ in range(blocks):
        a += _timed(loaded, frames)
        b += _timed(base, frames)
    return a / b


def run(quick: bool) -> dict[str, float]:
    blocks, frames = (6, 50) if quick else (20, 100)
    base = _node(0, 0, 0)
    waiting = _node(N, 3600.0, 0.1)
    r_wait = _ratio(waiting, base, blocks, frames)
    base2 = _node(blocks * frames + 200, 0.3, 0.1)  # releases as often, holds few
    releasing = _node(N, 0.3, 0.1)
    r_release = _ratio(releasing, base2, blocks, frames)
    if releasing.app("scheduler").instance.tlm["released"] < blocks * frames // 2:
        raise RuntimeError("the releasing node released nothing: nothing measured")
    return {
        "sched_10k_waiting_vs_none": r_wait,
        "sched_10k_releasing_vs_few": r_release,
    }
