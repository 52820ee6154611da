"""PUS-12 cost: the whole node's minor frame with 1,000 monitoring definitions vs none.

Two executives of the default mission (256 boards, all apps) run side by side in this
process; one has 1,000 definitions (limit, expected-value and delta checks spread over
the mission's numeric telemetry points, mostly within limits as in operations), the
other none. Frames are timed in alternating blocks of whole major frames (each block
holds the same number of check cycles), in this thread's CPU time (waiting for a core
another process holds is not counted). Each pair of blocks gives a ratio; the result is
the median of those ratios, so the shared machine's load falls on both sides alike.
Target: the definitions add at most 10 % to the minor frame. Also reported: what the
three operations services (monitoring, event-action, tables) cost idle, the default
node against the same node without them.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.runtime.executive import Executive
from flightsw.runtime.mission import load_mission
from flightsw.services.monitoring.app import TABLE_NAME
from hal.clocks import SimClock
from hal.factory import build_hal

MONITORS = 1000


OPS_SERVICES = ("monitoring", "event_action", "tables")


def _node(without_ops: bool = False) -> Executive:
    m = load_mission()
    if without_ops:
        m.apps = [s for s in m.apps if s.name not in OPS_SERVICES]
    hal = build_hal(m.hal_config(), m.seed, SimClock())
    exe = Executive(m.executive, m.specs, hal)
    exe.tm.sinks.append(lambda pkt, ch: None)
    return exe


def definitions(exe: Executive, n: int) -> list[dict[str, Any]]:
    """``n`` definitions over every numeric telemetry point, round robin."""
    points = [f"{a.spec.name}.{t.name}" for a in exe.apps for t in a.cls.declarations().telemetry]
    out = []
    for i in range(n):
        kind = ("limit", "limit", "delta", "expected")[i % 4]
        out.append(
            {
                "pmon_id": i + 1,
                "point": points[i % len(points)],
                "check": kind,
                "persistence": 1 + i % 3,
                "mode": "active" if i % 2 else "report_only",
                "enabled": 1,
                "low": -1e12,
                "high": 1e12,
                "mask": 0,
                "expected": 0,
            }
        )
    return out


def frame_ms(frames: int, per_block: int = 30) -> tuple[float, float, float]:
    """Mean frame times (ms) of both nodes and the median of the paired block ratios."""
    plain, monitored = _node(), _node()
    monitored.tables.commit(TABLE_NAME, {"definitions": definitions(monitored, MONITORS)})
    mon = monitored.app("monitoring").instance
    if len(mon.defs) != MONITORS:
        raise RuntimeError("the definitions did not load: nothing measured")
    cycles_before = mon.core.samples
    out = paired(plain, monitored, frames, per_block)
    if mon.core.samples - cycles_before < frames // per_block:
        raise RuntimeError("the monitoring service did not run its checks: nothing measured")
    return out


def paired(
    base: Executive, other: Executive, frames: int, per_block: int
) -> tuple[float, float, float]:
    """Mean frame times (ms) of two nodes run in alternating blocks, and the median of
    the per-pair ratios other/base."""
    plain, monitored = base, other
    for exe in (plain, monitored):
        exe.run_for(30.0)  # warm-up: boards powered, jobs placed
    ratios: list[float] = []
    total = [0.0, 0.0]
    pairs = max(1, frames // per_block)
    for k in range(pairs):
        took = [0.0, 0.0]
        for i in (0, 1) if k % 2 == 0 else (1, 0):  # alternate which goes first
            t0 = time.thread_time()
            (plain, monitored)[i].run_frames(per_block)
            took[i] = time.thread_time() - t0
        ratios.append(took[1] / took[0])
        total[0] += took[0]
        total[1] += took[1]
    n = pairs * per_block
    return total[0] / n * 1000, total[1] / n * 1000, statistics.median(ratios)


def run(quick: bool) -> dict[str, float]:
    frames = 1200 if quick else 6000
    plain, monitored, ratio = frame_ms(frames)
    _, _, idle = paired(_node(without_ops=True), _node(), frames, 30)
    return {
        "frame_ms_no_monitors": plain,
        "frame_ms_1000_monitors": monitored,
        "monitor_frame_cost_1000_vs_none": ratio,
        "ops_services_idle_frame_cost": idle,
    }


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:14,.4f}")
