"""Power management: state of charge, the payload's power budget, load shedding, switches.

The app owns the PCDU. Each step it estimates the battery's state of charge (energy
counting from measured voltage and current, pulled toward the open-circuit-voltage
estimate while the battery rests), decides a load-shedding level with hysteresis, and
publishes the payload's power budget on the bus. Shedding order, lowest level first:
level 1 halves the payload budget, level 2 gives the payload nothing and opens its
switches, level 3 also opens the auxiliary loads. Survival loads (avionics, radio,
heaters) are never shed. Loads come back one level at a time once the state of charge
is ``hysteresis`` above the level's threshold. The payload's budget is the array's output
plus what the battery may give (``max_discharge_w`` above ``reserve_soc`` +
``reserve_band_soc``, tapering to nothing at ``reserve_soc``), less the platform's loads,
a charging reserve while the sun is up and a margin. In FDIR's safe mode the app sheds to
level 3 and stays there until safe mode ends.

A battery reading that is missing (a device that did not answer, a non-finite value
refused by the HAL) costs only what depends on it: the state of charge is held, the
switches are still watched and the budget still published; once the battery has gone
unobserved for ``BATTERY_STALE_S`` the payload's budget no longer counts on the battery
(the array's surplus only) until a reading comes back, and the event
``BATTERY_UNOBSERVED`` says so.

Switching a critical load by TC takes two commands: ``arm_switch`` then ``switch``
within ``arm_timeout_s``; an unarmed attempt fails with NOT_ARMED and changes nothing.

A switch that trips goes through :class:`flightsw.apps.power.switch_ladder.SwitchLadder`:
retried after ``trip_retry_s`` (doubling), isolated after ``trip_isolate_n`` trips within
``trip_window_s`` (critical switches are never left off). Switch health is published on
the bus (FDIR keeps the health table and announces changes); a health FDIR passes on
from the ground is applied here, the PCDU's owner.
"""

from __future__ import annotations

import bisect
import math

from flightsw.apps.power.switch_ladder import HEALTHY, SwitchLadder
from flightsw.apps.shared.device_guard import DEVICE_ERROR, DEVICE_ERRORS, DeviceGuard
from flightsw.apps.shared.messages import (
    PAYLOAD_STATUS,
    POWER_BUDGET,
    SAFE_MODE,
    SWITCH_HEALTH_REQUEST,
    SWITCH_STATUS,
    PayloadStatus,
    PowerBudget,
    SafeMode,
    SwitchHealthRequest,
    SwitchStatus,
)
from flightsw.base.errors import CommandError, FlightswError
from flightsw.base.schema import Opt, Schema
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
from flightsw.framework.ports import Device, Publish, Subscribe
from hal.interfaces import (
    Battery,
    BatteryTelemetry,
    PowerDistribution,
    SolarArray,
    SwitchTelemetry,
)

NS_PER_S = 1_000_000_000
BATTERY_STALE_S = 10.0  # no battery sample for this long: the budget stops counting on it

# Open-circuit voltage of one Li-ion cell against state of charge (datasheet-style
# curve; the battery model in sim_hw has its own copy of the chemistry).
OCV_SOC = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
OCV_V = (3.00, 3.30, 3.45, 3.55, 3.62, 3.68, 3.74, 3.80, 3.88, 3.96, 4.06, 4.20)
SHED_LEVELS = 3


def _bits(flags: tuple[bool, ...]) -> int:
    """Bit i set for flag i true, of the first 16 (a telemetry word)."""
    return sum(1 << i for i, on in enumerate(flags[:16]) if on)


def soc_from_ocv(cell_v: float) -> float:
    """Invert the OCV curve (piecewise linear), clamped to 0..1; a non-finite voltage is
    a missing sample (FlightswError), never an index out of the curve."""
    if not math.isfinite(cell_v):
        raise FlightswError(f"power: cell voltage {cell_v!r} is not a finite number")
    if cell_v <= OCV_V[0]:
        return 0.0
    if cell_v >= OCV_V[-1]:
        return 1.0
    i = bisect.bisect_right(OCV_V, cell_v)
    v0, v1 = OCV_V[i - 1], OCV_V[i]
    s0, s1 = OCV_SOC[i - 1], OCV_SOC[i]
    return s0 + (s1 - s0) * (cell_v - v0) / (v1 - v0)


class PowerApp(DeviceGuard, App):
    """Battery state of charge, payload power budget, load shedding and PCDU switching."""

    DEFAULT_RATE_HZ = 2.0
    battery = Device(Battery)
    array = Device(SolarArray, "solar_array")
    pcdu = Device(PowerDistribution)
    SUBSCRIBES = (
        Subscribe(PAYLOAD_STATUS, PayloadStatus),
        Subscribe(SAFE_MODE, SafeMode),
        Subscribe(SWITCH_HEALTH_REQUEST, SwitchHealthRequest),
    )
    PUBLISHES = (Publish(POWER_BUDGET, PowerBudget), Publish(SWITCH_STATUS, SwitchStatus))
    OPTIONS = Schema(
        Opt(
            "critical_switches",
            "list",
            ["avionics", "radio", "heaters"],
            max=64,
            items=Opt("prefix", "str"),
            doc="switches (by name prefix) never shed",
        ),
    )
    TELEMETRY = (
        DEVICE_ERRORS,
        TelemetryDef("soc", "f32", "1", "estimated state of charge"),
        TelemetryDef("battery_voltage_v", "f32", "V"),
        TelemetryDef("battery_current_a", "f32", "A", "positive = charging"),
        TelemetryDef("battery_temp_c", "f32", "degC"),
        TelemetryDef("solar_power_w", "f32", "W"),
        TelemetryDef("load_power_w", "f32", "W", "sum over PCDU switches"),
        TelemetryDef("shed_level", "u8", "", "0 = nothing shed .. 3"),
        TelemetryDef("payload_budget_w", "f32", "W"),
        TelemetryDef("switches_on", "u16", "", "bit i = switch i closed"),
        TelemetryDef("switches_tripped", "u16", "", "bit i = switch i tripped"),
        TelemetryDef("trips", "u16", "", "overcurrent trips seen"),
    )
    HOUSEKEEPING = (
        HkDef(
            1,
            "power",
            tuple(t.name for t in TELEMETRY),
            interval_s=10.0,
            doc="battery, array, loads, shedding",
        ),
    )
    EVENTS = (
        DEVICE_ERROR,
        EventDef(
            1,
            "SHED_LEVEL_CHANGED",
            Severity.MEDIUM,
            (Arg("old", "u8"), Arg("new", "u8"), Arg("soc", "f32")),
            "load shedding {old} -> {new} at SoC {soc:.3f}",
        ),
        EventDef(2, "SWITCH_TRIPPED", Severity.HIGH, (Arg("switch", "u8"),), "switch {switch}"),
        EventDef(
            3, "UNDERVOLTAGE", Severity.HIGH, (Arg("voltage", "f32"),), "battery {voltage:.2f} V"
        ),
        EventDef(
            4,
            "SWITCH_COMMANDED",
            Severity.INFO,
            (Arg("switch", "u8"), Arg("on", "u8")),
            "switch {switch} -> {on}",
        ),
        EventDef(5, "SWITCH_ARMED", Severity.INFO, (Arg("switch", "u8"),), "switch {switch}"),
        EventDef(
            6, "SWITCH_RETRY", Severity.MEDIUM, (Arg("switch", "u8"),), "switch {switch} retried"
        ),
        EventDef(
            7,
            "SWITCH_ISOLATED",
            Severity.HIGH,
            (Arg("switch", "u8"),),
            "switch {switch} left open after repeated trips",
        ),
        EventDef(
            20,
            "BATTERY_UNOBSERVED",
            Severity.MEDIUM,
            (Arg("missing_s", "f32", unit="s"),),
            "no battery reading for {missing_s:.0f} s: payload budget without the battery",
        ),
    )
    PARAMETERS = (
        ParameterDef(1, "capacity_wh", "f32", 100_000.0, 1.0, 1e7, "Wh"),
        ParameterDef(2, "cells_series", "u16", 96, 1, 400),
        ParameterDef(3, "internal_resistance_ohm", "f32", 0.05, 0.0, 10.0, "ohm"),
        ParameterDef(4, "shed1_soc", "f32", 0.40, 0.0, 1.0),
        ParameterDef(5, "shed2_soc", "f32", 0.30, 0.0, 1.0),
        ParameterDef(6, "shed3_soc", "f32", 0.20, 0.0, 1.0),
        ParameterDef(7, "hysteresis", "f32", 0.10, 0.01, 0.5),
        ParameterDef(8, "undervoltage_v", "f32", 300.0, 0.0, 2000.0, "V"),
        ParameterDef(9, "bus_voltage_v", "f32", 350.0, 1.0, 2000.0, "V"),
        ParameterDef(10, "reserve_soc", "f32", 0.50, 0.0, 1.0, "", "battery kept for eclipse"),
        ParameterDef(11, "max_discharge_w", "f32", 50_000.0, 0.0, 1e7, "W"),
        ParameterDef(12, "charge_reserve_w", "f32", 10_000.0, 0.0, 1e7, "W"),
        ParameterDef(13, "margin_w", "f32", 2_000.0, 0.0, 1e7, "W"),
        ParameterDef(14, "rest_current_a", "f32", 2.0, 0.0, 1000.0, "A"),
        ParameterDef(15, "ocv_gain", "f32", 0.01, 0.0, 1.0, "", "pull toward OCV per step"),
        ParameterDef(16, "arm_timeout_s", "f32", 10.0, 0.5, 600.0, "s"),
        ParameterDef(
            17,
            "reserve_band_soc",
            "f32",
            0.50,
            0.01,
            1.0,
            "",
            "battery allowance tapers from full to 0 over this much charge above reserve_soc",
        ),
        ParameterDef(18, "trip_retry_s", "f32", 2.0, 0.0, 3600.0, "s", "first retry after"),
        ParameterDef(19, "trip_isolate_n", "u8", 3, 1, 32, "", "trips in the window: isolate"),
        ParameterDef(20, "trip_window_s", "f32", 600.0, 1.0, 1e6, "s"),
    )

    def init(self) -> None:
        opts = self.ctx.options
        self.switches: tuple[str, ...] = tuple(self.pcdu.switch_names())
        critical = opts.get("critical_switches", ("avionics", "radio", "heaters"))
        self.critical = {s for s in self.switches if s.startswith(tuple(critical))}
        self.shed_groups: dict[int, tuple[str, ...]] = {
            2: tuple(s for s in self.switches if s.startswith("payload")),
            3: tuple(s for s in self.switches if s.startswith("aux")),
        }
        self.payload_pipe = self.listen(PAYLOAD_STATUS)
        self.safe_pipe = self.listen(SAFE_MODE)
        self.safe_mode = False
        # Kept across a restart of this app (ctx.retained): a fresh level 0 would leave
        # the switches its predecessor shed open for good (only level changes move them).
        kept = self.ctx.retained
        self.soc: float | None = kept.get("soc")
        self.level = int(kept.get("shed_level", 0))
        self.last_t: int | None = None
        self.payload_w = 0.0
        self.armed: tuple[int, int] | None = None  # (switch index, expiry ns)
        self.tripped_before: tuple[bool, ...] = kept.get("tripped_before", ())
        self.last_current: tuple[float, ...] = ()
        self.trips = 0
        self.undervoltage = False
        # The switch ladder (trips, retries, isolation) also survives a restart: a fresh
        # one would close a switch it had isolated.
        self.ladder: SwitchLadder = kept.setdefault(
            "switch_ladder", SwitchLadder(self.switches, self.critical)
        )
        self.health_pipe = self.listen(SWITCH_HEALTH_REQUEST)
        self.battery_missing_since: int | None = None
        self.battery_stale = False
        self.pcdu_commands = 0  # switch commands and latch resets sent to the PCDU
        self.status_sent: SwitchStatus | None = None  # the last SWITCH_STATUS, and
        self.status_key: tuple[tuple[bool, ...], tuple[bool, ...]] = ((), ())  # its reading

    # --- the control loop ---------------------------------------------------------
    def step(self, now_ns: int) -> None:
        self.guarded(self._step, now_ns)

    def _step(self, now_ns: int) -> None:
        commands_before = self.pcdu_commands
        for msg in self.payload_pipe.drain():
            if isinstance(msg.payload, PayloadStatus):
                self.payload_w = msg.payload.power_w
        for msg in self.safe_pipe.drain():
            if isinstance(msg.payload, SafeMode):
                self.safe_mode = msg.payload.active
        bat = self._read_battery(now_ns)
        arr = self.array.read_solar_array()
        sw = self.pcdu.read_switches()
        dt = 0.0 if self.last_t is None else (now_ns - self.last_t) / NS_PER_S
        self.last_t = now_ns
        now_s = now_ns / NS_PER_S
        self._health_requests()
        self._note_trips(sw.tripped, now_s)
        self._retry_switches(now_s)
        if bat is not None:
            soc = self._estimate_soc(bat.voltage_v, bat.current_a, dt)
            self._check_undervoltage(bat.voltage_v)
            self.tlm.update(
                battery_voltage_v=bat.voltage_v,
                battery_current_a=bat.current_a,
                battery_temp_c=bat.temperature_c,
            )
        elif self.soc is None:
            self._publish_switches(sw, commands_before)
            return  # no battery sample yet: nothing to estimate a budget from
        else:
            soc = self.soc  # held while this cycle's sample is missing
        self._shed(soc)
        solar_w = arr.voltage_v * arr.current_a
        load_w = self._load_a(sw.current_a) * float(self.param("bus_voltage_v"))
        budget = self._payload_budget(soc, solar_w, load_w)
        self.ctx.bus.publish(POWER_BUDGET, PowerBudget(budget, self.level, soc))
        self.tlm.update(
            soc=soc,
            solar_power_w=solar_w,
            load_power_w=load_w,
            shed_level=self.level,
            payload_budget_w=budget,
            switches_on=_bits(sw.on),
            switches_tripped=_bits(sw.tripped),
            trips=self.trips & 0xFFFF,
        )
        self._publish_switches(sw, commands_before)

    def _publish_switches(self, sw: SwitchTelemetry, commands_before: int) -> None:
        """Each switch's health and whether it conducts now, for FDIR's health table.

        ``sw`` is this step's reading: read again only when the step switched the PCDU
        since (nothing else changes it within a step). Published every step, as the same
        message object while nothing in it changed: a subscriber that starts afresh (a
        restarted FDIR) gets the state within a step, and one that keeps the last can
        tell "unchanged" by identity."""
        if self.pcdu_commands != commands_before:
            sw = self.pcdu.read_switches()
        health = tuple(self.ladder.health)
        last = self.status_sent
        if last is None or health != last.health or (sw.on, sw.tripped) != self.status_key:
            conducting = tuple(on and not t for on, t in zip(sw.on, sw.tripped, strict=True))
            last = self.status_sent = SwitchStatus(self.switches, health, conducting)
            self.status_key = (sw.on, sw.tripped)
        self.ctx.bus.publish(SWITCH_STATUS, last)

    def _set_switch(self, name: str, on: bool) -> None:
        self.pcdu_commands += 1
        self.pcdu.set_switch(name, on)

    def _reset_trip(self, name: str) -> None:
        self.pcdu_commands += 1
        self.pcdu.reset_trip(name)

    def _read_battery(self, now_ns: int) -> BatteryTelemetry | None:
        """This cycle's battery sample, or None when it is missing (a device error,
        counted); marks the battery unobserved after ``BATTERY_STALE_S`` without one."""
        try:
            bat = self.battery.read_battery()
        except FlightswError:
            self.device_error()
            since = self.battery_missing_since
            if since is None:
                self.battery_missing_since = now_ns
            elif not self.battery_stale and now_ns - since >= BATTERY_STALE_S * NS_PER_S:
                self.battery_stale = True
                self.emit("BATTERY_UNOBSERVED", missing_s=(now_ns - since) / NS_PER_S)
            return None
        self.battery_missing_since = None
        self.battery_stale = False
        return bat

    def _estimate_soc(self, voltage: float, current: float, dt: float) -> float:
        cells = int(self.param("cells_series"))
        ocv_cell = (voltage - current * float(self.param("internal_resistance_ohm"))) / cells
        if self.soc is None:
            self.soc = self.ctx.retained["soc"] = soc_from_ocv(ocv_cell)
            return self.soc
        soc = self.soc + voltage * current * dt / 3600.0 / float(self.param("capacity_wh"))
        if abs(current) < float(self.param("rest_current_a")):
            soc += float(self.param("ocv_gain")) * (soc_from_ocv(ocv_cell) - soc)
        self.soc = self.ctx.retained["soc"] = min(1.0, max(0.0, soc))
        return self.soc

    def _load_a(self, current_a: tuple[float, ...]) -> float:
        """Total load current; a switch whose current is missing (NaN from the HAL)
        counts with its last good value."""
        if all(map(math.isfinite, current_a)):
            self.last_current = current_a
            return math.fsum(current_a)
        last = self.last_current if len(self.last_current) == len(current_a) else current_a
        now = tuple(c if math.isfinite(c) else old for c, old in zip(current_a, last, strict=True))
        self.last_current = now
        return math.fsum(c for c in now if math.isfinite(c))

    def _note_trips(self, tripped: tuple[bool, ...], now_s: float) -> None:
        if tripped == self.tripped_before:
            return  # nothing changed: no pass over every switch
        before = self.tripped_before or (False,) * len(tripped)
        for i, (was, now) in enumerate(zip(before, tripped, strict=True)):
            if now and not was:
                self.trips += 1
                self.emit("SWITCH_TRIPPED", switch=i)
                isolated = self.ladder.tripped(
                    i,
                    now_s,
                    float(self.param("trip_retry_s")),
                    int(self.param("trip_isolate_n")),
                    float(self.param("trip_window_s")),
                )
                if isolated:
                    self._set_switch(self.switches[i], False)
                    self.emit("SWITCH_ISOLATED", switch=i)
        self.tripped_before = self.ctx.retained["tripped_before"] = tuple(tripped)

    def _wanted_on(self, name: str) -> bool:
        """Whether load shedding (and safe mode through it) wants this switch closed."""
        return all(self.level < lvl or name not in names for lvl, names in self.shed_groups.items())

    def _retry_switches(self, now_s: float) -> None:
        for i in self.ladder.due(now_s):
            name = self.switches[i]
            self._reset_trip(name)
            before = list(self.tripped_before)
            before[i] = False  # a trip seen after this retry is a new one
            self.tripped_before = self.ctx.retained["tripped_before"] = tuple(before)
            if self._wanted_on(name):
                self._set_switch(name, True)
            self.emit("SWITCH_RETRY", switch=i)

    def _health_requests(self) -> None:
        for msg in self.health_pipe.drain():
            req = msg.payload
            if not isinstance(req, SwitchHealthRequest) or not 0 <= req.switch < len(self.switches):
                continue
            name = self.switches[req.switch]
            self.ladder.command(req.switch, req.health)
            if not self.ladder.may_close(req.switch):
                self._set_switch(name, False)
            elif req.health == HEALTHY:
                self._reset_trip(name)
                if self._wanted_on(name):
                    self._set_switch(name, True)

    def _check_undervoltage(self, voltage: float) -> None:
        low = voltage < float(self.param("undervoltage_v"))
        if low and not self.undervoltage:
            self.emit("UNDERVOLTAGE", voltage=voltage)
        self.undervoltage = low

    def _threshold(self, level: int) -> float:
        return float(self.param(f"shed{level}_soc"))

    def _shed(self, soc: float) -> None:
        """Move at most one level per step: deeper on a threshold, back with hysteresis."""
        level = self.level
        hyst = float(self.param("hysteresis"))
        if self.safe_mode and level < SHED_LEVELS:
            level += 1  # safe mode: down to minimum loads, one level a step
        elif level < SHED_LEVELS and (soc < self._threshold(level + 1) or self.undervoltage):
            level += 1
        elif (
            level > 0
            and not self.safe_mode
            and soc > self._threshold(level) + hyst
            and not self.undervoltage
        ):
            level -= 1
        if level == self.level:
            return
        self.emit("SHED_LEVEL_CHANGED", old=self.level, new=level, soc=soc)
        for lvl, names in self.shed_groups.items():
            want_on = level < lvl
            was_on = self.level < lvl
            if want_on != was_on:
                for name in names:
                    if want_on and not self.ladder.may_close(self.switches.index(name)):
                        continue  # isolated: stays open
                    self._set_switch(name, want_on)
        self.level = self.ctx.retained["shed_level"] = level

    def _payload_budget(self, soc: float, solar_w: float, load_w: float) -> float:
        if self.level >= 2:
            return 0.0
        platform_w = max(0.0, load_w - self.payload_w)
        reserve = float(self.param("reserve_soc"))
        battery_w = 0.0
        if soc > reserve and not self.battery_stale:
            frac = min(1.0, (soc - reserve) / float(self.param("reserve_band_soc")))
            battery_w = float(self.param("max_discharge_w")) * frac
        charge_w = float(self.param("charge_reserve_w")) if soc < 0.95 and solar_w > 0 else 0.0
        budget = solar_w + battery_w - platform_w - charge_w - float(self.param("margin_w"))
        if self.level == 1:
            budget *= 0.5
        return max(0.0, budget)

    # --- commands ------------------------------------------------------------------
    def _switch_index(self, switch: int) -> str:
        if switch >= len(self.switches):
            raise CommandError(FailureCode.UNKNOWN_ID, f"no switch {switch}")
        return self.switches[switch]

    @command(function_id=1, args=(Arg("switch", "u8"),))
    def cmd_arm_switch(self, switch: int) -> None:
        """Arm one switch so the next ``switch`` command on it may fire."""
        self._switch_index(switch)
        expiry = self.ctx.now_ns() + int(float(self.param("arm_timeout_s")) * NS_PER_S)
        self.armed = (switch, expiry)
        self.emit("SWITCH_ARMED", switch=switch)

    @command(function_id=2, args=(Arg("switch", "u8"), Arg("on", "u8", 0, 1)))
    def cmd_switch(self, switch: int, on: int) -> None:
        """Open or close a PCDU switch; critical switches need ``arm_switch`` first."""
        name = self._switch_index(switch)
        if on and not self.ladder.may_close(switch):
            raise CommandError(FailureCode.INVALID_STATE, f"{name} is isolated: set it healthy")
        if name in self.critical:
            armed = self.armed
            self.armed = None
            if armed is None or armed[0] != switch or self.ctx.now_ns() > armed[1]:
                raise CommandError(FailureCode.NOT_ARMED, f"{name} is critical: arm it first")
        self._set_switch(name, bool(on))
        self.emit("SWITCH_COMMANDED", switch=switch, on=on)

    @command(function_id=3, args=(Arg("switch", "u8"),))
    def cmd_reset_trip(self, switch: int) -> None:
        """Clear a tripped switch's latch (it stays open until commanded on)."""
        self._reset_trip(self._switch_index(switch))
