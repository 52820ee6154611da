"""Reading the archive: query, CSV/Parquet, plot, replay, WAL readers, damaged files,
and the ingest fast path equal to the declared decoder."""

from __future__ import annotations

import binascii
import csv
import io
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.cli.main import main
from flightsw.ground.archive import ArchiveError, TmArchive
from flightsw.ground.archive_query import ArchiveReader, format_csv
from flightsw.ground.procedure import HkReport
from flightsw.packets import PusTc
from flightsw.sil.harness import SilHarness
from tests.apps.conftest import small_node

TABLES = ["packet_chunks", "hk_segments", "hk_values", "events", "verification", "decode_errors"]


def _n_packets(tables: dict[str, list[tuple[Any, ...]]]) -> int:
    return sum(row[4] for row in tables["packet_chunks"])  # the chunks' counts


@pytest.fixture(scope="module")
def run_tm() -> tuple[list[bytes], dict[str, Any]]:
    """Real-time TM of two minutes of a small busy node, with a latch-up in it."""
    from sim_hw.faults import FaultKind, ScheduledFault

    h: SilHarness = small_node(boards=8, busy=4)
    h.hal.harness["sim"].faults.extend([ScheduledFault(30.0, FaultKind.SEL, 0)])
    h.send("test.ping")
    h.send_raw(PusTc(h.mission.executive.apid, 17, 99, seq_count=7).encode())  # TM(1,2)
    h.run(120)
    return list(h.raw_tm), h.dictionary


def _archive(
    path: Path | str, dictionary: dict[str, Any], packets: list[bytes], fast: bool
) -> dict[str, list[tuple[Any, ...]]]:
    """Ingest ``packets`` (by the fast path or the declared decoder only); every table."""
    a = TmArchive(path, dictionary, batch=64)
    if fast:
        a.ingest_batch(packets)
    else:
        a._fast = lambda _raw: False  # type: ignore[method-assign]  # the declared decoder only
        for p in packets:
            a.ingest(p)
    a.flush()
    out = _dump(a.db)
    a.close()
    return out


def _dump(db: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {n: db.execute(f"SELECT * FROM {n} ORDER BY rowid").fetchall() for n in sorted(names)}


def _mutants(packets: list[bytes]) -> st.SearchStrategy[list[bytes]]:
    one = st.tuples(st.sampled_from(packets), st.integers(0, 200), st.integers(0, 255)).map(
        lambda t: t[0][: t[1] % (len(t[0]) + 1)] + bytes([t[2]]) + t[0][t[1] % len(t[0]) + 1 :]
    )
    return st.lists(st.one_of(st.sampled_from(packets), one, st.binary(max_size=40)), max_size=30)


def test_the_fast_path_writes_what_the_decoder_writes(
    run_tm: tuple[list[bytes], dict[str, Any]], tmp_path: Path
) -> None:
    packets, dictionary = run_tm
    fast = _archive(tmp_path / "fast.sqlite", dictionary, packets, fast=True)
    slow = _archive(tmp_path / "slow.sqlite", dictionary, packets, fast=False)
    assert fast == slow
    assert _n_packets(fast) == len(packets) and len(fast["events"]) >= 3


@settings(max_examples=10)
@given(data=st.data())
def test_the_fast_path_refuses_garbage_as_the_decoder_does(
    run_tm: tuple[list[bytes], dict[str, Any]], data: Any
) -> None:
    packets, dictionary = run_tm
    stream = data.draw(_mutants(packets[:50]))
    fast = _archive(":memory:", dictionary, stream, fast=True)
    assert fast == _archive(":memory:", dictionary, stream, fast=False)


@settings(max_examples=10)
@given(fine=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=40))
def test_the_fast_path_reads_any_fine_time_as_the_decoder_does(
    run_tm: tuple[list[bytes], dict[str, Any]], fine: list[int]
) -> None:
    """HK at any sub-second time (a valid CRC, so the fast path takes it)."""
    packets, dictionary = run_tm
    hk = [p for p in packets if p[7] == 3 and p[8] == 25][: len(fine)]
    stream = []
    for p, f in zip(hk, fine, strict=False):
        body = p[:17] + f.to_bytes(2, "big") + p[19:-2]
        stream.append(body + binascii.crc_hqx(body, 0xFFFF).to_bytes(2, "big"))
    fast = _archive(":memory:", dictionary, stream, fast=True)
    assert _n_packets(fast) == len(stream)
    assert fast == _archive(":memory:", dictionary, stream, fast=False)


@pytest.fixture(scope="module")
def archive(
    run_tm: tuple[list[bytes], dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = tmp_path_factory.mktemp("arc") / "archive.sqlite"
    _archive(path, run_tm[1], run_tm[0], fast=True)
    return path


def test_replay_gives_the_archived_values(archive: Path) -> None:
    with ArchiveReader(archive) as r:
        replayed = [i for i in r.replay() if isinstance(i, HkReport)]
        soc = [
            (round(i.t_s * 1e9), i.values["power.soc"]) for i in replayed if "power.soc" in i.values
        ]
        assert soc == r.series("power.soc") and len(soc) >= 10
        latch = [
            (round(i.t_s * 1e9), i.values["fdir.latchups"])
            for i in replayed
            if "fdir.latchups" in i.values
        ]
        assert latch == r.series("fdir.latchups") and latch[-1][1] == 1  # the latch-up is in it
        # Replay of one APID and a time window is the matching share.
        some = list(r.replay(since_s=30, until_s=60, apid=0x64))
        assert some and all(30 <= i.t_s <= 60 for i in some)
        assert list(r.replay(apid=0x65)) == []


def test_query_and_csv_round_trip(archive: Path) -> None:
    with ArchiveReader(archive) as r:
        header, rows = r.query(["power.soc", "thermal.max_board_temp_c", "fdir.latchups"], 20, 80)
    assert header == ["time_s", "power.soc", "thermal.max_board_temp_c", "fdir.latchups"]
    assert rows and all(20 <= row[0] <= 80 for row in rows)
    back = list(csv.reader(io.StringIO(format_csv(header, rows))))
    assert back[0] == header
    parsed = [[float(x) if x else None for x in row] for row in back[1:]]
    assert parsed == [[None if v is None else float(v) for v in row] for row in rows]


def test_parquet_round_trip(archive: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "q.parquet"
    assert (
        main(
            [
                "archive",
                "query",
                "power.soc",
                "--archive",
                str(archive),
                "--format",
                "parquet",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    table = pq.read_table(str(out))
    with ArchiveReader(archive) as r:
        series = r.series("power.soc")
    assert len(series) > 5
    assert table.column("power.soc").to_pylist() == [v for _t, v in series]
    assert table.column("time_s").to_pylist() == pytest.approx([t / 1e9 for t, _v in series])


def test_cli_query_plot_replay(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = ["--archive", str(archive)]
    assert main(["archive", "query", "power.soc", "fdir.latchups", *a, "--since", "100"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["time_s", "power.soc", "fdir.latchups"] and len(lines) >= 2
    assert main(["archive", "replay", *a, "--until", "40"]) == 0
    out = capsys.readouterr().out
    assert "EVENT MEDIUM fdir.BOARD_LATCHUP board=0" in out and " HK power.power " in out
    assert main(["archive", "query", "power.sok", *a]) == 1
    assert "did you mean power.soc" in capsys.readouterr().err
    assert main(["archive", "query", "power.soc", *a, "--since", "9", "--until", "3"]) == 1
    assert "--since 9.0 is after --until 3.0" in capsys.readouterr().err
    assert main(["archive", "query", "power.soc", *a, "--format", "parquet"]) == 1
    assert "give -o FILE" in capsys.readouterr().err
    # The archive typed where the points go (no --archive): named, and how to give it.
    missing = tmp_path / "none.sqlite"
    assert main(["archive", "query", str(archive), "power.soc", "--archive", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"{archive} is a file, not a point: give it as --archive {archive}" in err


@pytest.mark.slow  # matplotlib's import alone takes seconds
def test_cli_plot_writes_a_png(archive: Path, tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    argv = ["archive", "plot", "power.soc", "payload.jobs_running", "--archive", str(archive)]
    assert main([*argv, "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert main(["archive", "plot", "power.sok", "--archive", str(archive)]) == 1


def test_queries_run_while_a_pass_is_ingested(
    run_tm: tuple[list[bytes], dict[str, Any]], tmp_path: Path, archive: Path
) -> None:
    """WAL: a reader in another thread sees committed batches, never a lock error."""
    packets, dictionary = run_tm
    path = tmp_path / "pass.sqlite"
    writer = TmArchive(path, dictionary, batch=50)
    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            with ArchiveReader(path) as r:
                while not done.is_set():
                    seen.append(len(r.series("power.soc")))
        except BaseException as exc:  # reported below
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _round in range(20):
            writer.ingest_batch(packets)
            writer.flush()
    finally:
        done.set()
        reader.join(timeout=60)
        writer.close()
    assert errors == []
    assert len(set(seen)) >= 2 and seen == sorted(seen)  # it grew while being read
    with ArchiveReader(archive) as once:
        per_pass = len(once.series("power.soc"))
    with ArchiveReader(path) as r:
        assert len(r.series("power.soc")) == 20 * per_pass


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"garbage, not SQLite" * 10, "file is not a database"),
        (b"", "not a TM archive (no packets table)"),
        (None, "database disk image is malformed"),
    ],
)
def test_a_damaged_archive_is_one_error_line(
    archive: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    says: str,
) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(archive.read_bytes()[:6000] if content is None else content)
    for verb in (["query", "power.soc"], ["replay"]):
        assert main(["archive", *verb, "--archive", str(bad)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: archive {bad}: ") and says in err and err.count("\n") == 1
    if content:  # the ingest side refuses it too (an empty file is a fresh archive)
        with pytest.raises(ArchiveError):
            TmArchive(bad, {})


def test_a_reader_in_a_transaction_does_not_hold_up_ingest(
    run_tm: tuple[list[bytes], dict[str, Any]], tmp_path: Path
) -> None:
    """WAL's promise, checked without threads: a reader holding a snapshot open does not
    block a commit (with a rollback journal the commit waits, here for 0.2 s, then fails)."""
    packets, dictionary = run_tm
    path = tmp_path / "wal.sqlite"
    writer = TmArchive(path, dictionary)
    half = len(packets) // 2
    writer.ingest_batch(packets[:half])
    writer.flush()
    writer.db.execute("PRAGMA busy_timeout = 200")
    reader = sqlite3.connect(str(path), isolation_level=None)
    reader.execute("BEGIN")
    (before,) = reader.execute("SELECT SUM(count) FROM packet_chunks").fetchone()
    writer.ingest_batch(packets[half:])
    writer.flush()  # commits while the reader's snapshot is open
    assert reader.execute("SELECT SUM(count) FROM packet_chunks").fetchone() == (before,)
    reader.execute("COMMIT")
    assert reader.execute("SELECT SUM(count) FROM packet_chunks").fetchone() == (len(packets),)
    reader.close()
    writer.close()


def test_the_run_has_each_kind_the_fast_path_takes(
    run_tm: tuple[list[bytes], dict[str, Any]],
) -> None:
    """The equality test above means something only if the run holds HK, events and both
    kinds of verification report."""
    kinds = {(p[7], p[8]) for p in run_tm[0]}
    assert {(3, 25), (1, 1), (1, 2), (1, 7)} <= kinds
    assert any(s == 5 for s, _ in kinds)


def test_a_cluster_nodes_archive_by_node_name(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--node NAME``: the node's archive in a ``flightsw cluster`` run directory."""
    import shutil

    run = tmp_path / "cluster"
    for name in ("node00", "node01"):
        (run / "nodes" / name).mkdir(parents=True)
    shutil.copy(archive, run / "nodes" / "node01" / "archive.sqlite")
    assert main(["archive", "query", "power.soc", "--archive", str(archive)]) == 0
    direct = capsys.readouterr().out
    argv = ["archive", "query", "power.soc", "--archive", str(run)]
    assert main([*argv, "--node", "node01"]) == 0
    assert capsys.readouterr().out == direct and direct.count("\n") > 10
    for node, says in (("node00", "nodes: node01"), ("../x", "no such node")):
        assert main([*argv, "--node", node]) == 1
        assert says in capsys.readouterr().err
    assert main(["archive", "replay", "--archive", str(archive), "--node", "node01"]) == 1
    assert "not a cluster run directory" in capsys.readouterr().err
