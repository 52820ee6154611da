"""PUS service 11, time-based scheduling: TCs stored on board and released at a time.

Between passes a node runs on what operators left it. The ground inserts TCs with a
release time (CUC, 4 coarse + 2 fine octets: sub-seconds are kept to 2^-16 s); the
scheduler keeps them sorted by (time, insertion order) and, every minor frame, hands
each TC whose time has come to the dispatcher, which accepts, routes and verifies it
exactly as an uplinked TC (its PUS-1 reports carry its own request id). A TC is
released at the start of the first minor frame at or after its time: never early,
late by less than one minor frame, and the frame is computed from integer nanoseconds
so nothing drifts. TCs due at the same time go in the order they were inserted.

The schedule is bounded (parameter ``max_activities``): an insert that would overflow
it fails whole with QUEUE_FULL, one naming a time already past fails whole with
``RELEASE_TIME_PAST``, and one carrying a TC the dispatcher would refuse fails with that
TC's acceptance code; nothing of a refused request is stored. At most
``max_release_per_frame`` TCs go per frame, and no more than the target app's command
pipe has room for (a TC is held back, never refused for a full pipe); the rest go in the
next frames, in order (counted late).

The schedule and the release switch live on the non-volatile store in three voted
copies (``flightsw.store.voting``), written in the frame they change, so an app restart or a
processor reboot finds them as they were and no TC is released twice. A command that
changes the schedule rewrites its image (with a new generation number); a release
writes only a small voted watermark (generation, time and order of the last TC
released), written before the TCs go, so a frame that releases costs the same with ten
or ten thousand TCs waiting. On restore, the image's TCs at or before a watermark of
the same generation are the ones already released.

TCs (layouts below, exported in the dictionary): (11,1) enable release, (11,2) disable
release, (11,3) reset (delete all), (11,4) insert, (11,5) delete by request id, (11,6)
delete by time window, (11,7) time-shift by request id, (11,8) time-shift by time window,
(11,15) time-shift all, (11,9)/(11,11)/(11,16) detail report by id / window / all ->
TM(11,10), (11,12)/(11,14)/(11,17) summary report by id / window / all -> TM(11,13),
(11,18) status -> TM(11,19). A request id is the first four octets of the stored TC.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable, Iterable
from typing import Any

from construct import (
    GreedyBytes,
    Int8ub,
    Int16ub,
    Int32ub,
    Int64sb,
    Int64ub,
    Prefixed,
    PrefixedArray,
    Struct,
)

from flightsw.base.errors import CommandError, DecodeError
from flightsw.framework.app import (
    WAKE_NEVER,
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
from flightsw.framework.exec_services import AppCatalog, CommandPath
from flightsw.framework.layouts import CucTime, parse_fields
from flightsw.framework.ports import Device, Service
from flightsw.packets import tc_request_id_from_bytes
from flightsw.store.voting import VotingStore
from hal.interfaces import NonVolatileStore

RELEASE_TIME_PAST = 0x0B01
"""PUS-1 failure code: a release time (inserted or shifted) before the on-board time."""

NV_NAME = "pus11.schedule"
NV_RELEASED = "pus11.released"
REPORT_MAX_OCTETS = 4000  # one TM(11,10)/(11,13) carries at most this much; more go in more

ACTIVITY = Struct("release_time" / CucTime(), "tc" / Prefixed(Int16ub, GreedyBytes))
INSERT = Struct("activities" / PrefixedArray(Int16ub, ACTIVITY))
REQUEST_IDS = Struct("request_ids" / PrefixedArray(Int16ub, Int32ub))
WINDOW = Struct("from_time" / CucTime(), "to_time" / CucTime())
SHIFT_IDS = Struct("offset_ns" / Int64sb, "request_ids" / PrefixedArray(Int16ub, Int32ub))
SHIFT_WINDOW = Struct("offset_ns" / Int64sb, "from_time" / CucTime(), "to_time" / CucTime())
SHIFT_ALL = Struct("offset_ns" / Int64sb)
DETAIL_REPORT = INSERT
SUMMARY_ENTRY = Struct("release_time" / CucTime(), "request_id" / Int32ub)
SUMMARY_REPORT = Struct("activities" / PrefixedArray(Int16ub, SUMMARY_ENTRY))
STATUS_REPORT = Struct(
    "enabled" / Int8ub, "scheduled" / Int32ub, "limit" / Int32ub, "released" / Int32ub
)

# The state on the NV store. The per-activity record is packed by hand on the hot path
# (``_pack_entry``) and tested equal to this declaration.
STORED_ACTIVITY = Struct(
    "release_ns" / Int64ub, "seq" / Int64ub, "tc" / Prefixed(Int16ub, GreedyBytes)
)
STORED = Struct(
    "generation" / Int64ub,
    "enabled" / Int8ub,
    "next_seq" / Int64ub,
    "activities" / PrefixedArray(Int32ub, STORED_ACTIVITY),
)
_ENTRY_HEAD = struct.Struct(">QQH")
_STORED_HEAD = struct.Struct(">QBQI")
WATERMARK = Struct("generation" / Int64ub, "release_ns" / Int64ub, "seq" / Int64ub)

Entry = tuple[int, int, bytes]  # (release_ns, insertion seq, TC): sorts by time, then order


def _pack_entry(entry: Entry) -> bytes:
    return _ENTRY_HEAD.pack(entry[0], entry[1], len(entry[2])) + entry[2]


class SchedulingService(App):
    """PUS 11: a bounded, persistent schedule of time-tagged TCs released on time."""

    DEFAULT_RATE_HZ = 10.0  # the mission runs it every minor frame (flightsw.runtime.mission)
    nv = Device(NonVolatileStore)  # the schedule, voted over copies
    catalog = Service(AppCatalog)
    commands = Service(CommandPath)
    PARAMETERS = (
        ParameterDef(1, "max_activities", "u32", 16384, 1, 1 << 20, doc="schedule limit"),
        ParameterDef(2, "max_release_per_frame", "u16", 32, 1, 1024),
    )
    TELEMETRY = (
        TelemetryDef("scheduled", "u32", doc="activities waiting"),
        TelemetryDef("released", "u32", doc="TCs handed to the dispatcher"),
        TelemetryDef("late", "u32", doc="released a minor frame or more after their time"),
        TelemetryDef("refused", "u32", doc="insert and shift requests refused"),
        TelemetryDef("held_back", "u32", doc="releases put off: the target's pipe was full"),
        TelemetryDef("enabled", "u8"),
    )
    EVENTS = (
        EventDef(
            1,
            "SCHEDULE_RESTORED",
            Severity.INFO,
            (Arg("activities", "u32"),),
            "{activities} scheduled activities restored from the NV store",
        ),
        EventDef(2, "SCHEDULE_LOST", Severity.HIGH, text="no valid copy of the schedule on NV"),
    )
    REPORTS = (
        ReportDef(11, 10, "detail_report", DETAIL_REPORT, "release time and TC of each"),
        ReportDef(11, 13, "summary_report", SUMMARY_REPORT, "release time and request id"),
        ReportDef(11, 19, "status_report", STATUS_REPORT, "release switch and counters"),
    )

    def init(self) -> None:
        nv = self.nv
        self.store = VotingStore(nv, NV_NAME)
        self.watermark = VotingStore(nv, NV_RELEASED)
        self.generation = 0
        self.entries: list[Entry] = []
        self.enabled = True
        self.next_seq = 0
        self.released = 0
        self.late = 0
        self.refused = 0
        self.held_back = 0  # releases put off a frame because the target's pipe was full
        self.dirty = False
        self.frame_ns: int = self.catalog.minor_frame_ns
        self._restore()
        self._update_tlm()

    # --- state on the NV store ------------------------------------------------------
    def _restore(self) -> None:
        raw = self.store.read()
        if raw is None:
            if self.store.unrecoverable:
                self.emit("SCHEDULE_LOST")
            return
        try:
            state = parse_fields(STORED, raw, NV_NAME)
        except DecodeError:
            self.emit("SCHEDULE_LOST")
            return
        self.generation = state["generation"]
        self.enabled = bool(state["enabled"])
        self.next_seq = state["next_seq"]
        self.entries = sorted((a["release_ns"], a["seq"], a["tc"]) for a in state["activities"])
        raw_mark = self.watermark.read()
        try:
            mark = parse_fields(WATERMARK, raw_mark, NV_RELEASED) if raw_mark is not None else None
        except DecodeError:
            mark = None
        if mark is not None and mark["generation"] == self.generation:
            done = (mark["release_ns"], mark["seq"], b"\xff" * 65536)
            self.entries = self.entries[bisect.bisect_right(self.entries, done) :]
        if self.entries:
            self.emit("SCHEDULE_RESTORED", activities=len(self.entries))

    def _persist(self) -> None:
        self.generation += 1
        head = _STORED_HEAD.pack(
            self.generation, int(self.enabled), self.next_seq, len(self.entries)
        )
        self.store.write(head + b"".join(_pack_entry(e) for e in self.entries))
        self.dirty = False

    def _tlm_key(self) -> tuple[int, int, int, int, int, bool]:
        return (
            len(self.entries), self.released, self.late, self.refused, self.held_back,
            self.enabled,
        )  # fmt: skip

    def _update_tlm(self) -> None:
        tlm = self.tlm
        self._shown = self._tlm_key()
        tlm["scheduled"] = len(self.entries)
        tlm["released"] = self.released & 0xFFFFFFFF
        tlm["late"] = self.late & 0xFFFFFFFF
        tlm["refused"] = self.refused & 0xFFFFFFFF
        tlm["held_back"] = self.held_back & 0xFFFFFFFF
        tlm["enabled"] = int(self.enabled)

    def next_due_ns(self, now_ns: int) -> int:
        """With nothing to persist and the telemetry showing the current state: the first
        entry's release time while release is enabled (entries change only by command)."""
        if self.dirty or self._tlm_key() != self._shown:
            return now_ns
        entries = self.entries
        return entries[0][0] if self.enabled and entries else WAKE_NEVER

    # --- release ----------------------------------------------------------------------
    def step(self, now_ns: int) -> None:
        entries = self.entries
        if self.enabled and entries and entries[0][0] <= now_ns:
            dispatch = self.commands.dispatch
            budget = int(self.param("max_release_per_frame"))
            room = self.commands.target_room
            planned: dict[int, int] = {}
            due = 0
            while due < len(entries) and due < budget and entries[due][0] <= now_ns:
                # A TC whose app's command pipe is full waits for the next frame (and
                # the ones after it, to keep the order) rather than be refused.
                target = room(entries[due][2])
                if target is not None:
                    used = planned.get(target[0], 0)
                    if used >= target[1]:
                        self.held_back += 1
                        break
                    planned[target[0]] = used + 1
                due += 1
            batch = entries[:due]
            del entries[:due]
            if batch:
                # Before release: a reboot from here on must not release them twice.
                last = batch[-1]
                self.watermark.write(
                    WATERMARK.build(
                        {"generation": self.generation, "release_ns": last[0], "seq": last[1]}
                    )
                )
            for release_ns, _, tc in batch:
                if now_ns - release_ns >= self.frame_ns:
                    self.late += 1
                self.released += 1
                dispatch(tc)
        if self.dirty:
            self._persist()
        self._update_tlm()

    # --- helpers ----------------------------------------------------------------------
    def _now(self) -> int:
        return self.catalog.now_ns

    def _refuse(self, code: int, reason: str) -> CommandError:
        self.refused += 1
        self._update_tlm()
        return CommandError(code, reason)

    def _select(self, pick: Callable[[Entry], bool]) -> list[Entry]:
        return [e for e in self.entries if pick(e)]

    @staticmethod
    def _by_ids(ids: Iterable[int]) -> Callable[[Entry], bool]:
        wanted = set(ids)
        return lambda e: tc_request_id_from_bytes(e[2]) in wanted

    @staticmethod
    def _in_window(from_time: int, to_time: int) -> Callable[[Entry], bool]:
        return lambda e: from_time <= e[0] <= to_time

    def _delete(self, pick: Callable[[Entry], bool]) -> None:
        self.entries = [e for e in self.entries if not pick(e)]
        self.dirty = True

    def _shift(self, offset_ns: int, pick: Callable[[Entry], bool]) -> None:
        now = self._now()
        chosen = [e for e in self.entries if pick(e)]
        for e in chosen:
            if e[0] + offset_ns < now:
                raise self._refuse(
                    RELEASE_TIME_PAST,
                    f"shifting 0x{tc_request_id_from_bytes(e[2]):08x} puts it in the past",
                )
        ids = {e[1] for e in chosen}
        self.entries = sorted(
            (t + offset_ns, s, tc) if s in ids else (t, s, tc) for t, s, tc in self.entries
        )
        self.dirty = True

    def _report(self, subservice: int, chosen: list[Entry]) -> None:
        """TM(11,10) or (11,13) for ``chosen``, split so each packet stays small."""
        detail = subservice == 10
        layout = DETAIL_REPORT if detail else SUMMARY_REPORT
        items: list[dict[str, Any]] = []
        size = 2
        for t, _, tc in chosen:
            item = (
                {"release_time": t, "tc": tc}
                if detail
                else {"release_time": t, "request_id": tc_request_id_from_bytes(tc)}
            )
            octets = 8 + len(tc) if detail else 10
            if items and size + octets > REPORT_MAX_OCTETS:
                self.send_tm(11, subservice, layout.build({"activities": items}))
                items, size = [], 2
            items.append(item)
            size += octets
        self.send_tm(11, subservice, layout.build({"activities": items}))

    # --- commands ---------------------------------------------------------------------
    @command(service=11, subservice=1, name="enable_release")
    def cmd_enable(self) -> None:
        """Enable release; TCs whose time passed while disabled go now (counted late)."""
        self.enabled = True
        self.dirty = True

    @command(service=11, subservice=2, name="disable_release")
    def cmd_disable(self) -> None:
        """Disable release: the schedule is kept, nothing is released."""
        self.enabled = False
        self.dirty = True

    @command(service=11, subservice=3, name="reset")
    def cmd_reset(self) -> None:
        """Delete every scheduled activity."""
        self.entries = []
        self.dirty = True

    @command(service=11, subservice=4, name="insert", layout=INSERT)
    def cmd_insert(self, activities: list[dict[str, Any]]) -> None:
        """Insert TCs with their release times; all of them or, if one is bad, none."""
        now = self._now()
        limit = int(self.param("max_activities"))
        if len(self.entries) + len(activities) > limit:
            raise self._refuse(
                FailureCode.QUEUE_FULL,
                f"schedule holds {len(self.entries)} of {limit}; {len(activities)} more refused",
            )
        check = self.commands.check
        for i, a in enumerate(activities):
            if a["release_time"] < now:
                raise self._refuse(RELEASE_TIME_PAST, f"activity {i}: release time is past")
            try:
                check(a["tc"])
            except CommandError as exc:
                raise self._refuse(exc.code, f"activity {i}: {exc.reason}") from None
        for a in activities:
            bisect.insort(self.entries, (a["release_time"], self.next_seq, bytes(a["tc"])))
            self.next_seq += 1
        self.dirty = True

    @command(service=11, subservice=5, name="delete_by_id", layout=REQUEST_IDS)
    def cmd_delete_by_id(self, request_ids: list[int]) -> None:
        """Delete the activities whose TCs have these request ids."""
        self._delete(self._by_ids(request_ids))

    @command(service=11, subservice=6, name="delete_by_time", layout=WINDOW)
    def cmd_delete_by_time(self, from_time: int, to_time: int) -> None:
        """Delete the activities due from ``from_time`` to ``to_time`` (inclusive)."""
        self._delete(self._in_window(from_time, to_time))

    @command(service=11, subservice=7, name="shift_by_id", layout=SHIFT_IDS)
    def cmd_shift_by_id(self, offset_ns: int, request_ids: list[int]) -> None:
        """Move the activities with these request ids by ``offset_ns`` (signed)."""
        self._shift(offset_ns, self._by_ids(request_ids))

    @command(service=11, subservice=8, name="shift_by_time", layout=SHIFT_WINDOW)
    def cmd_shift_by_time(self, offset_ns: int, from_time: int, to_time: int) -> None:
        """Move the activities due in the window by ``offset_ns``."""
        self._shift(offset_ns, self._in_window(from_time, to_time))

    @command(service=11, subservice=15, name="shift_all", layout=SHIFT_ALL)
    def cmd_shift_all(self, offset_ns: int) -> None:
        """Move every activity by ``offset_ns``."""
        self._shift(offset_ns, lambda _e: True)

    @command(service=11, subservice=9, name="detail_by_id", layout=REQUEST_IDS)
    def cmd_detail_by_id(self, request_ids: list[int]) -> None:
        """TM(11,10) for the activities with these request ids."""
        self._report(10, self._select(self._by_ids(request_ids)))

    @command(service=11, subservice=11, name="detail_by_time", layout=WINDOW)
    def cmd_detail_by_time(self, from_time: int, to_time: int) -> None:
        """TM(11,10) for the activities due in the window."""
        self._report(10, self._select(self._in_window(from_time, to_time)))

    @command(service=11, subservice=16, name="detail_all")
    def cmd_detail_all(self) -> None:
        """TM(11,10) for every activity."""
        self._report(10, list(self.entries))

    @command(service=11, subservice=12, name="summary_by_id", layout=REQUEST_IDS)
    def cmd_summary_by_id(self, request_ids: list[int]) -> None:
        """TM(11,13) for the activities with these request ids."""
        self._report(13, self._select(self._by_ids(request_ids)))

    @command(service=11, subservice=14, name="summary_by_time", layout=WINDOW)
    def cmd_summary_by_time(self, from_time: int, to_time: int) -> None:
        """TM(11,13) for the activities due in the window."""
        self._report(13, self._select(self._in_window(from_time, to_time)))

    @command(service=11, subservice=17, name="summary_all")
    def cmd_summary_all(self) -> None:
        """TM(11,13) for every activity."""
        self._report(13, list(self.entries))

    @command(service=11, subservice=18, name="report_status")
    def cmd_status(self) -> None:
        """TM(11,19): release enabled, activities waiting, the limit, TCs released."""
        self.send_tm(
            11,
            19,
            STATUS_REPORT.build(
                {
                    "enabled": int(self.enabled),
                    "scheduled": len(self.entries),
                    "limit": int(self.param("max_activities")),
                    "released": self.released & 0xFFFFFFFF,
                }
            ),
        )
