"""The executive's services as apps see them: narrow, by name, and following an app
across its restarts (a reader of telemetry must see the running instance's)."""

from __future__ import annotations

from flightsw.app import App, TelemetryDef
from flightsw.exec_services import AppCatalog, AppControl, CommandPath, ExecutiveCounters
from flightsw.ports import Service
from tests.test_ports import _load


class Counter(App):
    TELEMETRY = (TelemetryDef("n", "u32"),)

    def init(self) -> None:
        self.n = 0

    def step(self, now_ns: int) -> None:
        self.n += 1
        self.tlm["n"] = self.n


class Reader(App):
    catalog = Service(AppCatalog)
    control = Service(AppControl)
    commands = Service(CommandPath)
    counters = Service(ExecutiveCounters)


def test_the_catalog_follows_an_app_across_a_restart() -> None:
    exe = _load(Counter, Reader)
    reader = exe.app("app1").instance
    assert isinstance(reader, Reader)
    exe.run_frames(5)
    assert reader.catalog.telemetry("app0")["n"] == 5
    assert reader.control.restart_app("app0")
    exe.run_frames(2)
    # a fresh instance counts from 0: the catalog reads it, not the one before
    assert reader.catalog.telemetry("app0")["n"] == 2
    assert reader.catalog.telemetry("app0") is exe.app("app0").instance.tlm
    info = reader.catalog.app("app0")
    assert (info.name, info.index, info.id_base) == ("app0", 0, 0x100)
    assert [t.name for t in info.declarations.telemetry] == ["n"]
    assert reader.control.stats("app0").restarts == 1
    c = reader.counters.counters()
    assert c.restarts == 1 and c.frame == exe.frame == reader.catalog.frame == 7
    assert reader.commands.room() == exe.dispatcher.uplink_depth


def test_an_app_gets_only_the_services_it_declared() -> None:
    exe = _load(Counter, Reader)
    counter = exe.app("app0").instance
    assert not hasattr(counter, "catalog") and counter.ctx.ports == {}
