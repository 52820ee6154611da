"""Event reports as the executive makes them (the reporting half of PUS service 5).

An app reports a declared event; the reporter makes it TM(5,severity) unless its id is
disabled, keeps it in a bounded on-board log (oldest dropped, counted) and publishes it on
the bus so FDIR and event-action rules can react whether or not the ground sees it. The
service that enables and disables the reports is :mod:`flightsw.services.events`.

Layout: TM(5,1..4) = event id:u16, then the event's declared arguments.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import DeclarationError
from flightsw.framework import msgids
from flightsw.framework.app import EventDef, Severity
from flightsw.framework.bus import SoftwareBus
from flightsw.framework.datatypes import Value
from flightsw.framework.tm_funnel import TmFunnel

_U16 = struct.Struct(">H")


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One reported event as kept on board and published on the bus."""

    time_ns: int
    event_id: int
    app: str
    name: str
    severity: Severity
    args: dict[str, Value]


class EventReporter:
    """Turns reported events into TM, log entries and bus messages."""

    def __init__(self, tm: TmFunnel, bus: SoftwareBus, log_depth: int = 256) -> None:
        self._tm = tm
        self._bus = bus
        self.log: deque[EventRecord] = deque(maxlen=log_depth)
        self.log_dropped = 0
        self.ids: dict[int, tuple[str, EventDef]] = {}
        self._global: dict[int, int] = {}  # id(EventDef) -> global id
        self.disabled: set[int] = set()
        self.by_severity = {s: 0 for s in Severity}
        self.suppressed = 0
        self.bad_args = 0

    def declare(self, app: str, id_base: int, edef: EventDef) -> int:
        eid = id_base + edef.local_id
        if eid in self.ids:
            other_app, other = self.ids[eid]
            raise DeclarationError(
                f"event id 0x{eid:04x} of {app}.{edef.name} already used by "
                f"{other_app}.{other.name}"
            )
        self.ids[eid] = (app, edef)
        self._global[id(edef)] = eid
        return eid

    def emitter(self, app: str, id_base: int) -> Any:
        """An ``emit(edef, args)`` callable bound to one app."""

        def emit(edef: EventDef, args: dict[str, Value]) -> None:
            self.report(id_base + edef.local_id, app, edef, args)

        return emit

    def report(self, eid: int, app: str, edef: EventDef, args: dict[str, Value]) -> None:
        now = self._tm_clock_ns()
        rec = EventRecord(now, eid, app, edef.name, edef.severity, args)
        if len(self.log) == self.log.maxlen:
            self.log_dropped += 1
        self.log.append(rec)
        self.by_severity[edef.severity] += 1
        self._bus.publish(msgids.EVENT, rec)
        if eid in self.disabled:
            self.suppressed += 1
            return
        try:
            values = [args[a.name] for a in edef.args]
            data = _U16.pack(eid) + edef.arg_struct().pack(*values)
        except (KeyError, struct.error):
            # A wrongly-emitted event still goes down, without its arguments, and is counted.
            self.bad_args += 1
            data = _U16.pack(eid)
        self._tm.send(5, int(edef.severity), data)

    def _tm_clock_ns(self) -> int:
        return self._tm.now_ns()
