"""Event-action (PUS service 19): an event starts a TC or a stored sequence.

An *event-action definition* binds one declared event id (optionally only when the
event's first argument equals a value, e.g. the PUS-12 definition id carried by the
monitoring events) to an action: a complete PUS TC packet, which is submitted to the
dispatcher like an uplinked one (accepted, executed and verified by PUS-1 as any TC),
or the name of a stored sequence, published on the bus as ``msgids.START_SEQUENCE`` for
the sequencer (an action with no sequencer listening is refused and counted).

Every event reaches this service on the bus (``msgids.EVENT``) through a bounded
drop-oldest pipe. Each event is looked at once, so each enabled matching definition
fires exactly once per event. A flood cannot starve the executive: a step takes at
most ``options.max_events_per_step`` events from the pipe and fires at most
``options.max_actions_per_step`` actions; actions waiting beyond that queue up to
``options.pending_depth``. What a bound drops is counted (``events_dropped``,
``actions_dropped``, ``actions_refused``) and reported by one event per step.

The definitions are the critical table ``event_action.definitions`` (``flightsw.framework.tables``,
like PUS-12's): defined by TC or by a table uplinked as a file and loaded, validated and
activated with the tables service; the golden copy on NV brings them back after a reboot,
and the periodic CRC check repairs the active copy. The TCs that add, delete, enable or
disable definitions refuse what is wrong with their own PUS-1 codes, then commit the new
table. Fire counts and waiting actions are kept across restarts of this service.

TC(19,1) add = N:u8, N × definition; TC(19,2) delete, (19,4) enable, (19,5) disable =
N:u8, N × ea_id:u16; TC(19,6) -> TM(19,7) status; TC(19,8)/(19,9) enable/disable the
function; TC(19,10) -> TM(19,11) definitions.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from construct import (
    Enum,
    GreedyBytes,
    Int8ub,
    Int16ub,
    Int32ub,
    PascalString,
    Prefixed,
    PrefixedArray,
    Struct,
)

from flightsw.base.errors import CommandError, DecodeError
from flightsw.base.schema import Opt, Schema
from flightsw.framework import msgids
from flightsw.framework.app import (
    WAKE_NEVER,
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
from flightsw.framework.events import EventRecord
from flightsw.framework.exec_services import CommandPath, EventFilter
from flightsw.framework.ports import Publish, Service, Subscribe
from flightsw.framework.tables import TableDef, TableRegistry
from flightsw.packets import PusTc

MAX_TC_OCTETS = 1024
ACTION = Enum(Int8ub, tc=1, sequence=2)
DEFINITION = Struct(
    "ea_id" / Int16ub,
    "event_id" / Int16ub,
    "match_arg" / Int8ub,  # 1: only when the event's first argument equals arg_value
    "arg_value" / Int32ub,
    "enabled" / Int8ub,
    "action" / ACTION,
    "tc" / Prefixed(Int16ub, GreedyBytes),  # action "tc": the whole TC packet
    "sequence" / PascalString(Int8ub, "ascii"),  # action "sequence": its name
)
DEFINITIONS_TC = Struct("definitions" / PrefixedArray(Int8ub, DEFINITION))
IDS_TC = Struct("ea_ids" / PrefixedArray(Int8ub, Int16ub))
STATUS_TM = Struct(
    "function_enabled" / Int8ub,
    "actions"
    / PrefixedArray(Int16ub, Struct("ea_id" / Int16ub, "enabled" / Int8ub, "fired" / Int32ub)),
)
DEFINITIONS_TM = Struct("definitions" / PrefixedArray(Int16ub, DEFINITION))
TABLE_NAME = "event_action.definitions"
TABLE = DEFINITIONS_TM  # the table image: every definition, by id


@dataclass(frozen=True, slots=True)
class StartSequence:
    """Published on ``msgids.START_SEQUENCE``: the sequencer should start ``name``."""

    name: str
    ea_id: int
    event_id: int


@dataclass
class Binding:
    """One definition as the service runs it."""

    definition: dict[str, Any]
    fired: int = 0


class EventActionService(App):
    """PUS 19: events start TCs or sequences, bounded per step."""

    DEFAULT_RATE_HZ = 10.0
    events = Service(EventFilter)
    commands = Service(CommandPath)  # actions' TCs join the uplink queue
    tables = Service(TableRegistry)  # its definitions are the critical table
    SUBSCRIBES = (Subscribe(msgids.EVENT, EventRecord),)
    PUBLISHES = (Publish(msgids.START_SEQUENCE, StartSequence),)
    OPTIONS = Schema(
        Opt("max_definitions", "int", 64, min=1, max=1024, doc="event-action definitions"),
        Opt("event_queue_depth", "int", 256, min=1, max=65_536, doc="events waiting (drop-oldest)"),
        Opt("max_events_per_step", "int", 256, min=1, max=65_536, doc="events looked at a step"),
        Opt("max_actions_per_step", "int", 8, min=1, max=1024, doc="actions fired a step"),
        Opt("pending_depth", "int", 64, min=1, max=65_536, doc="actions waiting to fire"),
    )
    TELEMETRY = (
        TelemetryDef("definitions", "u16"),
        TelemetryDef("function_enabled", "u8"),
        TelemetryDef("events_seen", "u32"),
        TelemetryDef("events_dropped", "u32", doc="lost in the full event pipe"),
        TelemetryDef("actions_fired", "u32"),
        TelemetryDef("actions_dropped", "u32", doc="the pending queue was full"),
        TelemetryDef("actions_refused", "u32", doc="uplink queue full or no sequencer"),
        TelemetryDef("actions_pending", "u16"),
    )
    HOUSEKEEPING = (
        HkDef(
            1,
            "event_action",
            (
                "definitions",
                "function_enabled",
                "events_seen",
                "events_dropped",
                "actions_fired",
                "actions_dropped",
                "actions_refused",
                "actions_pending",
            ),
            interval_s=10.0,
            enabled=False,
        ),
    )
    EVENTS = (
        EventDef(
            1,
            "ACTIONS_LOST",
            Severity.LOW,
            (
                Arg("events_dropped", "u32"),
                Arg("actions_dropped", "u32"),
                Arg("actions_refused", "u32"),
            ),
            "event-action bounds dropped work this step (totals)",
        ),
    )
    REPORTS = (
        ReportDef(19, 7, "event_action_status", STATUS_TM, "enabled state and fire counts"),
        ReportDef(19, 11, "event_action_definitions", DEFINITIONS_TM, "the definitions"),
    )

    def init(self) -> None:
        opts = self.ctx.options
        self.pipe = self.listen(msgids.EVENT, int(opts["event_queue_depth"]))
        kept = self.ctx.retained
        self.bindings: dict[int, Binding] = kept.setdefault("bindings", {})
        self.pending: deque[tuple[int, EventRecord]] = kept.setdefault("pending", deque())
        self.counts: dict[str, int] = kept.setdefault(
            "counts", {"seen": 0, "fired": 0, "dropped": 0, "refused": 0}
        )
        kept.setdefault("enabled", True)
        self.by_event: dict[int, list[Binding]] = {}
        self._lost = (self.pipe.dropped, self.counts["dropped"], self.counts["refused"])
        self.tables.register(  # applies the active table (from NV at the first start)
            TableDef(
                TABLE_NAME,
                TABLE,
                self.validate_table,
                self.apply_table,
                {"definitions": []},
                critical=True,
            )
        )
        self._index()  # (sets _dirty: the first step reports)

    # --- the table ------------------------------------------------------------------
    def validate_table(self, value: Any) -> str | None:
        """None when the definitions can run, else the first reason they cannot."""
        defs = value["definitions"]
        limit = int(self.ctx.options["max_definitions"])
        if len(defs) > limit:
            return f"{len(defs)} definitions, at most {limit}"
        ids = [d["ea_id"] for d in defs]
        if len(set(ids)) != len(ids):
            return "an event-action id is used twice"
        for d in defs:
            try:
                self._check(d)
            except CommandError as exc:
                return exc.reason
        return None

    def apply_table(self, value: Any) -> None:
        """Take a newly active table; definitions that stay keep their fire counts."""
        old = dict(self.bindings)
        self.bindings.clear()  # the retained dict itself: a restart finds the same one
        for d in value["definitions"]:
            d = {k: v for k, v in dict(d).items() if not k.startswith("_")}
            kept = old.get(d["ea_id"])
            self.bindings[d["ea_id"]] = Binding(d, kept.fired if kept is not None else 0)
        self._index()

    def _commit(self, defs: list[dict[str, Any]]) -> None:
        self.tables.commit(TABLE_NAME, {"definitions": sorted(defs, key=lambda d: d["ea_id"])})

    def _definitions(self) -> list[dict[str, Any]]:
        return [dict(b.definition) for _, b in sorted(self.bindings.items())]

    def _index(self) -> None:
        by_event: dict[int, list[Binding]] = {}
        for ea_id in sorted(self.bindings):
            b = self.bindings[ea_id]
            by_event.setdefault(b.definition["event_id"], []).append(b)
        self.by_event = by_event
        self._dirty = True  # definitions changed: the next step reports

    def _matches(self, rec: EventRecord, value: int) -> bool:
        """The event's first declared argument equals ``value``."""
        entry = self.events.ids.get(rec.event_id)
        if entry is None or not entry[1].args:
            return False
        first = rec.args.get(entry[1].args[0].name)
        return isinstance(first, int | float) and first == value

    # --- running --------------------------------------------------------------------
    def next_due_ns(self, now_ns: int) -> int:
        """Nothing arrived, nothing waits, the telemetry is already current: not before an
        event (or a command) wakes the app."""
        pipe = self.pipe
        if pipe.queue or self.pending or self._dirty or pipe.dropped != self._lost[0]:
            return now_ns
        return WAKE_NEVER

    def step(self, now_ns: int) -> None:
        if self.next_due_ns(now_ns) > now_ns:
            return
        pipe = self.pipe
        opts = self.ctx.options
        counts = self.counts
        enabled = bool(self.ctx.retained["enabled"])
        by_event = self.by_event
        pending = self.pending
        depth = int(opts["pending_depth"])
        seen = 0
        for msg in pipe.drain(int(opts["max_events_per_step"])):
            seen += 1
            rec: EventRecord = msg.payload
            bound = by_event.get(rec.event_id)
            if not bound or not enabled:
                continue
            for b in bound:
                d = b.definition
                if not d["enabled"] or (d["match_arg"] and not self._matches(rec, d["arg_value"])):
                    continue
                if len(pending) >= depth:
                    counts["dropped"] += 1
                else:
                    pending.append((d["ea_id"], rec))
        counts["seen"] += seen
        for _ in range(min(len(pending), int(opts["max_actions_per_step"]))):
            ea_id, rec = pending.popleft()
            waiting = self.bindings.get(ea_id)
            if waiting is not None:  # deleted while waiting: nothing to fire
                self._fire(waiting, rec)
        lost = (pipe.dropped, counts["dropped"], counts["refused"])
        if lost != self._lost:  # something was dropped or refused since the last report
            self._lost = lost
            self.emit(
                "ACTIONS_LOST",
                events_dropped=lost[0] & 0xFFFFFFFF,
                actions_dropped=lost[1] & 0xFFFFFFFF,
                actions_refused=lost[2] & 0xFFFFFFFF,
            )
        self._dirty = False
        self._update_tlm()

    def _update_tlm(self) -> None:
        counts = self.counts
        self.tlm.update(
            definitions=len(self.bindings),
            function_enabled=int(self.ctx.retained["enabled"]),
            events_seen=counts["seen"] & 0xFFFFFFFF,
            events_dropped=self.pipe.dropped & 0xFFFFFFFF,
            actions_fired=counts["fired"] & 0xFFFFFFFF,
            actions_dropped=counts["dropped"] & 0xFFFFFFFF,
            actions_refused=counts["refused"] & 0xFFFFFFFF,
            actions_pending=len(self.pending),
        )

    def _fire(self, b: Binding, rec: EventRecord) -> None:
        d = b.definition
        if d["action"] == "tc":
            ok = bool(self.commands.submit(d["tc"]))
        else:
            ok = self.start_sequence(d["sequence"], d["ea_id"], rec.event_id)
        if ok:
            b.fired += 1
            self.counts["fired"] += 1
        else:
            self.counts["refused"] += 1

    def start_sequence(self, name: str, ea_id: int, event_id: int) -> bool:
        """The hook for stored sequences: published for the sequencer to start; False
        when no sequencer listens or its pipe is full."""
        bus = self.ctx.bus
        if not bus.subscribers(msgids.START_SEQUENCE):
            return False
        return bus.publish(msgids.START_SEQUENCE, StartSequence(name, ea_id, event_id)) == 0

    # --- commands -------------------------------------------------------------------
    def _check(self, d: dict[str, Any]) -> None:
        where = f"event-action {d['ea_id']}"
        if d["event_id"] not in self.events.ids:
            raise CommandError(FailureCode.UNKNOWN_ID, f"{where}: no event {d['event_id']:#06x}")
        if d["action"] == "tc":
            if not 0 < len(d["tc"]) <= MAX_TC_OCTETS:
                raise CommandError(
                    FailureCode.BAD_APP_DATA, f"{where}: TC of {len(d['tc'])} octets"
                )
            try:
                PusTc.decode(d["tc"])
            except DecodeError as exc:
                raise CommandError(FailureCode.BAD_APP_DATA, f"{where}: TC {exc}") from None
        elif not d["sequence"]:
            raise CommandError(FailureCode.BAD_APP_DATA, f"{where}: no sequence name")

    def _known(self, ids: list[int]) -> None:
        missing = [i for i in ids if i not in self.bindings]
        if missing:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no event-action {missing[0]}")

    @command(service=19, subservice=1, layout=DEFINITIONS_TC, name="add_event_actions")
    def cmd_add(self, definitions: list[dict[str, Any]]) -> None:
        """Add definitions (all or none)."""
        ids = [d["ea_id"] for d in definitions]
        if len(set(ids)) != len(ids) or set(ids) & set(self.bindings):
            raise CommandError(FailureCode.INVALID_STATE, "an event-action id is already used")
        limit = int(self.ctx.options["max_definitions"])
        if len(self.bindings) + len(ids) > limit:
            raise CommandError(FailureCode.QUEUE_FULL, f"at most {limit} event-actions")
        for d in definitions:
            self._check(d)
        self._commit(self._definitions() + [dict(d) for d in definitions])

    @command(service=19, subservice=2, layout=IDS_TC, name="delete_event_actions")
    def cmd_delete(self, ea_ids: list[int]) -> None:
        """Delete definitions (actions of theirs still waiting do not fire)."""
        self._known(ea_ids)
        self._commit([d for d in self._definitions() if d["ea_id"] not in ea_ids])

    @command(service=19, subservice=4, layout=IDS_TC, name="enable_event_actions")
    def cmd_enable(self, ea_ids: list[int]) -> None:
        """Enable definitions."""
        self._set_enabled(ea_ids, 1)

    @command(service=19, subservice=5, layout=IDS_TC, name="disable_event_actions")
    def cmd_disable(self, ea_ids: list[int]) -> None:
        """Disable definitions."""
        self._set_enabled(ea_ids, 0)

    def _set_enabled(self, ea_ids: list[int], enabled: int) -> None:
        self._known(ea_ids)
        defs = self._definitions()
        for d in defs:
            if d["ea_id"] in ea_ids:
                d["enabled"] = enabled
        self._commit(defs)

    @command(service=19, subservice=6, name="report_event_action_status")
    def cmd_report_status(self) -> None:
        """TM(19,7): function state, then each definition's enabled flag and fire count."""
        actions = [
            {"ea_id": i, "enabled": b.definition["enabled"], "fired": b.fired & 0xFFFFFFFF}
            for i, b in sorted(self.bindings.items())
        ]
        body = {"function_enabled": int(self.ctx.retained["enabled"]), "actions": actions}
        self.send_report("event_action_status", body)

    @command(service=19, subservice=8, name="enable_event_action_function")
    def cmd_enable_function(self) -> None:
        """Enable the event-action function."""
        self.ctx.retained["enabled"] = True
        self._dirty = True

    @command(service=19, subservice=9, name="disable_event_action_function")
    def cmd_disable_function(self) -> None:
        """Disable the event-action function (events are still looked at and dropped)."""
        self.ctx.retained["enabled"] = False
        self._dirty = True

    @command(service=19, subservice=10, name="report_event_action_definitions")
    def cmd_report_definitions(self) -> None:
        """TM(19,11): every definition."""
        defs = [b.definition for _, b in sorted(self.bindings.items())]
        self.send_report("event_action_definitions", {"definitions": defs})
