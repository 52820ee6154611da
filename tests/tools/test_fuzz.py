"""CI's short fuzz budget: every decoder gets a few thousand mutated inputs per run."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import fuzz


def test_short_fuzz_budget_finds_nothing() -> None:
    targets = fuzz.builtin_targets() + fuzz.extra_targets()
    assert len(targets) >= 9
    found = fuzz.fuzz(targets, seconds=3.0, seed=20261127)
    assert found == 0, [f for t in targets for f in t.findings]
    assert all(t.execs >= 200 for t in targets)


def test_fuzzer_reports_a_decoder_that_raises_the_wrong_error() -> None:
    def bad(data: bytes) -> None:
        if len(data) > 3 and data[0] == 0x18:
            raise IndexError("boom")

    t = fuzz.Target("bad", bad, [b"\x18\x00\x00\x00\x00"])
    assert fuzz.fuzz([t], seconds=0.2, seed=1) > 0
    assert t.findings[0].startswith("IndexError: boom <- ")
