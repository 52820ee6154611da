"""Benchmarks of the framework core: software bus, executive frame overhead, core SIL.

Run standalone (``python tools/bench_core.py``) or through ``tools/bench.py``. Numbers
are rates measured in this run; targets are checked as ratios or absolute rates in the
report, never asserted in unit tests.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.framework.app import App, AppSpec
from flightsw.framework.bus import SoftwareBus
from flightsw.runtime.executive import Executive, ExecutiveConfig
from flightsw.runtime.mission import CORE_SERVICES, load_mission
from hal.backend import Hal
from hal.clocks import SimClock
from hal.factory import build_hal
from hal.sim.watchdog import SimWatchdog


class EmptyApp(App):
    """Does nothing: measures the executive's own cost per app slot."""

    DEFAULT_RATE_HZ = 10.0


def bench_bus(n: int) -> float:
    """Messages per second published and delivered to one subscriber."""
    bus = SoftwareBus()
    pipe = bus.create_pipe("sub", 1024)
    bus.subscribe(7, pipe)
    publish = bus.publish
    drain = pipe.drain
    t0 = time.perf_counter()
    delivered = 0
    for _ in range(n // 1000):
        for i in range(1000):
            publish(7, i)
        for _m in drain():
            delivered += 1
    dt = time.perf_counter() - t0
    assert delivered == (n // 1000) * 1000
    return delivered / dt


def bench_executive_overhead(frames: int) -> float:
    """Microseconds per minor frame with 10 empty apps at 10 Hz (no core services)."""
    specs = [AppSpec(f"e{i}", EmptyApp, 10.0, 0x1000 + 0x100 * i) for i in range(10)]
    clock = SimClock()
    # No simulated hardware: this measures the executive alone.
    hal = Hal(backend="bare", clock=clock, watchdog=SimWatchdog(clock, 5 * 10**9))
    exe = Executive(ExecutiveConfig(), specs, hal)
    t0 = time.perf_counter()
    exe.run_frames(frames)
    return (time.perf_counter() - t0) / frames * 1e6


def bench_core_sil(sim_seconds: float) -> float:
    """Real-time factor of the core services alone (no flight apps) on the simulated node."""
    m = load_mission()
    core = {name for name, _cls, _base in CORE_SERVICES}
    m.apps = [s for s in m.apps if s.name in core]
    hal = build_hal(m.hal_config(), m.seed, SimClock())
    exe = Executive(m.executive, m.specs, hal)
    sink: list[bytes] = []
    exe.tm.sinks.append(lambda pkt, _ch: sink.append(pkt))
    t0 = time.perf_counter()
    exe.run_for(sim_seconds)
    return sim_seconds / (time.perf_counter() - t0)


def run(quick: bool) -> dict[str, float]:
    scale = 1 if quick else 5
    return {
        "bus_msgs_per_s": bench_bus(200_000 * scale),
        "exec_us_per_minor_frame_10_empty_apps": bench_executive_overhead(5_000 * scale),
        "core_sil_realtime_factor": bench_core_sil(600.0 * scale),
    }


def main() -> None:
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:14,.1f}")


if __name__ == "__main__":
    main()
