"""On-board monitoring (PUS service 12): checks on any telemetry point, from a table.

A *parameter monitoring definition* (PMON) watches one telemetry point, named as the
dictionary names it (``app.point``), with a limit, expected-value or delta check
(:mod:`flightsw.framework.checks`), a persistence count (the number of consecutive samples a new
result must repeat before the check state changes) and a mode: ``report_only`` gives
check transition reports TM(12,12) only; ``active`` also raises the violation events
below, which PUS-19 event-action definitions can act on.

The definitions are the table ``monitoring.definitions`` (``flightsw.framework.tables``): loaded
from a file and committed whole, checked against its CRC and repaired (it is critical).
The TCs that add, delete, modify, enable or disable definitions build the new table and
commit it through the same validation, so the table on NV is always what runs and a
reboot comes back with it. Checks run once per step of this service (its rate, 1 Hz by
default, is the monitoring interval).

Bounds: at most ``options.max_definitions`` definitions (a larger table is refused with
its reason); at most ``options.max_events_per_cycle`` violation events a cycle (the rest
counted in ``events_suppressed`` and reported by one ``EVENTS_LIMITED``); transition
reports carry up to 64 transitions each. A transition from UNCHECKED to OK (a new or
re-enabled check's first good result) is not reported.

Layouts (declared below with construct; ``flightsw dict export`` lists them):
TC(12,1)/(12,2) enable/disable definitions, TC(12,6) delete = N:u8, N × pmon id:u16;
TC(12,5) add, TC(12,7) modify = N:u8, N × definition; TC(12,8) report definitions
(N=0: all) -> TM(12,9); TC(12,13) report checks out of limits -> TM(12,14);
TC(12,15)/(12,16) enable/disable the monitoring function.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import numpy as np
from construct import Enum, Float64b, Int8ub, Int16ub, Int32ub, PascalString, PrefixedArray, Struct

from flightsw.base.errors import CommandError
from flightsw.base.schema import Opt, Schema
from flightsw.framework.app import (
    App,
    Arg,
    EventDef,
    FailureCode,
    HkDef,
    ReportDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.checks import VIOLATIONS, CheckCore, CheckKind, CheckState
from flightsw.framework.exec_services import AppCatalog
from flightsw.framework.ports import Service
from flightsw.framework.tables import TableDef, TableRegistry

TABLE_NAME = "monitoring.definitions"
MAX_PER_REPORT = 64

CHECK = Enum(Int8ub, limit=CheckKind.LIMIT, expected=CheckKind.EXPECTED, delta=CheckKind.DELTA)
MODE = Enum(Int8ub, report_only=0, active=1)
STATE = Enum(Int8ub, **{s.name.lower(): int(s) for s in CheckState})
DEFINITION = Struct(
    "pmon_id" / Int16ub,
    "point" / PascalString(Int8ub, "ascii"),
    "check" / CHECK,
    "persistence" / Int8ub,
    "mode" / MODE,
    "enabled" / Int8ub,
    "low" / Float64b,  # limit: low limit; delta: low threshold
    "high" / Float64b,  # limit: high limit; delta: high threshold
    "mask" / Int32ub,  # expected value: bits compared
    "expected" / Int32ub,  # expected value: the value of those bits
)
TABLE = Struct("definitions" / PrefixedArray(Int16ub, DEFINITION))
DEFINITIONS_TC = Struct("definitions" / PrefixedArray(Int8ub, DEFINITION))
IDS_TC = Struct("pmon_ids" / PrefixedArray(Int8ub, Int16ub))
DEFINITIONS_TM = Struct(
    "monitoring_enabled" / Int8ub, "definitions" / PrefixedArray(Int16ub, DEFINITION)
)
TRANSITIONS_TM = Struct(
    "transitions"
    / PrefixedArray(
        Int8ub,
        Struct(
            "pmon_id" / Int16ub,
            "check" / CHECK,
            "value" / Float64b,
            "previous" / STATE,
            "current" / STATE,
        ),
    )
)
OUT_OF_LIMITS_TM = Struct(
    "checks"
    / PrefixedArray(Int16ub, Struct("pmon_id" / Int16ub, "value" / Float64b, "state" / STATE))
)

_PMON = (Arg("pmon", "u16"), Arg("value", "f64"))
_EVENT_OF = {
    CheckState.BELOW_LOW: "CHECK_BELOW_LOW",
    CheckState.ABOVE_HIGH: "CHECK_ABOVE_HIGH",
    CheckState.UNEXPECTED: "CHECK_UNEXPECTED",
    CheckState.OK: "CHECK_BACK_OK",
}
_FIRST_VIOLATION = int(min(VIOLATIONS))  # BELOW_LOW, ABOVE_HIGH, UNEXPECTED: 3, 4, 5
_KIND_ORDER = {"limit": 0, "delta": 1, "expected": 2}
_SAME_CHECK = ("point", "check", "persistence", "low", "high", "mask", "expected")


class MonitoringService(App):
    """PUS 12: limit, expected-value and delta checks on telemetry points, by table."""

    DEFAULT_RATE_HZ = 1.0
    catalog = Service(AppCatalog)
    tables = Service(TableRegistry)
    OPTIONS = Schema(
        Opt("max_definitions", "int", 1024, min=1, max=8192, doc="definitions in the table"),
        Opt(
            "max_events_per_cycle",
            "int",
            16,
            min=1,
            max=1024,
            doc="violation events raised per check cycle; more are counted",
        ),
    )
    TELEMETRY = (
        TelemetryDef("definitions", "u16"),
        TelemetryDef("enabled_definitions", "u16"),
        TelemetryDef("in_violation", "u16", doc="checks now below, above or unexpected"),
        TelemetryDef("transitions", "u32"),
        TelemetryDef("events_suppressed", "u32"),
        TelemetryDef("cycles", "u32"),
        TelemetryDef("monitoring_enabled", "u8"),
    )
    HOUSEKEEPING = (
        HkDef(
            1,
            "monitoring",
            (
                "definitions",
                "enabled_definitions",
                "in_violation",
                "transitions",
                "events_suppressed",
                "monitoring_enabled",
            ),
            interval_s=10.0,
            enabled=False,
        ),
    )
    EVENTS = (
        EventDef(1, "CHECK_BELOW_LOW", Severity.MEDIUM, _PMON, "a check went below its low limit"),
        EventDef(
            2, "CHECK_ABOVE_HIGH", Severity.MEDIUM, _PMON, "a check went above its high limit"
        ),
        EventDef(3, "CHECK_UNEXPECTED", Severity.MEDIUM, _PMON, "a value is not the expected one"),
        EventDef(4, "CHECK_BACK_OK", Severity.INFO, _PMON, "a violated check is back within"),
        EventDef(
            5,
            "EVENTS_LIMITED",
            Severity.LOW,
            (Arg("suppressed", "u32"),),
            "more violations in one cycle than events allowed",
        ),
        EventDef(6, "DEFINITIONS_APPLIED", Severity.INFO, (Arg("count", "u16"),)),
    )
    REPORTS = (
        ReportDef(12, 12, "check_transitions", TRANSITIONS_TM, "check state changes"),
        ReportDef(12, 9, "definitions_report", DEFINITIONS_TM, "the definitions asked for"),
        ReportDef(12, 14, "out_of_limits_report", OUT_OF_LIMITS_TM, "checks now violated"),
    )

    def init(self) -> None:
        self._points = {
            f"{a.name}.{t.name}": t.type
            for a in self.catalog.apps()
            for t in a.declarations.telemetry
        }
        kept = self.ctx.retained
        kept.setdefault("enabled", True)
        kept.setdefault("transitions", 0)
        kept.setdefault("suppressed", 0)
        self.defs: list[dict[str, Any]] = []
        self.core = CheckCore([], [], [], [], [], [], [])
        self._groups: list[tuple[Any, Any, bool]] = []
        self._order = np.zeros(0, np.intp)
        self._points_read = 0
        self._enabled_count = 0
        self._in_violation = 0
        self.tables.register(
            TableDef(
                TABLE_NAME,
                TABLE,
                self.validate_table,
                self.apply_table,
                {"definitions": []},
                critical=True,
            )
        )

    # --- the table ------------------------------------------------------------------
    def validate_table(self, value: Any) -> str | None:
        """None when the definitions can run, else the first reason they cannot."""
        defs = value["definitions"]
        limit = int(self.ctx.options["max_definitions"])
        if len(defs) > limit:
            return f"{len(defs)} definitions, at most {limit}"
        seen: set[int] = set()
        for d in defs:
            pid = d["pmon_id"]
            where = f"pmon {pid}"
            if pid in seen:
                return f"{where}: id used twice"
            seen.add(pid)
            if d["point"] not in self._points:
                return f"{where}: no telemetry point {d['point']!r}"
            if not 1 <= d["persistence"] <= 255:
                return f"{where}: persistence must be 1..255"
            if d["check"] != "expected":
                low, high = d["low"], d["high"]
                if low != low or high != high or low > high:
                    return f"{where}: need low <= high (no NaN)"
        return None

    def apply_table(self, value: Any) -> None:
        """Take a newly active definitions table; checks that did not change keep their
        state (persistence counts, previous sample, check state)."""
        # Grouped by check type (stable): the core then works on slices, not gathers.
        defs = sorted(value["definitions"], key=lambda d: _KIND_ORDER[d["check"]])
        old_core, old_defs = self.core, self.defs
        core = CheckCore(
            [int(CHECK.build(d["check"])[0]) for d in defs],
            [d["low"] for d in defs],
            [d["high"] for d in defs],
            [d["mask"] for d in defs],
            [d["expected"] for d in defs],
            [d["persistence"] for d in defs],
            [bool(d["enabled"]) for d in defs],
        )
        retained = self.ctx.retained.get("core")
        if not old_defs and retained is not None:  # a restart of this app: keep states
            old_core, old_defs = retained
        old_rows = {d["pmon_id"]: (i, d) for i, d in enumerate(old_defs)}
        keep_old, keep_new = [], []
        for i, d in enumerate(defs):
            hit = old_rows.get(d["pmon_id"])
            if hit is not None and all(hit[1][k] == d[k] for k in _SAME_CHECK):
                keep_old.append(hit[0])
                keep_new.append(i)
        if keep_new and len(old_core):
            core.carry_over(old_core, np.array(keep_old), np.array(keep_new))
        self.defs, self.core = defs, core
        self.ctx.retained["core"] = (core, defs)
        announce = bool(defs or old_defs)
        # Each distinct point is read once a cycle (app by app, one itemgetter each) and
        # every definition on it takes that value: several checks on a point cost one read.
        slots: dict[str, int] = {}
        by_app: dict[str, list[str]] = {}
        for d in defs:
            if d["point"] not in slots:
                app, _, name = d["point"].partition(".")
                by_app.setdefault(app, []).append(name)
                slots[d["point"]] = -1
        order = [f"{app}.{name}" for app, names in by_app.items() for name in names]
        slot_of = {p: i for i, p in enumerate(order)}
        self._groups = [(app, itemgetter(*names), len(names) == 1) for app, names in by_app.items()]
        self._points_read = len(order)
        self._order = np.array([slot_of[d["point"]] for d in defs], dtype=np.intp)
        self._enabled_count = int(core.enabled.sum())
        self._in_violation = int(np.count_nonzero(core.state >= _FIRST_VIOLATION))
        if announce:
            self.emit("DEFINITIONS_APPLIED", count=len(defs))

    def values(self) -> np.ndarray:
        """This sample of every watched point, in definition order."""
        got: list[Any] = []
        tlm_of = self.catalog.telemetry
        for app, get, single in self._groups:
            if single:
                got.append(get(tlm_of(app)))
            else:
                got.extend(get(tlm_of(app)))
        return np.fromiter(got, np.float64, self._points_read)[self._order]

    # --- checking -------------------------------------------------------------------
    def step(self, now_ns: int) -> None:
        kept = self.ctx.retained
        if kept["enabled"] and self.defs:
            self.check()
        self.tlm.update(
            definitions=len(self.defs),
            enabled_definitions=self._enabled_count,
            in_violation=self._in_violation,
            transitions=kept["transitions"] & 0xFFFFFFFF,
            events_suppressed=kept["suppressed"] & 0xFFFFFFFF,
            cycles=self.core.samples & 0xFFFFFFFF,
            monitoring_enabled=int(kept["enabled"]),
        )

    def check(self) -> None:
        """One check cycle: judge every definition, report and raise what changed."""
        values = self.values()
        rows, before = self.core.evaluate(values)
        if not rows.size:
            return
        state = self.core.state
        self._in_violation = int(np.count_nonzero(state >= _FIRST_VIOLATION))
        reported: list[dict[str, Any]] = []
        budget = int(self.ctx.options["max_events_per_cycle"])
        suppressed = 0
        for row, prev in zip(rows.tolist(), before.tolist(), strict=True):
            new = CheckState(int(state[row]))
            prev = CheckState(prev)
            if prev is CheckState.UNCHECKED and new is CheckState.OK:
                continue
            d = self.defs[row]
            value = float(values[row])
            reported.append(
                {
                    "pmon_id": d["pmon_id"],
                    "check": d["check"],
                    "value": value,
                    "previous": int(prev),
                    "current": int(new),
                }
            )
            if d["mode"] != "active":
                continue
            if new in VIOLATIONS or (new is CheckState.OK and prev in VIOLATIONS):
                if budget:
                    budget -= 1
                    self.emit(_EVENT_OF[new], pmon=d["pmon_id"], value=value)
                else:
                    suppressed += 1
        self.ctx.retained["transitions"] += len(reported)
        if suppressed:
            self.ctx.retained["suppressed"] += suppressed
            self.emit("EVENTS_LIMITED", suppressed=suppressed)
        for i in range(0, len(reported), MAX_PER_REPORT):
            self.send_report("check_transitions", {"transitions": reported[i : i + MAX_PER_REPORT]})

    # --- commands -------------------------------------------------------------------
    def _commit(self, defs: list[dict[str, Any]]) -> None:
        self.tables.commit(TABLE_NAME, {"definitions": defs})

    def _known(self, ids: list[int]) -> dict[int, int]:
        index = {d["pmon_id"]: i for i, d in enumerate(self.defs)}
        missing = [i for i in ids if i not in index]
        if missing:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no definition {missing[0]}")
        return index

    def _set_enabled(self, pmon_ids: list[int], on: int) -> None:
        index = self._known(pmon_ids)
        defs = [dict(d) for d in self.defs]
        for pid in pmon_ids:
            defs[index[pid]]["enabled"] = on
        self._commit(defs)

    @command(service=12, subservice=1, layout=IDS_TC, name="enable_monitoring_definitions")
    def cmd_enable(self, pmon_ids: list[int]) -> None:
        """Enable the given definitions (their checks start from UNCHECKED)."""
        self._set_enabled(pmon_ids, 1)

    @command(service=12, subservice=2, layout=IDS_TC, name="disable_monitoring_definitions")
    def cmd_disable(self, pmon_ids: list[int]) -> None:
        """Disable the given definitions (their state becomes UNCHECKED)."""
        self._set_enabled(pmon_ids, 0)

    @command(service=12, subservice=5, layout=DEFINITIONS_TC, name="add_monitoring_definitions")
    def cmd_add(self, definitions: list[dict[str, Any]]) -> None:
        """Add definitions (all or none: a duplicate id or a bad one refuses them all)."""
        have = {d["pmon_id"] for d in self.defs}
        dup = [d["pmon_id"] for d in definitions if d["pmon_id"] in have]
        if dup:
            raise CommandError(FailureCode.INVALID_STATE, f"definition {dup[0]} exists")
        self._commit(self.defs + list(definitions))

    @command(service=12, subservice=6, layout=IDS_TC, name="delete_monitoring_definitions")
    def cmd_delete(self, pmon_ids: list[int]) -> None:
        """Delete the given definitions."""
        self._known(pmon_ids)
        gone = set(pmon_ids)
        self._commit([d for d in self.defs if d["pmon_id"] not in gone])

    @command(service=12, subservice=7, layout=DEFINITIONS_TC, name="modify_monitoring_definitions")
    def cmd_modify(self, definitions: list[dict[str, Any]]) -> None:
        """Replace existing definitions by id (a changed check restarts from UNCHECKED)."""
        index = self._known([d["pmon_id"] for d in definitions])
        defs = list(self.defs)
        for d in definitions:
            defs[index[d["pmon_id"]]] = d
        self._commit(defs)

    @command(service=12, subservice=8, layout=IDS_TC, name="report_monitoring_definitions")
    def cmd_report(self, pmon_ids: list[int]) -> None:
        """TM(12,9) with the given definitions (none given: all)."""
        if pmon_ids:
            index = self._known(pmon_ids)
            defs = [self.defs[index[i]] for i in pmon_ids]
        else:
            defs = self.defs
        body = {"monitoring_enabled": int(self.ctx.retained["enabled"]), "definitions": defs}
        self.send_report("definitions_report", body)

    @command(service=12, subservice=13, name="report_out_of_limits")
    def cmd_report_out_of_limits(self) -> None:
        """TM(12,14): every check now below, above or unexpected, with its last value."""
        state = self.core.state
        rows = np.flatnonzero(np.isin(state, list(VIOLATIONS))).tolist()
        checks = [
            {
                "pmon_id": self.defs[r]["pmon_id"],
                "value": float(self.core.last_value[r]),
                "state": int(state[r]),
            }
            for r in rows
        ]
        self.send_report("out_of_limits_report", {"checks": checks})

    @command(service=12, subservice=15, name="enable_monitoring")
    def cmd_enable_function(self) -> None:
        """Enable the monitoring function (every enabled definition is checked)."""
        self.ctx.retained["enabled"] = True

    @command(service=12, subservice=16, name="disable_monitoring")
    def cmd_disable_function(self) -> None:
        """Disable the monitoring function (no checks run; states are kept)."""
        self.ctx.retained["enabled"] = False
