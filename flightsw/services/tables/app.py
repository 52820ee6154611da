"""Table management (after cFS TBL; private PUS service 140): load, validate, activate.

The operator uplinks a table image as a file (PUS-23, ``flightsw.services.files.app``),
then loads it into the table's inactive buffer, validates it with the owner's function
and activates it (``flightsw.framework.tables``). A refused image is reported as a PUS-1
failure ``INVALID_TABLE`` whose data is the reason; the active table stays. Dump sends
the active image as TM(140,6) segments; the status report TM(140,8) carries the active
CRC-32 and the state of the load buffer. Every ``options.check_interval_s`` (10 s by
default) the critical tables are checked against their CRC and repaired from their
golden copy.

TC(140,1) load = table name, file name (each u8 length + ASCII); TC(140,2) validate,
(140,3) activate, (140,4) abort load, (140,5) dump, (140,7) report = table name.
"""

from __future__ import annotations

from construct import GreedyBytes, Int8ub, Int16ub, Int32ub, PascalString, Prefixed, Struct

from flightsw.base.errors import CommandError
from flightsw.base.schema import Opt, Schema
from flightsw.framework.app import (
    App,
    Arg,
    EventDef,
    FailureCode,
    ReportDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.ports import Device, Service
from flightsw.framework.tables import TableRegistry, TableState, crc32
from flightsw.services.files.app import read_complete_file
from hal.interfaces import NonVolatileStore

SERVICE = 140
DUMP_SEGMENT = 512
NAME = PascalString(Int8ub, "ascii")
NAME_TC = Struct("table" / NAME)
LOAD_TC = Struct("table" / NAME, "file" / NAME)
DUMP_TM = Struct(
    "table" / NAME,
    "offset" / Int32ub,
    "size" / Int32ub,
    "data" / Prefixed(Int16ub, GreedyBytes),
)
STATUS_TM = Struct(
    "table" / NAME,
    "active_crc" / Int32ub,
    "active_size" / Int32ub,
    "inactive" / Int8ub,  # 0 empty, 1 loaded, 2 validated
    "inactive_crc" / Int32ub,
    "critical" / Int8ub,
    "loads" / Int32ub,
    "commits" / Int32ub,
    "rejects" / Int32ub,
    "repairs" / Int32ub,
    "last_reason" / PascalString(Int8ub, "utf8"),
)
_TABLE = (Arg("table_index", "u8"), Arg("crc", "u32"))


class TableService(App):
    """Load, validate, activate, dump and report tables; repair critical ones."""

    DEFAULT_RATE_HZ = 1.0
    nv = Device(NonVolatileStore)  # table images, uploaded with the file service
    registry = Service(TableRegistry)
    OPTIONS = Schema(
        Opt(
            "check_interval_s",
            "float",
            10.0,
            min=0.0,
            max=86_400.0,
            unit="s",
            doc="how often critical tables are checked against their CRC (0: every step)",
        ),
    )
    TELEMETRY = (
        TelemetryDef("tables", "u8"),
        TelemetryDef("checks", "u32"),
        TelemetryDef("repairs", "u32"),
        TelemetryDef("unrepairable", "u32"),
    )
    EVENTS = (
        EventDef(1, "TABLE_LOADED", Severity.INFO, _TABLE, "an image is in the load buffer"),
        EventDef(2, "TABLE_ACTIVATED", Severity.INFO, _TABLE, "a new image is active"),
        EventDef(3, "TABLE_REJECTED", Severity.LOW, _TABLE[:1], "an image was refused"),
        EventDef(4, "TABLE_REPAIRED", Severity.MEDIUM, _TABLE, "an upset table was repaired"),
    )
    REPORTS = (
        ReportDef(SERVICE, 6, "table_dump", DUMP_TM, "a segment of the active image"),
        ReportDef(SERVICE, 8, "table_status", STATUS_TM, "CRC and load state of one table"),
    )

    def _index(self, name: str) -> int:
        return list(self.registry.tables).index(name) & 0xFF

    def init(self) -> None:
        self.next_check_ns = self.ctx.now_ns()

    def step(self, now_ns: int) -> None:
        reg = self.registry
        if now_ns >= self.next_check_ns:
            self.next_check_ns = now_ns + int(float(self.ctx.options["check_interval_s"]) * 1e9)
            for name in reg.check_critical():
                crc = reg.tables[name].active_crc
                self.emit("TABLE_REPAIRED", table_index=self._index(name), crc=crc)
        self.tlm.update(
            tables=len(reg.tables),
            checks=reg.checks & 0xFFFFFFFF,
            repairs=reg.repairs & 0xFFFFFFFF,
            unrepairable=reg.unrepairable & 0xFFFFFFFF,
        )

    def _refused(self, table: str, exc: CommandError) -> CommandError:
        if exc.code == FailureCode.INVALID_TABLE and table in self.registry.tables:
            self.emit("TABLE_REJECTED", table_index=self._index(table))
        return exc

    @command(service=SERVICE, subservice=1, layout=LOAD_TC, name="load_table")
    def cmd_load(self, table: str, file: str) -> None:
        """Load a complete, checked file on board into the table's inactive buffer."""
        self.registry.state(table)
        image = read_complete_file(self.nv, file)
        if image is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no complete file {file!r}")
        try:
            self.registry.load(table, image)
        except CommandError as exc:
            raise self._refused(table, exc) from None
        self.emit("TABLE_LOADED", table_index=self._index(table), crc=crc32(image))

    @command(service=SERVICE, subservice=2, layout=NAME_TC, name="validate_table")
    def cmd_validate(self, table: str) -> None:
        """Run the table's validation function on its inactive image (refused: dropped)."""
        try:
            self.registry.validate(table)
        except CommandError as exc:
            raise self._refused(table, exc) from None

    @command(service=SERVICE, subservice=3, layout=NAME_TC, name="activate_table")
    def cmd_activate(self, table: str) -> None:
        """Commit the validated inactive image: golden copy on NV, then active."""
        st = self.registry.activate(table)
        self.emit("TABLE_ACTIVATED", table_index=self._index(table), crc=st.active_crc)

    @command(service=SERVICE, subservice=4, layout=NAME_TC, name="abort_table_load")
    def cmd_abort(self, table: str) -> None:
        """Drop the inactive image."""
        self.registry.abort(table)

    @command(service=SERVICE, subservice=5, layout=NAME_TC, name="dump_table")
    def cmd_dump(self, table: str) -> None:
        """TM(140,6) segments of the active image (at most 512 octets each)."""
        image = self.registry.state(table).active
        for off in range(0, max(len(image), 1), DUMP_SEGMENT):
            body = {
                "table": table,
                "offset": off,
                "size": len(image),
                "data": image[off : off + DUMP_SEGMENT],
            }
            self.send_report("table_dump", body)

    @command(service=SERVICE, subservice=7, layout=NAME_TC, name="report_table")
    def cmd_report(self, table: str) -> None:
        """TM(140,8): active CRC-32 and size, load buffer state, counters, last refusal."""
        self.send_report("table_status", status(table, self.registry.state(table)))


def status(name: str, st: TableState) -> dict[str, object]:
    """One table's status report (TM(140,8)) as a value of its layout."""
    inactive = 0 if st.inactive is None else (2 if st.validated else 1)
    return {
        "table": name,
        "active_crc": st.active_crc,
        "active_size": len(st.active),
        "inactive": inactive,
        "inactive_crc": crc32(st.inactive) if st.inactive is not None else 0,
        "critical": int(st.tdef.critical),
        "loads": st.loads & 0xFFFFFFFF,
        "commits": st.commits & 0xFFFFFFFF,
        "rejects": st.rejects & 0xFFFFFFFF,
        "repairs": st.repairs & 0xFFFFFFFF,
        "last_reason": st.last_reason.encode()[:255].decode(errors="ignore"),
    }
