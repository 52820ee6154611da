"""Test (PUS service 17): are-you-alive and on-board connection tests."""

from __future__ import annotations

import struct

from flightsw.base.errors import CommandError
from flightsw.framework import layouts as L
from flightsw.framework.app import App, Arg, FailureCode, ReportDef, command


class TestService(App):
    """PUS 17: TC(17,1) → TM(17,2); TC(17,3) apid:u16 → TM(17,4) apid:u16."""

    __test__ = False  # not a pytest test class
    DEFAULT_RATE_HZ = 10.0
    REPORTS = (
        ReportDef(17, 2, "are_you_alive", L.Struct(), "answer to TC(17,1)"),
        ReportDef(17, 4, "on_board_connection", L.Struct("apid" / L.U16), "answer to TC(17,3)"),
    )

    @command(service=17, subservice=1, name="ping")
    def cmd_ping(self) -> None:
        """Are-you-alive test: answers TM(17,2)."""
        self.send_tm(17, 2, b"")

    @command(service=17, subservice=3, args=(Arg("apid", "u16", 0, 2047),), name="connection_test")
    def cmd_connection(self, apid: int) -> None:
        """On-board connection test with an application process."""
        if apid != self.ctx.tm.apid:
            raise CommandError(FailureCode.ILLEGAL_APID, f"no application process 0x{apid:03x}")
        self.send_tm(17, 4, struct.pack(">H", apid))
