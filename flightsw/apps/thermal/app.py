"""Thermal control: zone heaters with hysteresis, board throttling, limit violations.

Zones are the heaters the HAL names (``heater_<zone>``); a zone's temperature is voted
from its redundant sources (:mod:`flightsw.apps.shared.sensor_vote`): the sensors whose names
start with ``<zone>``, plus the battery's own temperature sensor for the battery zone.
A reading outside the sensor's physical range, a sensor FDIR declared failed, or one
that moves faster than the zone can is not used, so one bad thermistor neither drives a
heater nor raises a zone alarm. Heaters switch with hysteresis between ``heater_on_c``
and ``heater_off_c``.

A zone's operating limits are ``zone_min_c``/``zone_max_c`` unless the app's options
give that zone its own (``zone_limits = { battery = [0.0, 45.0] }``). The cold-plate
loop's thermostatic bypass valve, where the HAL has one (``thermal_loop``), is watched,
not commanded: its position goes to telemetry as ``loop_valve_open``.

Boards: above ``throttle_start_c`` a board's thermal cap falls linearly from its full
power to ``min_cap_w`` at ``throttle_limit_c``; a capped board gets its cap back only
when it cools ``restore_margin_c`` below the start. The caps go out on the bus; the
payload app, the only owner of board power caps, applies them.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from flightsw.apps.shared.device_guard import DEVICE_ERROR, DEVICE_ERRORS, DeviceGuard
from flightsw.apps.shared.messages import SENSOR_HEALTH, THERMAL_CAPS, SensorHealth, ThermalCaps
from flightsw.apps.shared.sensor_vote import ZoneVoter
from flightsw.base.errors import FlightswError, MissionError
from flightsw.base.schema import ConfigError, Opt, Schema
from flightsw.framework.app import App, Arg, EventDef, HkDef, ParameterDef, Severity, TelemetryDef
from flightsw.framework.ports import Device, OptionalDevice, Publish, Subscribe
from hal.interfaces import AcceleratorBoards, Battery, Heaters, TemperatureSensors, ThermalLoop

SENSOR_VALID_RANGE_C = (-120.0, 200.0)
MAX_ZONES = 4  # zones reported in HK


def _check_zone_limits(options: dict[str, object]) -> None:
    """Each zone's limits are a pair of finite numbers, min below max (the zone itself is
    checked at init, against the heater zones the HAL has)."""
    limits = options.get("zone_limits", {})
    assert isinstance(limits, dict)
    for zone, pair in limits.items():
        ok = isinstance(pair, list) and len(pair) == 2
        ok = ok and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in pair
        )
        if not ok or pair[0] >= pair[1]:
            raise ConfigError(f"zone_limits.{zone}", "must be [min_c, max_c], finite, min < max")


class ThermalApp(DeviceGuard, App):
    """Heaters per zone, board power caps from temperatures, thermal limit events."""

    DEFAULT_RATE_HZ = 1.0
    sensors = Device(TemperatureSensors, "thermal")
    heaters = Device(Heaters, "thermal")
    boards = OptionalDevice(AcceleratorBoards)
    loop = OptionalDevice(ThermalLoop, "thermal_loop")
    battery = OptionalDevice(Battery)
    SUBSCRIBES = (Subscribe(SENSOR_HEALTH, SensorHealth),)
    PUBLISHES = (Publish(THERMAL_CAPS, ThermalCaps),)
    OPTIONS = Schema(
        Opt(
            "zone_limits",
            "table",
            {},
            doc="a zone's own operating limits: zone = [min_c, max_c] (else zone_min/max_c)",
        ),
        check=_check_zone_limits,
    )
    TELEMETRY = (
        DEVICE_ERRORS,
        TelemetryDef("max_board_temp_c", "f32", "degC"),
        TelemetryDef("mean_board_temp_c", "f32", "degC"),
        TelemetryDef("throttled_boards", "u16"),
        TelemetryDef("heaters_on", "u16", "", "bit i = heater i on"),
        TelemetryDef("min_zone_temp_c", "f32", "degC"),
        TelemetryDef("max_zone_temp_c", "f32", "degC"),
        TelemetryDef("invalid_sensors", "u16"),
        TelemetryDef("limit_violations", "u32", "", "zone readings outside operating limits"),
        *(
            TelemetryDef(f"zone{z}_c", "f32", "degC", f"zone {z}'s temperature in use")
            for z in range(MAX_ZONES)
        ),
        TelemetryDef("zones_valid", "u8", "", "bit z: zone z has a temperature in use"),
        TelemetryDef("loop_valve_open", "f32", "1", "cold-plate loop valve, 0 bypassed .. 1 open"),
    )
    HOUSEKEEPING = (HkDef(1, "thermal", tuple(t.name for t in TELEMETRY), interval_s=10.0),)
    EVENTS = (
        DEVICE_ERROR,
        EventDef(
            1,
            "ZONE_LIMIT",
            Severity.HIGH,
            (Arg("zone", "u8"), Arg("temp_c", "f32")),
            "zone {zone} at {temp_c:.1f} C outside operating limits",
        ),
        EventDef(
            2,
            "BOARDS_THROTTLED",
            Severity.LOW,
            (Arg("count", "u16"), Arg("max_temp_c", "f32")),
            "{count} boards capped, hottest {max_temp_c:.1f} C",
        ),
        EventDef(3, "SENSOR_INVALID", Severity.MEDIUM, (Arg("sensor", "u8"),), "sensor {sensor}"),
        EventDef(
            4,
            "BOARD_OVER_LIMIT",
            Severity.HIGH,
            (Arg("board", "u16"), Arg("temp_c", "f32")),
            "board {board} at {temp_c:.1f} C",
        ),
    )
    PARAMETERS = (
        ParameterDef(1, "heater_on_c", "f32", 5.0, -60.0, 60.0, "degC"),
        ParameterDef(2, "heater_off_c", "f32", 10.0, -60.0, 80.0, "degC"),
        ParameterDef(3, "zone_min_c", "f32", -10.0, -100.0, 60.0, "degC"),
        ParameterDef(4, "zone_max_c", "f32", 50.0, -50.0, 120.0, "degC"),
        ParameterDef(5, "throttle_start_c", "f32", 75.0, 0.0, 150.0, "degC"),
        ParameterDef(6, "throttle_limit_c", "f32", 90.0, 0.0, 150.0, "degC"),
        ParameterDef(7, "restore_margin_c", "f32", 5.0, 0.0, 50.0, "degC"),
        ParameterDef(8, "board_max_w", "f32", 350.0, 1.0, 5000.0, "W"),
        ParameterDef(9, "min_cap_w", "f32", 60.0, 0.0, 5000.0, "W"),
        ParameterDef(10, "board_limit_c", "f32", 95.0, 0.0, 200.0, "degC"),
    )

    def init(self) -> None:
        names = self.sensors.sensor_names()
        self.heater_names = self.heaters.heater_names()
        self.zone_sensors: list[list[int]] = []
        self.voters: list[ZoneVoter] = []
        self.bms_zone = -1  # the zone the battery's own sensor also measures
        zones = [h.removeprefix("heater_") for h in self.heater_names]
        for z, zone in enumerate(zones):
            self.zone_sensors.append([i for i, s in enumerate(names) if s.startswith(zone)])
            if zone == "battery" and self.battery is not None:
                self.bms_zone = z
            extra = 1 if z == self.bms_zone else 0
            self.voters.append(ZoneVoter(len(self.zone_sensors[-1]) + extra))
        self.zone_limits = self._zone_limits(zones)
        self.invalid_reported: set[int] = set()
        self.health_pipe = self.listen(SENSOR_HEALTH)
        # FDIR announces a failed sensor once: kept across a restart of this app.
        self.failed: frozenset[int] = self.ctx.retained.get("failed", frozenset())
        self.throttled = np.zeros(self.boards.count if self.boards else 0, dtype=bool)
        self.over_limit = np.zeros_like(self.throttled)
        self.any_throttled = False
        self.no_caps = np.full(self.throttled.shape, np.nan)
        self.no_caps.flags.writeable = False
        self.no_caps_message = ThermalCaps(self.no_caps, 0)
        self.any_over = False  # some board in over_limit
        self.violations = 0
        self.in_violation: set[int] = set()

    def _zone_limits(self, zones: list[str]) -> list[tuple[float, float] | None]:
        """Per-zone (min, max) from the options; None: the zone_min_c/zone_max_c params."""
        given = self.ctx.options.get("zone_limits", {})
        where = f"apps.{self.ctx.name}.options.zone_limits"
        if not isinstance(given, dict):
            raise MissionError("mission", where, "must be a table of zone = [min_c, max_c]")
        for zone, pair in given.items():
            if zone not in zones:
                raise MissionError("mission", f"{where}.{zone}", f"no heater zone {zone!r}")
            ok = isinstance(pair, list | tuple) and len(pair) == 2
            if not ok or not all(isinstance(v, int | float) for v in pair) or pair[0] >= pair[1]:
                raise MissionError(
                    "mission", f"{where}.{zone}", "must be [min_c, max_c], min < max"
                )
        return [(float(given[z][0]), float(given[z][1])) if z in given else None for z in zones]

    def step(self, now_ns: int) -> None:
        self.guarded(self._step, now_ns)

    def _step(self, now_ns: int) -> None:
        self._zones()
        if self.loop is not None:
            self.tlm["loop_valve_open"] = self.loop.read_loop().valve_open
        if self.boards is not None and self.boards.count:
            self._boards()

    def _zones(self) -> None:
        for msg in self.health_pipe.drain():
            if isinstance(msg.payload, SensorHealth):
                self.failed = self.ctx.retained["failed"] = msg.payload.failed
        temps = self.sensors.read_temperatures_c()
        failed = self.failed
        lo, hi = SENSOR_VALID_RANGE_C  # (a NaN is outside the range too)
        if failed:
            valid = [lo <= t <= hi and i not in failed for i, t in enumerate(temps)]
        else:
            valid = [lo <= t <= hi for t in temps]
        if self.invalid_reported or False in valid:  # (all valid, none reported: nothing)
            for i, ok in enumerate(valid):
                if not ok and i not in self.invalid_reported:
                    self.invalid_reported.add(i)
                    self.emit("SENSOR_INVALID", sensor=i)
                elif ok:
                    self.invalid_reported.discard(i)
        on_c, off_c = float(self.param("heater_on_c")), float(self.param("heater_off_c"))
        zmin, zmax = float(self.param("zone_min_c")), float(self.param("zone_max_c"))
        state = list(self.heaters.read_heaters())
        zone_temps: list[float] = []
        in_use = [0.0] * MAX_ZONES  # telemetry is finite; zones_valid says which are real
        valid_zones = 0
        for z, idx in enumerate(self.zone_sensors):
            readings = [float(temps[i]) for i in idx]
            # (no failed sensor: every reading usable, which the voter takes as None)
            usable = [i not in failed for i in idx] if failed else None
            if z == self.bms_zone:
                readings.append(self._bms_c())
                if usable is not None:
                    usable.append(True)
            t = self.voters[z].update(readings, usable)
            if t != t:  # NaN
                continue  # no usable sensor yet: leave the heater as it is (FDIR handles it)
            zone_temps.append(t)
            if z < MAX_ZONES:
                in_use[z] = t
                valid_zones |= 1 << z
            if t < on_c and not state[z]:
                self.heaters.set_heater(self.heater_names[z], True)
                state[z] = True
            elif t > off_c and state[z]:
                self.heaters.set_heater(self.heater_names[z], False)
                state[z] = False
            lo, hi = self.zone_limits[z] or (zmin, zmax)
            if not lo <= t <= hi:
                self.violations += 1
                if z not in self.in_violation:
                    self.in_violation.add(z)
                    self.emit("ZONE_LIMIT", zone=z, temp_c=t)
            else:
                self.in_violation.discard(z)
        self.tlm.update(
            heaters_on=sum(1 << i for i, on in enumerate(state[:16]) if on),
            min_zone_temp_c=min(zone_temps, default=0.0),
            max_zone_temp_c=max(zone_temps, default=0.0),
            invalid_sensors=valid.count(False),
            limit_violations=self.violations,
            zones_valid=valid_zones,
            **{f"zone{z}_c": v for z, v in enumerate(in_use)},
        )

    def _bms_c(self) -> float:
        """The battery's own temperature sensor (NaN when it does not answer)."""
        assert self.battery is not None
        try:
            return float(self.battery.read_battery().temperature_c)
        except FlightswError:
            return math.nan

    def _boards(self) -> None:
        """Caps for hot boards, limit events, board temperature telemetry.

        Hot (> ``throttle_start_c``) and over-limit boards are powered boards read above
        a threshold, so none is when the hottest powered board that was read is not above
        it: the common case then costs the telemetry's own reductions and no masks. The
        same caps (all NaN, none capped) go out as the same message."""
        assert self.boards is not None
        tel = self.boards.read_boards()
        temp = tel.temperature_c
        start = float(self.param("throttle_start_c"))
        # A board whose temperature is missing (NaN from the HAL) keeps its throttle
        # state; if throttled, it gets the floor cap until it reads again.
        n_powered = tel.n_powered_read  # powered and read (the snapshot's statistics)
        hottest = tel.max_powered_temp_c if n_powered else 0.0
        if (n_powered and hottest > start) or self.any_throttled:
            limit = max(start + 0.1, float(self.param("throttle_limit_c")))
            full, floor = float(self.param("board_max_w")), float(self.param("min_cap_w"))
            hot = tel.hot_mask(start)
            cool = temp < start - float(self.param("restore_margin_c"))
            newly = hot & ~self.throttled
            self.throttled = (self.throttled | hot) & ~cool
            count = int(np.count_nonzero(self.throttled))
            self.any_throttled = count > 0
            frac = np.nan_to_num(np.clip((limit - temp) / (limit - start), 0.0, 1.0), nan=0.0)
            caps = np.where(self.throttled, floor + (full - floor) * frac, np.nan)
            if np.count_nonzero(newly):
                self.emit("BOARDS_THROTTLED", count=count, max_temp_c=_hottest(temp))
            message = ThermalCaps(caps, count)
        else:
            count = 0
            message = self.no_caps_message  # nothing hot, nothing capped: all-NaN caps
        board_limit = float(self.param("board_limit_c"))
        if (n_powered and hottest > board_limit) or self.any_over:
            over = tel.hot_mask(board_limit)
            for b in np.flatnonzero(over & ~self.over_limit)[:8]:
                self.emit("BOARD_OVER_LIMIT", board=int(b), temp_c=float(temp[b]))
            self.over_limit = over
            self.any_over = bool(np.count_nonzero(over))
        self.ctx.bus.publish(THERMAL_CAPS, message)
        self.tlm.update(
            max_board_temp_c=hottest,
            mean_board_temp_c=tel.sum_powered_temp_c / n_powered if n_powered else 0.0,
            throttled_boards=min(count, 0xFFFF),
        )


def _hottest(temp: NDArray[np.float64]) -> float:
    """The highest temperature that was read (boards with a missing one are skipped)."""
    known = temp[~np.isnan(temp)]
    return float(known.max()) if known.size else 0.0
