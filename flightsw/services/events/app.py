"""Event reporting (PUS service 5).

Apps report declared events; each becomes TM(5,severity) when its id is enabled, is
kept in a bounded on-board log (oldest dropped, counted) and is published on the bus
so FDIR and event-action rules can react whether or not the ground sees it.

Layouts: TM(5,1..4) = event id:u16, then the event's declared arguments.
TC(5,5)/(5,6) enable/disable = N:u8, N × event id:u16. TC(5,7) asks for TM(5,8) =
N:u16, N × disabled event id:u16.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import DeclarationError
from flightsw.framework import layouts as L
from flightsw.framework import msgids
from flightsw.framework.app import App, EventDef, ReportDef, Severity, command
from flightsw.framework.bus import SoftwareBus
from flightsw.framework.datatypes import Value
from flightsw.framework.exec_services import EventFilter
from flightsw.framework.id_list import parse_id_list
from flightsw.framework.ports import Service
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


IDS = L.Struct("ids" / L.counted(L.U8, L.U16))
EVENT_REPORT = L.Struct("event_id" / L.U16, "args" / L.by_id("events", "event_id"))


class EventService(App):
    """PUS 5: enable, disable and list disabled event reports."""

    DEFAULT_RATE_HZ = 10.0
    reporter = Service(EventFilter)  # enable/disable: the declared ids, the disabled set
    REPORTS = (
        *(
            ReportDef(5, int(sev), f"event_{sev.name.lower()}", EVENT_REPORT, "an event report")
            for sev in Severity
        ),
        ReportDef(
            5, 8, "disabled_events", L.Struct("ids" / L.counted(L.U16, L.U16)), "answer to TC(5,7)"
        ),
    )

    def _parse_ids(self, data: bytes) -> dict[str, Any]:
        return {"ids": parse_id_list(data, self.reporter.ids, "event id")}

    @command(service=5, subservice=5, parser="_parse_ids", layout=IDS, name="enable_events")
    def cmd_enable(self, ids: list[int]) -> None:
        """Enable TM reports of the given event ids."""
        self.reporter.disabled.difference_update(ids)

    @command(service=5, subservice=6, parser="_parse_ids", layout=IDS, name="disable_events")
    def cmd_disable(self, ids: list[int]) -> None:
        """Disable TM reports of the given event ids (they are still logged on board)."""
        self.reporter.disabled.update(ids)

    @command(service=5, subservice=7, name="report_disabled_events")
    def cmd_report_disabled(self) -> None:
        """Report the disabled event ids as TM(5,8)."""
        ids = sorted(self.reporter.disabled)
        self.send_tm(5, 8, _U16.pack(len(ids)) + b"".join(_U16.pack(i) for i in ids))
