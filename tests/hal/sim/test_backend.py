"""The sim backend's mission tables: ground stations, the radio's budget, the orbit and
the node's build; every bad value is a HalConfigError naming its key."""

from __future__ import annotations

from typing import Any

import pytest

from flightsw.base.schema import ConfigError
from hal.sim.backend import HalConfigError, build_sim_hal, spacecraft_config
from sim_hw.environment import DEFAULT_STATIONS

STATION = {"name": "Miyun", "lat_deg": 40.45, "lon_deg": 116.85, "alt_m": 100.0}


def _hal(**tables: Any) -> Any:
    return build_sim_hal({"backend": "sim", "spacecraft": {"boards": 4}, **tables}, seed=1)


def test_stations_and_budget_come_from_the_mission() -> None:
    hal = _hal(
        ground_stations=[{**STATION, "min_elevation_deg": 10.0}],
        radio={"downlink_eirp_dbw": 8.0, "downlink_bps": 1e6, "uplink_losses_db": 2.0},
    )
    link = hal.harness["rf_link"]
    assert [s.name for s in link.stations] == ["Miyun"]
    assert link.stations[0].min_elevation_deg == 10.0 and link.stations[0].alt_m == 100.0
    assert link.downlink.eirp_dbw == 8.0 and link.downlink.data_rate_bps == 1e6
    assert link.uplink.losses_db == 2.0 and link.uplink.data_rate_bps == 64e3
    assert link.ber_down is None and link.delay_s is None  # from the budget


def test_without_a_station_table_the_default_network_is_used() -> None:
    assert _hal().harness["rf_link"].stations == DEFAULT_STATIONS


@pytest.mark.parametrize(
    ("tables", "key"),
    [
        ({"ground_stations": []}, "hal.ground_stations"),
        ({"ground_stations": [{"name": "x", "lat_deg": 1.0}]}, "lon_deg"),
        ({"ground_stations": [{**STATION, "alt_m": "high"}]}, "alt_m"),
        ({"radio": {"downlink_eirp_dbw": "loud"}}, "downlink_eirp_dbw"),
        ({"radio": {"uplink_frequency_hz": -1.0}}, "uplink"),
        ({"radio": {"ber_down": "low"}}, "ber_down"),
        ({"radio": {"ber_up": 3.0}}, "ber_up"),
        ({"radio": {"downlink_gain": 3.0}}, "downlink_gain"),
        ({"orbit": {"day_of_yer": 172.0}}, "day_of_yer"),
        ({"spacecraft": {"array_pointing": "nadir"}}, "array_pointing"),
        ({"spacecraft": {"array_area_m2": -5.0}}, "array_area_m2"),
        ({"spacecraft": {"array_area_m2": "big"}}, "array_area_m2"),
        ({"spacecraft": {"array_efficiency": 1.5}}, "array_efficiency"),
        ({"spacecraft": {"loop_band_k": 0.0}}, "loop_band_k"),
        ({"spacecraft": {"coldplate_heater_w": -1.0}}, "coldplate_heater_w"),
    ],
)
def test_bad_tables_name_their_key(tables: dict[str, Any], key: str) -> None:
    cfg: dict[str, Any] = {"backend": "sim", "spacecraft": {"boards": 4}}
    for name, value in tables.items():
        cfg[name] = {**cfg.get(name, {}), **value} if isinstance(value, dict) else value
    # The declared tables refuse it (ConfigError) or the model does (HalConfigError).
    with pytest.raises((HalConfigError, ConfigError), match=key):
        build_sim_hal(cfg, seed=1)


def test_orbit_and_build_reach_the_spacecraft() -> None:
    cfg = spacecraft_config(
        {
            "orbit": {"day_of_year": 200.0, "ltan_h": 6.0},
            "spacecraft": {"array_pointing": "beta_tracking", "array_age_years": 5},
        }
    )
    assert (cfg.day_of_year, cfg.ltan_h) == (200.0, 6.0)
    assert cfg.array_pointing == "beta_tracking" and cfg.array_age_years == 5.0


def test_the_default_mission_starts_inside_the_eclipse_season() -> None:
    """`flightsw sim` with no arguments shows eclipses: beta below the shadow's limit at
    the start, and the first orbit passes through the umbra."""
    import numpy as np

    from flightsw.runtime.mission import load_mission
    from sim_hw.spacecraft import Spacecraft

    m = load_mission()
    cfg = spacecraft_config(m.hal_config())
    orbit = Spacecraft(cfg, seed=1).orbit
    assert orbit.beta_angle_deg(0.0) < 63.0
    t = np.arange(0.0, orbit.period_s, 10.0)
    assert np.any(orbit.sunlit_fraction(t) == 0.0)
    names = [s["name"] for s in m.hal["ground_stations"]]
    assert names == ["Svalbard", "Kiruna", "Inuvik", "Troll", "Miyun", "Kashgar", "Sanya"]
