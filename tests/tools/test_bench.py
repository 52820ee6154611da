"""tools/bench.py: a missed speed goal says MISS and makes the run fail (exit non-zero)."""

import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import bench


@pytest.mark.parametrize(("value", "status"), [(10.0, 0), (1.0, 1)])
def test_a_missed_target_fails_the_run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    value: float,
    status: int,
) -> None:
    group = types.ModuleType("bench_fake")
    group.run = lambda quick: {"fake_rate": value}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench_fake", group)
    (tmp_path / "bench_fake.py").write_text("")
    monkeypatch.setattr(bench, "HERE", tmp_path)
    monkeypatch.setattr(bench, "GROUPS", ["bench_fake"])
    monkeypatch.setattr(bench, "TARGETS", [("fake_rate", 5.0, "a rate"), ("absent", 1.0, "")])
    monkeypatch.setattr(sys, "argv", ["bench.py", "--quick"])
    assert bench.main() == status
    out = capsys.readouterr()
    assert ("MISS fake_rate" in out.out) == (status == 1)
