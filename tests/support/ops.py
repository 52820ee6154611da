"""A small node for the operations services' tests: core services plus a probe app."""

from __future__ import annotations

from typing import Any

from flightsw.framework.app import App, Arg, EventDef, Severity, TelemetryDef, command
from flightsw.packets import PusTc
from flightsw.runtime.mission import CORE_SERVICES, load_mission
from flightsw.sil.harness import SilHarness
from tests.support.apps import spec

PROBE_BASE = 0x1000


class ProbeApp(App):
    """Telemetry the test sets by hand, and events it emits on command."""

    DEFAULT_RATE_HZ = 10.0
    TELEMETRY = (
        TelemetryDef("x", "f64"),
        TelemetryDef("flags", "u32"),
        TelemetryDef("temp", "f32"),
        TelemetryDef("steps", "u32"),
    )
    EVENTS = (EventDef(1, "PING", Severity.INFO, (Arg("code", "u16"),), "ping {code}"),)

    def step(self, now_ns: int) -> None:
        self.tlm["steps"] = int(self.tlm["steps"]) + 1

    @command(function_id=1, args=(Arg("count", "u16"), Arg("code", "u16")))
    def cmd_ping(self, count: int, code: int) -> None:
        """Emit ``count`` PING events with ``code``."""
        for _ in range(count):
            self.emit("PING", code=code)


PING_EVENT = PROBE_BASE + 1


def core_node(**options: dict[str, Any]) -> SilHarness:
    """The default mission's core services (few boards) and a ``probe`` app at 10 Hz;
    ``options`` gives core services their ``options`` tables by name."""
    m = load_mission()
    m.hal = {
        **m.hal,
        "spacecraft": {**m.hal.get("spacecraft", {}), "boards": 4},
        "ground_stations": m.hal["ground_stations"][:1],  # contact windows cost at build
    }
    core = {n for n, _, _ in CORE_SERVICES}
    m.apps = [s for s in m.apps if s.name in core]
    for s in m.apps:
        if s.name in options:
            s.options = s.cls.OPTIONS.validate(options[s.name], s.name)
    return SilHarness(m, extra_apps=[spec(ProbeApp, "probe", PROBE_BASE, rate_hz=10.0)])


def set_point(h: SilHarness, name: str, value: float) -> None:
    h.exe.app("probe").instance.tlm[name] = value


def tc(h: SilHarness, service: int, subservice: int, app_data: bytes = b"") -> bytes:
    """A TC packet of this node (for event-action definitions)."""
    raw = PusTc(
        apid=h.mission.executive.apid,
        service=service,
        subservice=subservice,
        app_data=app_data,
        seq_count=0,
        ack_flags=0,
    ).encode()
    return raw
