"""A SQLite archive of downlinked telemetry, decoded with the mission dictionary.

Every packet gets a row in ``packets`` (with its octets, ``raw``, for replay); each
housekeeping report is one row of its structure's table (``hk_<sid>``, a column per
point), and the view ``hk`` shows them one row per point (time_ns, sid, structure,
point, value) as readers expect; events
and verification reports get their own tables. A packet that does not decode is
recorded in ``decode_errors`` and counted; nothing a packet contains can stop the
archive. Rows are written in batches inside one transaction per batch so archiving
keeps up with a simulation running far faster than real time. An archive written
before the wide tables (``hk`` a table) keeps being written one row per point.

The database is in WAL mode, so readers (``flightsw archive query``, a plot) run while a
pass is being ingested; packets are indexed by APID and time (one index: a time range
is read APID by APID), HK tables by time.
Well-formed PUS-C TM with a 4+2 CUC time takes a struct fast path (the same checks as
``PusTm.decode``, tested equal to it); anything else goes through the declared decoder,
which names what is wrong. A file that is not an archive (corrupt, truncated, not
SQLite) is an :class:`ArchiveError` naming it.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from binascii import crc_hqx  # CRC-16/CCITT-FALSE, as flightsw.crc (tested equal there)
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flightsw.datatypes import TYPES
from flightsw.errors import DecodeError, FlightswError
from flightsw.ground.tm_decoder import TmDecoder
from flightsw.packets import PusTm, cuc_decode

SCHEMA = """
CREATE TABLE IF NOT EXISTS packets (
    id INTEGER PRIMARY KEY, time_ns INTEGER, apid INTEGER, seq_count INTEGER,
    service INTEGER, subservice INTEGER, msg_counter INTEGER, length INTEGER, raw BLOB);
CREATE TABLE IF NOT EXISTS events (
    time_ns INTEGER, event_id INTEGER, name TEXT, severity TEXT, args TEXT);
CREATE TABLE IF NOT EXISTS verification (
    time_ns INTEGER, subservice INTEGER, request_id INTEGER, failure_code INTEGER);
CREATE TABLE IF NOT EXISTS decode_errors (position INTEGER, error TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE INDEX IF NOT EXISTS packets_apid ON packets(apid, time_ns);
"""
LEGACY_HK = """
CREATE TABLE IF NOT EXISTS hk (
    time_ns INTEGER, sid INTEGER, structure TEXT, point TEXT, value REAL);
CREATE INDEX IF NOT EXISTS hk_point ON hk(point, time_ns);
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


class TmArchive:
    """Decodes TM packets and stores them; counts what it could not decode."""

    def __init__(self, path: str | Path, dictionary: dict[str, Any], batch: int = 2000) -> None:
        self.path = Path(path)
        self.db = open_db(self.path)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL: safe against a crash
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(packets)")}
            if "raw" not in columns:  # an archive from before packets kept their octets
                self.db.execute("ALTER TABLE packets ADD COLUMN raw BLOB")
            with self.db:  # the archive describes itself: query and replay need no mission
                self.db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('dictionary', ?)",
                    (json.dumps(dictionary),),
                )
            self._setup(dictionary, batch)
        except sqlite3.Error as exc:
            self.db.close()
            raise ArchiveError(self.path, str(exc)) from None

    def _setup(self, dictionary: dict[str, Any], batch: int) -> None:
        self._batch = batch
        self.decoder = TmDecoder(dictionary)
        self._time_len = self.decoder.time_len
        self._hk: dict[int, tuple[str, list[str], struct.Struct]] = {}
        for h in dictionary.get("housekeeping", []):
            names = [p["name"] for p in h["points"]]
            st = struct.Struct(">" + "".join(TYPES[p["type"]].code for p in h["points"]))
            self._hk[h["sid"]] = (h["name"], names, st)
        found = self.db.execute("SELECT type FROM sqlite_master WHERE name = 'hk'").fetchone()
        self._wide = found is None or found[0] == "view"
        self._hk_rows: dict[int, list[tuple[Any, ...]]] = {sid: [] for sid in self._hk}
        self._hk_insert: dict[int, str] = {}
        if self._wide:
            self._create_hk_tables()
        else:
            self.db.executescript(LEGACY_HK)
        self._events: dict[int, tuple[str, list[str], struct.Struct]] = {}
        for e in dictionary.get("events", []):
            names = [a["name"] for a in e["args"]]
            st = struct.Struct(">" + "".join(TYPES[a["type"]].code for a in e["args"]))
            self._events[e["id"]] = (e["name"], names, st)
        self._rows: dict[str, list[tuple[Any, ...]]] = {
            "packets": [],
            "hk": [],
            "events": [],
            "verification": [],
            "decode_errors": [],
        }
        self.packets = 0
        self.errors = 0
        self.events_by_severity: dict[str, int] = {s: 0 for s in SEVERITY_BY_SUBSERVICE.values()}
        self.verification_failures = 0

    def _create_hk_tables(self) -> None:
        """One table per HK structure and the per-point view ``hk`` over all of them."""
        selects: list[str] = []
        with self.db:
            for sid, (name, points, _st) in self._hk.items():
                table = f"hk_{sid:04x}"
                cols = ", ".join(f"{_quote(p)} REAL" for p in points)
                self.db.execute(f"CREATE TABLE IF NOT EXISTS {table} (time_ns INTEGER, {cols})")
                self.db.execute(f"CREATE INDEX IF NOT EXISTS {table}_time ON {table}(time_ns)")
                marks = ",".join("?" * (len(points) + 1))
                self._hk_insert[sid] = f"INSERT INTO {table} VALUES ({marks})"
                selects.extend(
                    f"SELECT time_ns, {sid} AS sid, {_sql_text(name)} AS structure, "
                    f"{_sql_text(p)} AS point, CAST({_quote(p)} AS REAL) AS value FROM {table}"
                    for p in points
                )
            if not selects:
                selects = [
                    "SELECT 0 AS time_ns, 0 AS sid, '' AS structure, '' AS point, "
                    "0.0 AS value WHERE 0"
                ]
            self.db.execute("DROP VIEW IF EXISTS hk")
            self.db.execute("CREATE VIEW hk AS " + " UNION ALL ".join(selects))

    def ingest_batch(self, packets: Iterable[bytes]) -> None:
        """Ingest many packets (the same rows as :meth:`ingest` one by one, faster)."""
        fast = self._fast
        slow = self.ingest
        rows = self._rows["packets"]
        batch = self._batch
        for raw in packets:
            if not fast(raw):
                slow(raw)
            elif len(rows) >= batch:
                self.flush()

    def _fast(self, raw: bytes) -> bool:
        """Archive a well-formed TM the fast way; False to leave it to the decoder."""
        n = len(raw)
        if n < _FAST_MIN or self._time_len != 6 or not self._wide:
            return False
        h0, h1, h2, vst, svc, sub, counter, _dest, secs, frac = _FAST_HEAD.unpack_from(raw)
        if h0 >> 11 != 1 or h2 + 7 != n or vst >> 4 != 2 or crc_hqx(raw, 0xFFFF):
            return False  # not version 0 TM with a secondary header, or bad length/CRC
        t = secs * _NS - ((-frac * _NS) >> 16)
        if svc == 3 and sub == 25:
            if n < _FAST_MIN + 2:
                return False
            (sid,) = _U16.unpack_from(raw, 19)
            known = self._hk.get(sid)
            if known is None or n - 23 != known[2].size:
                return False
            self._hk_rows[sid].append((t, *known[2].unpack_from(raw, 21)))
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
            event = self.event(eid, data)
            if event is None:
                return False  # an id the dictionary lacks: the decoder's path names it
            self.events_by_severity[sev] += 1
            self._rows["events"].append((t, eid, event[0], sev, json.dumps(event[1])))
        self.packets += 1
        self._rows["packets"].append((t, h0 & 0x7FF, h1 & 0x3FFF, svc, sub, counter, n, raw))
        return True

    def ingest(self, raw: bytes) -> None:
        if self._fast(raw):
            if len(self._rows["packets"]) >= self._batch:
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
            self._rows["packets"].append(
                (t, tm.apid, tm.seq_count, tm.service, tm.subservice, tm.msg_counter, len(raw), raw)
            )
        if len(self._rows["packets"]) >= self._batch:
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

    def _decode_body(self, tm: PusTm, t: int) -> None:
        data = tm.app_data
        if tm.service == 3 and tm.subservice == 25:
            if len(data) < 2:
                raise DecodeError("hk.sid", 0, "report shorter than its SID")
            (sid,) = struct.unpack_from(">H", data)
            known = self._hk.get(sid)
            if known is None:
                raise DecodeError("hk.sid", 0, f"unknown SID 0x{sid:04x}")
            name, points, st = known
            if len(data) - 2 != st.size:
                raise DecodeError("hk.values", 2, f"{len(data) - 2} bytes, expected {st.size}")
            values = st.unpack_from(data, 2)
            if self._wide:
                self._hk_rows[sid].append((t, *values))
            else:
                self._rows["hk"].extend(
                    (t, sid, name, p, float(v)) for p, v in zip(points, values, strict=True)
                )
        elif tm.service == 5 and tm.subservice in SEVERITY_BY_SUBSERVICE:
            if len(data) < 2:
                raise DecodeError("event.id", 0, "report shorter than its event id")
            (eid,) = struct.unpack_from(">H", data)
            sev = SEVERITY_BY_SUBSERVICE[tm.subservice]
            self.events_by_severity[sev] += 1
            name, args = self.event(eid, data) or (f"unknown_0x{eid:04x}", {})
            self._rows["events"].append((t, eid, name, sev, json.dumps(args)))
        elif tm.service == 1:
            _, fields = self.decoder.fields(tm)
            req, code = fields["request_id"], fields.get("failure_code")
            if code is not None:
                self.verification_failures += 1
            self._rows["verification"].append((t, tm.subservice, req, code))

    def flush(self) -> None:
        with self.db:
            r = self._rows
            if r["packets"]:
                self.db.executemany(
                    "INSERT INTO packets (time_ns, apid, seq_count, service, "
                    "subservice, msg_counter, length, raw) VALUES (?,?,?,?,?,?,?,?)",
                    r["packets"],
                )
            if r["hk"]:
                self.db.executemany("INSERT INTO hk VALUES (?,?,?,?,?)", r["hk"])
            for sid, rows in self._hk_rows.items():
                if rows:
                    self.db.executemany(self._hk_insert[sid], rows)
                    rows.clear()
            if r["events"]:
                self.db.executemany("INSERT INTO events VALUES (?,?,?,?,?)", r["events"])
            if r["verification"]:
                self.db.executemany("INSERT INTO verification VALUES (?,?,?,?)", r["verification"])
            if r["decode_errors"]:
                self.db.executemany("INSERT INTO decode_errors VALUES (?,?)", r["decode_errors"])
        for rows in r.values():
            rows.clear()

    def close(self) -> None:
        self.flush()
        self.db.close()
