"""A SQLite archive of downlinked telemetry, decoded with the mission dictionary.

The layout is columnar, as Yamcs' parameter archive is, so that ingest costs a few
SQLite rows per batch rather than a row per packet and per value:

* ``packet_chunks``: the packets' octets (``data``, for replay), one row per APID and
  flushed batch, with their times (``times``, little-endian int64 ns) and end offsets
  (``ends``, little-endian uint32) as arrays; indexed by (APID, first time).
* ``hk_segments`` / ``hk_values``: decoded housekeeping. A segment is one structure's
  reports of one batch: their times (int64 array) in ``hk_segments``, and one row per
  parameter in ``hk_values`` holding that parameter's values as an array of its declared
  type (``type``: ``u8``...``f64``, ``bool``; big-endian, as on the wire). Indexed by
  (SID, time).
* ``events``, ``verification``, ``decode_errors``: a row each, as before; ``meta`` carries
  the dictionary (query and replay need no mission) and the layout's name.

:class:`flightsw.ground.archive_query.ArchiveReader` reads segments back. A packet that
does not decode is recorded in ``decode_errors`` and counted; nothing a packet contains
can stop the archive. The database is in WAL mode, so readers (``flightsw archive
query``, a plot) run while a pass is being ingested. Well-formed PUS-C TM with a 4+2
CUC time takes a struct fast path (the same checks as ``PusTm.decode``, tested equal to
it); anything else goes through the declared decoder, which names what is wrong. HK
values are decoded per batch with numpy (one structured array per structure). A file
that is not an archive (corrupt, truncated, not SQLite) is an :class:`ArchiveError`
naming it; so is an archive of the older row layout (table ``packets``), which
``flightsw archive migrate`` copies into this one.
"""

from __future__ import annotations

import json
import math
import sqlite3
import struct
from binascii import crc_hqx  # CRC-16/CCITT-FALSE, as flightsw.base.crc (tested equal there)
from collections.abc import Iterable
from itertools import islice, repeat
from pathlib import Path
from typing import Any

import numpy as np

from flightsw.base.errors import DecodeError, FlightswError
from flightsw.framework.datatypes import TYPES
from flightsw.ground.tm_decoder import TmDecoder
from flightsw.packets import PusTm, cuc_decode

LAYOUT = "segments-1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS packet_chunks (
    id INTEGER PRIMARY KEY, apid INTEGER, t_min INTEGER, t_max INTEGER, count INTEGER,
    times BLOB, ends BLOB, data BLOB);
CREATE INDEX IF NOT EXISTS packet_chunks_apid ON packet_chunks(apid, t_min);
CREATE TABLE IF NOT EXISTS hk_segments (
    id INTEGER PRIMARY KEY, sid INTEGER, t_min INTEGER, t_max INTEGER, count INTEGER,
    times BLOB);
CREATE INDEX IF NOT EXISTS hk_segments_sid ON hk_segments(sid, t_min);
CREATE TABLE IF NOT EXISTS hk_values (
    segment INTEGER, point TEXT, type TEXT, data BLOB);
CREATE UNIQUE INDEX IF NOT EXISTS hk_values_segment ON hk_values(segment, point);
CREATE TABLE IF NOT EXISTS events (
    time_ns INTEGER, event_id INTEGER, name TEXT, severity TEXT, args TEXT);
CREATE TABLE IF NOT EXISTS verification (
    time_ns INTEGER, subservice INTEGER, request_id INTEGER, failure_code INTEGER);
CREATE TABLE IF NOT EXISTS decode_errors (position INTEGER, error TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""

# How a declared type is stored in a value segment (numpy): big-endian, as on the
# wire, so a parameter's values are split out of the reports without a byte swap.
STORED_DTYPE: dict[str, str] = {
    "u8": ">u1", "u16": ">u2", "u32": ">u4", "u64": ">u8",
    "i8": ">i1", "i16": ">i2", "i32": ">i4", "i64": ">i8",
    "f32": ">f4", "f64": ">f8", "bool": ">u1",
}  # fmt: skip

SEVERITY_BY_SUBSERVICE = {1: "INFO", 2: "LOW", 3: "MEDIUM", 4: "HIGH"}
# The fast path: primary header, PUS-C TM secondary header, CUC 4+2 time (19 octets).
_FAST_HEAD = struct.Struct(">HHHBBBHHIH")
_FAST_MIN = _FAST_HEAD.size + 2  # with the CRC
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_VERIFY_OK = frozenset({1, 3, 7})  # request id only
_VERIFY_FAIL = frozenset({2, 4, 8})  # request id, failure code, data
_NS = 1_000_000_000


class ArchiveError(FlightswError):
    """An archive file that cannot be used (corrupt, truncated, not an archive)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"archive {path}: {reason}")


def open_db(path: str | Path) -> sqlite3.Connection:
    """A connection to an archive file, checked readable; ArchiveError if it is not."""
    try:
        db = sqlite3.connect(str(path), timeout=30.0)
        db.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise ArchiveError(path, str(exc)) from None
    return db


class _Column:
    """Integers gathered for one flush: single values (the packet-by-packet paths) and
    arrays (the batch path), kept in arrival order, taken as one int64 array."""

    __slots__ = ("ints", "parts")

    def __init__(self) -> None:
        self.ints: list[int] = []
        self.parts: list[Any] = []

    def __bool__(self) -> bool:
        return bool(self.ints or self.parts)

    def extend(self, values: Any) -> None:
        if self.ints:
            self.parts.append(np.array(self.ints, dtype=np.int64))
            self.ints = []
        self.parts.append(values)

    def take(self) -> Any:
        """Everything gathered, as one array; the column is empty after."""
        if self.ints:
            self.parts.append(np.array(self.ints, dtype=np.int64))
            self.ints = []
        out = self.parts[0] if len(self.parts) == 1 else np.concatenate(self.parts)
        self.parts = []
        return out


class _HkStructure:
    """One HK structure: its points, the wire record, and the batch not yet flushed."""

    __slots__ = ("data", "name", "points", "record", "size", "times", "types")

    def __init__(self, name: str, points: list[str], types: list[str]) -> None:
        self.name = name
        self.points = points
        self.types = types
        self.size = struct.calcsize(">" + "".join(TYPES[t].code for t in types))
        self.record = np.dtype([(f"p{i}", STORED_DTYPE[t]) for i, t in enumerate(types)])
        self.times = _Column()
        self.data = bytearray()


class TmArchive:
    """Decodes TM packets and stores them; counts what it could not decode."""

    def __init__(self, path: str | Path, dictionary: dict[str, Any], batch: int = 4096) -> None:
        self.path = Path(path)
        self.db = open_db(self.path)
        try:
            tables = {n for (n,) in self.db.execute("SELECT name FROM sqlite_master")}
            if "packets" in tables:
                raise ArchiveError(
                    self.path,
                    "written in the older row layout (table packets); copy it into this "
                    "layout with `flightsw archive migrate OLD NEW`, or archive into a new file",
                )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: safe against a crash
            self.db.executescript(SCHEMA)
            with self.db:  # the archive describes itself: query and replay need no mission
                self.db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [("dictionary", json.dumps(dictionary)), ("layout", LAYOUT)],
                )
        except sqlite3.Error as exc:
            self.db.close()
            raise ArchiveError(self.path, str(exc)) from None
        except ArchiveError:
            self.db.close()
            raise
        self._setup(dictionary, batch)

    def _setup(self, dictionary: dict[str, Any], batch: int) -> None:
        self._batch = batch
        self.decoder = TmDecoder(dictionary)
        self._time_len = self.decoder.time_len
        self._hk: dict[int, _HkStructure] = {}
        for h in dictionary.get("housekeeping", []):
            self._hk[h["sid"]] = _HkStructure(
                h["name"], [p["name"] for p in h["points"]], [p["type"] for p in h["points"]]
            )
        self._hk_size = {sid: s.size for sid, s in self._hk.items()}
        self._events: dict[int, tuple[str, list[str], struct.Struct]] = {}
        self._event_json: dict[int, tuple[str, list[str] | None]] = {}
        for e in dictionary.get("events", []):
            names = [a["name"] for a in e["args"]]
            st = struct.Struct(">" + "".join(TYPES[a["type"]].code for a in e["args"]))
            self._events[e["id"]] = (e["name"], names, st)
            kinds = [TYPES[a["type"]].kind for a in e["args"]]
            # The arguments' JSON (json.dumps' text) as a %-template: ints print as
            # json does, floats by repr when finite; bools and non-finite floats go by
            # json.dumps itself.
            marks = ", ".join(
                json.dumps(n) + (": %r" if k == "float" else ": %d")
                for n, k in zip(names, kinds, strict=True)
            )
            self._event_json[e["id"]] = ("{" + marks + "}", None if "bool" in kinds else kinds)
        # Per APID: times, lengths and octets of the packets not yet flushed.
        self._chunks: dict[int, tuple[_Column, _Column, bytearray]] = {}
        self._rows: dict[str, list[tuple[Any, ...]]] = {
            "events": [],
            "verification": [],
            "decode_errors": [],
        }
        self._pending = 0
        self.packets = 0
        self.errors = 0
        self.events_by_severity: dict[str, int] = {s: 0 for s in SEVERITY_BY_SUBSERVICE.values()}
        self.verification_failures = 0

    def ingest_batch(self, packets: Iterable[bytes]) -> None:
        """Ingest many packets: the same rows as :meth:`ingest` one by one (the same
        flushes too), faster. Packets are taken up to the next flush at a time; a run
        of well-formed TM is checked and decoded at once (:meth:`_fast_many`), a run
        holding anything else packet by packet."""
        it = iter(packets)
        fast = self._fast
        slow = self.ingest
        while take := list(islice(it, max(1, self._batch - self._pending))):
            if not self._fast_many(take):
                for raw in take:
                    if not fast(raw):
                        slow(raw)
                    elif self._pending >= self._batch:
                        self.flush()
            if self._pending >= self._batch:
                self.flush()

    def _fast_many(self, raws: list[bytes]) -> bool:
        """Archive packets that are all well-formed TM the fast way, the headers read
        with numpy for all of them at once; False (and nothing archived) when any one
        is not, to leave the run to :meth:`_fast` and the decoder packet by packet."""
        if self._time_len != 6:
            return False
        count = len(raws)
        lens = np.fromiter(map(len, raws), dtype=np.int64, count=count)
        if int(lens.min()) < _FAST_MIN or any(map(crc_hqx, raws, repeat(0xFFFF, count))):
            return False
        joined = b"".join(raws)
        buf = np.frombuffer(joined, dtype=np.uint8)
        ends = np.cumsum(lens)
        starts = ends - lens

        def u16(k: int, at: Any = starts) -> Any:
            return buf[at + k].astype(np.int64) << 8 | buf[at + k + 1]

        h0 = u16(0)
        if np.any(h0 >> 11 != 1) or np.any(u16(4) + 7 != lens) or np.any(buf[starts + 6] >> 4 != 2):
            return False  # not version 0 TM with a secondary header, or a bad length
        svc = buf[starts + 7]
        sub = buf[starts + 8]
        # HK: a declared SID and its structure's length.
        hk = np.flatnonzero((svc == 3) & (sub == 25))
        by_sid: list[tuple[_HkStructure, Any]] = []
        if len(hk):
            if int(lens[hk].min()) < _FAST_MIN + 2:
                return False
            sids = u16(19, starts[hk])
            for sid in np.unique(sids).tolist():
                known = self._hk.get(sid)
                sel = hk[sids == sid]
                if known is None or np.any(lens[sel] - 23 != known.size):
                    return False
                by_sid.append((known, sel))
        # Verification: the lengths its fast path takes; events: a known id.
        ver = np.flatnonzero(svc == 1)
        vsub, vlen = sub[ver], lens[ver]
        fail = np.isin(vsub, list(_VERIFY_FAIL)) & (vlen >= _FAST_MIN + 6)
        if not np.all((np.isin(vsub, list(_VERIFY_OK)) & (vlen == _FAST_MIN + 4)) | fail):
            return False
        ev = np.flatnonzero(svc == 5)
        eids: list[int] = []
        if len(ev):
            if int(lens[ev].min()) < _FAST_MIN + 2 or not np.all((sub[ev] >= 1) & (sub[ev] <= 4)):
                return False
            eids = u16(19, starts[ev]).tolist()
            if not set(eids) <= self._events.keys():
                return False
        # Everything is archivable: write it down.
        secs = u16(13) << 16 | u16(15)
        times = secs * _NS - ((-u16(17) * _NS) >> 16)
        for known, sel in by_sid:
            known.times.extend(times[sel])
            known.data += b"".join([raws[i][21:-2] for i in sel.tolist()])
        rows = self._rows
        if len(ver):
            at = starts[ver]
            codes = np.where(fail, u16(23, at), -1).tolist()
            rows["verification"].extend(
                zip(
                    times[ver].tolist(),
                    vsub.tolist(),
                    (u16(19, at) << 16 | u16(21, at)).tolist(),
                    [None if c < 0 else c for c in codes],
                    strict=True,
                )
            )
            self.verification_failures += int(np.count_nonzero(fail))
        events = self._events
        by_severity = self.events_by_severity
        for i, eid in zip(ev.tolist(), eids, strict=True):
            raw = raws[i]
            sev = SEVERITY_BY_SUBSERVICE[raw[8]]
            by_severity[sev] += 1
            rows["events"].append(
                (int(times[i]), eid, events[eid][0], sev, self._args_json(eid, raw[19:-2]))
            )
        apids = h0 & 0x7FF
        unique = np.unique(apids).tolist()
        for apid in unique:
            chunk = self._chunk(apid)
            if len(unique) == 1:
                chunk[0].extend(times)
                chunk[1].extend(lens)
                chunk[2].extend(joined)
            else:
                sel = apids == apid
                chunk[0].extend(times[sel])
                chunk[1].extend(lens[sel])
                chunk[2].extend(b"".join([raws[i] for i in np.flatnonzero(sel).tolist()]))
        self.packets += count
        self._pending += count
        return True

    def _chunk(self, apid: int) -> tuple[_Column, _Column, bytearray]:
        found = self._chunks.get(apid)
        if found is None:
            found = self._chunks[apid] = (_Column(), _Column(), bytearray())
        return found

    def _fast(self, raw: bytes) -> bool:
        """Archive a well-formed TM the fast way; False to leave it to the decoder."""
        n = len(raw)
        if n < _FAST_MIN or self._time_len != 6:
            return False
        h0, _h1, h2, vst, svc, sub, _counter, _dest, secs, frac = _FAST_HEAD.unpack_from(raw)
        if h0 >> 11 != 1 or h2 + 7 != n or vst >> 4 != 2 or crc_hqx(raw, 0xFFFF):
            return False  # not version 0 TM with a secondary header, or bad length/CRC
        t = secs * _NS - ((-frac * _NS) >> 16)
        if svc == 3 and sub == 25:
            if n < _FAST_MIN + 2:
                return False
            (sid,) = _U16.unpack_from(raw, 19)
            if self._hk_size.get(sid) != n - 23:
                return False
            s = self._hk[sid]
            s.times.ints.append(t)
            s.data += raw[21:-2]
        elif svc == 1:
            if sub in _VERIFY_OK and n == _FAST_MIN + 4:
                code = None
            elif sub in _VERIFY_FAIL and n >= _FAST_MIN + 6:
                (code,) = _U16.unpack_from(raw, 23)
                self.verification_failures += 1
            else:
                return False  # progress reports, odd lengths: the decoder's path
            (req,) = _U32.unpack_from(raw, 19)
            self._rows["verification"].append((t, sub, req, code))
        elif svc == 5:
            sev = SEVERITY_BY_SUBSERVICE.get(sub)
            if sev is None or n < _FAST_MIN + 2:
                return False
            data = raw[19:-2]
            (eid,) = _U16.unpack_from(data)
            known = self._events.get(eid)
            if known is None:
                return False  # an id the dictionary lacks: the decoder's path names it
            self.events_by_severity[sev] += 1
            self._rows["events"].append((t, eid, known[0], sev, self._args_json(eid, data)))
        self.packets += 1
        self._pending += 1
        chunk = self._chunk(h0 & 0x7FF)
        chunk[0].ints.append(t)
        chunk[1].ints.append(n)
        chunk[2].extend(raw)
        return True

    def ingest(self, raw: bytes) -> None:
        if self._fast(raw):
            if self._pending >= self._batch:
                self.flush()
            return
        position = self.packets + self.errors
        try:
            tm = PusTm.decode(raw, time_len=self._time_len)
            t = cuc_decode(tm.time)
            self._decode_body(tm, t)
        except DecodeError as exc:
            self.errors += 1
            self._rows["decode_errors"].append((position, str(exc)))
        else:
            self.packets += 1
            self._pending += 1
            chunk = self._chunk(tm.apid)
            chunk[0].ints.append(t)
            chunk[1].ints.append(len(raw))
            chunk[2].extend(raw)
        if self._pending >= self._batch:
            self.flush()

    def event(self, eid: int, data: bytes) -> tuple[str, dict[str, Any]] | None:
        """An event report's name and arguments (None for an id the dictionary lacks);
        arguments that do not fit the declaration come back raw, as ``_raw`` hex."""
        known = self._events.get(eid)
        if known is None:
            return None
        name, arg_names, st = known
        if len(data) - 2 != st.size:
            return name, {"_raw": data[2:].hex()}
        return name, dict(zip(arg_names, st.unpack_from(data, 2), strict=True))

    def _args_json(self, eid: int, data: bytes) -> str:
        """A known event's arguments as JSON text: ``json.dumps`` of :meth:`event`'s
        arguments (tested equal), by a template where that is the same and cheaper."""
        template, kinds = self._event_json[eid]
        st = self._events[eid][2]
        if kinds is not None and len(data) - 2 == st.size:
            values = st.unpack_from(data, 2)
            if "float" not in kinds or all(map(math.isfinite, values)):
                return template % values
        found = self.event(eid, data)
        return json.dumps(found[1] if found is not None else {})

    def _decode_body(self, tm: PusTm, t: int) -> None:
        data = tm.app_data
        if tm.service == 3 and tm.subservice == 25:
            if len(data) < 2:
                raise DecodeError("hk.sid", 0, "report shorter than its SID")
            (sid,) = struct.unpack_from(">H", data)
            known = self._hk.get(sid)
            if known is None:
                raise DecodeError("hk.sid", 0, f"unknown SID 0x{sid:04x}")
            if len(data) - 2 != known.size:
                raise DecodeError("hk.values", 2, f"{len(data) - 2} bytes, expected {known.size}")
            known.times.ints.append(t)
            known.data += data[2:]
        elif tm.service == 5 and tm.subservice in SEVERITY_BY_SUBSERVICE:
            if len(data) < 2:
                raise DecodeError("event.id", 0, "report shorter than its event id")
            (eid,) = struct.unpack_from(">H", data)
            sev = SEVERITY_BY_SUBSERVICE[tm.subservice]
            self.events_by_severity[sev] += 1
            declared = self._events.get(eid)
            name = f"unknown_0x{eid:04x}" if declared is None else declared[0]
            args_json = "{}" if declared is None else self._args_json(eid, data)
            self._rows["events"].append((t, eid, name, sev, args_json))
        elif tm.service == 1:
            _, fields = self.decoder.fields(tm)
            req, code = fields["request_id"], fields.get("failure_code")
            if code is not None:
                self.verification_failures += 1
            self._rows["verification"].append((t, tm.subservice, req, code))

    def flush(self) -> None:
        """Write what was ingested since the last flush: one transaction, a chunk row per
        APID, a segment per HK structure (its values decoded here, a row per point)."""
        db = self.db
        with db:
            for apid, (times_col, lengths, data) in self._chunks.items():
                if times_col:
                    times = times_col.take()
                    db.execute(
                        "INSERT INTO packet_chunks (apid, t_min, t_max, count, times, ends, "
                        "data) VALUES (?,?,?,?,?,?,?)",
                        (
                            apid,
                            int(times.min()),
                            int(times.max()),
                            len(times),
                            times.astype("<i8").tobytes(),
                            np.cumsum(lengths.take(), dtype="<u4").tobytes(),
                            data,  # bound as a BLOB (copied by SQLite)
                        ),
                    )
            for sid, s in self._hk.items():
                if s.times:
                    times = s.times.take()
                    cur = db.execute(
                        "INSERT INTO hk_segments (sid, t_min, t_max, count, times) "
                        "VALUES (?,?,?,?,?)",
                        (
                            sid,
                            int(times.min()),
                            int(times.max()),
                            len(times),
                            times.astype("<i8").tobytes(),
                        ),
                    )
                    seg = cur.lastrowid
                    records = np.frombuffer(s.data, dtype=s.record)
                    db.executemany(
                        "INSERT INTO hk_values VALUES (?,?,?,?)",
                        [
                            (seg, p, ty, records[f"p{i}"].tobytes())
                            for i, (p, ty) in enumerate(zip(s.points, s.types, strict=True))
                        ],
                    )
                    del records  # the buffer is cleared below
            r = self._rows
            if r["events"]:
                db.executemany("INSERT INTO events VALUES (?,?,?,?,?)", r["events"])
            if r["verification"]:
                db.executemany("INSERT INTO verification VALUES (?,?,?,?)", r["verification"])
            if r["decode_errors"]:
                db.executemany("INSERT INTO decode_errors VALUES (?,?)", r["decode_errors"])
        for rows in self._rows.values():
            rows.clear()
        for _times, _lengths, data in self._chunks.values():
            data.clear()
        for s in self._hk.values():
            s.data.clear()
        self._pending = 0

    def close(self) -> None:
        self.flush()
        self.db.close()
