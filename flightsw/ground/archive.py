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
it); anything else goes through the declared decoder, which names what is wrong. A
batch (:meth:`TmArchive.ingest_batch`) of such TM costs Python calls per packet only for
its length and join (its CRCs are checked by one CRC over the joined octets,
:mod:`flightsw.ground.archive_crc`; a batch failing it goes packet by packet): headers,
HK records, verification fields and event arguments are cut out of the joined octets by
numpy (an array per field, per structure, per event id), and rows are written by
``executemany`` from columns. HK values are split into
per-parameter arrays at the flush (one structured array per structure). A file
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
from itertools import islice, pairwise, repeat
from pathlib import Path
from typing import Any

import numpy as np

from flightsw.base.errors import DecodeError, FlightswError
from flightsw.framework.datatypes import TYPES
from flightsw.ground.archive_crc import all_whole
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
# The batch path: the same 19 octets and the two after (a SID, an event id) as a record;
# a verification report's request id and failure code; its subservice by kind (1: a
# success with the request id only, 2: a failure with a code).
_HEAD = np.dtype(
    [("h0", ">u2"), ("h1", ">u2"), ("length", ">u2"), ("flags", "u1"), ("service", "u1"),
     ("subservice", "u1"), ("counter", ">u2"), ("dest", ">u2"), ("secs", ">u4"),
     ("fine", ">u2"), ("word", ">u2")]
)  # fmt: skip
_VERIFY = np.dtype([("request", ">u4"), ("code", ">u2")])
_VERIFY_KIND = np.zeros(256, dtype=np.int8)
_VERIFY_KIND[list(_VERIFY_OK)] = 1
_VERIFY_KIND[list(_VERIFY_FAIL)] = 2


_SEVERITY_NAMES = np.array([None, *SEVERITY_BY_SUBSERVICE.values()], dtype=object)


def _rows(joined: bytes, at: Any, width: int) -> Any:
    """``width`` octets of ``joined`` from each offset in ``at``: an array of
    ``len(at)`` items of ``width`` octets (numpy type ``V<width>``; view it as a record
    type of that size), each copied at once."""
    window = np.ndarray(
        (len(joined) - width + 1,), dtype=np.dtype((np.void, width)), buffer=joined, strides=(1,)
    )
    return window[at]


def _groups(keys: Any, index: Any) -> list[tuple[int, Any]]:
    """``index`` split by ``keys`` (native integer arrays of one length): each key's
    entries in order, keys ascending."""
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    index = index[order]
    cuts = [0, *(np.flatnonzero(ranked[1:] != ranked[:-1]) + 1).tolist(), len(keys)]
    return [(int(ranked[a]), index[a:b]) for a, b in pairwise(cuts)]


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


class _Table:
    """Rows of one table gathered for a flush, kept as columns: a row at a time (the
    packet-by-packet paths) or columns at a time (the batch path), in arrival order;
    written with ``executemany`` over their zip (no row tuples kept)."""

    __slots__ = ("columns",)

    def __init__(self, width: int) -> None:
        self.columns: tuple[list[Any], ...] = tuple([] for _ in range(width))

    def __bool__(self) -> bool:
        return bool(self.columns[0])

    def append(self, *row: Any) -> None:
        for column, value in zip(self.columns, row, strict=True):
            column.append(value)

    def extend(self, *columns: list[Any]) -> None:
        for column, values in zip(self.columns, columns, strict=True):
            column.extend(values)

    def rows(self) -> Iterable[tuple[Any, ...]]:
        return zip(*self.columns, strict=True)

    def clear(self) -> None:
        for column in self.columns:
            column.clear()


class _HkStructure:
    """One HK structure: its points, the wire record, and the batch not yet flushed."""

    __slots__ = ("data", "fields", "name", "points", "record", "size", "times", "types")

    def __init__(self, name: str, points: list[str], types: list[str]) -> None:
        self.name = name
        self.points = points
        self.types = types
        self.size = struct.calcsize(">" + "".join(TYPES[t].code for t in types))
        self.fields = [f"p{i}" for i in range(len(types))]
        self.record = np.dtype(
            list(zip(self.fields, [STORED_DTYPE[t] for t in types], strict=True))
        )
        self.times = _Column()
        self.data = bytearray()

    def values(self) -> list[bytes]:
        """Each point's values in the records gathered (``data``), as its octets."""
        records = np.frombuffer(self.data, dtype=self.record)
        return [records[f].tobytes() for f in self.fields]


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
        self._hk_sizes = np.full(1 << 16, -1, dtype=np.int64)  # by SID, -1: not declared
        for sid, size in self._hk_size.items():
            self._hk_sizes[sid] = size
        self._event_known = np.zeros(1 << 16, dtype=bool)  # by event id
        self._events: dict[int, tuple[str, list[str], struct.Struct]] = {}
        self._event_json: dict[int, tuple[str, list[str] | None]] = {}
        self._event_floats: dict[int, np.dtype[Any]] = {}  # args as a record, floats "f…"
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
            self._event_known[e["id"]] = True
            if "float" in kinds:  # the arguments as a record, to find non-finite floats
                self._event_floats[e["id"]] = np.dtype(
                    [
                        (("f" if k == "float" else "x") + str(i), STORED_DTYPE[a["type"]])
                        for i, (a, k) in enumerate(zip(e["args"], kinds, strict=True))
                    ]
                )
        # Per APID: times, lengths and octets of the packets not yet flushed.
        self._chunks: dict[int, tuple[_Column, _Column, bytearray]] = {}
        self._rows = {"events": _Table(5), "verification": _Table(4), "decode_errors": _Table(2)}
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
        """Archive packets that are all well-formed TM the fast way; False (and nothing
        archived) when any one is not, to leave the run to :meth:`_fast` and the decoder
        packet by packet.

        Per packet, only its length and the join of the octets are Python calls (and its
        CRC without ``anycrc``: :mod:`flightsw.ground.archive_crc` checks the batch at
        once); headers, HK records, verification fields and event arguments are then
        copied out of the joined octets by numpy, an array per field for the whole run
        or per structure (event id)."""
        if self._time_len != 6:
            return False
        count = len(raws)
        lens = np.fromiter(map(len, raws), dtype=np.int64, count=count)
        if int(lens.min()) < _FAST_MIN:
            return False
        joined = b"".join(raws)
        starts = np.cumsum(lens) - lens
        if not all_whole(raws, joined, starts):
            return False  # a bad CRC: the packet-by-packet path finds and names it
        head = _rows(joined, starts, _HEAD.itemsize).view(_HEAD)
        h0 = head["h0"].astype(np.uint16)
        if np.any(
            (h0 >> 11 != 1)
            | (head["length"].astype(np.int64) + 7 != lens)
            | (head["flags"] >> 4 != 2)
        ):
            return False  # not version 0 TM with a secondary header, or a bad length
        svc = head["service"]
        sub = head["subservice"]
        word = head["word"].astype(np.uint16)  # the data's first two octets: SID, event id
        # HK: a declared SID and its structure's length (so at least the SID's octets).
        hk = np.flatnonzero((svc == 3) & (sub == 25))
        sids = word[hk]
        if np.any(self._hk_sizes[sids] != lens[hk] - 23):
            return False
        # Verification: the lengths its fast path takes; events: a known id.
        ver = np.flatnonzero(svc == 1)
        vsub, vlen = sub[ver], lens[ver]
        kind = _VERIFY_KIND[vsub]
        fail = (kind == 2) & (vlen >= _FAST_MIN + 6)
        if not np.all(((kind == 1) & (vlen == _FAST_MIN + 4)) | fail):
            return False
        ev = np.flatnonzero(svc == 5)
        eids, esub = word[ev], sub[ev]
        if len(ev) and (
            int(lens[ev].min()) < _FAST_MIN + 2
            or not np.all((esub >= 1) & (esub <= 4))
            or not np.all(self._event_known[eids])
        ):
            return False
        # Everything is archivable: write it down.
        times = head["secs"].astype(np.int64) * _NS - ((-head["fine"].astype(np.int64) * _NS) >> 16)
        if len(hk):
            for sid, sel in _groups(sids, hk):
                known = self._hk[sid]
                known.times.extend(times[sel])
                if known.size:
                    known.data.extend(_rows(joined, starts[sel] + 21, known.size))
        rows = self._rows
        if len(ver):
            # Request id and (for a failure) its code; a success's 6 octets end in its CRC.
            vf = _rows(joined, starts[ver] + 19, _VERIFY.itemsize).view(_VERIFY)
            codes = np.full(len(ver), None, dtype=object)
            codes[fail] = vf["code"][fail].tolist()
            rows["verification"].extend(
                times[ver].tolist(), vsub.tolist(), vf["request"].tolist(), codes.tolist()
            )
            self.verification_failures += int(np.count_nonzero(fail))
        if len(ev):
            self._events_many(raws, joined, ev, starts[ev], lens[ev], eids, esub, times[ev])
        apids = h0 & 0x7FF
        if np.all(apids == apids[0]):
            chunk = self._chunk(int(apids[0]))
            chunk[0].extend(times)
            chunk[1].extend(lens)
            chunk[2].extend(joined)
        else:
            # Each APID's chunk made in order of first appearance, as packet by packet.
            for apid, sel in sorted(_groups(apids, np.arange(count)), key=lambda g: int(g[1][0])):
                chunk = self._chunk(apid)
                chunk[0].extend(times[sel])
                chunk[1].extend(lens[sel])
                chunk[2].extend(b"".join([raws[i] for i in sel.tolist()]))
        self.packets += count
        self._pending += count
        return True

    def _events_many(
        self,
        raws: list[bytes],
        joined: bytes,
        ev: Any,
        starts: Any,
        lens: Any,
        eids: Any,
        subs: Any,
        times: Any,
    ) -> None:
        """The event rows of a run, in arrival order: each event id's arguments unpacked
        at once into its JSON template; ``_args_json`` one by one for what the template
        does not cover (odd lengths, bools, non-finite floats)."""
        n = len(ev)
        texts = np.empty(n, dtype=object)
        names = np.empty(n, dtype=object)
        for eid, pos in _groups(eids, np.arange(n)):
            name, _args, st = self._events[eid]
            names[pos] = name
            template, kinds = self._event_json[eid]
            fits = pos[lens[pos] - 23 == st.size] if kinds is not None else pos[:0]
            if len(fits) and st.size:
                octets = _rows(joined, starts[fits] + 21, st.size)
                floats = self._event_floats.get(eid)
                if floats is not None:  # only finite floats go by repr
                    record = octets.view(floats)
                    finite = np.ones(len(fits), dtype=bool)
                    for field in floats.names or ():
                        if field.startswith("f"):
                            finite &= np.isfinite(record[field])
                    fits, octets = fits[finite], octets[finite]
                texts[fits] = [template % v for v in st.iter_unpack(octets.tobytes())]
            elif len(fits):
                texts[fits] = template % ()
            if len(fits) < len(pos):
                for p in pos.tolist():
                    if texts[p] is None:
                        texts[p] = self._args_json(eid, raws[int(ev[p])][19:-2])
        counts = np.bincount(subs, minlength=5).tolist()
        for s, sev in SEVERITY_BY_SUBSERVICE.items():
            self.events_by_severity[sev] += counts[s]
        self._rows["events"].extend(
            times.tolist(),
            eids.tolist(),
            names.tolist(),
            _SEVERITY_NAMES[subs].tolist(),
            texts.tolist(),
        )

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
            self._rows["verification"].append(t, sub, req, code)
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
            self._rows["events"].append(t, eid, known[0], sev, self._args_json(eid, data))
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
            self._rows["decode_errors"].append(position, str(exc))
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
            self._rows["events"].append(t, eid, name, sev, args_json)
        elif tm.service == 1:
            _, fields = self.decoder.fields(tm)
            req, code = fields["request_id"], fields.get("failure_code")
            if code is not None:
                self.verification_failures += 1
            self._rows["verification"].append(t, tm.subservice, req, code)

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
            # Every segment of the flush with one executemany, its values with another:
            # the ids SQLite would give one by one (max + 1, read in this transaction).
            segments: list[tuple[Any, ...]] = []
            values: list[tuple[Any, ...]] = []
            for sid, s in self._hk.items():
                if s.times:
                    if not segments:
                        (last,) = db.execute("SELECT max(id) FROM hk_segments").fetchone()
                        segment = (last or 0) + 1
                    times = s.times.take()
                    segments.append(
                        (
                            segment,
                            sid,
                            int(times.min()),
                            int(times.max()),
                            len(times),
                            times.astype("<i8").tobytes(),
                        )
                    )
                    values.extend(zip(repeat(segment), s.points, s.types, s.values(), strict=False))
                    segment += 1
            if segments:
                db.executemany(
                    "INSERT INTO hk_segments (id, sid, t_min, t_max, count, times) "
                    "VALUES (?,?,?,?,?,?)",
                    segments,
                )
                db.executemany("INSERT INTO hk_values VALUES (?,?,?,?)", values)
            r = self._rows
            if r["events"]:
                db.executemany("INSERT INTO events VALUES (?,?,?,?,?)", r["events"].rows())
            if r["verification"]:
                db.executemany(
                    "INSERT INTO verification VALUES (?,?,?,?)", r["verification"].rows()
                )
            if r["decode_errors"]:
                db.executemany("INSERT INTO decode_errors VALUES (?,?)", r["decode_errors"].rows())
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
