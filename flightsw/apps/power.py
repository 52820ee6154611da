"""Power management: state of charge, the payload's power budget, load shedding, switches.

The app owns the PCDU. Each step it estimates the battery's state of charge (energy
counting from measured voltage and current, pulled toward the open-circuit-voltage
estimate while the battery rests), decides a load-shedding level with hysteresis, and
publishes the payload's power budget on the bus. Shedding order, lowest level first:
level 1 halves the payload budget, level 2 gives the payload nothing and opens its
switches, level 3 also opens the auxiliary loads. Survival loads (avionics, radio,
heaters) are never shed. Loads come back one level at a time once the state of charge
is ``hysteresis`` above the level's threshold. In FDIR's safe mode the app sheds to
level 3 and stays there until safe mode ends.

Switching a critical load by TC takes two commands: ``arm_switch`` then ``switch``
within ``arm_timeout_s``; an unarmed attempt fails with NOT_ARMED and changes nothing.
"""

from __future__ import annotations

import bisect

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
    PAYLOAD_STATUS,
    POWER_BUDGET,
    SAFE_MODE,
    PayloadStatus,
    PowerBudget,
    SafeMode,
)
from flightsw.errors import CommandError
from hal.interfaces import Battery, PowerDistribution, SolarArray

NS_PER_S = 1_000_000_000

# Open-circuit voltage of one Li-ion cell against state of charge (datasheet-style
# curve; the battery model in sim_hw has its own copy of the chemistry).
OCV_SOC = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
OCV_V = (3.00, 3.30, 3.45, 3.55, 3.62, 3.68, 3.74, 3.80, 3.88, 3.96, 4.06, 4.20)
SHED_LEVELS = 3


def soc_from_ocv(cell_v: float) -> float:
    """Invert the OCV curve (piecewise linear), clamped to 0..1."""
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
    )

    def init(self) -> None:
        devices = self.ctx.hal.devices
        self.battery: Battery = devices["battery"]
        self.array: SolarArray = devices["solar_array"]
        self.pcdu: PowerDistribution = devices["pcdu"]
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
        self.soc: float | None = None
        self.level = 0
        self.last_t: int | None = None
        self.payload_w = 0.0
        self.armed: tuple[int, int] | None = None  # (switch index, expiry ns)
        self.tripped_before: tuple[bool, ...] = ()
        self.trips = 0
        self.undervoltage = False

    # --- the control loop ---------------------------------------------------------
    def step(self, now_ns: int) -> None:
        self.guarded(self._step, now_ns)

    def _step(self, now_ns: int) -> None:
        for msg in self.payload_pipe.drain():
            if isinstance(msg.payload, PayloadStatus):
                self.payload_w = msg.payload.power_w
        for msg in self.safe_pipe.drain():
            if isinstance(msg.payload, SafeMode):
                self.safe_mode = msg.payload.active
        bat = self.battery.read_battery()
        arr = self.array.read_solar_array()
        sw = self.pcdu.read_switches()
        dt = 0.0 if self.last_t is None else (now_ns - self.last_t) / NS_PER_S
        self.last_t = now_ns
        soc = self._estimate_soc(bat.voltage_v, bat.current_a, dt)
        self._note_trips(sw.tripped)
        self._check_undervoltage(bat.voltage_v)
        self._shed(soc)
        solar_w = arr.voltage_v * arr.current_a
        load_w = sum(sw.current_a) * float(self.param("bus_voltage_v"))
        budget = self._payload_budget(soc, solar_w, load_w)
        self.ctx.bus.publish(POWER_BUDGET, PowerBudget(budget, self.level, soc))
        self.tlm.update(
            soc=soc,
            battery_voltage_v=bat.voltage_v,
            battery_current_a=bat.current_a,
            battery_temp_c=bat.temperature_c,
            solar_power_w=solar_w,
            load_power_w=load_w,
            shed_level=self.level,
            payload_budget_w=budget,
            switches_on=sum(1 << i for i, on in enumerate(sw.on[:16]) if on),
            switches_tripped=sum(1 << i for i, t in enumerate(sw.tripped[:16]) if t),
            trips=self.trips & 0xFFFF,
        )

    def _estimate_soc(self, voltage: float, current: float, dt: float) -> float:
        cells = int(self.param("cells_series"))
        ocv_cell = (voltage - current * float(self.param("internal_resistance_ohm"))) / cells
        if self.soc is None:
            self.soc = soc_from_ocv(ocv_cell)
            return self.soc
        soc = self.soc + voltage * current * dt / 3600.0 / float(self.param("capacity_wh"))
        if abs(current) < float(self.param("rest_current_a")):
            soc += float(self.param("ocv_gain")) * (soc_from_ocv(ocv_cell) - soc)
        self.soc = min(1.0, max(0.0, soc))
        return self.soc

    def _note_trips(self, tripped: tuple[bool, ...]) -> None:
        if tripped == self.tripped_before:
            return  # nothing changed: no pass over every switch
        before = self.tripped_before or (False,) * len(tripped)
        for i, (was, now) in enumerate(zip(before, tripped, strict=True)):
            if now and not was:
                self.trips += 1
                self.emit("SWITCH_TRIPPED", switch=i)
        self.tripped_before = tuple(tripped)

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
                    self.pcdu.set_switch(name, want_on)
        self.level = level

    def _payload_budget(self, soc: float, solar_w: float, load_w: float) -> float:
        if self.level >= 2:
            return 0.0
        platform_w = max(0.0, load_w - self.payload_w)
        reserve = float(self.param("reserve_soc"))
        battery_w = 0.0
        if soc > reserve:
            frac = min(1.0, (soc - reserve) / max(1e-6, 1.0 - reserve))
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
        if name in self.critical:
            armed = self.armed
            self.armed = None
            if armed is None or armed[0] != switch or self.ctx.now_ns() > armed[1]:
                raise CommandError(FailureCode.NOT_ARMED, f"{name} is critical: arm it first")
        self.pcdu.set_switch(name, bool(on))
        self.emit("SWITCH_COMMANDED", switch=switch, on=on)

    @command(function_id=3, args=(Arg("switch", "u8"),))
    def cmd_reset_trip(self, switch: int) -> None:
        """Clear a tripped switch's latch (it stays open until commanded on)."""
        self.pcdu.reset_trip(self._switch_index(switch))
