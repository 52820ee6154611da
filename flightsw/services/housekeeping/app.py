"""Housekeeping (PUS service 3): periodic reports built from declared telemetry points.

Each app's ``HOUSEKEEPING`` structures become report structures with a global id (SID).
A structure's values are packed in the declared types of its points, in order, after the
SID: TM(3,25) = SID:u16, values. TC(3,5)/(3,6) enable/disable periodic generation and
TC(3,27) asks for a one-shot report, each with N:u8, N × SID:u16. TC(3,31) changes the
collection interval: N:u8, N × (SID:u16, interval_ms:u32); the interval must be a whole
number of minor frames between one frame and one day.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import CommandError, DeclarationError
from flightsw.framework import layouts as L
from flightsw.framework import msgids
from flightsw.framework.app import (
    WAKE_NEVER,
    App,
    EventDef,
    FailureCode,
    HkDef,
    ParameterDef,
    ReportDef,
    Severity,
    command,
)
from flightsw.framework.datatypes import TYPES, Value
from flightsw.framework.exec_services import AppCatalog
from flightsw.framework.id_list import parse_id_list
from flightsw.framework.msgids import SafeModeFlag
from flightsw.framework.ports import Service, Subscribe

_U16 = struct.Struct(">H")
_SID_INTERVAL = struct.Struct(">HI")
SIDS = L.Struct("sids" / L.counted(L.U8, L.U16))
INTERVALS = L.Struct("changes" / L.counted(L.U8, L.Struct("sid" / L.U16, "interval_ms" / L.U32)))
HK_REPORT = L.Struct("sid" / L.U16, "values" / L.by_id("housekeeping", "sid"))
NS_PER_MS = 1_000_000
MAX_INTERVAL_MS = 86_400_000
NEVER = WAKE_NEVER  # later than any report (no structure enabled)


@dataclass
class HkStructure:
    """One report structure: where its values come from and when it is next due."""

    sid: int
    app: str
    hdef: HkDef
    packer: struct.Struct
    interval_ns: int
    enabled: bool
    next_due_ns: int = 0
    reports: int = 0
    errors: int = 0


class HousekeepingService(App):
    """PUS 3: generates periodic and one-shot HK reports."""

    DEFAULT_RATE_HZ = 10.0
    catalog = Service(AppCatalog)
    SUBSCRIBES = (Subscribe(msgids.SAFE_MODE, SafeModeFlag),)
    REPORTS = (ReportDef(3, 25, "hk_report", HK_REPORT, "a HK structure: its SID, its points"),)
    EVENTS = (
        EventDef(
            1,
            "HK_PACK_ERROR",
            Severity.LOW,
            text="a HK structure could not be packed (a point holds a value outside its type)",
        ),
    )
    PARAMETERS = (
        ParameterDef(
            1,
            "safe_mode_factor",
            "u16",
            10,
            1,
            1000,
            doc="HK intervals stretch by this in safe mode",
        ),
    )

    def init(self) -> None:
        self.safe_pipe = self.listen(msgids.SAFE_MODE)
        self.safe_mode = False
        self.earliest_due_ns = 0  # the earliest report due (0: not known before a step)
        self.structures: dict[int, HkStructure] = {}
        catalog = self.catalog
        self.frame_ns: int = catalog.minor_frame_ns
        now = self.ctx.now_ns()
        for loaded in catalog.apps():
            for hdef in loaded.declarations.housekeeping:
                sid = loaded.id_base + hdef.local_sid
                if sid in self.structures:
                    raise DeclarationError(f"HK sid 0x{sid:04x} of {loaded.name} reused")
                types = {t.name: t.type for t in loaded.declarations.telemetry}
                packer = struct.Struct(">" + "".join(TYPES[types[p]].code for p in hdef.points))
                interval = self._round_interval(int(hdef.interval_s * 1e9))
                self.structures[sid] = HkStructure(
                    sid, loaded.name, hdef, packer, interval, hdef.enabled, now + interval
                )

    def _round_interval(self, interval_ns: int) -> int:
        frames = max(1, round(interval_ns / self.frame_ns))
        return frames * self.frame_ns

    def values(self, s: HkStructure) -> list[Value]:
        tlm = self.catalog.telemetry(s.app)
        return [tlm[p] for p in s.hdef.points]

    def report(self, s: HkStructure) -> None:
        try:
            data = _U16.pack(s.sid) + s.packer.pack(*self.values(s))
        except struct.error:
            s.errors += 1
            self.emit("HK_PACK_ERROR")
            return
        s.reports += 1
        self.send_tm(3, 25, data)

    def next_due_ns(self, now_ns: int) -> int:
        """With no safe-mode change waiting, ``earliest_due_ns``: the earliest due time of
        the enabled structures (kept by ``step``; every command that changes a structure
        is followed by a step, and a safe-mode message wakes the app)."""
        return now_ns if self.safe_pipe.queue else self.earliest_due_ns

    def step(self, now_ns: int) -> None:
        for msg in self.safe_pipe.drain():
            self.safe_mode = bool(getattr(msg.payload, "active", False))
        factor = int(self.param("safe_mode_factor")) if self.safe_mode else 1
        next_due = NEVER
        for s in self.structures.values():
            if s.enabled and now_ns >= s.next_due_ns:
                self.report(s)
                s.next_due_ns += s.interval_ns * factor
                if s.next_due_ns <= now_ns:  # fell behind (e.g. after a restart): no burst
                    s.next_due_ns = now_ns + s.interval_ns
            if s.enabled and s.next_due_ns < next_due:
                next_due = s.next_due_ns
        self.earliest_due_ns = next_due

    # --- commands -------------------------------------------------------------
    def _parse_sids(self, data: bytes) -> dict[str, Any]:
        return {"sids": parse_id_list(data, self.structures, "HK sid")}

    def _parse_intervals(self, data: bytes) -> dict[str, Any]:
        if len(data) < 1:
            raise CommandError(FailureCode.BAD_LENGTH, "missing N")
        n = data[0]
        if len(data) != 1 + _SID_INTERVAL.size * n:
            raise CommandError(FailureCode.BAD_LENGTH, f"N={n} needs {1 + 6 * n} bytes")
        changes: list[tuple[int, int]] = []
        for i in range(n):
            sid, ms = _SID_INTERVAL.unpack_from(data, 1 + _SID_INTERVAL.size * i)
            if sid not in self.structures:
                raise CommandError(FailureCode.UNKNOWN_ID, f"unknown HK sid 0x{sid:04x}")
            ns = ms * NS_PER_MS
            if ms > MAX_INTERVAL_MS or ns < self.frame_ns or ns % self.frame_ns:
                raise CommandError(
                    FailureCode.ARG_OUT_OF_RANGE,
                    f"interval {ms} ms is not a whole number of "
                    f"{self.frame_ns / NS_PER_MS:g} ms frames up to one day",
                )
            changes.append((sid, ns))
        return {"changes": changes}

    @command(service=3, subservice=5, parser="_parse_sids", layout=SIDS, name="enable_hk")
    def cmd_enable(self, sids: list[int]) -> None:
        """Enable periodic generation of the given HK structures."""
        now = self.ctx.now_ns()
        for sid in sids:
            s = self.structures[sid]
            if not s.enabled:
                s.enabled = True
                s.next_due_ns = now + s.interval_ns

    @command(service=3, subservice=6, parser="_parse_sids", layout=SIDS, name="disable_hk")
    def cmd_disable(self, sids: list[int]) -> None:
        """Disable periodic generation of the given HK structures."""
        for sid in sids:
            self.structures[sid].enabled = False

    @command(service=3, subservice=27, parser="_parse_sids", layout=SIDS, name="report_hk_once")
    def cmd_one_shot(self, sids: list[int]) -> None:
        """Generate one report of each given structure now."""
        for sid in sids:
            self.report(self.structures[sid])

    @command(
        service=3,
        subservice=31,
        parser="_parse_intervals",
        layout=INTERVALS,
        name="set_hk_interval",
    )
    def cmd_set_interval(self, changes: list[tuple[int, int]]) -> None:
        """Change the collection interval of the given structures."""
        now = self.ctx.now_ns()
        for sid, ns in changes:
            s = self.structures[sid]
            s.interval_ns = ns
            s.next_due_ns = now + ns
