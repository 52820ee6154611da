"""The FDIR app: keeps the boards computing through radiation, and the node alive.

Boards, every minor frame (all boards at once):
- latch-up: rail power above what the board's own settings (utilization, cap) can
  draw by more than ``sel_excess_w``, N of M samples -> the SEL ladder (off at once,
  cool down, on, re-admit; isolate after repeats);
- hang: heartbeat stalled longer than ``hang_timeout_s`` -> reset -> power cycle ->
  isolate;
- memory: corrected errors are counted and every powered board is scrubbed each
  ``scrub_period_s`` (sooner when ``scrub_trigger`` corrections pile up); an
  uncorrectable error is the payload's cue to roll the job back, FDIR counts it.
Boards in recovery or isolated go out to the payload as unavailable.

Boards too hot (above ``board_off_c``, after thermal control's caps failed to hold them)
are switched off and handled like a latch-up.

Platform: a temperature sensor frozen for ``stuck_samples`` readings is declared failed
(thermal control then uses its partner); a state of charge below ``safe_mode_soc`` or a
battery above ``battery_safe_c`` puts the node in safe mode (payload off, loads shed,
housekeeping slowed), which only a TC ends; no good TC frame for ``uplink_loss_s``
makes the comms service reinitialize the link.

Every monitor can be disabled and re-enabled by TC, every limit is a PUS-20 parameter.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fdir.ladder import BoardLadder, BoardState, LadderTiming
from fdir.monitors import HeartbeatMonitor, StuckMonitor
from fdir.persistence import NofM
from fdir.state import CriticalState, StateKeeper
from flightsw import msgids
from flightsw.app import (
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
from flightsw.apps.device_guard import DEVICE_ERROR, DEVICE_ERRORS, DeviceGuard
from flightsw.apps.messages import (
    BOARD_AVAILABILITY,
    POWER_BUDGET,
    SAFE_MODE,
    SENSOR_HEALTH,
    BoardAvailability,
    PowerBudget,
    SafeMode,
    SensorHealth,
)
from flightsw.errors import CommandError
from flightsw.schema import Opt, Schema, from_dataclass
from hal.interfaces import AcceleratorBoards, BoardTelemetry, TemperatureSensors

NS_PER_S = 1_000_000_000
MONITORS = {1: "latchup", 2: "hang", 3: "scrub", 4: "sensor_stuck", 5: "safe_mode"}
SENSOR_PERIOD_S = 1.0
TABLE_CHECK_S = 60.0
CRITICAL_APPS = ("power", "thermal", "comms")
OVERRUN_RESTARTS = 3  # overrun escalations within the window before an app is disabled
FULL_PERIOD_S = 1.0  # heartbeats, memory, ladder timers; latch-ups are checked every frame


class FdirApp(DeviceGuard, App):
    """Radiation-fault handling for the boards; sensor and power-level platform FDIR."""

    DEFAULT_RATE_HZ = 10.0
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
    )
    PARAMETERS = (
        ParameterDef(1, "sel_excess_w", "f32", 30.0, 1.0, 1000.0, "W"),
        ParameterDef(2, "hang_timeout_s", "f32", 3.0, 0.5, 600.0, "s"),
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
    )

    def init(self) -> None:
        devices = self.ctx.hal.devices
        self.boards: AcceleratorBoards = devices["boards"]
        self.sensors: TemperatureSensors | None = devices.get("thermal")
        n = self.boards.count
        self.keeper = StateKeeper(self.ctx.hal.nv) if self.ctx.hal.nv is not None else None
        saved = self.keeper.load() if self.keeper is not None else None
        self.state = saved or CriticalState(
            table=_validated_table(self.ctx.options.get("table", {}))
        )
        table = self.state.table
        self.sel_filter = NofM(int(table["sel_n"]), int(table["sel_m"]), n)
        self.ladder = BoardLadder(n, LadderTiming(**table["ladder"]))
        self.table_crc = _table_crc(table)
        self.table_repairs = 0
        self.next_table_check_s = 0.0
        self.heartbeat = HeartbeatMonitor(float(self.param("hang_timeout_s")))
        self.enabled = set(MONITORS)
        self.power_pipe = self.listen(POWER_BUDGET)
        self.last_corrected = np.zeros(n, dtype=np.int64)
        self.since_scrub = np.zeros(n, dtype=np.int64)
        self.last_unc = np.zeros(n, dtype=np.int64)
        self.corrected_total = 0
        self.unc_total = 0
        self.scrubs = 0
        self.next_scrub_s = float(self.param("scrub_period_s"))
        self.stuck = StuckMonitor(int(self.param("stuck_samples")), epsilon=0.0)
        self.failed_sensors: set[int] = set()
        names = self.sensors.sensor_names() if self.sensors is not None else ()
        self.battery_sensor = [n.startswith("battery") for n in names]
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
        self.last_published: bytes | None = None
        self.next_full_s = 0.0
        self.last_tel: BoardTelemetry | None = None
        self.saved_key: tuple[object, ...] | None = None
        self._restore(saved)

    def _restore(self, saved: CriticalState | None) -> None:
        """At boot: count it, say why, and take back what the last run had decided."""
        executive = self.ctx.executive
        booting = executive is None or getattr(executive, "frame", 0) == 0
        if booting:
            self.state.boot_count += 1
            self.state.reset_reason = self.ctx.hal.reset_cause
            self.emit(
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
        self._save()

    def _save(self) -> None:
        """Write the critical state when it changed (serializing it costs ~0.1 ms)."""
        if self.keeper is None:
            return
        isolated = np.flatnonzero(self.ladder.state == BoardState.ISOLATED)
        key = (self.safe, isolated.tobytes(), self.state.boot_count, self.state.reset_reason)
        if key == self.saved_key:
            return
        self.saved_key = key
        self.state.safe_mode = self.safe
        self.state.isolated = [int(b) for b in isolated]
        self.keeper.save(self.state)

    def _check_table(self, now: float) -> None:
        """The live table against the golden copy's CRC; reload it when they differ."""
        if now < self.next_table_check_s:
            return
        self.next_table_check_s = now + TABLE_CHECK_S
        live = {
            "sel_n": self.sel_filter.n,
            "sel_m": self.sel_filter.m,
            "ladder": asdict(self.ladder.timing),
        }
        if _table_crc(live) == self.table_crc:
            return
        golden = self.keeper.load() if self.keeper is not None else None
        table = golden.table if golden is not None else self.state.table
        self.sel_filter = NofM(int(table["sel_n"]), int(table["sel_m"]), self.boards.count)
        self.ladder.timing = LadderTiming(**table["ladder"])
        self.table_repairs += 1
        self.emit("TABLE_REPAIRED")

    # --- the loop ---------------------------------------------------------------------
    def step(self, now_ns: int) -> None:
        self.guarded(self._step, now_ns)

    def _step(self, now_ns: int) -> None:
        now = now_ns / NS_PER_S
        tel = self.boards.read_boards()
        if now < self.next_full_s:
            self._latchups_only(tel, now)
            return
        self.next_full_s = now + FULL_PERIOD_S
        self.last_tel = tel
        self._check_table(now)
        self._boards(tel, now)
        if 4 in self.enabled and self.sensors is not None and now >= self.next_sensor_s:
            self.next_sensor_s = now + SENSOR_PERIOD_S
            self._sensors()
        self._power()
        self._uplink(now)
        self._app_faults(now)
        self._save()
        self._telemetry()

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

    def _latchup(self, tel: BoardTelemetry) -> NDArray[np.bool_]:
        sel = np.zeros(self.boards.count, dtype=bool)
        if 1 in self.enabled:
            expected_on = tel.powered & (self.ladder.state == 0)
            excess = tel.power_w - self._expected_power(tel)
            sel = self.sel_filter.update(expected_on & (excess > float(self.param("sel_excess_w"))))
        return sel

    def _latchups_only(self, tel: BoardTelemetry, now: float) -> None:
        """Between full checks: only a latch-up needs action within the frame.

        The same snapshot twice (a device that has not refreshed) is one sample, not two.
        """
        if tel is self.last_tel:
            return
        self.last_tel = tel
        sel = self._latchup(tel)
        if sel.any():
            self._boards(tel, now, sel)

    def _boards(
        self, tel: BoardTelemetry, now: float, sel: NDArray[np.bool_] | None = None
    ) -> None:
        ladder = self.ladder
        expected_on = tel.powered & (ladder.state == 0)
        if sel is None:
            sel = self._latchup(tel)
        hot = expected_on & (tel.temperature_c > float(self.param("board_off_c")))
        hang = np.zeros_like(sel)
        if 2 in self.enabled:
            self.heartbeat.timeout_s = float(self.param("hang_timeout_s"))
            hang = self.heartbeat.check(tel.heartbeat, expected_on, now)
        out = ladder.step(self.boards, now, tel.heartbeat, sel, hang & ~sel & ~hot, hot)
        self.sel_filter.reset(out.sel_off)
        latchups = np.setdiff1d(out.sel_off, out.hot) if out.hot.size else out.sel_off
        for name, idx in (
            ("BOARD_OVERTEMP", out.hot),
            ("BOARD_LATCHUP", latchups),
            ("BOARD_HANG", out.resets),
            ("BOARD_POWER_CYCLED", out.cycles),
            ("BOARD_RECOVERED", out.recovered),
            ("BOARD_ISOLATED", out.isolated),
        ):
            for b in idx[:16]:
                self.emit(name, board=int(b))
        self._memory(tel, now)
        mask = ladder.unavailable
        key = mask.tobytes()
        if key != self.last_published or int(now * 10) % 10 == 0:
            self.last_published = key
            self.ctx.bus.publish(BOARD_AVAILABILITY, BoardAvailability(mask.copy(), "fdir"))

    def _memory(self, tel: BoardTelemetry, now: float) -> None:
        corr = tel.ecc_corrected
        new = np.maximum(corr - self.last_corrected, 0)  # counters restart at power-on
        new = np.where(corr < self.last_corrected, corr, new)
        self.last_corrected = corr.copy()
        self.corrected_total += int(new.sum())
        self.since_scrub += new
        unc = tel.ecc_uncorrectable
        hit = np.flatnonzero(unc > self.last_unc)
        self.last_unc = unc.copy()
        self.unc_total += len(hit)
        for b in hit[:8]:
            self.emit("UNCORRECTABLE_MEMORY", board=int(b))
        if 3 not in self.enabled:
            return
        powered = tel.powered & (self.ladder.state == 0)
        due = now >= self.next_scrub_s
        if due:
            self.next_scrub_s = now + float(self.param("scrub_period_s"))
            idx = np.flatnonzero(powered)
        else:
            idx = np.flatnonzero(powered & (self.since_scrub >= int(self.param("scrub_trigger"))))
        if idx.size:
            self.boards.scrub_memory(idx)
            self.since_scrub[idx] = 0
            self.scrubs += int(idx.size)

    def _sensors(self) -> None:
        assert self.sensors is not None
        values = np.array(self.sensors.read_temperatures_c(), dtype=np.float64)
        battery = [
            v
            for i, v in enumerate(values)
            if self.battery_sensor[i] and i not in self.failed_sensors and -100 < v < 200
        ]
        self.battery_temp_c = float(np.mean(battery)) if battery else -273.0
        self.stuck.samples = int(self.param("stuck_samples"))
        stuck = self.stuck.check(values)
        newly = [int(i) for i in np.flatnonzero(stuck) if int(i) not in self.failed_sensors]
        for i in newly:
            self.failed_sensors.add(i)
            self.emit("SENSOR_FAILED", sensor=i)
        if newly:
            self.ctx.bus.publish(SENSOR_HEALTH, SensorHealth(frozenset(self.failed_sensors)))

    def _uplink(self, now: float) -> None:
        silent = None
        for msg in self.uplink_pipe.drain():
            if isinstance(msg.payload, float):
                silent = msg.payload
        limit = float(self.param("uplink_loss_s"))
        if silent is not None and silent > limit and now >= self.next_radio_reset_s:
            self.next_radio_reset_s = now + limit  # one reset per silent period
            self.radio_resets += 1
            self.emit("UPLINK_LOST", silent_s=silent)
            self.ctx.bus.publish(msgids.RADIO_RESET, "uplink lost")

    def _app_faults(self, now: float) -> None:
        """System rung above the executive's restarts: a critical app the executive had to
        disable is re-enabled once per window; disabled again inside it -> safe mode."""
        exe = self.ctx.executive
        for msg in self.app_fault_pipe.drain():
            fault = msg.payload
            if exe is None:
                continue
            if getattr(fault, "kind", "") == "overrun":
                self._overrunning(exe, str(fault.app), now)
                continue
            if getattr(fault, "kind", "") != "disabled":
                continue
            name = str(fault.app)
            if name not in self.critical_apps:
                continue
            loaded = exe.app(name)
            last = self.reenabled_at.get(name)
            window = float(self.param("app_reenable_window_s"))
            if last is None or now - last > window:
                self.reenabled_at[name] = now
                self.emit("APP_REENABLED", app=loaded.index)
                exe.enable_app(loaded)
            else:
                self.emit("APP_LOST", app=loaded.index)
                if not self.safe:
                    self._enter_safe(-1.0, f"critical app {name} lost")

    def _overrunning(self, exe: Any, name: str, now: float) -> None:
        """An app that keeps overrunning its slot is restarted (a fresh instance often
        sheds a runaway state); the third time within the window it is disabled, which
        the executive reports and the rung above handles."""
        if name == self.name:
            return  # not from inside its own step: the executive's counters report it
        loaded = exe.app(name)
        window = float(self.param("app_reenable_window_s"))
        times = [t for t in self.overrun_restarts.get(name, []) if now - t <= window]
        times.append(now)
        self.overrun_restarts[name] = times
        if len(times) >= OVERRUN_RESTARTS:
            exe.disable_app(loaded)
            return
        self.emit("APP_OVERRUN_RESTART", app=loaded.index)
        exe.restart_app(loaded)

    def _enter_safe(self, soc: float, reason: str) -> None:
        self.safe = True
        self.emit("SAFE_MODE_ENTERED", soc=soc)
        self.ctx.bus.publish(SAFE_MODE, SafeMode(True, reason))

    def _power(self) -> None:
        soc = None
        for msg in self.power_pipe.drain():
            if isinstance(msg.payload, PowerBudget):
                soc = msg.payload.soc
        if soc is None or self.safe or 5 not in self.enabled:
            if self.safe:
                self.ctx.bus.publish(SAFE_MODE, SafeMode(True, "fdir"))
            return
        if soc < float(self.param("safe_mode_soc")):
            self._enter_safe(soc, "low state of charge")
        elif self.battery_temp_c > float(self.param("battery_safe_c")):
            self._enter_safe(soc, "battery over temperature")

    def _telemetry(self) -> None:
        c = self.ladder.counts
        st = self.ladder.state
        self.tlm.update(
            latchups=c["sel"],
            overtemps=c["overtemp"],
            radio_resets=self.radio_resets,
            hangs=c["hang"],
            resets=c["resets"],
            power_cycles=c["power_cycles"],
            recovered=c["recovered"],
            isolated_boards=c["isolated"],
            boards_in_recovery=int(((st != 0) & (st != 6)).sum()),
            ecc_corrected=self.corrected_total,
            ecc_uncorrectable=self.unc_total,
            scrubs=self.scrubs,
            failed_sensors=len(self.failed_sensors),
            safe_mode=int(self.safe),
            monitors_enabled=sum(1 << (m - 1) for m in self.enabled),
            boot_count=self.state.boot_count,
            reset_reason=self.state.reset_reason_code,
            state_repairs=self.keeper.store.repairs if self.keeper is not None else 0,
            table_repairs=self.table_repairs,
        )

    # --- commands ---------------------------------------------------------------------
    @command(function_id=1, args=(Arg("monitor", "u8", 1, len(MONITORS)),))
    def cmd_enable_monitor(self, monitor: int) -> None:
        """Enable one monitor (1 latch-up, 2 hang, 3 scrub, 4 sensor stuck, 5 safe mode)."""
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
        if self.ladder.state[board] != 6:
            raise CommandError(FailureCode.INVALID_STATE, f"board {board} is not isolated")
        self.ladder.readmit(np.array([board], dtype=np.intp))

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
        self.ctx.bus.publish(SAFE_MODE, SafeMode(False, "ground"))
        self.emit("SAFE_MODE_EXITED")

    @command(function_id=6)
    def cmd_enter_safe_mode(self) -> None:
        """Enter safe mode now."""
        if not self.safe:
            self.safe = True
            self.emit("SAFE_MODE_ENTERED", soc=-1.0)
            self.ctx.bus.publish(SAFE_MODE, SafeMode(True, "ground"))


def _check_table(raw: dict[str, Any]) -> None:
    _validated_table(raw)


def _validated_table(raw: dict[str, Any]) -> dict[str, Any]:
    """The FDIR table from mission options, checked; errors name the key."""
    allowed = {"sel_n", "sel_m", "ladder"}
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"FDIR table: unknown key {sorted(unknown)[0]!r}")
    ladder = dict(raw.get("ladder", {}))
    names = {f.name for f in fields(LadderTiming)}
    bad = set(ladder) - names
    if bad:
        raise ValueError(f"FDIR table: unknown key ladder.{sorted(bad)[0]}")
    timing = LadderTiming(**ladder)
    for f in fields(LadderTiming):
        if not getattr(timing, f.name) > 0:
            raise ValueError(f"FDIR table: ladder.{f.name} must be positive")
    n, m = int(raw.get("sel_n", 1)), int(raw.get("sel_m", 1))
    if not 1 <= n <= m <= 63:
        raise ValueError("FDIR table: need 1 <= sel_n <= sel_m <= 63")
    return {"sel_n": n, "sel_m": m, "ladder": asdict(timing)}


def _table_crc(table: dict[str, Any]) -> int:
    return zlib.crc32(json.dumps(table, sort_keys=True).encode())
