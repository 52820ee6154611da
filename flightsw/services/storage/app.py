"""On-board storage and retrieval (PUS service 15, open-retrieval subset).

Every realtime TM packet is recorded in a packet store on the HAL's non-volatile store
while recording is enabled, so telemetry produced out of contact can be dumped in the
next pass. A dump sends stored packets, unchanged, on the playback channel at a bounded
rate per step. With ``auto_dump`` (the default) a dump starts when the comms service
reports a contact and pauses when it ends; TCs can also start and suspend it. The dump
position the ground has *confirmed* is persisted: after a reboot a dump resumes from
there, so a packet may be sent twice but never lost. A restart of this service alone
(after an exception, or by TC) keeps the dump where it was (``ctx.retained``): one in
progress goes on from the last packet sent, without waiting for the next contact.

TCs: (15,1) enable recording, (15,2) disable, (15,15) start/resume the dump from the
confirmed position, (15,16) suspend it, (15,11) confirm receipt of everything dumped so
far (persists the position and deletes whole confirmed segments), (15,12) status report
→ TM(15,13) = stored:u32, segments:u16, dumped:u32, dropped:u32, recording:u8,
dumping:u8.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from flightsw.base.errors import CommandError
from flightsw.base.schema import Opt, Schema
from flightsw.framework import layouts as L
from flightsw.framework import msgids
from flightsw.framework.app import (
    App,
    EventDef,
    FailureCode,
    HkDef,
    ParameterDef,
    ReportDef,
    Severity,
    TelemetryDef,
    command,
)
from flightsw.framework.exec_services import TmPlayback, TmTap
from flightsw.framework.ports import Device, Service, Subscribe
from flightsw.store.packet_store import PacketStore, SegmentStore

_STATUS = struct.Struct(">IHIIBB")
STORE_STATUS = L.Struct(
    "stored" / L.U32,
    "segments" / L.U16,
    "dumped" / L.U32,
    "dropped" / L.U32,
    "recording" / L.U8,
    "dumping" / L.U8,
)


@dataclass
class _DumpProgress:
    """Where the dump is, kept across restarts of the service (not across a reboot)."""

    position: tuple[int, int]
    active: bool = False
    dumped: int = 0


class PacketStoreService(App):
    """PUS 15: records TM for store-and-forward and dumps it on command."""

    DEFAULT_RATE_HZ = 10.0
    nv = Device(SegmentStore, "nv")  # the store's segments
    recorder = Service(TmTap)  # every real-time packet, to record
    playback = Service(TmPlayback)  # the dump's packets, already stamped
    SUBSCRIBES = (Subscribe(msgids.LINK_CONTACT, bool),)
    REPORTS = (ReportDef(15, 13, "store_status", STORE_STATUS, "answer to TC(15,12)"),)
    OPTIONS = Schema(
        Opt("store_name", "str", "tmstore", pattern=r"[a-z0-9_]{1,32}", doc="file prefix"),
        Opt("segment_bytes", "int", 1 << 20, min=4096, max=1 << 30),
        Opt("max_segments", "int", 64, min=2, max=100_000, doc="the store's bound"),
        Opt("overflow", "str", "drop_oldest", choices=("drop_oldest", "reject")),
    )
    PARAMETERS = (
        ParameterDef(1, "recording", "bool", True, doc="record realtime TM into the store"),
        ParameterDef(2, "dump_per_step", "u16", 50, 1, 5000, doc="packets sent per step"),
        ParameterDef(3, "auto_dump", "bool", True, doc="dump at each contact, pause at its end"),
    )
    TELEMETRY = (
        TelemetryDef("stored", "u32", doc="packets in the store"),
        TelemetryDef("dumped", "u32", doc="packets sent by dumps since boot"),
        TelemetryDef("dropped", "u32", doc="packets lost to overflow (oldest segment)"),
        TelemetryDef("record_errors", "u32", doc="packets the store refused"),
        TelemetryDef("torn_bytes", "u32", doc="octets of a torn write cut off at open"),
        TelemetryDef("corrupt_records", "u32", doc="bad records skipped at open (counted once)"),
        TelemetryDef("dumping", "u8"),
    )
    HOUSEKEEPING = (HkDef(1, "store", tuple(t.name for t in TELEMETRY), interval_s=10.0),)
    EVENTS = (
        EventDef(1, "DUMP_STARTED", Severity.INFO),
        EventDef(2, "DUMP_COMPLETED", Severity.INFO),
        EventDef(3, "STORE_OVERFLOW", Severity.LOW, text="oldest segment of the store dropped"),
        EventDef(4, "RECORD_FAILED", Severity.MEDIUM, text="the store refused a packet"),
    )

    def init(self) -> None:
        nv = self.nv
        opts = self.ctx.options  # checked against OPTIONS, defaults filled, at load
        self.store = PacketStore(
            nv, opts["store_name"], opts["segment_bytes"], opts["max_segments"], opts["overflow"]
        )
        self.record_errors = 0
        kept = self.ctx.retained.get("dump")
        progress = kept if isinstance(kept, _DumpProgress) else _DumpProgress(self.store.cursor)
        self.ctx.retained["dump"] = self._progress = progress
        self.dumped = progress.dumped
        self._dump_pos = progress.position
        self._dump: Iterator[tuple[tuple[int, int], bytes]] | None = None
        if progress.active:  # a restart in the middle of a dump: it goes on from there
            self._dump = self.store.iter_from(self._dump_pos)
        self._seen_drops = self.store.stats.dropped_segments
        self._next_tlm_ns = 0
        self.recorder.tap(self.name, self._record)
        self.contact_pipe = self.listen(msgids.LINK_CONTACT)

    def _record(self, pkt: bytes) -> None:
        if not self.param("recording"):
            return
        try:
            ok = self.store.append(pkt)
        except Exception:
            ok = False
        if not ok:
            self.record_errors += 1

    def step(self, now_ns: int) -> None:
        for msg in self.contact_pipe.drain():
            if not self.param("auto_dump"):
                continue
            if msg.payload is True and self._dump is None:
                self._dump = self.store.iter_from(self._dump_pos)
                self.emit("DUMP_STARTED")
            elif msg.payload is False and self._dump is not None:
                self._dump = None  # resumes at the next contact
        if self._dump is not None:
            for _ in range(int(self.param("dump_per_step"))):
                item = next(self._dump, None)
                if item is None:
                    self._dump = None
                    self.emit("DUMP_COMPLETED")
                    break
                self._dump_pos, pkt = item
                self.playback.send_raw(pkt)
                self.dumped += 1
        self._keep_progress()
        if now_ns < self._next_tlm_ns:
            return
        self._next_tlm_ns = now_ns + 1_000_000_000  # the store's telemetry once a second
        stats = self.store.stats
        if stats.dropped_segments != self._seen_drops:
            self._seen_drops = stats.dropped_segments
            self.emit("STORE_OVERFLOW")
        t = self.tlm
        t["stored"] = self.store.packet_count & 0xFFFFFFFF
        t["dumped"] = self.dumped & 0xFFFFFFFF
        t["dropped"] = stats.dropped_packets & 0xFFFFFFFF
        t["record_errors"] = self.record_errors & 0xFFFFFFFF
        t["torn_bytes"] = stats.torn_bytes_recovered & 0xFFFFFFFF
        t["corrupt_records"] = stats.corrupt_records_skipped & 0xFFFFFFFF
        t["dumping"] = int(self._dump is not None)

    def next_due_ns(self, now_ns: int) -> int:
        """With no contact change waiting (a message wakes the app), no dump running and
        the retained progress current: the store's next telemetry time."""
        p = self._progress
        if (
            self._dump is None
            and not self.contact_pipe.queue
            and not p.active
            and p.position == self._dump_pos
            and p.dumped == self.dumped
        ):
            return self._next_tlm_ns
        return now_ns

    def _keep_progress(self) -> None:
        p = self._progress
        p.position, p.active, p.dumped = self._dump_pos, self._dump is not None, self.dumped

    @command(service=15, subservice=1, name="enable_recording")
    def cmd_enable(self) -> None:
        """Record realtime TM into the store."""
        self.ctx.params.set("recording", True)

    @command(service=15, subservice=2, name="disable_recording")
    def cmd_disable(self) -> None:
        """Stop recording."""
        self.ctx.params.set("recording", False)

    @command(service=15, subservice=15, name="start_dump")
    def cmd_start_dump(self) -> None:
        """Dump everything after the confirmed position on the playback channel."""
        if self._dump is None:
            self._dump = self.store.iter_from(self._dump_pos)
            self.emit("DUMP_STARTED")
            self._keep_progress()

    @command(service=15, subservice=16, name="suspend_dump")
    def cmd_suspend(self) -> None:
        """Pause the dump; a later start resumes where it stopped."""
        if self._dump is None:
            raise CommandError(FailureCode.INVALID_STATE, "no dump in progress")
        self._dump = None
        self._keep_progress()

    @command(service=15, subservice=11, name="confirm_dump")
    def cmd_confirm(self) -> None:
        """The ground has everything dumped so far: persist the position, free space."""
        self.store.commit_cursor(self._dump_pos)
        self.store.delete_up_to(self._dump_pos)

    @command(service=15, subservice=12, name="report_store_status")
    def cmd_status(self) -> None:
        """Report the store's status as TM(15,13)."""
        s = self.store
        self.send_tm(
            15,
            13,
            _STATUS.pack(
                s.packet_count & 0xFFFFFFFF,
                len(s.segments),
                self.dumped & 0xFFFFFFFF,
                s.stats.dropped_packets & 0xFFFFFFFF,
                int(bool(self.param("recording"))),
                int(self._dump is not None),
            ),
        )
