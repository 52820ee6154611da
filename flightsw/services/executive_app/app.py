"""The executive's own app: its housekeeping, its events and its commands.

The executive itself is not an app, but the ground needs to see and steer it like one:
frame counters, overruns, exceptions, restarts, queue drops, and commands to restart or
re-enable an app. App indices in events and commands are the app's position in the
mission (the dictionary lists them).
"""

from __future__ import annotations

from flightsw.base.errors import CommandError
from flightsw.framework import verification
from flightsw.framework.app import (
    App,
    Arg,
    EventDef,
    FailureCode,
    HkDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.exec_services import AppCatalog, AppControl, ExecutiveCounters
from flightsw.framework.ports import Service

_APP = Arg("app", "u8", doc="app index in the mission")


class ExecutiveApp(App):
    """Reports and commands the executive."""

    DEFAULT_RATE_HZ = 1.0
    catalog = Service(AppCatalog)
    control = Service(AppControl)
    counters = Service(ExecutiveCounters)
    REPORTS = verification.REPORTS  # the executive verifies every TC (PUS 1)
    TELEMETRY = (
        TelemetryDef("minor_frames", "u32", doc="minor frames run since boot"),
        TelemetryDef("cycle_slips", "u32", doc="frames started late by a whole frame"),
        TelemetryDef(
            "overruns", "u32", doc="app slots that exceeded their CPU budget (paced clock only)"
        ),
        TelemetryDef("exceptions", "u32", doc="exceptions raised by apps"),
        TelemetryDef("restarts", "u32", doc="app restarts"),
        TelemetryDef("apps_disabled", "u8", doc="apps disabled after repeated failures"),
        TelemetryDef("tc_received", "u32"),
        TelemetryDef("tc_accepted", "u32"),
        TelemetryDef("tc_rejected", "u32"),
        TelemetryDef("uplink_dropped", "u32", doc="TCs refused by the full uplink queue"),
        TelemetryDef("tm_sent", "u32"),
        TelemetryDef("tm_dropped", "u32", doc="TM packets dropped by the full TM queue"),
        TelemetryDef("bus_dropped", "u32", doc="messages dropped by full bus pipes"),
        TelemetryDef("events_dropped", "u32", doc="event log entries overwritten"),
        TelemetryDef("watchdog_kicks", "u32"),
        TelemetryDef(
            "invalid_samples", "u32", doc="non-finite device values refused or blanked (HAL)"
        ),
    )
    HOUSEKEEPING = (HkDef(1, "executive", tuple(t.name for t in TELEMETRY), interval_s=10.0),)
    EVENTS = (
        EventDef(
            1,
            "APP_OVERRUN",
            Severity.LOW,
            (_APP, Arg("cpu_us", "u32", unit="us")),
            "app {app} overran its CPU budget ({cpu_us} us)",
        ),
        EventDef(
            2,
            "APP_EXCEPTION",
            Severity.MEDIUM,
            (_APP, Arg("count", "u16")),
            "app {app} raised an exception (total {count})",
        ),
        EventDef(
            3,
            "APP_RESTARTED",
            Severity.MEDIUM,
            (_APP, Arg("count", "u16")),
            "app {app} restarted (total {count})",
        ),
        EventDef(
            4, "APP_DISABLED", Severity.HIGH, (_APP,), "app {app} disabled after repeated failures"
        ),
    )

    def step(self, now_ns: int) -> None:
        c = self.counters.counters()
        t = self.tlm
        t["minor_frames"] = c.frame & 0xFFFFFFFF
        t["cycle_slips"] = c.cycle_slips & 0xFFFFFFFF
        t["overruns"] = c.overruns & 0xFFFFFFFF
        t["exceptions"] = c.exceptions & 0xFFFFFFFF
        t["restarts"] = c.restarts & 0xFFFFFFFF
        t["apps_disabled"] = c.apps_disabled
        t["tc_received"] = c.tc_received & 0xFFFFFFFF
        t["tc_accepted"] = c.tc_accepted & 0xFFFFFFFF
        t["tc_rejected"] = c.tc_rejected & 0xFFFFFFFF
        t["uplink_dropped"] = c.uplink_dropped & 0xFFFFFFFF
        t["tm_sent"] = c.tm_sent & 0xFFFFFFFF
        t["tm_dropped"] = c.tm_dropped & 0xFFFFFFFF
        t["bus_dropped"] = c.bus_dropped & 0xFFFFFFFF
        t["events_dropped"] = c.events_dropped & 0xFFFFFFFF
        t["watchdog_kicks"] = c.watchdog_kicks & 0xFFFFFFFF
        t["invalid_samples"] = c.invalid_samples & 0xFFFFFFFF

    def _loaded(self, index: int) -> str:
        apps = self.catalog.apps()
        if index >= len(apps):
            raise CommandError(FailureCode.UNKNOWN_ID, f"no app with index {index}")
        return apps[index].name

    @command(function_id=1, name="noop")
    def cmd_noop(self) -> None:
        """Do nothing; proves the command path end to end."""

    @command(function_id=2, args=(_APP,), name="restart_app")
    def cmd_restart_app(self, app: int) -> None:
        """Rebuild and restart an app (state lost, parameters kept).

        Completes only when the fresh instance started; a restart that failed (the app
        is then disabled) is a failed command, and a disabled app needs ``enable_app``."""
        loaded = self._loaded(app)
        exe = self.control
        if loaded == self.name:
            raise CommandError(FailureCode.INVALID_STATE, "the executive app cannot restart itself")
        if exe.stats(loaded).disabled:
            raise CommandError(FailureCode.INVALID_STATE, f"app {app} is disabled: enable it")
        if not exe.restart_app(loaded):
            raise CommandError(FailureCode.EXECUTION_ERROR, f"app {app} failed to restart")

    @command(function_id=3, args=(_APP,), name="enable_app")
    def cmd_enable_app(self, app: int) -> None:
        """Re-enable a disabled app and restart it (fails if it does not start)."""
        loaded = self._loaded(app)
        if not self.control.stats(loaded).disabled:
            raise CommandError(FailureCode.INVALID_STATE, f"app {app} is not disabled")
        if not self.control.enable_app(loaded):
            raise CommandError(FailureCode.EXECUTION_ERROR, f"app {app} failed to restart")

    @command(function_id=4, name="reset_counters")
    def cmd_reset_counters(self) -> None:
        """Zero the per-app overrun, exception and restart counters."""
        self.control.reset_counters()
