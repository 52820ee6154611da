"""Reading an archive: telemetry points over time (table, CSV, Parquet, PNG) and replay.

``flightsw archive query POINT... --since S --until S`` reads points (``app.point``, as
the dictionary names them, e.g. ``power.soc``) from the HK tables of an archive written
by :class:`~flightsw.ground.archive.TmArchive`, one row per report time, a column per
point. ``plot`` draws the same as a PNG. ``replay`` reads the stored packets in time
order (optionally of one APID) and runs them through the decoders again, printing what
they say (HK values, events, verification). The archive carries its dictionary (table
``meta``), so none of these needs the mission; an archive that does not is read with
``--mission``. Times are the build's seconds (the TM time stamps).

Both layouts are read: the columnar one :class:`~flightsw.ground.archive.TmArchive`
writes (packet chunks, HK segments of per-parameter value arrays) and the older row
layout (``packets``, ``hk_<sid>`` tables or the per-point ``hk`` table);
:func:`migrate` copies an archive of the older layout into the columnar one.

Readers open the database while it may be written (WAL): a query during a pass sees
the batches committed so far. A file that is not an archive, or is damaged, is an
:class:`~flightsw.ground.archive.ArchiveError` naming it.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flightsw.base.errors import FlightswError
from flightsw.ground.archive import STORED_DTYPE, ArchiveError, TmArchive, open_db
from flightsw.ground.procedure import EventReport, HkReport, VerificationReport, _Decoder

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class PointColumn:
    """Where a point lives: its HK table and column (or the legacy per-point table)."""

    point: str
    sid: int
    structure: str
    column: str


class ArchiveReader:
    """An open archive with its dictionary, for queries and replay."""

    def __init__(self, path: str | Path, dictionary: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ArchiveError(self.path, "no such file")
        self.db = open_db(self.path)
        try:
            self.tables = {
                name
                for (name,) in self.db.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                )
            }
            self.columnar = "packet_chunks" in self.tables
            if "packets" not in self.tables and not self.columnar:
                raise ArchiveError(self.path, "not a TM archive (no packets table)")
            self.dictionary = dictionary or self._stored_dictionary()
        except sqlite3.Error as exc:
            self.db.close()
            raise ArchiveError(self.path, str(exc)) from None
        except FlightswError:
            self.db.close()
            raise
        self.points: dict[str, PointColumn] = {}
        for h in self.dictionary.get("housekeeping", []):
            for p in h["points"]:
                full = f"{h['app']}.{p['name']}"
                col = PointColumn(full, int(h["sid"]), str(h["name"]), str(p["name"]))
                self.points.setdefault(full, col)
                self.points[f"{h['name']}.{p['name']}"] = col  # structure.point, unambiguous

    def _stored_dictionary(self) -> dict[str, Any]:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'dictionary'").fetchone()
        except sqlite3.OperationalError:
            row = None
        if row is None:
            raise ArchiveError(
                self.path, "carries no dictionary (an older archive): give --mission"
            )
        try:
            found = json.loads(row[0])
        except ValueError as exc:
            raise ArchiveError(self.path, f"its dictionary is not JSON: {exc}") from None
        if not isinstance(found, dict):
            raise ArchiveError(self.path, "its dictionary is not a JSON object")
        return found

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- points ---------------------------------------------------------------
    def column(self, point: str) -> PointColumn:
        found = self.points.get(point)
        if found is None:
            import difflib

            close = difflib.get_close_matches(point, self.points, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise FlightswError(f"no telemetry point {point!r} in {self.path}{hint}")
        return found

    def series(
        self, point: str, since_s: float | None = None, until_s: float | None = None
    ) -> list[tuple[int, float | int]]:
        """(time_ns, value) of one point, in time order."""
        col = self.column(point)
        lo, hi = _bounds(since_s, until_s)
        table = f"hk_{col.sid:04x}"
        try:
            if self.columnar:
                return self._segment_series(col, lo, hi)
            if table in self.tables:
                quoted = '"' + col.column.replace('"', '""') + '"'
                sql = (
                    f"SELECT time_ns, {quoted} FROM {table} WHERE time_ns >= ? AND time_ns <= ? "
                    "ORDER BY time_ns"
                )
                rows = self.db.execute(sql, (lo, hi)).fetchall()
            else:  # an archive with one row per point (table hk)
                rows = self.db.execute(
                    "SELECT time_ns, value FROM hk WHERE sid = ? AND point = ? AND time_ns >= ? "
                    "AND time_ns <= ? ORDER BY time_ns",
                    (col.sid, col.column, lo, hi),
                ).fetchall()
        except sqlite3.Error as exc:
            raise ArchiveError(self.path, str(exc)) from None
        return [(int(t), v) for t, v in rows]

    def _segment_series(self, col: PointColumn, lo: int, hi: int) -> list[tuple[int, float]]:
        """One point's values from the HK segments overlapping [lo, hi], in time order
        (reports of equal time in arrival order); values as floats, as the row layout's
        REAL columns gave them."""
        rows = self.db.execute(
            "SELECT s.times, v.type, v.data FROM hk_segments s JOIN hk_values v "
            "ON v.segment = s.id WHERE s.sid = ? AND v.point = ? AND s.t_max >= ? "
            "AND s.t_min <= ? ORDER BY s.id",
            (col.sid, col.column, lo, hi),
        ).fetchall()
        if not rows:
            return []
        try:
            times = np.concatenate([np.frombuffer(t, dtype="<i8") for t, _ty, _d in rows])
            values = np.concatenate(
                [np.frombuffer(d, dtype=STORED_DTYPE[ty]).astype(np.float64) for _t, ty, d in rows]
            )
        except (KeyError, ValueError) as exc:
            raise ArchiveError(self.path, f"HK segment of {col.point} unreadable: {exc}") from None
        if len(times) != len(values):
            raise ArchiveError(self.path, f"HK segment of {col.point}: times and values differ")
        keep = (times >= lo) & (times <= hi)
        times, values = times[keep], values[keep]
        order = np.argsort(times, kind="stable")
        return list(zip(times[order].tolist(), values[order].tolist(), strict=True))

    def hk_points(self) -> list[tuple[int, int, str, str, float]]:
        """Every archived HK value as (time_ns, sid, structure, point, value): what the
        row layout's ``hk`` view showed, for readers that want it flat."""
        out: list[tuple[int, int, str, str, float]] = []
        for col in {id(c): c for c in self.points.values()}.values():
            out.extend(
                (t, col.sid, col.structure, col.column, v) for t, v in self.series(col.point)
            )
        return out

    def packet_count(self) -> int:
        """How many packets the archive holds."""
        try:
            if self.columnar:
                (n,) = self.db.execute(
                    "SELECT COALESCE(SUM(count), 0) FROM packet_chunks"
                ).fetchone()
            else:
                (n,) = self.db.execute("SELECT COUNT(*) FROM packets").fetchone()
        except sqlite3.Error as exc:
            raise ArchiveError(self.path, str(exc)) from None
        return int(n)

    def query(
        self, points: list[str], since_s: float | None = None, until_s: float | None = None
    ) -> tuple[list[str], list[list[Any]]]:
        """A table: ``time_s`` then one column per point, a row per report time (empty
        where a point was not reported at that time)."""
        if not points:
            raise FlightswError("name at least one telemetry point")
        for p in points:
            self.column(p)  # every name checked before any is read
        by_time: dict[int, list[Any]] = {}
        for i, p in enumerate(points):
            for t, v in self.series(p, since_s, until_s):
                row = by_time.setdefault(t, [None] * len(points))
                row[i] = v
        header = ["time_s", *points]
        rows = [[t / NS_PER_S, *vals] for t, vals in sorted(by_time.items())]
        return header, rows

    # --- replay -----------------------------------------------------------------
    def packets(
        self, since_s: float | None = None, until_s: float | None = None, apid: int | None = None
    ) -> Iterator[bytes]:
        """The stored packets in time order (of one APID if given).

        Each APID's packets come from the (apid, time) index; several APIDs are merged in
        time order (then arrival order)."""
        lo, hi = _bounds(since_s, until_s)
        try:
            table = "packet_chunks" if self.columnar else "packets"
            apids = (
                [apid]
                if apid is not None
                else [a for (a,) in self.db.execute(f"SELECT DISTINCT apid FROM {table}")]
            )
            of = self._chunk_packets_of if self.columnar else self._packets_of
            streams = [of(a, lo, hi) for a in apids]
            for _t, _id, raw in heapq.merge(*streams):
                yield raw
        except sqlite3.Error as exc:
            raise ArchiveError(self.path, str(exc)) from None

    def _packets_of(self, apid: int, lo: int, hi: int) -> Iterator[tuple[int, int, bytes]]:
        cursor = self.db.execute(
            "SELECT time_ns, id, raw FROM packets WHERE apid = ? AND time_ns >= ? AND "
            "time_ns <= ? AND raw IS NOT NULL ORDER BY time_ns, id",
            (apid, lo, hi),
        )
        while rows := cursor.fetchmany(1000):
            for t, i, raw in rows:
                yield int(t), int(i), bytes(raw)

    def _chunk_packets_of(self, apid: int, lo: int, hi: int) -> Iterator[tuple[int, int, bytes]]:
        """One APID's packets in [lo, hi] from its chunks, in time then arrival order
        (arrival: the chunk's row id, then the place in the chunk)."""
        cursor = self.db.execute(
            "SELECT id, times, ends, data FROM packet_chunks WHERE apid = ? AND t_max >= ? "
            "AND t_min <= ? ORDER BY id",
            (apid, lo, hi),
        )
        found: list[tuple[int, int, bytes]] = []
        for cid, times_b, ends_b, data in cursor.fetchall():
            times = np.frombuffer(times_b, dtype="<i8")
            ends = np.frombuffer(ends_b, dtype="<u4")
            if len(times) != len(ends) or (len(ends) and int(ends[-1]) != len(data)):
                raise ArchiveError(self.path, f"packet chunk {cid} (APID {apid}) is inconsistent")
            starts = np.concatenate(([0], ends[:-1])).tolist()
            for i in np.flatnonzero((times >= lo) & (times <= hi)).tolist():
                arrival = (cid << 32) | i
                found.append((int(times[i]), arrival, bytes(data[starts[i] : int(ends[i])])))
        found.sort(key=lambda f: (f[0], f[1]))
        yield from found

    def replay(
        self, since_s: float | None = None, until_s: float | None = None, apid: int | None = None
    ) -> Iterator[HkReport | EventReport | VerificationReport]:
        """The stored packets through the decoders again, in time order."""
        decoder = _Decoder(self.dictionary)
        for seq, raw in enumerate(self.packets(since_s, until_s, apid)):
            item = decoder.decode(raw, seq)
            if item is not None:
                yield item


def migrate(old: str | Path, new: str | Path) -> tuple[int, int]:
    """Copy an archive of the older row layout into a new columnar archive by ingesting
    its stored packets again (through the same decoders, so every table is rebuilt).
    Packet rows stored without their octets cannot be copied; they are counted.
    Returns (packets copied, packets that could not be)."""
    new_path = Path(new)
    if new_path.exists() and new_path.stat().st_size:
        raise ArchiveError(new_path, "exists; migrate into a new file")
    with ArchiveReader(old) as reader:
        if reader.columnar:
            raise ArchiveError(reader.path, "is already in the columnar layout")
        try:
            (without,) = reader.db.execute(
                "SELECT COUNT(*) FROM packets WHERE raw IS NULL"
            ).fetchone()
        except sqlite3.Error:
            without = 0
        writer = TmArchive(new_path, reader.dictionary)
        try:
            writer.ingest_batch(reader.packets())
        finally:
            writer.close()
        return writer.packets + writer.errors, int(without)


def _bounds(since_s: float | None, until_s: float | None) -> tuple[int, int]:
    for name, v in (("--since", since_s), ("--until", until_s)):
        if v is not None and not (math.isfinite(v) and 0 <= v < 2**62 / NS_PER_S):
            raise FlightswError(f"{name} {v!r} is not a time in seconds")
    lo = 0 if since_s is None else round(since_s * NS_PER_S)
    hi = 2**63 - 1 if until_s is None else round(until_s * NS_PER_S)
    if lo > hi:
        raise FlightswError(f"--since {since_s} is after --until {until_s}")
    return lo, hi


def describe(item: HkReport | EventReport | VerificationReport) -> str:
    """One line per decoded report (the console's words)."""
    if isinstance(item, HkReport):
        values = " ".join(f"{k}={_fmt(v)}" for k, v in item.values.items())
        return f"{item.t_s:.3f} HK {item.structure} {values}"
    if isinstance(item, EventReport):
        args = " ".join(f"{k}={_fmt(v)}" for k, v in item.args.items())
        return f"{item.t_s:.3f} EVENT {item.severity} {item.name} {args}".rstrip()
    code = "" if item.failure_code is None else f" failed code {item.failure_code}"
    return f"{item.t_s:.3f} VERIFY 0x{item.request_id:08x} {item.stage}{code}"


def _fmt(v: object) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def format_table(header: list[str], rows: list[list[Any]]) -> str:
    """Aligned text columns."""
    cells = [header] + [["" if v is None else _fmt(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells)


def format_csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in r])
    return out.getvalue()


def write_parquet(header: list[str], rows: list[list[Any]], path: Path) -> None:
    """Parquet through pyarrow (only when it is installed)."""
    try:
        import pyarrow as pa  # type: ignore[import-not-found,import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise FlightswError(
            "Parquet needs pyarrow (pip install pyarrow); use --format csv"
        ) from None
    columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    pq.write_table(pa.table(columns), str(path))


def plot(
    reader: ArchiveReader,
    points: list[str],
    since_s: float | None,
    until_s: float | None,
    out: Path,
) -> int:
    """A PNG with one panel per point; returns the number of samples drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not points:
        raise FlightswError("name at least one telemetry point")
    series = {p: reader.series(p, since_s, until_s) for p in points}
    fig, axes = plt.subplots(len(points), 1, sharex=True, figsize=(9, 2.2 * len(points) + 0.6))
    axes_list = list(axes) if len(points) > 1 else [axes]
    units = {t["name"]: t.get("unit", "") for t in reader.dictionary.get("telemetry", [])}
    n = 0
    for ax, p in zip(axes_list, points, strict=True):
        data = series[p]
        n += len(data)
        ax.plot([t / NS_PER_S for t, _ in data], [v for _, v in data], lw=1)
        unit = units.get(p, "")
        ax.set_ylabel(f"{p}" + (f" [{unit}]" if unit else ""), fontsize=8)
        ax.grid(alpha=0.3)
    axes_list[-1].set_xlabel("build time [s]")
    fig.tight_layout()
    fig.savefig(str(out), dpi=100)
    plt.close(fig)
    return n
