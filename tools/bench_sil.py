"""Whole-node SIL speed: the default mission (all apps, simulated spacecraft) by board count.

Reports the real-time factor for 64, 256, 1024 and 4096 boards and the cost of 4096
boards relative to 256 (target: at most 2x). TM is encoded and handed to a sink, as in
``flightsw sim``, but not archived.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.executive import Executive
from flightsw.mission import load_mission
from hal.clocks import SimClock
from hal.factory import build_hal


def realtime_factor(boards: int, sim_seconds: float) -> float:
    m = load_mission()
    m.hal = {**m.hal, "spacecraft": {**m.hal.get("spacecraft", {}), "boards": boards}}
    hal = build_hal(m.hal_config(), m.seed, SimClock())
    exe = Executive(m.executive, m.specs, hal)
    sink: list[bytes] = []
    exe.tm.sinks.append(lambda pkt, _ch: sink.append(pkt))
    exe.run_for(60.0)  # warm-up: boards powered, jobs placed
    t0 = time.perf_counter()
    exe.run_for(sim_seconds)
    return sim_seconds / (time.perf_counter() - t0)


def run(quick: bool) -> dict[str, float]:
    seconds = 300.0 if quick else 1800.0
    out: dict[str, float] = {}
    for n in (64, 256, 1024, 4096):
        out[f"sil_realtime_factor_{n}_boards"] = realtime_factor(n, seconds)
    out["sil_cost_4096_vs_256"] = (
        out["sil_realtime_factor_256_boards"] / out["sil_realtime_factor_4096_boards"]
    )
    return out


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:14,.2f}")
