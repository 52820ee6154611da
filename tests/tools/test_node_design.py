"""The README's design table is what tools/node_design.py computes (a README that lies is
a defect)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import node_design

ROOT = Path(__file__).resolve().parents[2]


def test_readme_design_table_is_the_computed_one_and_the_node_meets_it() -> None:
    d, cfg = node_design.default_design()
    table = node_design.table(d, cfg)
    assert table in (ROOT / "README.md").read_text(), "run: python tools/node_design.py"
    # The design holds: full load carried at the end of life, energy-positive every
    # orbit, a battery cycled to under a third, the radiator ahead of the boards.
    assert d.payload_w == 256 * 350.0
    assert d.balance_wh_eol > 0.0
    assert d.max_payload_w_bol > d.max_payload_w_eol > d.payload_w
    assert 0.2 < d.depth_of_discharge < 0.33
    assert d.radiator_capacity_w > d.payload_w
    assert 17.0 < d.longest_shadow_min < 20.0
    assert 125.0 < d.eclipse_season_days[0] < 140.0 < 200.0 < d.eclipse_season_days[1] < 215.0
