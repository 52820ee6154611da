"""The README's design table is what tools/node_design.py computes (a README that lies is
a defect)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import node_design

ROOT = Path(__file__).resolve().parents[2]


def test_readme_design_table_is_the_computed_one() -> None:
    table = node_design.default_table()
    assert table in (ROOT / "README.md").read_text(), "run: python tools/node_design.py"
