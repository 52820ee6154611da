"""Print the default node's design table (the one in README.md) from sim_hw.design.

    python tools/node_design.py            # the default mission's node, as markdown
    python tools/node_design.py --mission path/to/mission.toml

Every number comes from the same models the simulation runs (orbit, conical shadow,
seasonal flux, array temperature and ageing, battery losses, radiator balance), so the
README cannot drift from the code: ``tests/tools/test_node_design.py`` checks the table
in the README equals this output. The last column names the test that checks each
number against a closed form, an independent computation or the full simulation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hal.sim.backend import spacecraft_config
from sim_hw.design import DesignNumbers, design_numbers
from sim_hw.orbit import circular_period_s
from sim_hw.spacecraft import SpacecraftConfig

SPACECRAFT_TESTS = "tests/sim_hw/test_spacecraft.py::"
CHECKS = {
    "orbit": "tests/sim_hw/test_orbit.py (Kepler, beta closed form, conical shadow, season edges)",
    "array": SPACECRAFT_TESTS + "test_array_power_follows_beta_season_age_and_pointing",
    "energy": SPACECRAFT_TESTS + "test_energy_positive_orbit_at_end_of_life_matches_the_design",
    "battery": "tests/test_day_in_sil.py (min SoC over 15 orbits at full load)",
    "radiator": SPACECRAFT_TESTS + "test_thermal_steady_state_matches_an_independent_solution",
    "heaters": SPACECRAFT_TESTS
    + "test_payload_off_heaters_hold_every_node_and_the_valve_isolates_the_radiator",
    "day": "tests/test_day_in_sil.py::test_one_day_default_node (slow)",
}


def _kw(w: float) -> str:
    return f"{w / 1000.0:.1f} kW"


def table(d: DesignNumbers, cfg: SpacecraftConfig) -> str:
    """The design table as markdown rows (item | value | checked by)."""
    c = cfg
    first, last = d.eclipse_season_days
    rows = [
        (
            "orbit",
            f"{c.altitude_km:.0f} km dawn-dusk SSO (node {c.ltan_h:.0f} h), "
            f"{circular_period_s(c.altitude_km) / 60.0:.1f} min; umbra from day {first:.0f} "
            f"to {last:.0f}, up to {d.longest_shadow_min:.1f} min of shadow an orbit",
            CHECKS["orbit"],
        ),
        (
            "payload (design load)",
            f"{d.boards} boards x {d.board_max_w:.0f} W = {_kw(d.payload_w)}; "
            f"platform {_kw(d.platform_w)} (avionics, radio, aux, battery heater always on)",
            CHECKS["day"],
        ),
        (
            "array",
            f"{d.array_area_m2:.0f} m2, {d.array_pointing}, 30 % cells, "
            f"{c.array_degradation_per_year * 100:.2f} %/yr; worst orbit (day {d.worst_day:.0f}) "
            f"mean {_kw(d.array_mean_w_bol)} new, {_kw(d.array_mean_w_eol)} at "
            f"{d.design_life_years:.0f} yr",
            CHECKS["array"],
        ),
        (
            "energy balance",
            f"worst orbit at full load after {d.design_life_years:.0f} yr: "
            f"{d.balance_wh_eol / 1000.0:+.1f} kWh (energy-positive every orbit of its life)",
            CHECKS["energy"],
        ),
        (
            "load carried",
            f"beginning of life {_kw(d.max_payload_w_bol)} of payload, end of life "
            f"{_kw(d.max_payload_w_eol)} (worst orbit, energy-positive); the full "
            f"{_kw(d.payload_w)} at both",
            CHECKS["energy"],
        ),
        (
            "battery",
            f"{d.battery_capacity_wh / 1000.0:.0f} kWh; worst eclipse at full load takes "
            f"{d.eclipse_energy_wh / 1000.0:.1f} kWh ({d.depth_of_discharge * 100:.0f} % "
            "depth of discharge)",
            CHECKS["battery"],
        ),
        (
            "radiator",
            f"{d.radiator_area_m2:.0f} m2 behind a {c.loop_conductance_w_k / 1000.0:.0f} kW/K "
            f"loop; rejects {_kw(d.radiator_capacity_w)} with the cold plate at "
            f"{d.throttle_coldplate_c:.0f} C (boards at their 75 C throttle start); "
            f"bypass valve opens from {c.loop_setpoint_c:.0f} C, "
            f"{c.loop_min_conductance_w_k:.0f} W/K when shut",
            CHECKS["radiator"],
        ),
        (
            "heaters",
            f"battery {c.battery_heater_w:.0f} W, cold plate {c.coldplate_heater_w:.0f} W, "
            f"avionics {c.avionics_heater_w:.0f} W (sized for the payload off)",
            CHECKS["heaters"],
        ),
    ]
    out = ["| item | design | checked by |", "|---|---|---|"]
    out += [f"| {a} | {b} | `{t}` |" for a, b, t in rows]
    return "\n".join(out)


def default_design() -> tuple[DesignNumbers, SpacecraftConfig]:
    """The design numbers of the default mission's node, and its build."""
    from flightsw.runtime.mission import load_mission

    cfg = spacecraft_config(load_mission().hal_config())
    return design_numbers(cfg), cfg


def default_table() -> str:
    """The table for the default mission's node."""
    return table(*default_design())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mission", help="mission file (default: the built-in default)")
    args = ap.parse_args(argv)
    from flightsw.runtime.mission import load_mission

    cfg = spacecraft_config(load_mission(args.mission).hal_config())
    print(table(design_numbers(cfg), cfg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
