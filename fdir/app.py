"""The FDIR app: keeps the boards computing through radiation, and the node alive.

Boards, every minor frame (all boards at once):
- latch-up: rail power above what the board's state can draw by more than
  ``sel_excess_w`` -> the SEL ladder (off at once, cool down, on, re-admit; isolate
  after repeats). What a board can draw depends on its state: a board computing draws
  what its settings (utilization, cap) allow; one that is not (hung: its power dropped
  well below that, or its heartbeat has been silent ``hung_after_s``) draws idle power
  at most. Checked in every powered state, recovery steps included.
Boards, every second:
- hang (checked every frame): heartbeat silent longer than ``hang_timeout_s`` -> reset
  -> power cycle -> isolate; ``hang_isolate_n`` hangs within ``hang_window_s`` isolate
  a board;
- memory: corrected errors are counted and every powered board is scrubbed each
  ``scrub_period_s`` (sooner when ``scrub_trigger`` corrections pile up); an
  uncorrectable error is the payload's cue to roll the job back, FDIR counts it and
  isolates a board with ``unc_isolate_n`` of them within ``unc_window_s``;
- too hot (above ``board_off_c`` after thermal control's caps failed): off, like a
  latch-up.
Boards in recovery or isolated, and boards whose supply switch is not conducting, go
out to the payload as unavailable.

Supply level of the fault tree: a payload switch that trips takes its boards' power:
that is one supply fault (``SUPPLY_FAULT``), not a fault of each board; the power app
retries or isolates the switch, boards behind it wait, their recovery steps released.

Platform: temperature sensors are voted per zone (:mod:`fdir.sensors`); a sensor frozen
while a redundant partner moves, or out of line, is declared failed (thermal control
then drops it). A state of charge below ``safe_mode_soc``, or a voted battery
temperature above ``battery_safe_c``, for ``safe_persist_n`` samples in a row puts the
node in safe mode (payload off, loads shed, housekeeping slowed), which only a TC ends.
No good TC frame for ``uplink_loss_s`` makes the comms service reinitialize the link.

Flight-software memory: every parameter (:class:`fdir.guard.ParamGuard`) and the FDIR
table are checked every frame against golden copies and repaired; the voting store on
NV is scrubbed every ``nv_scrub_s``.

Health (:mod:`fdir.health`) of boards, switches, sensors and apps is kept in one table,
can be commanded and every change is announced. Table-driven monitors
(:mod:`fdir.watch`) watch any telemetry point. Events go through a bounded backlog that
never drops a report silently (:mod:`fdir.eventlog`).

Every monitor can be disabled and re-enabled by TC, every limit is a PUS-20 parameter.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import asdict
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fdir.counters import FaultCounter
from fdir.eventlog import EventBacklog
from fdir.gates import GateChecker, GateLog, check_mode, kept, same
from fdir.guard import ParamGuard, ParamRegion, TableRegion
from fdir.health import Health, HealthTable, UnitKind
from fdir.ladder import BoardLadder, BoardState, LadderTiming
from fdir.persistence import NofM
from fdir.sensors import SensorFdir
from fdir.state import CriticalState, StateKeeper
from fdir.table import KEYS, flat, table_crc, timing_from, validated_table
from fdir.watch import ACTIONS, MAX_MONITORS, MODES, WatchTable
from flightsw.apps.shared.device_guard import DEVICE_ERROR, DEVICE_ERRORS, DeviceGuard
from flightsw.apps.shared.messages import (
    BOARD_AVAILABILITY,
    POWER_BUDGET,
    SAFE_MODE,
    SENSOR_HEALTH,
    SWITCH_HEALTH_REQUEST,
    SWITCH_STATUS,
    BoardAvailability,
    PowerBudget,
    SafeMode,
    SensorHealth,
    SwitchHealthRequest,
    SwitchStatus,
)
from flightsw.base.errors import CommandError, FlightswError
from flightsw.base.schema import REQUIRED, Opt, Schema, from_dataclass
from flightsw.framework import msgids
from flightsw.framework.app import (
    App,
    Arg,
    EventDef,
    FailureCode,
    HkDef,
    ParameterDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.exec_services import AppCatalog, AppControl
from flightsw.framework.parameters import ParameterMemory
from flightsw.framework.ports import Device, OptionalDevice, Publish, Service, Subscribe
from flightsw.runtime.executive import AppFault
from hal.interfaces import (
    AcceleratorBoards,
    Battery,
    BoardTelemetry,
    NonVolatileStore,
    PowerDistribution,
    SwitchTelemetry,
    TemperatureSensors,
    UpsetTargets,
)

NS_PER_S = 1_000_000_000


class Monitor(IntEnum):
    """FDIR's monitors, by the number the enable/disable commands and HK bit use."""

    LATCHUP = 1
    HANG = 2
    SCRUB = 3
    SENSOR = 4
    SAFE_MODE = 5
    SUPPLY = 6
    MEMORY = 7
    WATCH = 8


MONITORS = {int(m): m.name.lower() for m in Monitor}  # number -> name (dictionary, docs)
# The monitors as plain ints for the every-frame ``in self.enabled`` tests: an IntEnum
# member hashes and compares as its int, so the answer is the same, and reading a module
# global is several times cheaper than an enum class attribute.
_LATCHUP = int(Monitor.LATCHUP)
_HANG = int(Monitor.HANG)
_SCRUB = int(Monitor.SCRUB)
_SENSOR = int(Monitor.SENSOR)
_SAFE_MODE = int(Monitor.SAFE_MODE)
_SUPPLY = int(Monitor.SUPPLY)
_MEMORY = int(Monitor.MEMORY)
_WATCH = int(Monitor.WATCH)
SENSOR_PERIOD_S = 1.0
CRITICAL_APPS = ("power", "thermal", "comms")
OVERRUN_RESTARTS = 3  # overrun escalations within the window before an app is disabled
# Plain ints for the hot array comparisons: numpy compares an int8 array with an int
# several times faster than with an IntEnum member.
HEALTHY = int(BoardState.HEALTHY)
ISOLATED = int(BoardState.ISOLATED)
NO_BOARDS = np.zeros(0, dtype=np.intp)
NO_BOARDS.flags.writeable = False  # (shared by every caller that finds none)
FULL_PERIOD_S = 1.0  # heartbeats, memory, ladder timers; latch-ups are checked every frame
_validated_table = validated_table  # the name tests and older code use


# What FDIR knows that a restart of its app must not lose (``FdirApp._take_back``):
# recovery ladders and their timers, latch-up filters, fault counters and windows,
# isolated / permanently faulty / externally controlled boards, health, failed sensors,
# heartbeat tracking, supply state, safe mode and its persistence, app re-enable history,
# memory-guard golden copies, pending event reports, monitors and their settings, totals.
RETAINED = (
    "state",
    "saved_key",
    "ladder",
    "sel_filter",
    "table_repairs",
    "enabled",
    "last_corrected",
    "since_scrub",
    "last_unc",
    "corrected_total",
    "unc_total",
    "scrubs",
    "next_scrub_s",
    "sensor_fdir",
    "battery_temp_c",
    "reenabled_at",
    "overrun_restarts",
    "next_radio_reset_s",
    "radio_resets",
    "next_sensor_s",
    "safe",
    "low_soc_n",
    "hot_battery_n",
    "next_full_s",
    "last_tel",
    "last_beat",
    "beat_at",
    "was_powered",
    "hang_due_s",
    "hang_counter",
    "unc_counter",
    "supply_down",
    "switch_tripped",
    "supply_faults",
    "health",
    "permanent",
    "external",
    "health_key",
    "events",
    "guard",
    "next_nv_scrub_s",
    "state_repairs_seen",
    "watch",
    "device_errors",
    "gate_log",
)


def _check_table(raw: dict[str, Any]) -> None:
    validated_table(raw)


class FdirApp(DeviceGuard, App):
    """Radiation-fault handling for the boards; sensor, supply and power-level FDIR."""

    DEFAULT_RATE_HZ = 10.0
    boards = Device(AcceleratorBoards)
    sensors = OptionalDevice(TemperatureSensors, "thermal")
    pcdu = OptionalDevice(PowerDistribution)
    battery = OptionalDevice(Battery)
    memory = OptionalDevice(UpsetTargets)  # the simulated processor's upset targets
    nv = Device(NonVolatileStore)
    catalog = Service(AppCatalog)
    control = Service(AppControl)
    all_params = Service(ParameterMemory)  # every app's parameters: golden copies, repair
    SUBSCRIBES = (
        Subscribe(POWER_BUDGET, PowerBudget),
        Subscribe(SWITCH_STATUS, SwitchStatus),
        Subscribe(msgids.UPLINK_STATUS, float),
        Subscribe(msgids.APP_FAULT, AppFault),
    )
    PUBLISHES = (
        Publish(BOARD_AVAILABILITY, BoardAvailability),
        Publish(SENSOR_HEALTH, SensorHealth),
        Publish(msgids.RADIO_RESET, str),
        Publish(SAFE_MODE, SafeMode),
        Publish(SWITCH_HEALTH_REQUEST, SwitchHealthRequest),
    )
    EVENT_SENDERS = ("report",)  # events go through the backlog: self.report(NAME, ...)
    OPTIONS = Schema(
        Opt(
            "table",
            "table",
            None,
            doc="the FDIR table (absent: the defaults); kept on the NV store",
            fields=Schema(
                Opt("sel_n", "int", None, min=1, max=63, doc="latch-ups: N of M samples"),
                Opt("sel_m", "int", None, min=1, max=63),
                Opt(
                    "ladder",
                    "table",
                    None,
                    fields=from_dataclass(LadderTiming, default_range=(1e-3, 1e7)),
                ),
                check=lambda table: _check_table(table),
            ),
        ),
        Opt("critical_apps", "list", None, max=64, items=Opt("app", "str"), doc="never left off"),
        Opt(
            "boards_per_switch",
            "int",
            None,
            min=1,
            max=100_000,
            doc="boards behind one payload switch (absent: boards / payload switches)",
        ),
        Opt(
            "monitors",
            "list",
            None,
            max=MAX_MONITORS,
            items=Opt(
                "monitor",
                "table",
                fields=Schema(
                    Opt("id", "int", None, min=1, max=MAX_MONITORS, doc="default: position"),
                    Opt("point", "str", REQUIRED, pattern=r"[^.]+\..+", doc="app.point"),
                    Opt("low", "float", None, doc="absent: no low limit"),
                    Opt("high", "float", None, doc="absent: no high limit"),
                    Opt("persist", "int", None, min=1, max=10_000, doc="samples in a row"),
                    Opt("mode", "str", None, choices=tuple(MODES), doc="default: report"),
                    Opt("action", "str", None, choices=tuple(ACTIONS), doc="default: none"),
                ),
            ),
            doc="table-driven monitors on telemetry points (fdir.watch)",
        ),
    )
    TELEMETRY = (
        DEVICE_ERRORS,
        TelemetryDef("latchups", "u32"),
        TelemetryDef("overtemps", "u32"),
        TelemetryDef("radio_resets", "u16"),
        TelemetryDef("hangs", "u32"),
        TelemetryDef("resets", "u32"),
        TelemetryDef("power_cycles", "u32"),
        TelemetryDef("recovered", "u32"),
        TelemetryDef("isolated_boards", "u16"),
        TelemetryDef("boards_in_recovery", "u16"),
        TelemetryDef("ecc_corrected", "u64", "", "corrected errors seen since start"),
        TelemetryDef("ecc_uncorrectable", "u32"),
        TelemetryDef("scrubs", "u32"),
        TelemetryDef("failed_sensors", "u16"),
        TelemetryDef("safe_mode", "u8"),
        TelemetryDef("monitors_enabled", "u8", "", "bit i-1 = monitor i enabled"),
        TelemetryDef("boot_count", "u32"),
        TelemetryDef("reset_reason", "u8", "", "0 power on, 1 watchdog, 2 command, 3 exception"),
        TelemetryDef("state_repairs", "u32", "", "critical-state copies repaired by voting"),
        TelemetryDef("table_repairs", "u16"),
        TelemetryDef("battery_temp_c", "f32", "degC", "voted battery temperature (safe mode)"),
        TelemetryDef("param_repairs", "u32", "", "parameter values repaired from golden"),
        TelemetryDef("events_lost", "u32", "", "event reports dropped, backlog full"),
        TelemetryDef("events_backlog", "u16", "", "event reports waiting"),
        TelemetryDef("supply_faults", "u16"),
        TelemetryDef("supplies_down", "u16", "", "payload switches not conducting"),
        TelemetryDef("monitor_violations", "u32", "", "table-driven monitor violations"),
    )
    HOUSEKEEPING = (HkDef(1, "fdir", tuple(t.name for t in TELEMETRY), interval_s=10.0),)
    EVENTS = (
        DEVICE_ERROR,
        EventDef(1, "BOARD_LATCHUP", Severity.MEDIUM, (Arg("board", "u16"),), "board {board}"),
        EventDef(2, "BOARD_HANG", Severity.LOW, (Arg("board", "u16"),), "board {board}"),
        EventDef(3, "BOARD_RECOVERED", Severity.INFO, (Arg("board", "u16"),), "board {board}"),
        EventDef(4, "BOARD_ISOLATED", Severity.HIGH, (Arg("board", "u16"),), "board {board}"),
        EventDef(5, "BOARD_POWER_CYCLED", Severity.LOW, (Arg("board", "u16"),), "board {board}"),
        EventDef(6, "SENSOR_FAILED", Severity.MEDIUM, (Arg("sensor", "u8"),), "sensor {sensor}"),
        EventDef(7, "SAFE_MODE_ENTERED", Severity.HIGH, (Arg("soc", "f32"),), "SoC {soc:.3f}"),
        EventDef(8, "SAFE_MODE_EXITED", Severity.MEDIUM, (), "by command"),
        EventDef(9, "UNCORRECTABLE_MEMORY", Severity.LOW, (Arg("board", "u16"),), "board {board}"),
        EventDef(
            10,
            "BOOT",
            Severity.MEDIUM,
            (Arg("boot_count", "u32"), Arg("reset_reason", "u8")),
            "boot {boot_count}, reset reason {reset_reason}",
        ),
        EventDef(
            11, "TABLE_REPAIRED", Severity.HIGH, (), "FDIR table reloaded from its golden copy"
        ),
        EventDef(14, "APP_REENABLED", Severity.MEDIUM, (Arg("app", "u8"),), "app {app}"),
        EventDef(15, "APP_LOST", Severity.HIGH, (Arg("app", "u8"),), "critical app {app} lost"),
        EventDef(
            16, "APP_OVERRUN_RESTART", Severity.MEDIUM, (Arg("app", "u8"),), "app {app} restarted"
        ),
        EventDef(12, "BOARD_OVERTEMP", Severity.MEDIUM, (Arg("board", "u16"),), "board {board}"),
        EventDef(
            13, "UPLINK_LOST", Severity.HIGH, (Arg("silent_s", "f32"),), "{silent_s:.0f} s silent"
        ),
        EventDef(
            17,
            "PARAM_REPAIRED",
            Severity.HIGH,
            (Arg("param", "u16"),),
            "parameter 0x{param:04x} restored from its golden copy",
        ),
        EventDef(
            18,
            "STATE_REPAIRED",
            Severity.MEDIUM,
            (Arg("copies", "u16"),),
            "{copies} NV copies of critical state repaired by voting",
        ),
        EventDef(
            19,
            "EVENTS_LOST",
            Severity.HIGH,
            (Arg("count", "u32"),),
            "{count} FDIR event reports dropped (backlog full)",
        ),
        EventDef(
            20,
            "SUPPLY_FAULT",
            Severity.HIGH,
            (Arg("switch", "u8"),),
            "switch {switch} lost its boards' supply",
        ),
        EventDef(
            21,
            "HEALTH_CHANGED",
            Severity.INFO,
            (Arg("kind", "u8"), Arg("unit", "u16"), Arg("health", "u8")),
            "unit {unit} of kind {kind} now health {health}",
        ),
        EventDef(
            22,
            "MONITOR_VIOLATION",
            Severity.MEDIUM,
            (Arg("monitor", "u8"), Arg("value", "f64")),
            "monitor {monitor} out of limits at {value}",
        ),
        EventDef(
            23,
            "MONITOR_ACTION",
            Severity.HIGH,
            (Arg("monitor", "u8"), Arg("action", "u8")),
            "monitor {monitor} took action {action}",
        ),
    )
    PARAMETERS = (
        ParameterDef(1, "sel_excess_w", "f32", 30.0, 1.0, 1000.0, "W"),
        ParameterDef(2, "hang_timeout_s", "f32", 2.5, 0.5, 600.0, "s", "checked every frame"),
        ParameterDef(3, "scrub_period_s", "f32", 600.0, 1.0, 86_400.0, "s"),
        ParameterDef(4, "scrub_trigger", "u32", 50, 1, 1_000_000),
        ParameterDef(5, "stuck_samples", "u16", 30, 3, 10_000),
        ParameterDef(6, "safe_mode_soc", "f32", 0.12, 0.0, 1.0),
        ParameterDef(7, "board_idle_w", "f32", 40.0, 0.0, 5000.0, "W"),
        ParameterDef(8, "board_max_w", "f32", 350.0, 1.0, 5000.0, "W"),
        ParameterDef(9, "rail_v", "f32", 12.0, 1.0, 100.0, "V"),
        ParameterDef(10, "board_off_c", "f32", 100.0, 0.0, 200.0, "degC", "board switched off"),
        ParameterDef(11, "battery_safe_c", "f32", 55.0, 0.0, 150.0, "degC", "safe mode above"),
        ParameterDef(13, "app_reenable_window_s", "f32", 3600.0, 1.0, 1e6, "s"),
        ParameterDef(12, "uplink_loss_s", "f32", 172_800.0, 10.0, 1e7, "s", "then reset radio"),
        ParameterDef(14, "hung_after_s", "f32", 2.5, 0.5, 600.0, "s", "silent: draws idle at most"),
        ParameterDef(15, "hang_isolate_n", "u8", 3, 1, 32, "", "hangs in the window: isolate"),
        ParameterDef(16, "hang_window_s", "f32", 3600.0, 1.0, 1e7, "s"),
        ParameterDef(17, "unc_isolate_n", "u8", 5, 1, 32, "", "memory errors: isolate"),
        ParameterDef(18, "unc_window_s", "f32", 3600.0, 1.0, 1e7, "s"),
        ParameterDef(19, "safe_persist_n", "u16", 5, 1, 3600, "", "samples before safe mode"),
        ParameterDef(20, "sensor_fail_n", "u16", 10, 1, 3600, "", "suspect samples: failed"),
        ParameterDef(21, "event_burst", "u16", 256, 1, 4096, "", "event reports a frame"),
        ParameterDef(22, "nv_scrub_s", "f32", 10.0, 1.0, 86_400.0, "s", "voting-store scrub"),
    )

    def init(self) -> None:
        n = self.boards.count
        self.keeper = StateKeeper(self.nv)
        saved = self.keeper.load() if self.keeper is not None else None
        self.state = saved or CriticalState(
            table=validated_table(self.ctx.options.get("table", {}))
        )
        table = self.state.table
        self.sel_filter = NofM(int(table["sel_n"]), int(table["sel_m"]), n)
        self.ladder = BoardLadder(n, timing_from(flat(table)))
        self.table_crc = table_crc(flat(table))
        self.table_key = (self.sel_filter.n, self.sel_filter.m, self.ladder.timing)
        self.table_repairs = 0
        self.enabled: set[int] = set(Monitor)
        self.power_pipe = self.listen(POWER_BUDGET)
        self.switch_pipe = self.listen(SWITCH_STATUS)
        self.last_corrected = np.zeros(n, dtype=np.int64)
        self.since_scrub = np.zeros(n, dtype=np.int64)
        self.last_unc = np.zeros(n, dtype=np.int64)
        self.corrected_total = 0
        self.unc_total = 0
        self.scrubs = 0
        self.next_scrub_s = float(self.param("scrub_period_s"))
        names = self.sensors.sensor_names() if self.sensors is not None else ()
        self.sensor_fdir = SensorFdir(
            tuple(names), self.battery is not None, int(self.param("stuck_samples"))
        )
        self.battery_temp_c = -273.0
        self.uplink_pipe = self.listen(msgids.UPLINK_STATUS)
        self.app_fault_pipe = self.listen(msgids.APP_FAULT, depth=32)
        self.critical_apps = set(self.ctx.options.get("critical_apps", CRITICAL_APPS))
        self.reenabled_at: dict[str, float] = {}
        self.overrun_restarts: dict[str, list[float]] = {}
        self.next_radio_reset_s = 0.0
        self.radio_resets = 0
        self.next_sensor_s = 0.0
        self.safe = False
        self.low_soc_n = 0
        self.hot_battery_n = 0
        self.last_published: bytes | None = None
        self.next_full_s = 0.0
        self.last_tel: BoardTelemetry | None = None
        self.saved_key: tuple[object, ...] | None = None
        # heartbeat silence, every frame: what a board can draw depends on it
        self.last_beat = np.zeros(n, dtype=np.int64)
        self.beat_at = np.zeros(n)
        self.was_powered = np.zeros(n, dtype=bool)
        self.hang_due_s = math.inf
        # fault counters beyond the ladder's own latch-up count
        self.hang_counter = FaultCounter(n)
        self.unc_counter = FaultCounter(n)
        # the supply level: payload switches and the boards behind each
        switch_names = tuple(self.pcdu.switch_names()) if self.pcdu is not None else ()
        self.switch_names = switch_names
        payload = [i for i, s in enumerate(switch_names) if s.startswith("payload")]
        self.payload_switches = np.array(payload, dtype=np.intp)
        per = int(self.ctx.options.get("boards_per_switch", -(-n // max(1, len(payload)))))
        self.board_switch = (
            self.payload_switches[np.minimum(np.arange(n) // max(per, 1), len(payload) - 1)]
            if payload
            else np.zeros(n, dtype=np.intp)
        )
        self.supply_down = np.zeros(n, dtype=bool)
        self.switch_tripped = [False] * len(switch_names)
        self.supply_faults = 0
        # health of every unit, events, memory protection, table-driven monitors
        apps = len(self.catalog.apps())
        self.health = HealthTable(
            {
                UnitKind.BOARD: n,
                UnitKind.SWITCH: len(switch_names),
                UnitKind.SENSOR: len(names),
                UnitKind.APP: apps,
            }
        )
        self.permanent = np.zeros(n, dtype=bool)
        self.external = np.zeros(n, dtype=bool)
        self.health_key = b""
        self.events = EventBacklog(per_frame=int(self.param("event_burst")))
        self.guard = ParamGuard(self.all_params, self.nv)
        self.next_nv_scrub_s = 0.0
        self.state_repairs_seen = 0
        self.watch = WatchTable.from_options(self.ctx.options.get("monitors", []))
        # exact gates (fdir.gates): what the last full work was done for; not retained, so a
        # fresh instance does all the work once
        self.gate_log = GateLog()
        self.hang_beat_min = math.inf  # the earliest beat of a board watched for hangs
        self.ceilings_key: tuple[object, ...] | None = None
        self.ceilings: tuple[NDArray[np.float64], NDArray[np.float64], float] | None = None
        self.supply_seen: tuple[tuple[bool, ...], tuple[bool, ...]] | None = None
        self.switch_health_seen: tuple[int, ...] | None = None
        self.beat_min_all: float | None = None  # beat_at.min(), while beat_at holds
        self.since_scrub_max: int | None = None  # since_scrub.max(), while it holds
        self.monitors_seen: tuple[set[int], int] | None = None  # enabled set -> HK bits
        self.tlm_seen: tuple[object, ...] | None = None
        self._take_back()
        self.gates = GateChecker(check_mode(), self._gate_state, self.gate_log)
        memory = self.memory
        if memory is not None:
            memory.register("params", ParamRegion(self.all_params))
            memory.register("fdir.table", TableRegion(self._live_table, self._poke_table))
        self._restore(saved)

    def _take_back(self) -> None:
        """After a restart of this app: take back what the instance before it knew.

        ``ctx.retained["fdir"]`` is the live attribute dict of the running instance, so it
        is current at any moment (an exception in the middle of a step included) and costs
        nothing per frame; a fresh instance copies the names in :data:`RETAINED` from it
        and then points it at its own. Not kept: device handles, pipes (the bus keeps
        those), the table's check values (recomputed from the golden copy, so a table
        upset in flight is still repaired)."""
        kept = self.ctx.retained
        before = kept.get("fdir")
        if before is not None and kept.get("boards") == self.boards.count:
            for name in RETAINED:
                if name in before:
                    setattr(self, name, before[name])
        kept["boards"] = self.boards.count
        kept["fdir"] = self.__dict__

    def report(self, event: str, **args: Any) -> None:
        """Queue an event report (sent within the frame's budget, never silently lost)."""
        self.events.add(event, **args)

    def _restore(self, saved: CriticalState | None) -> None:
        """At boot: count it, say why, and take back what the last run had decided."""
        booting = self.catalog.frame == 0
        if booting:
            self.state.boot_count += 1
            self.state.reset_reason = self.ctx.reset_cause
            self.report(
                "BOOT",
                boot_count=self.state.boot_count,
                reset_reason=self.state.reset_reason_code,
            )
        if saved is not None:
            idx = np.array([b for b in saved.isolated if b < self.boards.count], dtype=np.intp)
            if idx.size:
                self.ladder.state[idx] = BoardState.ISOLATED
                self.boards.set_board_power(idx, False)
            self.safe = saved.safe_mode
        self._board_health()
        self._save()

    def _save(self) -> None:
        """Write the critical state when it changed (serializing it costs ~0.1 ms)."""
        if self.keeper is None:
            return
        st = self.ladder.state
        isolated = np.flatnonzero(st == ISOLATED) if np.count_nonzero(st) else NO_BOARDS
        key = (self.safe, isolated.tobytes(), self.state.boot_count, self.state.reset_reason)
        if key == self.saved_key:
            return
        self.saved_key = key
        self.state.safe_mode = self.safe
        self.state.isolated = [int(b) for b in isolated]
        self.keeper.save(self.state)

    # --- the FDIR table and memory ----------------------------------------------------
    def _live_table(self) -> dict[str, float]:
        """The live table values as held (ints stay ints)."""
        out: dict[str, float] = {"sel_n": self.sel_filter.n, "sel_m": self.sel_filter.m}
        for name, value in asdict(self.ladder.timing).items():
            out[f"ladder.{name}"] = value
        return out

    def _poke_table(self, key: str, value: float) -> None:
        """Write one live table value (a simulated upset: no checks, as in RAM)."""
        if key in ("sel_n", "sel_m"):
            setattr(self.sel_filter, key[-1], int(value) if math.isfinite(value) else -1)
            return
        live = self._live_table()
        live[key] = value
        self.ladder.timing = timing_from(live)

    def _check_table(self) -> None:
        """The live table against the golden copy, every frame (a tuple comparison); the
        CRC decides when they differ; reload it from the golden copy then."""
        live_key = (self.sel_filter.n, self.sel_filter.m, self.ladder.timing)
        if live_key == self.table_key:
            return
        live = self._live_table()
        if len(live) == len(KEYS) and table_crc(live) == self.table_crc:
            self.table_key = live_key
            return
        golden = self.keeper.load() if self.keeper is not None else None
        table = golden.table if golden is not None else self.state.table
        self.sel_filter = NofM(int(table["sel_n"]), int(table["sel_m"]), self.boards.count)
        self.ladder.timing = timing_from(flat(table))
        self.table_crc = table_crc(flat(table))
        self.table_key = (self.sel_filter.n, self.sel_filter.m, self.ladder.timing)
        self.table_repairs += 1
        self.report("TABLE_REPAIRED")

    def _memory_guard(self, now: float) -> None:
        if _MEMORY not in self.enabled:
            return
        for pid in self.guard.check():
            self.report("PARAM_REPAIRED", param=pid)
        sf = self.sel_filter  # (the test that opens _check_table, here without a call)
        if (sf.n, sf.m, self.ladder.timing) != self.table_key:
            self._check_table()
        if now >= self.next_nv_scrub_s and self.keeper is not None:
            self.next_nv_scrub_s = now + float(self.param("nv_scrub_s"))
            self.keeper.store.read()  # votes and rewrites a bad copy
            if self.guard.golden_nv is not None:
                self.guard.golden_nv.read()
            repairs = self.keeper.store.repairs + (
                self.guard.golden_nv.repairs if self.guard.golden_nv is not None else 0
            )
            if repairs > self.state_repairs_seen:
                self.report("STATE_REPAIRED", copies=min(repairs - self.state_repairs_seen, 0xFFFF))
            self.state_repairs_seen = repairs

    # --- the loop ---------------------------------------------------------------------
    def step(self, now_ns: int) -> None:
        # (DeviceGuard.guarded, written out: no bound method and call every frame)
        try:
            self._step(now_ns)
        except FlightswError:
            self.device_error()
        events = self.events
        if events.queue or events.unreported:  # (an empty backlog's flush emits nothing)
            events.per_frame = int(self.param("event_burst"))
            events.flush(self.emit)

    def _step(self, now_ns: int) -> None:
        now = now_ns / NS_PER_S
        self._memory_guard(now)
        tel = self.boards.read_boards()
        fresh = tel is not self.last_tel  # a new snapshot (physics step or a command)
        if fresh:
            self._track_beats(tel, now)
        if now < self.next_full_s:
            # Gate of the 10 Hz frames: the snapshot seen before and no hang due is a
            # frame in which _between does nothing (it acts on a new snapshot or a hang).
            if fresh or now > self.hang_due_s:
                self._between(tel, now, fresh)
            elif self.gates.enabled:  # (no closure made per frame when not checking)
                self.gates.noop("between", lambda: self._between(tel, now, fresh))
            return
        self.next_full_s = now + FULL_PERIOD_S
        self.last_tel = tel
        released = self._supply()
        # the hang deadline _track_beats just computed is current unless _supply moved a
        # board out of its recovery step
        self._boards(tel, now, beats_current=fresh and not released)
        sensing = _SENSOR in self.enabled and self.sensors is not None
        if sensing and now >= self.next_sensor_s:
            self.next_sensor_s = now + SENSOR_PERIOD_S
            self._sensors()
        self._power()
        self._uplink(now)
        self._app_faults(now)
        if _WATCH in self.enabled:
            self._watch(now)
        self._save()
        self._telemetry()

    def _gate_state(self) -> tuple[object, ...]:
        """Everything the gated code could change (the check mode compares it)."""
        lad, hc, uc = self.ladder, self.hang_counter, self.unc_counter
        arrays: list[NDArray[Any]] = [lad.state, lad.deadline, lad.beat_mark, self.beat_at]
        arrays += [self.sel_filter.history, self.last_beat, self.was_powered, hc.times, hc.head]
        arrays += [uc.times, uc.head, self.last_corrected, self.last_unc, self.since_scrub]
        arrays += [self.supply_down, self.external, self.permanent]
        arrays += self.health.health.values()
        return (
            *(a.tobytes() for a in arrays),
            dict(lad.counts),
            tuple(map(tuple, lad.sel_times)),
            self.hang_due_s,
            self.corrected_total,
            self.unc_total,
            self.scrubs,
            self.next_scrub_s,
            tuple(self.switch_tripped),
            self.supply_faults,
            self.health_key,
            tuple(self.events.queue),
            self.events.dropped,
            self.last_published,
        )

    def _track_beats(self, tel: BoardTelemetry, now: float) -> None:
        """When each board's heartbeat last moved (power-on counts as a beat), and when the
        next hang could be due."""
        moved = tel.heartbeat != self.last_beat
        if tel.powered is not self.was_powered:  # (the same array: none was powered on)
            moved |= tel.powered & ~self.was_powered
        if np.count_nonzero(moved):  # (several times cheaper than .any() here)
            self.beat_min_all = None
            np.putmask(self.beat_at, moved, now)  # (beat_at[moved] = now, without a gather)
            self.last_beat = kept(tel.heartbeat)
        self.was_powered = kept(tel.powered)
        self._next_hang_due(tel)

    def _next_hang_due(self, tel: BoardTelemetry) -> None:
        st, powered = self.ladder.state, tel.powered
        # (the minimum over the watched boards, the others read as inf: inf when none is;
        # cheaper than gathering them, and than min's where=, which takes a slow path)
        if np.count_nonzero(st) or np.count_nonzero(self.external):
            watched = powered & (st == HEALTHY) & ~self.external
            oldest = float(np.where(watched, self.beat_at, math.inf).min())
        elif np.count_nonzero(powered) == powered.size:
            # every board healthy, none under ground control, all powered: all watched,
            # the same minimum over the same values
            oldest = float(self.beat_at.min())
            self.beat_min_all = oldest
        else:  # every board healthy, none under ground control: the powered ones
            oldest = float(np.where(powered, self.beat_at, math.inf).min())
        timeout = float(self.param("hang_timeout_s"))
        self.hang_beat_min = oldest
        self.hang_due_s = oldest + timeout if oldest != math.inf else math.inf

    def _expected_power(self, tel: BoardTelemetry) -> NDArray[np.float64]:
        """What each board's own settings let it draw (full power where it does not say)."""
        idle = float(self.param("board_idle_w"))
        full = float(self.param("board_max_w"))
        util, cap = tel.utilization, tel.power_cap_w
        if util is None or cap is None:
            return np.full(self.boards.count, full)
        demand = idle + np.clip(util, 0.0, 1.0) * (full - idle)
        out: NDArray[np.float64] = np.minimum(demand, np.maximum(cap, idle))
        return out

    def _ceilings(
        self, tel: BoardTelemetry, excess: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """``demand - excess``, ``demand + excess`` (the expected power's band) and
        ``idle + excess``. Gate: the expected power depends only on two parameters and on
        the boards' utilization and cap settings, which change on commands, not every
        second; with the same values (bit for bit) the arrays are the ones computed last."""
        idle = float(self.param("board_idle_w"))
        key = (idle, float(self.param("board_max_w")), excess)
        util, cap = tel.utilization, tel.power_cap_w
        cached = self.ceilings
        if (
            cached is not None
            and self.ceilings_key is not None
            and self.ceilings_key[0] == key
            and same(util, self.ceilings_key[1])  # type: ignore[arg-type]
            and same(cap, self.ceilings_key[2])  # type: ignore[arg-type]
        ):
            if self.gates.enabled:
                demand = self._expected_power(tel)
                self.gates.equal("ceilings", cached[0].tobytes(), (demand - excess).tobytes())
                self.gates.equal("ceilings", cached[1].tobytes(), (demand + excess).tobytes())
            return cached
        demand = self._expected_power(tel)
        self.ceilings = (demand - excess, demand + excess, idle + excess)
        self.ceilings_key = (
            key,
            None if util is None else kept(util),
            None if cap is None else kept(cap),
        )
        return self.ceilings

    def _latchup(self, tel: BoardTelemetry, now: float) -> NDArray[np.bool_]:
        """Latch-ups: more current than the board's state can draw, in any powered state.

        A board that is computing may draw its expected power (``demand``) plus
        ``sel_excess_w``; one that is not (drawing well below ``demand`` or silent) idle
        power plus the excess. (``where(nc, idle, demand) + excess`` is computed as
        ``where(nc, idle + excess, demand + excess)``: the same sums, element by element.)
        """
        if _LATCHUP not in self.enabled:
            return np.zeros(self.boards.count, dtype=bool)
        excess = float(self.param("sel_excess_w"))
        low, high, idle_ceiling = self._ceilings(tel, excess)
        p = tel.power_w
        hung_after = float(self.param("hung_after_s"))
        oldest = self.beat_min_all
        # Gate: the oldest heartbeat of all boards is not silent, so none is (``now - b``
        # is monotonic in ``b``; a NaN fails the test): ``silent`` would be all False.
        if oldest is not None and now - oldest <= hung_after:
            if self.gates.enabled:
                silent = (now - self.beat_at) > hung_after
                self.gates.equal("silent", int(np.count_nonzero(silent)), 0)
            not_computing = p < low
        else:
            not_computing = (p < low) | ((now - self.beat_at) > hung_after)
        ceiling = np.where(not_computing, idle_ceiling, high)
        st = self.ladder.state
        if np.count_nonzero(st) or np.count_nonzero(self.external):
            watched = tel.powered & (st != ISOLATED) & ~self.external
            over = watched & (p > ceiling)
        else:  # every board healthy and none under ground control: the powered ones
            over = tel.powered & (p > ceiling)
        out: NDArray[np.bool_] = self.sel_filter.update(over)
        return out

    def _between(self, tel: BoardTelemetry, now: float, fresh: bool) -> None:
        """Between full checks: a latch-up needs action within the frame, a hang as soon
        as it is due. The same snapshot twice (a device that has not refreshed) is one
        latch-up sample, not two."""
        sel = None
        if fresh:
            self.last_tel = tel
            sel = self._latchup(tel, now)
            if not np.count_nonzero(sel):
                sel = None
        if sel is not None or now > self.hang_due_s:
            self._boards(tel, now, sel)

    def _boards(
        self,
        tel: BoardTelemetry,
        now: float,
        sel: NDArray[np.bool_] | None = None,
        beats_current: bool = False,
    ) -> None:
        """Latch-ups, hangs, over-temperature, the ladders' timers, memory, health.

        ``sel`` None: the full check (latch-ups sampled here). ``beats_current``: the hang
        deadline was computed for this snapshot and nothing moved a board since.
        """
        ladder = self.ladder
        nominal = False
        if sel is None:
            sel = self._latchup(tel, now)
            nominal = beats_current and self._nominal(tel, now, sel)
        detected = sel
        if nominal:
            self.gates.noop("boards", lambda: self._ladder(tel, now, detected))
        else:
            self._ladder(tel, now, detected)
        quiet = self._memory(tel, now)
        if np.count_nonzero(ladder.state):  # (all healthy: nothing isolated to be stray)
            stray = np.flatnonzero(tel.powered & (ladder.state == ISOLATED))
            if stray.size:  # isolated means off, whoever switched it on
                self.boards.set_board_power(stray, False)
        self._board_health()
        if nominal and quiet:  # no board changed state since _track_beats computed it
            # (memory errors may have been counted and boards scrubbed: neither moves it)
            if self.gates.enabled:
                due = (self.hang_due_s, self.hang_beat_min)
                self._next_hang_due(tel)
                self.gates.equal("hang_due", due, (self.hang_due_s, self.hang_beat_min))
        else:
            self._next_hang_due(tel)
        self._publish_availability(now)

    def _nominal(self, tel: BoardTelemetry, now: float, sel: NDArray[np.bool_]) -> bool:
        """Gate of the full check's ladder work: True when :meth:`_ladder` would change
        nothing. Sufficient, as :meth:`fdir.ladder.BoardLadder.step` and the outcome
        handling show: no latch-up sampled; no board on a recovery step (so no timer
        runs; isolated boards stay so); no board above ``board_off_c`` (a NaN reading
        fails this test); no hang: the watched board with the oldest heartbeat is not
        silent (``now - beat`` is monotonic in ``beat``, so no other is). The one write
        the ladder's step would make, the isolated count, is made here."""
        if np.count_nonzero(sel):
            return False
        st = self.ladder.state
        not_healthy = np.count_nonzero(st)
        isolated = int(np.count_nonzero(st == ISOLATED)) if not_healthy else 0
        if isolated != not_healthy:
            return False
        hottest = tel.temperature_c.max(initial=-math.inf)
        if not hottest <= float(self.param("board_off_c")):
            return False
        silent = now - self.hang_beat_min > float(self.param("hang_timeout_s"))
        if silent and _HANG in self.enabled:
            return False
        if not_healthy:
            self.ladder.counts["isolated"] = isolated
        return True

    def _ladder(self, tel: BoardTelemetry, now: float, sel: NDArray[np.bool_]) -> None:
        """Detections into the recovery ladders; their outcome counted and reported."""
        ladder = self.ladder
        healthy_on = tel.powered & (ladder.state == HEALTHY) & ~self.external
        hot = healthy_on & (tel.temperature_c > float(self.param("board_off_c")))
        hang = self._hangs(tel, now)
        out = ladder.step(self.boards, now, tel.heartbeat, sel, hang & ~sel & ~hot, hot)
        self.beat_at[out.resets] = now  # a reset board starts computing again at once
        self.beat_min_all = None
        self.sel_filter.reset(out.sel_off)
        latchups = np.setdiff1d(out.sel_off, out.hot) if out.hot.size else out.sel_off
        isolated = list(out.isolated)
        if out.resets.size:  # hangs counted per board: a board that keeps hanging goes
            many = self.hang_counter.record(
                out.resets,
                now,
                int(self.param("hang_isolate_n")),
                float(self.param("hang_window_s")),
            )
            isolated += list(ladder.isolate(self.boards, out.resets[many]))
        for name, idx in (
            ("BOARD_OVERTEMP", out.hot),
            ("BOARD_LATCHUP", latchups),
            ("BOARD_HANG", out.resets),
            ("BOARD_POWER_CYCLED", out.cycles),
            ("BOARD_RECOVERED", out.recovered),
            ("BOARD_ISOLATED", np.array(isolated, dtype=np.intp)),
        ):
            for b in idx:
                self.report(name, board=int(b))

    def _publish_availability(self, now: float, force: bool = False) -> None:
        mask = self.ladder.unavailable | self.supply_down
        key = mask.tobytes()
        if force or key != self.last_published or int(now * 10) % 10 == 0:
            self.last_published = key
            # (mask is this call's own array, kept nowhere else: no copy needed)
            self.ctx.bus.publish(BOARD_AVAILABILITY, BoardAvailability(mask, "fdir"))

    def _hangs(self, tel: BoardTelemetry, now: float) -> NDArray[np.bool_]:
        """Healthy powered boards whose heartbeat has been silent ``hang_timeout_s``
        (checked every frame: FDIR must see a hang before the payload gives up on it)."""
        if _HANG not in self.enabled:
            return np.zeros(self.boards.count, dtype=bool)
        silent = (now - self.beat_at) > float(self.param("hang_timeout_s"))
        out: NDArray[np.bool_] = (
            silent & tel.powered & (self.ladder.state == HEALTHY) & ~self.external
        )
        return out

    def _board_health(self) -> None:
        """Board health from the ladder (and the ground's overrides), changes announced."""
        st = self.ladder.state
        key = st.tobytes() + self.external.tobytes() + self.permanent.tobytes()
        if key == self.health_key:
            return
        self.health_key = key
        h = np.where(st == HEALTHY, int(Health.HEALTHY), int(Health.NEEDS_RECOVERY))
        isolated = st == ISOLATED
        h = np.where(isolated, int(Health.FAULTY), h)
        h = np.where(isolated & self.permanent, int(Health.PERMANENT_FAULTY), h)
        h = np.where(self.external, int(Health.EXTERNAL_CONTROL), h).astype(np.int8)
        cur = self.health.of(UnitKind.BOARD)
        changed = np.flatnonzero(cur != h)
        for b, new in self.health.set(UnitKind.BOARD, changed, h[changed]):
            self.report("HEALTH_CHANGED", kind=int(UnitKind.BOARD), unit=b, health=new)

    def _memory(self, tel: BoardTelemetry, now: float) -> bool:
        """ECC counters and scrubbing; True when no board's ladder state changed (nothing
        isolated for memory errors: the usual second, and most with a new error).

        Gate: the counters are the ones seen last (bit for bit: no new error, none reset
        by a power-on) and the scrub would scrub nothing: not due, and no board has
        ``scrub_trigger`` corrections waiting."""
        if (
            same(tel.ecc_corrected, self.last_corrected)
            and same(tel.ecc_uncorrectable, self.last_unc)
            and not self._scrub_may_run(now)
        ):
            self.gates.noop("memory", lambda: self._ecc_and_scrub(tel, now))
            return True
        return not self._ecc_and_scrub(tel, now)

    def _scrub_may_run(self, now: float) -> bool:
        if _SCRUB not in self.enabled:
            return False
        if now >= self.next_scrub_s:
            return True
        # Gate: the most corrections a board has waiting, kept from the last time; only
        # _ecc_and_scrub writes since_scrub, and it forgets the kept value.
        most = self.since_scrub_max
        if most is None:
            most = self.since_scrub_max = int(self.since_scrub.max(initial=0))
        elif self.gates.enabled:
            self.gates.equal("since_scrub_max", most, int(self.since_scrub.max(initial=0)))
        return most >= int(self.param("scrub_trigger"))

    def _ecc_and_scrub(self, tel: BoardTelemetry, now: float) -> bool:
        """Count new memory errors, isolate boards with too many uncorrectable ones, scrub
        what is due; True when boards were put to the ladder's isolation."""
        isolating = False
        self.since_scrub_max = None  # (since_scrub may change below)
        corr, last = tel.ecc_corrected, self.last_corrected
        # Only boards whose counter changed have new corrections (elsewhere it is 0).
        moved = np.flatnonzero(corr != last) if corr is not last else NO_BOARDS
        if moved.size:
            now_c, was_c = corr[moved], last[moved]
            new = np.maximum(now_c - was_c, 0)  # counters restart at power-on
            new = np.where(now_c < was_c, now_c, new)
            self.corrected_total += int(new.sum())
            self.since_scrub[moved] += new
        self.last_corrected = kept(corr)
        unc = tel.ecc_uncorrectable
        hit = np.flatnonzero(unc > self.last_unc) if unc is not self.last_unc else NO_BOARDS
        self.last_unc = kept(unc)
        self.unc_total += len(hit)
        for b in hit:
            self.report("UNCORRECTABLE_MEMORY", board=int(b))
        if hit.size:
            many = self.unc_counter.record(
                hit, now, int(self.param("unc_isolate_n")), float(self.param("unc_window_s"))
            )
            chosen = hit[many & ~self.external[hit]]
            isolating = bool(chosen.size)
            for b in self.ladder.isolate(self.boards, chosen):
                self.report("BOARD_ISOLATED", board=int(b))
        if _SCRUB not in self.enabled:
            return isolating
        due = now >= self.next_scrub_s
        if due:
            self.next_scrub_s = now + float(self.param("scrub_period_s"))
            idx = np.flatnonzero(tel.powered & (self.ladder.state == HEALTHY))
        else:
            trigger = int(self.param("scrub_trigger"))
            if self.since_scrub.max(initial=0) < trigger:
                return isolating  # no board has ``trigger`` corrections waiting
            powered = tel.powered & (self.ladder.state == HEALTHY)
            idx = np.flatnonzero(powered & (self.since_scrub >= trigger))
        if idx.size:
            self.boards.scrub_memory(idx)
            self.since_scrub[idx] = 0
            self.scrubs += int(idx.size)
        return isolating

    # --- the supply level -------------------------------------------------------------------
    def _supply(self) -> bool:
        """Payload switches that stopped conducting: one supply fault, their boards wait.
        True when boards were released from their recovery steps."""
        for msg in self.switch_pipe.drain():
            st = msg.payload
            if isinstance(st, SwitchStatus) and len(st.health) == len(self.switch_names):
                # Gate: the health the power app sent last time, which this method set
                # then (only it writes switch health): setting it again changes nothing.
                if st.health == self.switch_health_seen:
                    if self.gates.enabled:
                        self.gates.noop("switch_health", self._switch_health_of(st))
                    continue
                self._switch_health(st)
                self.switch_health_seen = st.health
        if _SUPPLY not in self.enabled or self.pcdu is None:
            return False
        if not self.payload_switches.size:
            return False
        sw = self.pcdu.read_switches()
        # Gate: the switches' on/tripped states are the ones last worked through, so
        # ``switch_tripped`` and ``supply_down`` already hold what they give (only this
        # method writes them; a restarted app starts with no key and works once).
        key = (sw.on, sw.tripped)
        if key == self.supply_seen:
            self.gates.noop("supply", lambda: self._switches(sw))
            return False
        released = self._switches(sw)
        self.supply_seen = key
        return released

    def _switch_health_of(self, st: SwitchStatus) -> Callable[[], None]:
        return lambda: self._switch_health(st)  # (check mode: the skipped body)

    def _switch_health(self, st: SwitchStatus) -> None:
        idx = np.arange(len(st.health), dtype=np.intp)
        for i, h in self.health.set(UnitKind.SWITCH, idx, np.array(st.health, np.int8)):
            self.report("HEALTH_CHANGED", kind=int(UnitKind.SWITCH), unit=i, health=h)

    def _switches(self, sw: SwitchTelemetry) -> bool:
        conducting = np.array([on and not t for on, t in zip(sw.on, sw.tripped, strict=True)])
        # (nothing tripped now or before, the usual case: nothing to compare switch by switch)
        for i in self.payload_switches if any(sw.tripped) or any(self.switch_tripped) else ():
            tripped = bool(sw.tripped[i])
            if tripped and not self.switch_tripped[i]:
                self.supply_faults += 1
                self.report("SUPPLY_FAULT", switch=int(i))
            self.switch_tripped[i] = tripped
        down = ~conducting[self.board_switch]
        lost = down & ~self.supply_down
        self.supply_down = down
        if lost.any():
            # whatever a board behind it was recovering from, the power loss cleared it
            self.ladder.release(np.flatnonzero(lost))
            return True
        return False

    # --- sensors and power ------------------------------------------------------------------
    def _sensors(self) -> None:
        assert self.sensors is not None
        values = [float(v) for v in self.sensors.read_temperatures_c()]
        bms = math.nan
        if self.battery is not None:
            try:
                bms = float(self.battery.read_battery().temperature_c)
            except FlightswError:
                bms = math.nan
        newly = self.sensor_fdir.update(
            values, bms, int(self.param("sensor_fail_n")), int(self.param("stuck_samples"))
        )
        self.battery_temp_c = self.sensor_fdir.battery_c()
        for i in newly:
            self.report("SENSOR_FAILED", sensor=i)
        if newly:
            self._sensor_health()

    def _sensor_health(self) -> None:
        failed = self.sensor_fdir.failed
        n = len(self.sensor_fdir.names)
        h = np.array(
            [
                Health.EXTERNAL_CONTROL
                if i in self.sensor_fdir.external
                else (Health.FAULTY if i in failed else Health.HEALTHY)
                for i in range(n)
            ],
            dtype=np.int8,
        )
        for i, new in self.health.set(UnitKind.SENSOR, np.arange(n, dtype=np.intp), h):
            self.report("HEALTH_CHANGED", kind=int(UnitKind.SENSOR), unit=i, health=new)
        self.ctx.bus.publish(SENSOR_HEALTH, SensorHealth(frozenset(failed)))

    def _uplink(self, now: float) -> None:
        silent = None
        for msg in self.uplink_pipe.drain():
            if isinstance(msg.payload, float):
                silent = msg.payload
        limit = float(self.param("uplink_loss_s"))
        if silent is not None and silent > limit and now >= self.next_radio_reset_s:
            self.next_radio_reset_s = now + limit  # one reset per silent period
            self.radio_resets += 1
            self.report("UPLINK_LOST", silent_s=silent)
            self.ctx.bus.publish(msgids.RADIO_RESET, "uplink lost")

    def _app_health(self, index: int, health: Health) -> None:
        if index < len(self.health.of(UnitKind.APP)):
            idx = np.array([index], dtype=np.intp)
            for i, h in self.health.set(UnitKind.APP, idx, health):
                self.report("HEALTH_CHANGED", kind=int(UnitKind.APP), unit=i, health=h)

    def _app_faults(self, now: float) -> None:
        """System rung above the executive's restarts: a critical app the executive had to
        disable is re-enabled once per window; disabled again inside it -> safe mode."""
        exe = self.control
        for msg in self.app_fault_pipe.drain():
            fault = msg.payload
            if getattr(fault, "kind", "") == "overrun":
                self._overrunning(exe, str(fault.app), now)
                continue
            if getattr(fault, "kind", "") != "disabled":
                continue
            name = str(fault.app)
            loaded = self.catalog.app(name)
            self._app_health(loaded.index, Health.FAULTY)
            if name not in self.critical_apps:
                continue
            if self.health.of(UnitKind.APP)[loaded.index] == Health.EXTERNAL_CONTROL:
                continue
            last = self.reenabled_at.get(name)
            window = float(self.param("app_reenable_window_s"))
            if last is None or now - last > window:
                self.reenabled_at[name] = now
                self.report("APP_REENABLED", app=loaded.index)
                exe.enable_app(name)
                self._app_health(loaded.index, Health.HEALTHY)
            else:
                self.report("APP_LOST", app=loaded.index)
                self._app_health(loaded.index, Health.PERMANENT_FAULTY)
                if not self.safe:
                    self._enter_safe(-1.0, f"critical app {name} lost")

    def _overrunning(self, exe: AppControl, name: str, now: float) -> None:
        """An app that keeps overrunning its slot is restarted (a fresh instance often
        sheds a runaway state); the third time within the window it is disabled, which
        the executive reports and the rung above handles."""
        if name == self.name:
            return  # not from inside its own step: the executive's counters report it
        loaded = self.catalog.app(name)
        window = float(self.param("app_reenable_window_s"))
        times = [t for t in self.overrun_restarts.get(name, []) if now - t <= window]
        times.append(now)
        self.overrun_restarts[name] = times
        if len(times) >= OVERRUN_RESTARTS:
            exe.disable_app(name)
            return
        self.report("APP_OVERRUN_RESTART", app=loaded.index)
        exe.restart_app(name)

    def _enter_safe(self, soc: float, reason: str) -> None:
        self.safe = True
        self.report("SAFE_MODE_ENTERED", soc=soc)
        self.ctx.bus.publish(SAFE_MODE, SafeMode(True, reason))

    def _power(self) -> None:
        """Safe mode on a low state of charge or a hot battery, each held for
        ``safe_persist_n`` samples (one sample is never a system-level decision)."""
        soc = None
        for msg in self.power_pipe.drain():
            if isinstance(msg.payload, PowerBudget):
                soc = msg.payload.soc
        if self.safe:
            self.ctx.bus.publish(SAFE_MODE, SafeMode(True, "fdir"))
            return
        if soc is None or _SAFE_MODE not in self.enabled:
            return
        need = int(self.param("safe_persist_n"))
        self.low_soc_n = self.low_soc_n + 1 if soc < float(self.param("safe_mode_soc")) else 0
        hot = self.battery_temp_c > float(self.param("battery_safe_c"))
        self.hot_battery_n = self.hot_battery_n + 1 if hot else 0
        if self.low_soc_n >= need:
            self._enter_safe(soc, "low state of charge")
        elif self.hot_battery_n >= need:
            self._enter_safe(soc, "battery over temperature")

    def _watch(self, now: float) -> None:
        if not self.watch.entries:
            return

        def value(app: str, point: str) -> float | None:
            try:
                v = self.catalog.telemetry(app).get(point)
            except KeyError:
                return None
            return float(v) if isinstance(v, int | float) else None

        for mid, v, action in self.watch.evaluate(value):
            self.report("MONITOR_VIOLATION", monitor=mid, value=v)
            if action:
                self.report("MONITOR_ACTION", monitor=mid, action=action)
                if action == ACTIONS["safe_mode"] and not self.safe:
                    self._enter_safe(-1.0, f"monitor {mid}")

    def _telemetry(self) -> None:
        """The telemetry points, written when one changed. Gate: the values are compared
        with the ones last written (the battery temperature by its bits, so -0.0 and a
        NaN's payload count as changes); only this method writes these points."""
        c = self.ladder.counts
        st = self.ladder.state
        in_recovery = int(np.count_nonzero(self.ladder.recovering)) if np.count_nonzero(st) else 0
        down = self.supply_down
        supplies = len({int(s) for s in self.board_switch[down]}) if np.count_nonzero(down) else 0
        values = (
            c["sel"],
            c["overtemp"],
            self.radio_resets,
            c["hang"],
            c["resets"],
            c["power_cycles"],
            c["recovered"],
            c["isolated"],
            in_recovery,
            self.corrected_total,
            self.unc_total,
            self.scrubs,
            len(self.sensor_fdir.failed),
            int(self.safe),
            self._monitor_bits(),
            self.state.boot_count,
            self.state.reset_reason_code,
            self.keeper.store.repairs if self.keeper is not None else 0,
            self.table_repairs,
            self.battery_temp_c,
            self.guard.repairs,
            self.events.dropped,
            min(len(self.events.queue), 0xFFFF),
            self.supply_faults,
            supplies,
            self.watch.violations,
        )
        seen = (*values, struct.pack("<d", self.battery_temp_c))
        if seen == self.tlm_seen:
            if self.gates.enabled:
                before = dict(self.tlm)
                self._write_telemetry(values)
                self.gates.equal("telemetry", dict(self.tlm), before)
            return
        self._write_telemetry(values)
        self.tlm_seen = seen

    def _monitor_bits(self) -> int:
        """Bit i-1 for monitor i enabled; recomputed when the enabled set changed (a set
        comparison, cheaper than the sum; the copy kept is the set it was computed for)."""
        seen = self.monitors_seen
        if seen is not None and seen[0] == self.enabled:
            if self.gates.enabled:
                self.gates.equal("monitor_bits", seen[1], self._monitor_sum())
            return seen[1]
        bits = self._monitor_sum()
        self.monitors_seen = (set(self.enabled), bits)
        return bits

    def _monitor_sum(self) -> int:
        return sum(1 << (m - 1) for m in self.enabled) & 0xFF

    def _write_telemetry(self, values: tuple[Any, ...]) -> None:
        """The points in the order of ``values`` (keyword arguments are evaluated left to
        right), each named here so the declarations check sees it."""
        v = iter(values)
        self.tlm.update(
            latchups=next(v),
            overtemps=next(v),
            radio_resets=next(v),
            hangs=next(v),
            resets=next(v),
            power_cycles=next(v),
            recovered=next(v),
            isolated_boards=next(v),
            boards_in_recovery=next(v),
            ecc_corrected=next(v),
            ecc_uncorrectable=next(v),
            scrubs=next(v),
            failed_sensors=next(v),
            safe_mode=next(v),
            monitors_enabled=next(v),
            boot_count=next(v),
            reset_reason=next(v),
            state_repairs=next(v),
            table_repairs=next(v),
            battery_temp_c=next(v),
            param_repairs=next(v),
            events_lost=next(v),
            events_backlog=next(v),
            supply_faults=next(v),
            supplies_down=next(v),
            monitor_violations=next(v),
        )
        if next(v, None) is not None:
            raise ValueError("FDIR telemetry: more values than points")

    # --- commands ---------------------------------------------------------------------
    @command(function_id=1, args=(Arg("monitor", "u8", 1, len(MONITORS)),))
    def cmd_enable_monitor(self, monitor: int) -> None:
        """Enable one monitor (1 latch-up, 2 hang, 3 scrub, 4 sensors, 5 safe mode,
        6 supply, 7 memory guard, 8 table-driven monitors)."""
        self.enabled.add(monitor)

    @command(function_id=2, args=(Arg("monitor", "u8", 1, len(MONITORS)),))
    def cmd_disable_monitor(self, monitor: int) -> None:
        """Disable one monitor."""
        self.enabled.discard(monitor)

    @command(function_id=3, args=(Arg("board", "u16"),))
    def cmd_readmit_board(self, board: int) -> None:
        """Put an isolated board back in service (it stays off until the payload needs it)."""
        if board >= self.boards.count:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no board {board}")
        if self.ladder.state[board] != BoardState.ISOLATED:
            raise CommandError(FailureCode.INVALID_STATE, f"board {board} is not isolated")
        if self.permanent[board]:
            raise CommandError(FailureCode.INVALID_STATE, f"board {board} is permanently faulty")
        self.ladder.readmit(np.array([board], dtype=np.intp))
        self._board_health()

    @command(function_id=4)
    def cmd_reset_counters(self) -> None:
        """Zero the fault counters (not the boards' states)."""
        for k in self.ladder.counts:
            if k != "isolated":
                self.ladder.counts[k] = 0
        self.corrected_total = self.unc_total = self.scrubs = 0

    @command(function_id=5)
    def cmd_exit_safe_mode(self) -> None:
        """Leave safe mode: the only way out of it."""
        if not self.safe:
            raise CommandError(FailureCode.INVALID_STATE, "not in safe mode")
        self.safe = False
        self.low_soc_n = self.hot_battery_n = 0
        self.ctx.bus.publish(SAFE_MODE, SafeMode(False, "ground"))
        self.report("SAFE_MODE_EXITED")

    @command(function_id=6)
    def cmd_enter_safe_mode(self) -> None:
        """Enter safe mode now."""
        if not self.safe:
            self._enter_safe(-1.0, "ground")

    @command(
        function_id=7,
        args=(
            Arg("kind", "u8", 0, 3, doc="0 board, 1 switch, 2 sensor, 3 app"),
            Arg("unit", "u16"),
            Arg("health", "u8", 0, 4, doc="0 healthy .. 4 external control"),
        ),
    )
    def cmd_set_health(self, kind: int, unit: int, health: int) -> None:
        """Command one unit's health (fsfw's health table): HEALTHY brings it back,
        FAULTY/PERMANENT_FAULTY take it out of service, EXTERNAL_CONTROL leaves it to the
        ground (FDIR takes no action on it). The change is announced."""
        k, h = UnitKind(kind), Health(health)
        if health == Health.NEEDS_RECOVERY:
            raise CommandError(FailureCode.ARG_OUT_OF_RANGE, "needs-recovery is FDIR's to set")
        if unit >= len(self.health.of(k)):
            raise CommandError(FailureCode.UNKNOWN_ID, f"no unit {unit} of kind {k.name}")
        if k is UnitKind.BOARD:
            self._command_board(unit, h)
        elif k is UnitKind.SWITCH:
            self.ctx.bus.publish(SWITCH_HEALTH_REQUEST, SwitchHealthRequest(unit, int(h)))
        elif k is UnitKind.SENSOR:
            sf = self.sensor_fdir
            sf.external.discard(unit)
            if h is Health.EXTERNAL_CONTROL:
                sf.external.add(unit)
            if h in (Health.FAULTY, Health.PERMANENT_FAULTY):
                sf.failed.add(unit)
            else:
                sf.failed.discard(unit)
            self._sensor_health()
        else:
            self._command_app(unit, h)

    def _command_board(self, b: int, h: Health) -> None:
        idx = np.array([b], dtype=np.intp)
        self.external[b] = h is Health.EXTERNAL_CONTROL
        self.permanent[b] = h is Health.PERMANENT_FAULTY
        if h in (Health.FAULTY, Health.PERMANENT_FAULTY):
            self.ladder.isolate(self.boards, idx)
        elif h is Health.HEALTHY and self.ladder.state[b] == BoardState.ISOLATED:
            self.ladder.readmit(idx)
        self._board_health()
        self._publish_availability(self.ctx.now_ns() / NS_PER_S, force=True)

    def _command_app(self, index: int, h: Health) -> None:
        exe = self.control
        name = self.catalog.apps()[index].name
        if name == self.name and h is not Health.HEALTHY:
            raise CommandError(FailureCode.INVALID_STATE, "FDIR does not disable itself")
        disabled = exe.stats(name).disabled
        if h in (Health.FAULTY, Health.PERMANENT_FAULTY) and not disabled:
            exe.disable_app(name)
        elif h is Health.HEALTHY and disabled:
            exe.enable_app(name)
        self._app_health(index, h)

    @command(
        function_id=8,
        args=(
            Arg("monitor", "u8"),
            Arg("mode", "u8", 0, 2, doc="0 off, 1 report only, 2 active"),
            Arg("action", "u8", 0, 1, doc="0 none, 1 safe mode"),
            Arg("low", "f64"),
            Arg("high", "f64"),
        ),
    )
    def cmd_set_monitor(
        self, monitor: int, mode: int, action: int, low: float, high: float
    ) -> None:
        """Change one table-driven monitor: its mode, its response and its limits."""
        try:
            self.watch.set(monitor, mode, action, low, high)
        except KeyError:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no monitor {monitor}") from None
        except ValueError as exc:
            raise CommandError(FailureCode.ARG_OUT_OF_RANGE, str(exc)) from None
