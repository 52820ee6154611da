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
