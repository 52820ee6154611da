"""Event reporting (PUS service 5).

Apps report declared events through the executive's reporter
(:mod:`flightsw.framework.events`); this service lets the ground enable and disable
their TM reports and list the disabled ones.

Layouts: TM(5,1..4) = event id:u16, then the event's declared arguments.
TC(5,5)/(5,6) enable/disable = N:u8, N × event id:u16. TC(5,7) asks for TM(5,8) =
N:u16, N × disabled event id:u16.
"""

from __future__ import annotations

import struct
from typing import Any

from flightsw.framework import layouts as L
from flightsw.framework.app import App, ReportDef, Severity, command
from flightsw.framework.exec_services import EventFilter
from flightsw.framework.id_list import parse_id_list
from flightsw.framework.ports import Service

_U16 = struct.Struct(">H")


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
