"""Thermal network: analytic steady states, conduction equilibrium, stability, energy books."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_hw.thermal import (
    KELVIN,
    STEFAN_BOLTZMANN,
    ThermalNetwork,
    steady_state_single_node,
)


def one_node(area: float = 1.0, eps: float = 0.85, alpha: float = 0.2) -> ThermalNetwork:
    return ThermalNetwork(["radiator"], [5000.0], [[0.0]], [area], [eps], [alpha])


def run(
    net: ThermalNetwork,
    seconds: float,
    dt: float,
    heat_w: np.ndarray | None = None,
    solar_flux_w_m2_per_node: np.ndarray | None = None,
    earth_ir_w_m2: float = 0.0,
) -> None:
    heat = np.zeros(len(net.names)) if heat_w is None else heat_w
    for _ in range(round(seconds / dt)):
        net.step(dt, heat, solar_flux_w_m2_per_node, earth_ir_w_m2)


def test_steady_state_helper_matches_stefan_boltzmann() -> None:
    t = steady_state_single_node(300.0, 1.0, 0.85) + KELVIN
    assert 0.85 * STEFAN_BOLTZMANN * 1.0 * (t**4 - 3.0**4) == pytest.approx(300.0, rel=1e-12)


def test_single_node_reaches_analytic_steady_state() -> None:
    net = one_node()
    run(net, 20_000.0, 60.0, heat_w=np.array([300.0]))
    expected = steady_state_single_node(300.0, 1.0, 0.85)
    got = float(net.temperatures_c[0])
    assert abs((got + KELVIN) - (expected + KELVIN)) < 0.01 * (expected + KELVIN)
    assert got == pytest.approx(expected, abs=0.05)


def test_sun_and_earth_ir_absorbed_by_alpha_and_epsilon() -> None:
    net = one_node(area=2.0, eps=0.8, alpha=0.3)
    run(
        net,
        30_000.0,
        120.0,
        heat_w=np.array([100.0]),
        solar_flux_w_m2_per_node=np.array([1361.0]),
        earth_ir_w_m2=230.0,
    )
    q = 100.0 + 0.3 * 2.0 * 1361.0 + 0.8 * 2.0 * 230.0
    assert net.temperatures_c[0] == pytest.approx(steady_state_single_node(q, 2.0, 0.8), abs=0.05)


def test_two_nodes_conduct_to_capacitance_weighted_mean() -> None:
    net = ThermalNetwork(
        ["a", "b"],
        [1000.0, 3000.0],
        [[0.0, 2.0], [2.0, 0.0]],
        [0.0, 0.0],
        [0.0, 0.0],
        [0.0, 0.0],
        initial_temp_c=[80.0, 0.0],
    )
    e0 = net.stored_energy_j()
    run(net, 20_000.0, 10.0)
    assert net.temperatures_c == pytest.approx([20.0, 20.0], abs=1e-6)
    assert net.stored_energy_j() == pytest.approx(e0, rel=1e-12)


def test_two_node_transient_matches_exponential_decay() -> None:
    c1, c2, g = 1000.0, 3000.0, 2.0
    net = ThermalNetwork(
        ["a", "b"], [c1, c2], [[0, g], [g, 0]], [0, 0], [0, 0], [0, 0], initial_temp_c=[80, 0]
    )
    run(net, 600.0, 1.0)
    diff = net.temperatures_c[0] - net.temperatures_c[1]
    expected = 80.0 * math.exp(-g * (1 / c1 + 1 / c2) * 600.0)
    assert diff == pytest.approx(expected, rel=0.01)


def test_heater_warms_its_node_and_conducts_to_the_neighbour() -> None:
    def fresh() -> ThermalNetwork:
        return ThermalNetwork(
            ["battery", "panel"],
            [2000.0, 2000.0],
            [[0.0, 1.0], [1.0, 0.0]],
            [0.0, 1.0],
            [0.0, 0.9],
            [0.0, 0.0],
            initial_temp_c=0.0,
        )

    cold, warm = fresh(), fresh()
    run(cold, 3600.0, 10.0, heat_w=np.array([0.0, 0.0]))
    run(warm, 3600.0, 10.0, heat_w=np.array([20.0, 0.0]))
    assert warm.temperatures_c[0] > cold.temperatures_c[0] + 5.0
    assert warm.temperatures_c[1] > cold.temperatures_c[1]


def test_huge_steps_are_stable_and_converge() -> None:
    net = ThermalNetwork(
        ["a", "b", "c"],
        [10.0, 1e5, 50.0],
        [[0, 500.0, 0], [500.0, 0, 0.01], [0, 0.01, 0]],
        [0.5, 2.0, 0.1],
        [0.9, 0.9, 0.9],
        [0.1, 0.1, 0.1],
    )
    heat = np.array([200.0, 50.0, 5.0])
    for _ in range(400):
        net.step(1e5, heat)
        assert np.all(np.isfinite(net.temperatures_c))
        assert np.all(net.temperatures_c > -KELVIN)
    # At equilibrium all heat in leaves by radiation.
    assert float(np.sum(net.radiated_w())) == pytest.approx(255.0, rel=1e-6)


def test_energy_books_balance_with_radiation() -> None:
    net = ThermalNetwork(
        ["a", "b"], [800.0, 1200.0], [[0, 3.0], [3.0, 0]], [1.0, 0.5], [0.9, 0.7], [0.3, 0.2]
    )
    e0 = net.stored_energy_j()
    for k in range(500):
        flux = np.array([1361.0, 0.0]) if k % 100 < 65 else np.zeros(2)
        net.step(12.0, np.array([50.0, 10.0]), flux, 200.0)
    assert net.stored_energy_j() - e0 == pytest.approx(
        net.absorbed_j - net.radiated_j, rel=1e-9, abs=1e-6
    )


def test_eclipse_cools_a_radiator() -> None:
    net = one_node()
    run(net, 3000.0, 30.0, heat_w=np.array([50.0]), solar_flux_w_m2_per_node=np.array([1361.0]))
    sunlit = float(net.temperatures_c[0])
    run(net, 2100.0, 30.0, heat_w=np.array([50.0]), solar_flux_w_m2_per_node=np.array([0.0]))
    assert net.temperatures_c[0] < sunlit - 5.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"conductance_w_k": [[0.0, 1.0], [2.0, 0.0]]},  # asymmetric
        {"conductance_w_k": [[0.0, -1.0], [-1.0, 0.0]]},  # negative
        {"capacitance_j_k": [1.0, 0.0]},  # zero capacitance
        {"capacitance_j_k": [1.0]},  # wrong shape
        {"emissivity": [1.2, 0.5]},
        {"radiator_area_m2": [float("nan"), 1.0]},
        {"names": ["a", "a"]},
    ],
)
def test_rejects_bad_construction(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "names": ["a", "b"],
        "capacitance_j_k": [1.0, 1.0],
        "conductance_w_k": [[0.0, 1.0], [1.0, 0.0]],
        "radiator_area_m2": [1.0, 1.0],
        "emissivity": [0.5, 0.5],
        "absorptivity": [0.5, 0.5],
    }
    args.update(kwargs)
    with pytest.raises(ValueError):
        ThermalNetwork(**args)  # type: ignore[arg-type]


def test_rejects_bad_step_input() -> None:
    net = one_node()
    with pytest.raises(ValueError):
        net.step(0.0, [1.0])
    with pytest.raises(ValueError):
        net.step(1.0, [1.0, 2.0])
    with pytest.raises(ValueError):
        net.step(1.0, [math.nan])
    with pytest.raises(ValueError):
        net.index("nope")
    assert net.index("radiator") == 0


# --- the valve-controlled loop and the Earth's view factor --------------------------------

from sim_hw.thermal import ValveLink, earth_view_factor_vertical_plate  # noqa: E402


def loop_pair(q_w: float, g_min: float = 2.0, g_max: float = 5000.0) -> ThermalNetwork:
    """A heated plate (no radiator) feeding a 20 m2 radiator through a valved loop."""
    net = ThermalNetwork(
        ["plate", "radiator"],
        [3e5, 8e5],
        [[0.0, 0.0], [0.0, 0.0]],
        [0.0, 20.0],
        [0.0, 0.9],
        [0.0, 0.0],
        initial_temp_c=[20.0, 0.0],
    )
    net.add_valve("plate", "radiator", g_min, g_max, setpoint_c=15.0, band_k=10.0)
    return net


@pytest.mark.parametrize("q_w", [500.0, 4000.0, 8000.0])
def test_valved_loop_settles_where_the_valve_law_and_the_radiator_agree(q_w: float) -> None:
    """Steady state: the radiator rejects q (closed form), and the loop carries q at the
    valve's conductance for the plate's temperature: q = g(Tp) (Tp - Tr)."""
    net = loop_pair(q_w)
    for _ in range(300):
        net.step(3600.0, np.array([q_w, 0.0]))
    t_rad = steady_state_single_node(q_w, 20.0, 0.9)
    assert net.temperatures_c[1] == pytest.approx(t_rad, abs=0.01)
    valve = net.valves[0]
    t_plate = float(net.temperatures_c[0])
    assert valve.conductance_w_k(t_plate) * (t_plate - t_rad) == pytest.approx(q_w, rel=1e-4)
    assert valve.opening == pytest.approx(valve.position(t_plate))
    # Light load: the valve throttles to hold the plate inside its band; heavy load opens it.
    assert 15.0 < t_plate < 25.0 if q_w < 6000.0 else valve.opening == 1.0


def test_closed_valve_isolates_the_radiator() -> None:
    """Below the set point only the valve's minimum (parasitic) conductance is left."""
    net = loop_pair(0.0, g_min=1.5)
    net.temperatures_c = np.array([5.0, -80.0])
    e0 = net.stored_energy_j()
    net.step(1.0, np.zeros(2))
    moved_w = (net.temperatures_c[1] - -80.0) * 8e5  # heat the radiator took (it radiates too)
    assert net.valves[0].opening == 0.0
    assert net.valves[0].conductance_w_k(5.0) == 1.5
    rad_loss = 0.9 * 20.0 * STEFAN_BOLTZMANN * ((-80.0 + KELVIN) ** 4 - 3.0**4)
    assert moved_w == pytest.approx(1.5 * 85.0 - rad_loss, rel=0.02)
    assert net.stored_energy_j() - e0 == pytest.approx(-net.radiated_j, rel=1e-9)


def test_energy_books_balance_with_a_valve_moving() -> None:
    net = loop_pair(0.0)
    e0 = net.stored_energy_j()
    for k in range(400):
        q = 6000.0 if k % 100 < 50 else 0.0  # the valve opens and closes
        net.step(30.0, np.array([q, 0.0]))
    assert net.stored_energy_j() - e0 == pytest.approx(
        net.absorbed_j - net.radiated_j, rel=1e-9, abs=1e-3
    )


def test_valve_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        ValveLink(0, 1, -1.0, 10.0, 15.0, 10.0)
    with pytest.raises(ValueError):
        ValveLink(0, 1, 1.0, 10.0, 15.0, 0.0)
    with pytest.raises(ValueError):
        ValveLink(0, 1, 1.0, math.nan, 15.0, 5.0)
    with pytest.raises(ValueError):
        loop_pair(1.0).add_valve("plate", "plate", 1.0, 2.0, 0.0, 1.0)


def test_view_factor_of_a_side_facing_plate_matches_a_numerical_integration() -> None:
    """F = (1/pi) * integral over the hemisphere of cos(theta) where the ray hits the
    Earth: midpoint quadrature over the plate's hemisphere (normal horizontal)."""
    for altitude in (300.0, 750.0, 2000.0):
        h = (6378.137 + altitude) / 6378.137
        n = 300
        theta = (np.arange(n) + 0.5) * (np.pi / 2) / n  # from the plate normal
        phi = (np.arange(2 * n) + 0.5) * (2 * np.pi) / (2 * n)
        th, ph = np.meshgrid(theta, phi, indexing="ij")
        # Plate normal along x (horizontal), nadir along -z: the ray's nadir component.
        down = -np.sin(th) * np.cos(ph)
        hits = down > math.sqrt(1.0 - 1.0 / h**2)  # inside the Earth's cone from there
        weight = np.cos(th) * np.sin(th) * (np.pi / 2 / n) * (2 * np.pi / (2 * n))
        numeric = float(np.sum(weight * hits)) / math.pi
        assert earth_view_factor_vertical_plate(altitude) == pytest.approx(numeric, abs=2e-3)
    assert earth_view_factor_vertical_plate(1e-6) == pytest.approx(0.5, abs=1e-3)
    assert earth_view_factor_vertical_plate(750.0) == pytest.approx(0.2255, abs=1e-4)
