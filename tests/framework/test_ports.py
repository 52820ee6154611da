"""Ports: an app gets the devices and services it declared and nothing else, talks on the
bus only as declared, and a mission whose ports or names do not resolve is refused at
load with DeclarationError naming the app and the name."""

from __future__ import annotations

from typing import Any

import pytest

from flightsw.base.errors import DeclarationError
from flightsw.framework.app import (
    App,
    AppSpec,
    EventDef,
    ParameterDef,
    ReportDef,
    Severity,
    TelemetryDef,
)
from flightsw.framework.exec_services import AppCatalog, AppControl
from flightsw.framework.layouts import U16, Struct
from flightsw.framework.name_check import scan, undeclared
from flightsw.framework.ports import Device, OptionalDevice, Publish, Service, Subscribe, check_bus
from flightsw.runtime.executive import Executive, ExecutiveConfig
from flightsw.runtime.mission import load_mission
from hal.backend import Hal
from hal.clocks import SimClock
from hal.interfaces import Battery, BatteryTelemetry, Radio
from hal.nvstore import MemoryNvStore

PING = 0x0F01
PONG = 0x0F02


class FakeBattery:
    def read_battery(self) -> BatteryTelemetry:
        return BatteryTelemetry(28.0, 1.0, 20.0)


class _Watchdog:
    timeout_ns = 10**9

    def kick(self) -> None:
        pass


def _hal(**devices: object) -> Hal:
    return Hal(
        "null",
        SimClock(0),
        _Watchdog(),
        nv=MemoryNvStore(),
        devices=dict(devices),
        harness={"sim": object()},
    )


def _load(*classes: type[App], hal: Hal | None = None) -> Executive:
    specs = [AppSpec(f"app{i}", c, 10.0, 0x100 * (i + 1)) for i, c in enumerate(classes)]
    return Executive(ExecutiveConfig(), specs, hal or _hal(battery=FakeBattery()))


class Gauge(App):
    """Reads the battery each step, reports it, publishes a ping, listens for pongs."""

    battery = Device(Battery)
    radio = OptionalDevice(Radio)
    catalog = Service(AppCatalog)
    SUBSCRIBES = (Subscribe(PONG, int),)
    PUBLISHES = (Publish(PING, int),)
    TELEMETRY = (TelemetryDef("volts", "f32"),)
    EVENTS = (EventDef(1, "LOW_VOLTS", Severity.LOW),)
    PARAMETERS = (ParameterDef(1, "low_v", "f32", 20.0),)
    REPORTS = (ReportDef(130, 9, "volts_report", Struct("centivolts" / U16)),)

    def init(self) -> None:
        self.pongs = self.listen(PONG)

    def step(self, now_ns: int) -> None:
        v = self.battery.read_battery().voltage_v
        self.tlm["volts"] = v
        if v < float(self.param("low_v")):
            self.emit("LOW_VOLTS")
        self.send_report("volts_report", {"centivolts": int(v * 100)})
        self.ctx.bus.publish(PING, len(self.catalog.apps()))


def test_an_app_gets_its_declared_handles_and_nothing_else() -> None:
    exe = _load(Gauge)
    app = exe.app("app0").instance
    assert isinstance(app, Gauge)
    assert isinstance(app.battery, FakeBattery)
    assert app.radio is None  # optional, and this HAL has none
    exe.run_frames(3)
    assert app.tlm["volts"] == pytest.approx(28.0)
    # no back door: neither the HAL (its harness, the simulated spacecraft) nor the executive
    assert not hasattr(app.ctx, "hal") and not hasattr(app.ctx, "executive")
    assert set(app.ctx.ports) == {"battery", "radio", "catalog"}
    assert "sim" not in str(vars(app.ctx))


def test_a_missing_device_fails_at_load_naming_app_and_device() -> None:
    with pytest.raises(DeclarationError, match=r"app 'app0': device 'battery' \(Battery\)"):
        _load(Gauge, hal=_hal())


def test_a_device_of_the_wrong_kind_fails_at_load() -> None:
    with pytest.raises(
        DeclarationError, match="device 'battery' is a MemoryNvStore, not a Battery"
    ):
        _load(Gauge, hal=_hal(battery=MemoryNvStore()))


def test_a_service_the_executive_does_not_offer_fails_at_load() -> None:
    class Wants(App):
        other = Service(Battery)

    with pytest.raises(DeclarationError, match="app 'app0': the executive offers no service"):
        _load(Wants)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('self.emit("LOW_VOLT")', "emit('LOW_VOLT'): no event 'LOW_VOLT' declared"),
        ('self.param("low_volts")', "param('low_volts'): no parameter 'low_volts' declared"),
        ('self.tlm["volt"] = 1.0', "tlm[]('volt'): no telemetry 'volt' declared"),
        ("self.tlm.update(volt=1.0)", "tlm.update('volt'): no telemetry 'volt' declared"),
        ('self.send_report("volt_report", {})', "no report 'volt_report' declared"),
        ("self.listen(PING)", "listen(0x0f01): no subscription 0x0f01 declared"),
        ("self.ctx.bus.publish(PONG, 1)", "publish(0x0f02): no publication 0x0f02 declared"),
        ('self.param(f"low_{self.name}_x")', "param(f'low_.+_x'): no parameter declared matches"),
    ],
)
def test_a_misspelt_name_fails_at_load_naming_app_name_and_line(
    line: str, message: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each kind of name, misspelt once in code that never runs: refused at load."""
    source = (
        "from tests.framework.test_ports import PING, PONG, Gauge\n\n"
        "class Typo(Gauge):\n"
        "    def rarely(self) -> None:\n"
        f"        {line}\n"
    )
    (tmp_path / "typo_app.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    typo = importlib.import_module("typo_app")
    try:
        with pytest.raises(DeclarationError) as err:
            _load(typo.Typo)
        assert "app 'app0'" in str(err.value)
        assert message in str(err.value)
        assert "typo_app.py:5" in str(err.value)
    finally:
        import sys

        sys.modules.pop("typo_app", None)


def test_publishing_an_undeclared_id_or_type_is_refused_at_run_time_too() -> None:
    exe = _load(Gauge)
    bus = exe.app("app0").instance.ctx.bus
    with pytest.raises(DeclarationError, match="publishes 0x0f02 without declaring it"):
        bus.publish(PONG, 1)
    with pytest.raises(DeclarationError, match="with a str, declared int"):
        bus.publish(PING, "one")
    with pytest.raises(DeclarationError, match="listens to 0x0f01 without declaring it"):
        bus.listen(PING, 4, exe.bus.pipe("app0.commands").overflow)  # type: ignore[union-attr]


def test_publisher_and_subscriber_must_agree_on_the_payload_type() -> None:
    class Ponger(App):
        PUBLISHES = (Publish(PONG, str),)

    with pytest.raises(DeclarationError, match="subscribes to 0x0f02 as int, but app 'app1'"):
        _load(Gauge, Ponger)
    with pytest.raises(DeclarationError, match="publishes 0x0001 as int, app 'executive'"):
        check_bus({"x": ((), (Publish(0x0001, int),))}, [Publish(0x0001, str)])


def test_every_shipped_app_names_only_what_it_declared_and_every_site_is_checked() -> None:
    """The shipped apps' code has no name the scan could not check (a variable name in
    emit would escape the load-time check), and no undeclared one."""
    kinds: set[str] = set()
    for spec in load_mission().apps:
        assert scan(spec.cls).unchecked == [], spec.name
        assert undeclared(spec.cls, spec.cls.declarations().names()) == [], spec.name
        kinds |= {u.kind for u in scan(spec.cls).uses}
    # the scan really reads them: every kind of name is found somewhere
    assert kinds == {"event", "parameter", "report", "telemetry", "subscription", "publication"}


def test_a_control_port_acts_by_name_on_the_executive() -> None:
    class Boss(App):
        control = Service(AppControl)

    exe = _load(Gauge, Boss)
    boss = exe.app("app1").instance
    assert boss.control.disable_app("app0")
    assert exe.app("app0").stats.disabled and boss.control.stats("app0").disabled
    assert boss.control.enable_app("app0")
    assert not exe.app("app0").stats.disabled
