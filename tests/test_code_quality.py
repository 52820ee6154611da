"""ruff and mypy stay clean: the project's own rule, checked on every CI run."""

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
