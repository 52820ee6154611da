"""ruff and mypy stay clean: the project's own rule, checked on every CI run."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _have(module: str) -> bool:
    return (
        subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True).returncode
        == 0
    )


@pytest.mark.skipif(not _have("ruff"), reason="ruff not installed (pip install -e '.[test]')")
def test_ruff_clean() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(not _have("mypy"), reason="mypy not installed (pip install -e '.[test]')")
def test_mypy_clean() -> None:
    r = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr


def test_no_direct_wall_clock_reads_in_flight_code() -> None:
    """Time is injected: flight code never calls time.time()/monotonic() itself."""
    offenders = []
    for pkg in ("flightsw", "fdir", "sim_hw"):
        for path in (ROOT / pkg).rglob("*.py"):
            text = path.read_text()
            for needle in ("time.time(", "time.monotonic(", "datetime.now(", "time.sleep("):
                if needle in text:
                    offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not offenders, offenders


def _flight_trees() -> list[tuple[str, ast.Module]]:
    out = []
    for pkg in ("flightsw", "fdir", "hal"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            out.append((str(path.relative_to(ROOT)), ast.parse(path.read_text())))
    return out


def test_no_container_whose_emptiness_is_mistaken_for_absence() -> None:
    """The class of the restart bug: a ``Pipe`` (it has ``__len__``) was false when
    empty, so ``pipes.get(name) or create_pipe(name)`` created it twice and the app died.

    Two rules close it: a class with ``__len__`` says its truth itself (``__bool__``),
    and a lookup that may miss is tested with ``is None``, never with ``or``."""
    offenders = []
    for rel, tree in _flight_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
                if "__len__" in methods and "__bool__" not in methods:
                    offenders.append(f"{rel}:{node.lineno} {node.name} has __len__, no __bool__")
            if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
                first = node.values[0]
                if (
                    isinstance(first, ast.Call)
                    and isinstance(first.func, ast.Attribute)
                    and first.func.attr in ("get", "pipe", "peek")
                ):
                    offenders.append(f"{rel}:{node.lineno} '.{first.func.attr}(...) or ...'")
    assert not offenders, offenders
