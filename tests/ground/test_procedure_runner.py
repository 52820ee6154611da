"""``flightsw ground run``: procedure files, reports in JSON and in the archive, bad files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from flightsw.cli.main import main


def test_ground_run_in_sil_writes_the_report_and_the_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "a.sqlite"
    assert main(["ground", "run", "ping", "--boards", "4", "--archive", str(archive)]) == 0
    assert capsys.readouterr().out.startswith("PASS ping (sil): 1 commands, 2 verifications")
    report = json.loads((tmp_path / "procedure-ping.json").read_text())
    assert report["passed"] and [s["step"] for s in report["steps"]] == [
        "command",
        "verification",
        "verification",
        "result",
    ]
    db = sqlite3.connect(archive)
    rows = db.execute("SELECT procedure, backend, passed, report FROM procedure_reports").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [("ping", "sil", 1)]
    assert json.loads(rows[0][3]) == report
    # The TM the procedure saw is archived too (verification of its ping).
    assert db.execute("SELECT COUNT(*) FROM verification").fetchone()[0] >= 2


def test_a_failing_procedure_exits_1_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = tmp_path / "fails.py"
    proc.write_text("def run(p):\n    p.await_event('fdir.BOARD_ISOLATED', timeout=2)\n")
    rc = main(["ground", "run", str(proc), "--boards", "4", "--archive", str(tmp_path / "a.db")])
    out = capsys.readouterr().out
    assert rc == 1 and out.startswith("FAIL fails (sil)")
    assert "no event fdir.BOARD_ISOLATED within 2 s of build time" in out


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("def run(p)\n    pass\n", "bad.py:1: expected ':'"),
        ("x = 1\n", "defines no run(p) function"),
        ("def run(p, q):\n    pass\n", "run takes 2 arguments; it must take one (p)"),
        ("import os\n\nraise RuntimeError('boom')\n", "bad.py:3: RuntimeError: boom"),
        (b"\xff\xfe".decode("latin-1"), "bad.py"),
    ],
)
def test_a_malformed_procedure_is_one_error_line_and_nothing_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str
) -> None:
    proc = tmp_path / "bad.py"
    proc.write_text(text, encoding="latin-1")
    archive = tmp_path / "a.sqlite"
    assert main(["ground", "run", str(proc), "--archive", str(archive)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: procedure ") and says in err and err.count("\n") == 1
    assert not archive.exists()  # refused before a build or an archive was made


def test_bad_ground_run_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ground", "run", "no_such_procedure"]) == 1
    assert "shipped one (hk_rate, latchup, payload_job, ping)" in capsys.readouterr().err
    assert main(["ground", "run", "ping", "--fault-port", "127.0.0.1:9"]) == 1
    assert "--fault-port goes with --udp" in capsys.readouterr().err
    assert main(["ground", "run", "ping", "--udp", "nowhere"]) == 1
    assert "is not HOST:PORT" in capsys.readouterr().err


def test_the_readme_procedure_passes_in_sil(tmp_path: Path) -> None:
    import re

    from flightsw.ground.procedure_runner import load_procedure, run_procedure
    from flightsw.sil.procedure_backend import SilBackend
    from tests.apps.conftest import small_node

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text.split("### Procedures", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    path = tmp_path / "ping.py"
    path.write_text(code.group(1))
    report = run_procedure(load_procedure(path), SilBackend(small_node(boards=4)), "ping", path)
    assert report["passed"], report["error"]
