"""Time management (PUS service 9): periodic on-board time reports.

TM(9,2) = rate exponent:u8, CUC time (4 coarse + 2 fine octets). A report goes out
every 2**exponent seconds; TC(9,1) = exponent:u8 (0..16) changes that rate.
"""

from __future__ import annotations

import struct

from flightsw.framework import layouts as L
from flightsw.framework.app import App, Arg, ParameterDef, ReportDef, command
from flightsw.packets import cuc_encode

_U8 = struct.Struct(">B")
NS = 1_000_000_000


class TimeService(App):
    """PUS 9: reports on-board time so the ground can correlate it."""

    DEFAULT_RATE_HZ = 10.0
    REPORTS = (
        ReportDef(
            9,
            2,
            "time_report",
            L.Struct("rate_exponent" / L.U8, "time" / L.Bytes(6)),
            "on-board time, CUC 4+2 octets without P-field",
        ),
    )
    PARAMETERS = (
        ParameterDef(1, "rate_exponent", "u8", 5, 0, 16, doc="report every 2**n seconds"),
    )

    def init(self) -> None:
        self.next_ns = self._period_ns() + self.ctx.now_ns()

    def _period_ns(self) -> int:
        return (1 << int(self.param("rate_exponent"))) * NS

    def next_due_ns(self, now_ns: int) -> int:
        return self.next_ns  # no time report due before it: the step would do nothing

    def step(self, now_ns: int) -> None:
        if now_ns >= self.next_ns:
            self.send_tm(9, 2, _U8.pack(int(self.param("rate_exponent"))) + cuc_encode(now_ns))
            self.next_ns += self._period_ns()
            if self.next_ns <= now_ns:
                self.next_ns = now_ns + self._period_ns()

    @command(service=9, subservice=1, args=(Arg("exponent", "u8", 0, 16),), name="set_time_rate")
    def cmd_set_rate(self, exponent: int) -> None:
        """Report time every 2**exponent seconds."""
        self.ctx.params.set("rate_exponent", exponent)
        self.next_ns = self.ctx.now_ns() + self._period_ns()
