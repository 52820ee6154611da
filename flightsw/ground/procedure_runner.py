"""Running a procedure file and keeping its report (``flightsw ground run PROCEDURE.py``).

A procedure file is Python that defines ``run(p)``, ``p`` a
:class:`~flightsw.ground.procedure.Procedure`. It is loaded (a file that does not
compile, or has no ``run(p)``, is an error naming the file and the line), run against
a back end, and its report (commands, verifications, events, faults injected, pass or
fail with the reason) is written as JSON and as a row of the archive's
``procedure_reports`` table.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sqlite3
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flightsw.base.errors import FlightswError
from flightsw.ground.procedure import Backend, Procedure, ProcedureFailed

ProcedureFn = Callable[[Procedure], object]

REPORTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS procedure_reports (
    id INTEGER PRIMARY KEY, procedure TEXT, backend TEXT, started_s REAL, ended_s REAL,
    passed INTEGER, error TEXT, report TEXT);
"""


def load_procedure(path: Path) -> ProcedureFn:
    """The ``run(p)`` of a procedure file; FlightswError naming the file (and line)."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FlightswError(f"procedure {path}: {exc}") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise FlightswError(f"procedure {path}:{exc.lineno}: {exc.msg}") from None
    spec = importlib.util.spec_from_loader(f"flightsw_procedure_{path.stem}", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    try:
        exec(code, module.__dict__)  # the user's own procedure, as pytest runs a test file
    except Exception as exc:  # anything the file does at import is the file's fault
        raise FlightswError(
            f"procedure {path}:{_line_in(exc, path)}: {type(exc).__name__}: {exc}"
        ) from None
    fn = module.__dict__.get("run")
    if not callable(fn):
        raise FlightswError(f"procedure {path}: defines no run(p) function")
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    if len(params) != 1:
        raise FlightswError(
            f"procedure {path}: run takes {len(params)} arguments; it must take one (p)"
        )
    return fn  # type: ignore[no-any-return]


def _line_in(exc: BaseException, path: Path) -> int | str:
    """The line of ``path`` where ``exc`` was raised (the innermost frame in the file)."""
    line: int | str = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == str(path) and frame.lineno is not None:
            line = frame.lineno
    return line


def run_procedure(
    fn: ProcedureFn, backend: Backend, name: str, path: Path | None = None
) -> dict[str, Any]:
    """Run ``fn`` against ``backend``; its report (a failure is in the report, not raised)."""
    p = Procedure(backend, name)
    try:
        fn(p)
    except ProcedureFailed as exc:
        return p.finish(False, str(exc))
    except FlightswError as exc:
        return p.finish(False, f"{type(exc).__name__}: {exc}")
    except AssertionError as exc:
        where = f" (line {_line_in(exc, path)})" if path is not None else ""
        return p.finish(False, f"assertion failed{where}: {exc}")
    except Exception as exc:  # the procedure's own bug: a failed procedure, not a crash
        where = f" (line {_line_in(exc, path)})" if path is not None else ""
        return p.finish(False, f"{type(exc).__name__}{where}: {exc}")
    return p.finish(True)


def write_report(report: dict[str, Any], json_path: Path | None, archive: Path | None) -> None:
    """The report as a JSON file and as a row of ``procedure_reports`` in the archive."""
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = json_path.with_name(json_path.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=1, default=str))
        tmp.replace(json_path)
    if archive is not None:
        try:
            db = sqlite3.connect(str(archive), timeout=10.0)
            try:
                with db:
                    db.executescript(REPORTS_SCHEMA)
                    db.execute(
                        "INSERT INTO procedure_reports (procedure, backend, started_s, "
                        "ended_s, passed, error, report) VALUES (?,?,?,?,?,?,?)",
                        (
                            report["procedure"],
                            report["backend"],
                            report["started_s"],
                            report["ended_s"],
                            int(bool(report["passed"])),
                            report["error"],
                            json.dumps(report, default=str),
                        ),
                    )
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise FlightswError(f"archive {archive}: {exc}") from None
