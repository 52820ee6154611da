"""The SQLite archive in its columnar layout: packets in chunks per APID, HK values in
per-parameter segments; read back through :class:`ArchiveReader` equal to what went in,
across chunk boundaries; an archive of the older row layout refused by name and migrated."""

import math
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flightsw.cli.main import main
from flightsw.framework.datatypes import TYPES
from flightsw.ground.archive import ArchiveError, TmArchive
from flightsw.ground.archive_query import ArchiveReader, migrate
from flightsw.packets import PusTm, cuc_decode, cuc_encode
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
        st_ = struct.Struct(">" + "".join(TYPES[x["type"]].code for x in d["points"]))
        for x, v in zip(d["points"], st_.unpack_from(p.app_data, 2), strict=True):
            rows.append((cuc_decode(p.time), sid, d["name"], x["name"], float(v)))
    return rows


def test_every_point_of_every_report_reads_back(tmp_path: Path) -> None:
    h = small_node(boards=8, radiation_enabled=False)
    h.run(60)
    archive = TmArchive(tmp_path / "a.sqlite", h.dictionary, batch=7)
    for raw in h.raw_tm:
        archive.ingest(raw)
    archive.close()
    expected = _expected_points(h, h.dictionary)
    assert len(expected) > 100
    with ArchiveReader(tmp_path / "a.sqlite") as r:
        got = r.hk_points()
        assert sorted(got, key=repr) == sorted(expected, key=repr)
        assert r.packet_count() == len(h.raw_tm)
        assert list(r.packets()) == list(h.raw_tm)  # one APID, in time order already
        soc = r.series("power.soc")
    assert len(soc) == sum(1 for row in expected if row[3] == "soc")


# A dictionary of its own for the property test: every wire type in one structure.
_TYPES = ["u8", "i16", "u32", "f32", "f64", "bool", "u64", "i64"]
_DICT: dict[str, Any] = {
    "housekeeping": [
        {
            "sid": 1,
            "app": "a",
            "name": "a.all",
            "points": [{"name": f"p_{t}", "type": t} for t in _TYPES],
        },
        {"sid": 2, "app": "b", "name": "b.one", "points": [{"name": "v", "type": "u16"}]},
    ],
    "events": [],
}
_ALL = struct.Struct(">" + "".join(TYPES[t].code for t in _TYPES))


def _value(t: str) -> st.SearchStrategy[Any]:
    d = TYPES[t]
    if d.kind == "float":
        return st.floats(width=d.bits, allow_nan=False)
    if d.kind == "bool":
        return st.booleans()
    return st.integers(int(d.min), int(d.max))


_REPORT = st.one_of(
    st.tuples(st.just(1), st.tuples(*[_value(t) for t in _TYPES])),
    st.tuples(st.just(2), st.tuples(_value("u16"))),
    st.tuples(st.just(0), st.just(())),  # not HK: a TM(17,2) with no data
)


@settings(max_examples=40, deadline=None)
@given(
    stream=st.lists(
        st.tuples(st.integers(0, 2**36), st.sampled_from([100, 101, 2047]), _REPORT),
        max_size=60,
    ),
    batch=st.integers(1, 9),
    split=st.integers(0, 8),
)
def test_packets_and_values_read_back_as_ingested(
    tmp_path_factory: pytest.TempPathFactory,
    stream: list[tuple[int, int, tuple[int, tuple[Any, ...]]]],
    batch: int,
    split: int,
) -> None:
    """Any packets, ingested in any batches (one by one, then batched), come back out:
    each APID's packets in time then arrival order, each point's values by time."""
    path = tmp_path_factory.mktemp("prop") / "a.sqlite"
    raws: list[tuple[int, int, bytes]] = []
    for t_ns, apid, (sid, values) in stream:
        time = cuc_encode(t_ns)
        t = cuc_decode(time)  # the tick the packet carries
        if sid == 1:
            data = struct.pack(">H", 1) + _ALL.pack(*values)
        elif sid == 2:
            data = struct.pack(">HH", 2, *values)
        pkt = (
            PusTm(apid, 3, 25, data, time=time) if sid else PusTm(apid, 17, 2, time=time)
        ).encode()
        raws.append((t, apid, pkt))
    archive = TmArchive(path, _DICT, batch=batch)
    for _t, _a, raw in raws[:split]:
        archive.ingest(raw)
    archive.ingest_batch(raw for _t, _a, raw in raws[split:])
    archive.close()
    with ArchiveReader(path) as r:
        assert r.packet_count() == len(raws)
        for apid in (100, 101, 2047):
            mine = [(t, raw) for t, a, raw in raws if a == apid]
            assert list(r.packets(apid=apid)) == [
                raw for _t, raw in sorted(mine, key=lambda x: x[0])
            ]
        for i, ty in enumerate(_TYPES):
            want = [(t, float(vals[i])) for t, _a, (sid, vals) in _hk(stream) if sid == 1]
            assert r.series(f"a.p_{ty}") == sorted(want, key=lambda x: x[0])
        want2 = [(t, float(vals[0])) for t, _a, (sid, vals) in _hk(stream) if sid == 2]
        assert r.series("b.v") == sorted(want2, key=lambda x: x[0])


def test_an_archive_reopened_goes_on_with_new_segments(tmp_path: Path) -> None:
    """Segment ids are given at each flush after those already in the file (another
    session's, too): the values of every session join their own segment's times."""
    path = tmp_path / "a.sqlite"
    times = [cuc_decode(cuc_encode(k * 10**9)) for k in range(12)]
    for session in range(3):
        archive = TmArchive(path, _DICT, batch=2)
        for t in times[session * 4 : session * 4 + 4]:
            data = struct.pack(">HH", 2, t // 10**9)
            archive.ingest_batch([PusTm(100, 3, 25, data, time=cuc_encode(t)).encode()])
            archive.ingest(PusTm(101, 3, 25, data, time=cuc_encode(t)).encode())
        archive.close()
    with ArchiveReader(path) as r:
        assert sorted(r.series("b.v")) == sorted([(t, float(t // 10**9)) for t in times] * 2)
    with sqlite3.connect(path) as db:
        ids = [i for (i,) in db.execute("SELECT id FROM hk_segments ORDER BY rowid")]
        assert ids == list(range(1, len(ids) + 1))
        assert db.execute("SELECT count(*) FROM hk_values").fetchone() == (len(ids),)


def _hk(stream: list[tuple[int, int, tuple[int, tuple[Any, ...]]]]) -> list[Any]:
    return [(cuc_decode(cuc_encode(t)), a, r) for t, a, r in stream]


def _old_layout(path: Path, raws: list[bytes], dictionary: dict[str, Any]) -> None:
    """An archive as the row layout wrote it: a row per packet with its octets."""
    import json

    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE packets (id INTEGER PRIMARY KEY, time_ns INTEGER, apid INTEGER, "
            "seq_count INTEGER, service INTEGER, subservice INTEGER, msg_counter INTEGER, "
            "length INTEGER, raw BLOB)"
        )
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('dictionary', ?)", (json.dumps(dictionary),))
        for raw in raws:
            tm = PusTm.decode(raw)
            db.execute(
                "INSERT INTO packets (time_ns, apid, seq_count, service, subservice, "
                "msg_counter, length, raw) VALUES (?,?,?,?,?,?,?,?)",
                (cuc_decode(tm.time), tm.apid, tm.seq_count, tm.service, tm.subservice, 0,
                 len(raw), raw),
            )  # fmt: skip


def test_an_archive_of_the_older_layout_is_refused_by_name_and_migrates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = small_node(boards=4, radiation_enabled=False)
    h.run(30)
    old = tmp_path / "old.sqlite"
    _old_layout(old, list(h.raw_tm), h.dictionary)
    with pytest.raises(ArchiveError, match=r"older row layout.*flightsw archive migrate"):
        TmArchive(old, h.dictionary)
    assert main(["archive", "migrate", str(old), str(tmp_path / "new.sqlite")]) == 0
    assert f"{len(h.raw_tm)} packets copied" in capsys.readouterr().err
    with ArchiveReader(old) as r_old, ArchiveReader(tmp_path / "new.sqlite") as r_new:
        assert list(r_new.packets()) == list(r_old.packets()) == list(h.raw_tm)
        assert sorted(r_new.hk_points(), key=repr) == sorted(
            _expected_points(h, h.dictionary), key=repr
        )
    with pytest.raises(ArchiveError, match="exists"):
        migrate(old, tmp_path / "new.sqlite")
    assert main(["archive", "migrate", str(tmp_path / "new.sqlite"), str(tmp_path / "x")]) == 1


# The batch path against the declared decoder, from the side of the reports' content:
# well-formed TM of every kind the batch path reads (every HK structure, verification
# successes and failures, events whose arguments are any floats, NaN and infinities
# included, bools, none, or the wrong length), over two APIDs, taken as one run.
def _batch_dictionary() -> dict[str, Any]:
    from flightsw.runtime.dictionary import build_dictionary
    from flightsw.runtime.mission import load_mission

    d = build_dictionary(load_mission())
    d["events"].append(
        {"id": 0x7F01, "name": "t.FLAGS", "severity": "INFO",
         "args": [{"name": "on", "type": "bool"}, {"name": "x", "type": "f32"}]}
    )  # fmt: skip
    return d


_BATCH_DICT = _batch_dictionary()
_HK_SIZES = {
    h["sid"]: struct.calcsize(">" + "".join(TYPES[p["type"]].code for p in h["points"]))
    for h in _BATCH_DICT["housekeeping"]
}
_EVENTS = {e["id"]: e for e in _BATCH_DICT["events"]}
_FLOAT_EVENTS = sorted(i for i, e in _EVENTS.items() if any(a["type"][0] == "f" for a in e["args"]))


@st.composite
def _event_data(draw: st.DrawFn) -> bytes:
    """An event report's data: a known id, then arguments of its declared types (floats
    with NaN and infinities) or, now and then, octets of the wrong length."""
    eid = draw(st.sampled_from(sorted(_EVENTS)) | st.sampled_from(_FLOAT_EVENTS))
    if draw(st.integers(0, 5)) == 0:  # the wrong length: kept raw, as _raw hex
        return struct.pack(">H", eid) + draw(st.binary(max_size=12))
    data = struct.pack(">H", eid)
    for a in _EVENTS[eid]["args"]:
        kind = TYPES[a["type"]]
        if kind.kind == "float":
            special = st.sampled_from([math.nan, math.inf, -math.inf])
            data += struct.pack(">" + kind.code, draw(st.floats(width=kind.bits) | special))
        elif kind.kind == "bool":
            data += struct.pack(">?", draw(st.booleans()))
        else:
            data += struct.pack(">" + kind.code, draw(st.integers(int(kind.min), int(kind.max))))
    return data


_TM_KIND = st.one_of(
    st.tuples(st.just(3), st.just(25), st.sampled_from(sorted(_HK_SIZES)).flatmap(
        lambda sid: st.binary(min_size=_HK_SIZES[sid], max_size=_HK_SIZES[sid]).map(
            lambda b: struct.pack(">H", sid) + b))),
    st.tuples(st.just(5), st.integers(1, 4), _event_data()),
    st.tuples(st.just(1), st.sampled_from([1, 3, 7]), st.binary(min_size=4, max_size=4)),
    st.tuples(st.just(1), st.sampled_from([2, 4, 8]), st.binary(min_size=6, max_size=10)),
    st.tuples(st.just(17), st.just(2), st.just(b"")),
)  # fmt: skip


_F32_EVENT = next(i for i in _FLOAT_EVENTS if [a["type"] for a in _EVENTS[i]["args"]] == ["f32"])
_EDGES = [  # always tried: non-finite floats, a bool, odd lengths, a failure, two APIDs
    (7, 101, (5, 2, struct.pack(">Hf", _F32_EVENT, math.nan))),
    (5, 100, (5, 1, struct.pack(">Hf", _F32_EVENT, 0.1))),
    (5, 100, (5, 3, struct.pack(">Hf", _F32_EVENT, -math.inf))),
    (6, 100, (5, 4, struct.pack(">H?f", 0x7F01, True, 2.5))),
    (6, 101, (5, 1, struct.pack(">Hf", _F32_EVENT, 1.0) + b"\x00")),
    (9, 100, (1, 2, struct.pack(">IHB", 0x12345678, 7, 1))),
    (9, 101, (1, 7, struct.pack(">I", 0x12345678))),
    (3, 100, (3, 25, struct.pack(">H", 1) + bytes(_HK_SIZES[1]))),
]


# One report: (on-board time, APID, (service, subservice, application data)).
_REPORT = st.tuples(st.integers(0, 2**36), st.sampled_from([100, 101]), _TM_KIND)


@example(reports=_EDGES)
@settings(max_examples=20, deadline=None)
@given(
    reports=st.lists(
        _REPORT,
        min_size=1,
        max_size=40,
    )
)
def test_the_batch_path_writes_what_the_decoder_writes(
    reports: list[tuple[int, int, Any]],
) -> None:
    raws = [
        PusTm(apid, svc, sub, data, time=cuc_encode(t)).encode()
        for t, apid, (svc, sub, data) in reports
    ]
    batch = TmArchive(":memory:", _BATCH_DICT, batch=1000)
    assert batch._fast_many(raws)  # the run is taken whole by the batch path
    batch.flush()
    slow = TmArchive(":memory:", _BATCH_DICT, batch=1000)
    slow._fast = lambda _raw: False  # type: ignore[method-assign]  # the declared decoder only
    for raw in raws:
        slow.ingest(raw)
    slow.flush()
    tables = ["packet_chunks", "hk_segments", "hk_values", "events", "verification"]
    for t in [*tables, "decode_errors"]:
        got = batch.db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
        assert got == slow.db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall(), t
    assert (batch.packets, batch.errors) == (slow.packets, 0)
    assert batch.events_by_severity == slow.events_by_severity
    assert batch.verification_failures == slow.verification_failures
    batch.close()
    slow.close()


def _damage(raw: bytes, at: int, xor: int) -> bytes:
    out = bytearray(raw)
    out[at % len(raw)] ^= xor
    return bytes(out)


@settings(max_examples=20, deadline=None)
@given(
    reports=st.lists(
        _REPORT,
        min_size=1,
        max_size=30,
    ),
    where=st.sampled_from(["first", "middle", "last", "two", "any"]),
    joined_crc=st.booleans(),
    data=st.data(),
)
def test_a_damaged_packet_anywhere_in_a_batch_is_rejected_and_nothing_else_lost(
    reports: list[tuple[int, int, Any]], where: str, joined_crc: bool, data: st.DataObject
) -> None:
    """A batch with one damaged packet (first, middle, last, anywhere) or two (the same
    octet damage, which the batch CRC always catches below 4,095 octets): each is a
    decode error at its position, with the decoder's own message, and counted; every
    other packet's rows are those of the batch without it. With and without the joined
    CRC (``anycrc``)."""
    from flightsw.base.errors import DecodeError
    from flightsw.ground import archive_crc

    raws = [
        PusTm(apid, svc, sub, payload, time=cuc_encode(t)).encode()
        for t, apid, (svc, sub, payload) in reports
    ]
    n = len(raws)
    if where == "two" and n < 2:
        where = "first"
    if where == "two":
        bad = data.draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
    elif where == "any":
        bad = [data.draw(st.integers(0, n - 1))]
    else:
        bad = [{"first": 0, "middle": n // 2, "last": n - 1}[where]]
    xor = data.draw(st.integers(1, 255))
    damaged = list(raws)
    for i in bad:
        damaged[i] = _damage(raws[i], data.draw(st.integers(0, 300)), xor)
    assert sum(map(len, damaged)) < 4095
    kept = archive_crc.joined_crc
    if not joined_crc:
        archive_crc.joined_crc = None
    try:
        got = TmArchive(":memory:", _BATCH_DICT, batch=1000)
        got.ingest_batch(damaged)
        got.flush()
        want = TmArchive(":memory:", _BATCH_DICT, batch=1000)
        want.ingest_batch([r for i, r in enumerate(raws) if i not in bad])
        want.flush()
    finally:
        archive_crc.joined_crc = kept
    messages = []
    for i in sorted(bad):
        with pytest.raises(DecodeError) as exc:
            PusTm.decode(damaged[i])
        messages.append((i, str(exc.value)))
    assert got.db.execute("SELECT * FROM decode_errors ORDER BY rowid").fetchall() == messages
    assert (got.packets, got.errors) == (n - len(bad), len(bad))
    for t in ["packet_chunks", "hk_segments", "hk_values", "events", "verification"]:
        rows = got.db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
        assert rows == want.db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall(), t
    assert got.events_by_severity == want.events_by_severity
    assert got.verification_failures == want.verification_failures
    got.close()
    want.close()
