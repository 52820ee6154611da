"""The fingerprint tool must tell a changed run from an unchanged one (it is the proof
that a speed change left every output alone, so a check that cannot fail is no proof)."""

import json
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import sil_fingerprint


def _archive(path: Path, rows: list[tuple[int, str]]) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    con.commit()
    con.close()
    return path


def test_archive_digest_sees_one_changed_row_and_the_row_order(tmp_path: Path) -> None:
    rows = [(1, "x"), (2, "y")]
    same = sil_fingerprint.archive_digest(_archive(tmp_path / "a.sqlite", rows))
    assert same == sil_fingerprint.archive_digest(_archive(tmp_path / "b.sqlite", rows))
    changed = sil_fingerprint.archive_digest(_archive(tmp_path / "c.sqlite", [(1, "x"), (2, "z")]))
    swapped = sil_fingerprint.archive_digest(_archive(tmp_path / "d.sqlite", rows[::-1]))
    assert len({same, changed, swapped}) == 3


def test_compare_fails_on_a_difference_and_names_it(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    old = {"run a": {"tm": "1", "archive": "2"}, "run b": {"tm": "3", "archive": "4"}}
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "same.json").write_text(json.dumps(old))
    new = {**old, "run b": {"tm": "3", "archive": "5"}}
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert sil_fingerprint.compare(tmp_path / "old.json", tmp_path / "same.json") == 0
    assert sil_fingerprint.compare(tmp_path / "old.json", tmp_path / "new.json") == 1
    assert "run b: DIFFERS in archive" in capsys.readouterr().out
