"""The SQLite archive: one row per HK report in its structure's table, read one row per
point through the ``hk`` view; an archive of the older layout keeps its layout."""

import sqlite3
import struct
from pathlib import Path

from flightsw.datatypes import TYPES
from flightsw.ground.archive import TmArchive
from flightsw.packets import cuc_decode
from tests.apps.conftest import small_node


def _expected_points(h, dictionary):  # type: ignore[no-untyped-def]
    """Every (time, sid, structure, point, value) of the HK the harness saw, decoded here."""
    decls = {d["sid"]: d for d in dictionary["housekeeping"]}
    rows = []
    for p in h.tm:
        if p.service != 3 or p.subservice != 25:
            continue
        (sid,) = struct.unpack_from(">H", p.app_data)
        d = decls[sid]
        st = struct.Struct(">" + "".join(TYPES[x["type"]].code for x in d["points"]))
        for x, v in zip(d["points"], st.unpack_from(p.app_data, 2), strict=True):
            rows.append((cuc_decode(p.time), sid, d["name"], x["name"], float(v)))
    return rows


def test_the_hk_view_shows_every_point_of_every_report(tmp_path: Path) -> None:
    h = small_node(boards=8, radiation_enabled=False)
    h.run(60)
    archive = TmArchive(tmp_path / "a.sqlite", h.dictionary, batch=7)
    for raw in h.raw_tm:
        archive.ingest(raw)
    archive.close()
    expected = _expected_points(h, h.dictionary)
    assert len(expected) > 100
    db = sqlite3.connect(tmp_path / "a.sqlite")
    got = db.execute("SELECT time_ns, sid, structure, point, value FROM hk").fetchall()
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    (n,) = db.execute(
        "SELECT count(*) FROM hk WHERE structure = 'power.power' AND point = 'soc'"
    ).fetchone()
    assert n == sum(1 for r in expected if r[3] == "soc")


def test_an_archive_of_the_older_layout_is_appended_in_it(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE hk (time_ns INTEGER, sid INTEGER, structure TEXT, point TEXT, value REAL)"
        )
        db.execute("INSERT INTO hk VALUES (1, 1, 'x.y', 'p', 2.0)")
    h = small_node(boards=4, radiation_enabled=False)
    h.run(30)
    archive = TmArchive(path, h.dictionary)
    for raw in h.raw_tm:
        archive.ingest(raw)
    archive.close()
    db = sqlite3.connect(path)
    (kind,) = db.execute("SELECT type FROM sqlite_master WHERE name = 'hk'").fetchone()
    assert kind == "table"
    (n,) = db.execute("SELECT count(*) FROM hk").fetchone()
    assert n == 1 + len(_expected_points(h, h.dictionary))
