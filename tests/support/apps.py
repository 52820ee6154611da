"""Small apps that exist only to exercise the framework in tests."""

from __future__ import annotations

from flightsw.base.errors import CommandError
from flightsw.base.schema import Opt, Schema
from flightsw.framework.app import (
    DEFERRED,
    App,
    AppSpec,
    Arg,
    EventDef,
    FailureCode,
    HkDef,
    ParameterDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.context import CommandRequest


class CounterApp(App):
    """Counts its steps; has one of each kind of declaration."""

    DEFAULT_RATE_HZ = 1.0
    TELEMETRY = (
        TelemetryDef("count", "u32"),
        TelemetryDef("level", "u8"),
        TelemetryDef("gain", "f32"),
    )
    HOUSEKEEPING = (HkDef(1, "counter", ("count", "level", "gain"), interval_s=1.0),)
    EVENTS = (EventDef(1, "LEVEL_SET", Severity.INFO, (Arg("level", "u8"),), "level {level}"),)
    PARAMETERS = (
        ParameterDef(1, "gain", "f32", 1.5, 0.0, 10.0),
        ParameterDef(2, "limit", "u16", 100, 1, 1000),
    )

    def init(self) -> None:
        self.count = 0

    def step(self, now_ns: int) -> None:
        self.count += 1
        self.tlm["count"] = self.count
        self.tlm["gain"] = float(self.param("gain"))

    @command(function_id=1, args=(Arg("level", "u8", 0, 3),))
    def cmd_set_level(self, level: int) -> None:
        """Set the level (0..3)."""
        self.tlm["level"] = level
        self.emit("LEVEL_SET", level=level)

    @command(function_id=2)
    def cmd_refuse(self) -> None:
        """Always fails with INVALID_STATE."""
        raise CommandError(FailureCode.INVALID_STATE, "refused")

    @command(function_id=3)
    def cmd_buggy(self) -> None:
        """Raises a plain exception, like a bug would."""
        raise ZeroDivisionError("bug")

    @command(function_id=4)
    def cmd_slow(self, req: CommandRequest | None = None) -> object:
        """Completes one step later."""
        self.pending = True
        return DEFERRED


class CrashingApp(App):
    """Raises from step on every run."""

    def step(self, now_ns: int) -> None:
        raise RuntimeError("boom")


class CrashOnceApp(App):
    """Raises from the first step of its first instance only."""

    crashed = False

    def step(self, now_ns: int) -> None:
        if not CrashOnceApp.crashed:
            CrashOnceApp.crashed = True
            raise RuntimeError("once")


def spec(
    cls: type[App], name: str, id_base: int = 0x1000, rate_hz: float = 1.0, **kw: object
) -> AppSpec:
    return AppSpec(name=name, cls=cls, rate_hz=rate_hz, id_base=id_base, **kw)  # type: ignore[arg-type]


class FailingInitApp(App):
    """Cannot start: its init raises, like an app whose device or option is missing."""

    def init(self) -> None:
        raise RuntimeError("no such device")


class OptionsApp(App):
    """Declares its options; records what it was given."""

    OPTIONS = Schema(
        Opt("mode", "str", "fast", choices=("fast", "slow")),
        Opt("limit", "int", 10, min=1, max=100),
        Opt("inner", "table", {}, fields=Schema(Opt("gain", "float", 1.0, min=0, max=5))),
    )

    def init(self) -> None:
        self.given = dict(self.ctx.options)
