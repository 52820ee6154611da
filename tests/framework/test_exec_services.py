"""The executive's services as apps see them: narrow, by name, and following an app
across its restarts (a reader of telemetry must see the running instance's)."""

from __future__ import annotations

import pytest

from flightsw.framework.app import App, ParameterDef, TelemetryDef
from flightsw.framework.exec_services import (
    AppCatalog,
    AppControl,
    CommandPath,
    ExecutiveCounters,
    TmDownlink,
    TmPlayback,
    TmTap,
)
from flightsw.framework.parameters import ParameterMemory
from flightsw.framework.ports import Service
from tests.framework.test_ports import _load


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


class Tuned(App):
    """Has a parameter of its own and declares nothing else."""

    PARAMETERS = (ParameterDef(1, "gain", "f32", 2.0, 0.0, 10.0),)

    def step(self, now_ns: int) -> None:
        self.send_tm(17, 2, b"")


class Recorder(App):
    """Declares what comms, the relay, the packet store and FDIR use beyond their own."""

    downlink = Service(TmDownlink)
    taps = Service(TmTap)
    playback = Service(TmPlayback)
    memory = Service(ParameterMemory)

    def init(self) -> None:
        self.tapped: list[bytes] = []
        self.flushed: list[tuple[bytes, int]] = []
        self.taps.tap(self.name, self.tapped.append)
        self.downlink.attach(self.name, lambda pkt, ch: self.flushed.append((pkt, ch)))


def test_without_the_declaration_an_app_reaches_only_its_own_tm_and_parameters() -> None:
    exe = _load(Tuned, Recorder)
    tuned = exe.app("app0").instance
    # the TM funnel's sinks, taps and raw queue are not on ctx.tm: only sending
    for door in ("named_sinks", "_named_sinks", "taps", "_taps", "sinks", "send_raw", "queue"):
        assert not hasattr(tuned.ctx.tm, door), door
    assert tuned.ctx.tm.apid == exe.tm.apid
    # its own parameters, not another app's nor the store's ids
    assert tuned.param("gain") == 2.0
    assert dict(tuned.ctx.params.values) == {"gain": 2.0}
    assert not hasattr(tuned.ctx.params, "by_id") and not hasattr(tuned.ctx.params, "set_by_id")
    with pytest.raises(KeyError):
        tuned.ctx.params.get("queue_depth")
    tuned.ctx.params.set("gain", 3.0)  # its own, checked and counted as a set
    assert exe.params.get("app0", "gain") == 3.0 and exe.params.sets == 1
    assert set(tuned.ctx.ports) == set()


def test_the_tm_and_parameter_services_are_what_they_say() -> None:
    exe = _load(Tuned, Recorder)
    rec = exe.app("app1").instance
    assert isinstance(rec, Recorder)
    exe.run_frames(3)
    assert len(rec.tapped) == 3 and all(p[7:9] == bytes([17, 2]) for p in rec.tapped)
    assert [p for p, _ in rec.flushed] == rec.tapped  # realtime, same octets, channel 0
    rec.playback.send_raw(rec.tapped[0])
    exe.run_frames(1)
    assert rec.flushed[-2:] == [(rec.tapped[0], 1), (rec.tapped[3], 0)] and len(rec.tapped) == 4
    (pid,) = [e.pid for e in rec.memory.by_id.values() if e.pdef.name == "gain"]
    assert rec.memory.value_by_id(pid) == 2.0 and rec.memory.values["app0"]["gain"] == 2.0
    # a restarted recorder replaces its tap and sink: none fed twice, the old ones no more
    assert exe.restart_app(exe.app("app1"))
    old = len(rec.tapped), len(rec.flushed)  # the restart's own event reached the old tap
    again = exe.app("app1").instance
    assert isinstance(again, Recorder)
    exe.run_frames(1)
    assert (len(rec.tapped), len(rec.flushed)) == old
    assert len(again.tapped) == 1 and again.flushed[-1] == (again.tapped[0], 0)
