"""File management: PUS-23 segments for small files, CCSDS CFDP for the rest, one store.

For what is too big for one TC: a job list, a table, a command sequence. The ground
creates a file with its final size and CRC-32, sends it in segments at explicit offsets
(a resent segment is harmless: the same bytes at the same offset), and the file becomes
readable by apps once every byte has arrived and the CRC matches. Files live on the
HAL's non-volatile store as ``file.<name>``; the total size is bounded.

TCs: (23,1) create: name (u8 length + ASCII), size u32, crc32 u32; (23,2) delete: name;
(23,130) write segment: name, offset u32, data; (23,12) report: name -> TM(23,13) =
name, size u32, received u32, complete u8; (23,7) list files whose name starts with a
prefix -> TM(23,8), at most ``LIST_PER_REPORT`` entries a report.

CFDP (class 1 and class 2, :mod:`flightsw.cfdp`, cfdp-py's state machines): every PDU
rides in a PUS packet on the normal link path, like cFS CF's PDUs in its command and
telemetry packets: uplink PDUs are TC(23,128) (application data: the PDU; a PDU that does
not decode or is not between the ground's entity and ours is refused at acceptance with
PUS-1 BAD_APP_DATA), downlink PDUs TM(23,129). TC(23,131) ``downlink_file`` asks for an
on-board file (payload results, logs) to be sent to the ground. Files received by CFDP
land in the same namespace and quota (:mod:`flightsw.store.files`) and become readable
by the apps only once the transfer ended without error and its CRC-32 held. The entity
sends only in contact and within ``cfdp_downlink_bps``; its timers run on link time, so a
transfer cut by a loss of signal goes on at the next contact. The entity outlives a
restart of this app (``ctx.retained``).

The PUS-23 subset stays, for files that fit a few TCs (a job list, a short sequence) and
for grounds without CFDP; both ways in write the same files.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import CommandError
from flightsw.cfdp.entity import ABANDONED, CfdpEntity, CfdpError, EntityConfig
from flightsw.cfdp.filestores import NvFilestore
from flightsw.framework import layouts as L
from flightsw.framework.app import (
    App,
    Arg,
    EventDef,
    FailureCode,
    ParameterDef,
    ReportDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.ports import Device, OptionalDevice
from flightsw.store.files import FileStoreError, OnboardFiles
from flightsw.store.files import read_complete_file as read_complete_file
from hal.interfaces import NonVolatileStore, Radio

NS_PER_S = 1_000_000_000
LIST_PER_REPORT = 32

_U32 = struct.Struct(">I")
PREFIX = "file."
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-.")
NAME = L.Struct("name" / L.text())
CREATE = L.Struct("name" / L.text(), "size" / L.U32, "crc" / L.U32)
WRITE = L.Struct("name" / L.text(), "offset" / L.U32, "chunk" / L.REST)
FILE_STATUS = L.Struct("name" / L.text(), "size" / L.U32, "received" / L.U32, "complete" / L.U8)
PREFIX_TC = L.Struct("prefix" / L.text())
FILE_LIST = L.Struct(
    "total" / L.U16,
    "first" / L.U16,
    "files" / L.counted(L.U8, L.Struct("name" / L.text(), "size" / L.U32, "complete" / L.U8)),
)
PDU = L.Struct("pdu" / L.REST)
DOWNLINK = L.Struct("name" / L.text(), "dest" / L.text(), "acknowledged" / L.U8)


@dataclass
class FileEntry:
    size: int
    crc: int
    received: bytearray  # a bitmap of 256-octet blocks would do; a byte per octet is plain
    complete: bool = False


class FileService(App):
    """PUS 23 subset (create, write in segments, check, report, delete, list) and the
    node's CFDP entity."""

    DEFAULT_RATE_HZ = 10.0  # CFDP keeps the downlink fed every minor frame
    nv = Device(NonVolatileStore)  # where the files are kept
    radio = OptionalDevice(Radio)  # CFDP paces its downlink by the radio's rate
    REPORTS = (
        ReportDef(23, 13, "file_status", FILE_STATUS, "answer to TC(23,12)"),
        ReportDef(23, 8, "file_list", FILE_LIST, "answer to TC(23,7): name, size, complete"),
        ReportDef(23, 129, "cfdp_pdu", PDU, "one CFDP PDU to the ground's entity"),
    )
    PARAMETERS = (
        ParameterDef(1, "max_total_bytes", "u32", 16 << 20, 1024, 1 << 31),
        ParameterDef(2, "max_files", "u16", 64, 1, 4096),
        ParameterDef(3, "cfdp_entity_id", "u16", 2, 1, 0xFFFE, doc="our CFDP entity id"),
        ParameterDef(4, "ground_entity_id", "u16", 1, 1, 0xFFFE, doc="the ground's CFDP entity"),
        ParameterDef(5, "cfdp_pdu_len", "u16", 900, 128, 4000, "octets", "largest PDU we send"),
        ParameterDef(
            6, "cfdp_downlink_bps", "f64", 1.0e6, 1.0e3, 1.0e9, "bit/s", "CFDP's downlink share"
        ),
        ParameterDef(7, "cfdp_ack_s", "f32", 10.0, 0.5, 600.0, "s", "positive ACK timer"),
        ParameterDef(8, "cfdp_nak_s", "f32", 5.0, 0.5, 600.0, "s", "NAK timer"),
    )
    TELEMETRY = (
        TelemetryDef("files", "u16"),
        TelemetryDef("bytes", "u32"),
        TelemetryDef("complete_files", "u16"),
        TelemetryDef("cfdp_tx_progress", "u32", "octets", "of the file going down"),
        TelemetryDef("cfdp_rx_progress", "u32", "octets", "of the file coming up"),
        TelemetryDef("cfdp_pdus_in", "u32"),
        TelemetryDef("cfdp_pdus_out", "u32"),
        TelemetryDef("cfdp_pdus_ignored", "u32", "", "PDUs no transfer wanted (late, duplicate)"),
        TelemetryDef("cfdp_out_dropped", "u32", "", "PDUs dropped: outgoing queue full"),
        TelemetryDef("cfdp_errors", "u32", "", "transfers abandoned after an internal error"),
        TelemetryDef("cfdp_link_ms", "u32", "ms", "CFDP link time (stops out of contact)"),
    )
    EVENTS = (
        EventDef(1, "FILE_COMPLETE", Severity.INFO, text="a file arrived whole and checked"),
        EventDef(2, "FILE_CRC_MISMATCH", Severity.MEDIUM, text="a file arrived but its CRC fails"),
        EventDef(
            3,
            "CFDP_RECEIVED",
            Severity.INFO,
            (Arg("seq", "u16"), Arg("size", "u32")),
            "CFDP transfer {seq} received whole and checked ({size} octets)",
        ),
        EventDef(
            4,
            "CFDP_SENT",
            Severity.INFO,
            (Arg("seq", "u16"), Arg("size", "u32")),
            "CFDP transfer {seq} delivered to the ground ({size} octets)",
        ),
        EventDef(
            5,
            "CFDP_FAILED",
            Severity.MEDIUM,
            (Arg("seq", "u16"), Arg("sending", "u8"), Arg("condition", "u8")),
            "CFDP transfer {seq} failed (sending {sending}, condition {condition}; 240 abandoned)",
        ),
    )

    def init(self) -> None:
        self.files: dict[str, FileEntry] = {}
        self.store = OnboardFiles(
            self.nv, int(self.param("max_total_bytes")), int(self.param("max_files"))
        )
        kept = self.ctx.retained
        entity: CfdpEntity | None = kept.get("cfdp")
        if entity is None:
            cfg = EntityConfig(
                local_id=int(self.param("cfdp_entity_id")),
                remote_id=int(self.param("ground_entity_id")),
                pdu_len=int(self.param("cfdp_pdu_len")),
                ack_interval_s=float(self.param("cfdp_ack_s")),
                nak_interval_s=float(self.param("cfdp_nak_s")),
            )
            entity = kept["cfdp"] = CfdpEntity(cfg, NvFilestore(self.store))
        self.cfdp = entity
        self.last_ns: int | None = None
        self.budget = 0.0
        self._tlm_current = False  # the telemetry shows the state (set by each step)

    def nothing_due(self, now_ns: int) -> bool:
        """No transfer going or finished, the store's limits as the parameters say, the
        telemetry current and the contact as at the last step: the step would only note
        the time, which is done here as the step does it (CFDP's link clock, the budget's
        clock, and in contact the link time in telemetry). In contact the PDU budget must
        already be full: the step's refill then leaves it full, so skipping it changes no
        float."""
        e = self.cfdp
        if not self._tlm_current or self.radio is None:
            return False
        if not e.idle or e.finished or self.radio.status().in_contact != e.link_up:
            return False
        if e.link_up:
            if self.budget != float(self.param("cfdp_downlink_bps")) / 8.0:
                return False
        elif self.budget:
            return False
        store = self.store
        if store.max_bytes != int(self.param("max_total_bytes")):
            return False
        if store.max_files != int(self.param("max_files")):
            return False
        e.tick(now_ns, e.link_up)
        self.last_ns = now_ns
        if e.link_up:
            self.tlm["cfdp_link_ms"] = e.link_ms & 0xFFFFFFFF
        return True

    def step(self, now_ns: int) -> None:
        self.store.max_bytes = int(self.param("max_total_bytes"))
        self.store.max_files = int(self.param("max_files"))
        self._cfdp(now_ns)
        e = self.cfdp
        tx, _, rx, _ = e.progress()
        c = e.counters
        self.tlm.update(
            files=len(self.files),
            bytes=sum(f.size for f in self.files.values()) & 0xFFFFFFFF,
            complete_files=sum(f.complete for f in self.files.values()),
            cfdp_tx_progress=tx & 0xFFFFFFFF,
            cfdp_rx_progress=rx & 0xFFFFFFFF,
            cfdp_pdus_in=c.pdus_in & 0xFFFFFFFF,
            cfdp_pdus_out=c.pdus_out & 0xFFFFFFFF,
            cfdp_pdus_ignored=c.pdus_ignored & 0xFFFFFFFF,
            cfdp_out_dropped=c.out_dropped & 0xFFFFFFFF,
            cfdp_errors=c.abandoned & 0xFFFFFFFF,
            cfdp_link_ms=e.link_ms & 0xFFFFFFFF,
        )
        self._tlm_current = True

    def _cfdp(self, now_ns: int) -> None:
        """Advance the entity on link time; send its PDUs within the downlink share."""
        e = self.cfdp
        contact = True if self.radio is None else bool(self.radio.status().in_contact)
        e.tick(now_ns, contact)
        dt = 0.0 if self.last_ns is None else (now_ns - self.last_ns) / NS_PER_S
        self.last_ns = now_ns
        rate = float(self.param("cfdp_downlink_bps")) / 8.0
        self.budget = min(self.budget + rate * dt, rate) if contact else 0.0
        if e.idle and not e.finished:
            return
        for pdu in e.poll(int(self.budget)):
            self.budget -= len(pdu)
            self.send_tm(23, 129, pdu)
        while e.finished:
            t = e.finished.popleft()
            if t.delivered and not t.sending:
                self.emit("CFDP_RECEIVED", seq=t.seq, size=t.size & 0xFFFFFFFF)
            elif t.delivered:
                self.emit("CFDP_SENT", seq=t.seq, size=t.size & 0xFFFFFFFF)
            else:
                cond = t.condition if t.condition != ABANDONED else ABANDONED
                self.emit("CFDP_FAILED", seq=t.seq, sending=int(t.sending), condition=cond & 0xFF)

    # --- parsing ----------------------------------------------------------------------
    @staticmethod
    def _name(data: bytes, offset: int = 0) -> tuple[str, int]:
        if len(data) <= offset:
            raise CommandError(FailureCode.BAD_LENGTH, "missing file name")
        n = data[offset]
        raw = data[offset + 1 : offset + 1 + n]
        if len(raw) != n or not 1 <= n <= 64:
            raise CommandError(FailureCode.BAD_LENGTH, "file name length")
        name = raw.decode("ascii", errors="replace")
        if not set(name) <= NAME_CHARS:
            raise CommandError(FailureCode.BAD_APP_DATA, f"bad file name {name!r}")
        return name, offset + 1 + n

    def _parse_create(self, data: bytes) -> dict[str, Any]:
        name, off = self._name(data)
        if len(data) != off + 8:
            raise CommandError(FailureCode.BAD_LENGTH, "create: name, size u32, crc32 u32")
        size, crc = struct.unpack_from(">II", data, off)
        return {"name": name, "size": size, "crc": crc}

    def _parse_name(self, data: bytes) -> dict[str, Any]:
        name, off = self._name(data)
        if len(data) != off:
            raise CommandError(FailureCode.BAD_LENGTH, "extra octets after the name")
        return {"name": name}

    def _parse_write(self, data: bytes) -> dict[str, Any]:
        name, off = self._name(data)
        if len(data) < off + 4:
            raise CommandError(FailureCode.BAD_LENGTH, "write: name, offset u32, data")
        (offset,) = _U32.unpack_from(data, off)
        return {"name": name, "offset": offset, "chunk": data[off + 4 :]}

    def _entry(self, name: str) -> FileEntry:
        entry = self.files.get(name)
        if entry is None:
            raise CommandError(FailureCode.UNKNOWN_ID, f"no file {name!r}")
        return entry

    # --- commands ---------------------------------------------------------------------
    @command(service=23, subservice=1, parser="_parse_create", layout=CREATE, name="create_file")
    def cmd_create(self, name: str, size: int, crc: int) -> None:
        """Create a file of ``size`` octets whose CRC-32 will be ``crc``."""
        if name in self.files:
            raise CommandError(FailureCode.INVALID_STATE, f"{name!r} exists")
        try:  # the quota of the whole store, files from CFDP too
            self.store.check_room(name, size)
        except FileStoreError as exc:
            raise CommandError(FailureCode.QUEUE_FULL, str(exc)) from None
        self.files[name] = FileEntry(size, crc, bytearray(size))
        self.nv.write(PREFIX + name, bytes(size))
        self.nv.write(PREFIX + name + ".ok", b"0")

    @command(service=23, subservice=2, parser="_parse_name", layout=NAME, name="delete_file")
    def cmd_delete(self, name: str) -> None:
        """Delete a file."""
        self._entry(name)
        del self.files[name]
        self.nv.write(PREFIX + name, b"")
        self.nv.write(PREFIX + name + ".ok", b"0")

    @command(service=23, subservice=130, parser="_parse_write", layout=WRITE, name="write_file")
    def cmd_write(self, name: str, offset: int, chunk: bytes) -> None:
        """Write one segment at ``offset``; the file completes when every octet arrived."""
        entry = self._entry(name)
        if offset + len(chunk) > entry.size:
            raise CommandError(FailureCode.ARG_OUT_OF_RANGE, "segment past the end of the file")
        data = bytearray(self.nv.read(PREFIX + name) or bytes(entry.size))
        data[offset : offset + len(chunk)] = chunk
        entry.received[offset : offset + len(chunk)] = b"\x01" * len(chunk)
        self.nv.write(PREFIX + name, bytes(data))
        if not entry.complete and all(entry.received):
            if zlib.crc32(data) == entry.crc:
                entry.complete = True
                self.nv.write(PREFIX + name + ".ok", b"1")
                self.emit("FILE_COMPLETE")
            else:
                self.emit("FILE_CRC_MISMATCH")

    @command(service=23, subservice=12, parser="_parse_name", layout=NAME, name="report_file")
    def cmd_report(self, name: str) -> None:
        """TM(23,13): name, size, octets received, complete."""
        entry = self._entry(name)
        raw = name.encode()
        body = bytes([len(raw)]) + raw
        body += struct.pack(">IIB", entry.size, sum(entry.received), int(entry.complete))
        self.send_tm(23, 13, body)

    @command(service=23, subservice=7, layout=PREFIX_TC, name="list_files")
    def cmd_list(self, prefix: str) -> None:
        """TM(23,8): the on-board files whose name starts with ``prefix`` (name, size,
        complete), ``LIST_PER_REPORT`` a report."""
        listing = [f for f in self.store.listing() if f.name.startswith(prefix)]
        for first in range(0, max(len(listing), 1), LIST_PER_REPORT):
            chunk = listing[first : first + LIST_PER_REPORT]
            files = [
                {"name": f.name, "size": f.size & 0xFFFFFFFF, "complete": int(f.complete)}
                for f in chunk
            ]
            self.send_report(
                "file_list", {"total": min(len(listing), 0xFFFF), "first": first, "files": files}
            )

    def _parse_pdu(self, data: bytes) -> dict[str, Any]:
        try:
            return {"pdu": self.cfdp.decode(data)}
        except CfdpError as exc:
            raise CommandError(FailureCode.BAD_APP_DATA, str(exc)[:60]) from None

    @command(service=23, subservice=128, parser="_parse_pdu", layout=PDU, name="cfdp_pdu")
    def cmd_cfdp_pdu(self, pdu: Any) -> None:
        """One CFDP PDU from the ground's entity."""
        self.cfdp.receive(pdu)

    @command(service=23, subservice=131, layout=DOWNLINK, name="downlink_file")
    def cmd_downlink(self, name: str, dest: str, acknowledged: int) -> None:
        """Send on-board file ``name`` to the ground as ``dest`` by CFDP (class 2 when
        ``acknowledged``, else class 1)."""
        if not self.store.complete(name):
            raise CommandError(FailureCode.UNKNOWN_ID, f"no complete file {name!r}")
        try:
            self.cfdp.put(name, dest, bool(acknowledged))
        except CfdpError as exc:
            raise CommandError(FailureCode.QUEUE_FULL, str(exc)[:60]) from None
