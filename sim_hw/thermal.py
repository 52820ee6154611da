"""Lumped-parameter thermal network of the spacecraft: nodes with heat capacity, linked by
conductances, radiating to deep space and absorbing sunlight and Earth infrared.

It gives the thermal app and FDIR temperatures that respond to heaters, payload heat and
eclipse the way a real radiator-cooled bus does, and it stays stable at the large time
steps a fast SIL run uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

STEFAN_BOLTZMANN = 5.670374419e-8  # W m⁻² K⁻⁴ (CODATA 2018, exact in SI)
KELVIN = 273.15
SPACE_SINK_K = 3.0

FloatArray = NDArray[np.float64]


def steady_state_single_node(
    q_w: float, area: float, emissivity: float, sink_k: float = SPACE_SINK_K
) -> float:
    """Equilibrium temperature (°C) of one node radiating ``q_w`` to a ``sink_k`` sink."""
    if area <= 0.0 or emissivity <= 0.0:
        raise ValueError("area and emissivity must be positive")
    t4 = q_w / (emissivity * STEFAN_BOLTZMANN * area) + sink_k**4
    return float(t4**0.25) - KELVIN


def _vector(
    name: str, value: ArrayLike, n: int, *, positive: bool = False, signed: bool = False
) -> FloatArray:
    arr = np.array(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if positive and not np.all(arr > 0.0):
        raise ValueError(f"{name} must be positive")
    if not positive and not signed and not np.all(arr >= 0.0):
        raise ValueError(f"{name} must not be negative")
    return arr


class ThermalNetwork:
    """Nodes (capacitance C), conductive links (symmetric G), radiators (area, ε, α).

    ``step`` is backward Euler with the radiation term linearised about the current
    temperature (one linear solve per step). It is unconditionally stable for the
    conduction part, needs no sub-stepping, and its fixed point is exactly the nonlinear
    steady state, so long steps converge to the right equilibrium. ``temperatures_c``
    holds the node temperatures in the order of ``names``.
    """

    def __init__(
        self,
        names: Sequence[str],
        capacitance_j_k: ArrayLike,
        conductance_w_k: ArrayLike,
        radiator_area_m2: ArrayLike,
        emissivity: ArrayLike,
        absorptivity: ArrayLike,
        initial_temp_c: ArrayLike = 20.0,
    ) -> None:
        self.names = tuple(names)
        n = len(self.names)
        if n == 0 or len(set(self.names)) != n:
            raise ValueError("names must be non-empty and unique")
        self.capacitance_j_k = _vector("capacitance_j_k", capacitance_j_k, n, positive=True)
        g = np.array(conductance_w_k, dtype=np.float64)
        if g.shape != (n, n):
            raise ValueError(f"conductance_w_k must have shape ({n}, {n}), got {g.shape}")
        if not np.all(np.isfinite(g)) or np.any(g < 0.0):
            raise ValueError("conductance_w_k must be finite and non-negative")
        if not np.allclose(g, g.T, rtol=1e-12, atol=0.0):
            raise ValueError("conductance_w_k must be symmetric")
        g = 0.5 * (g + g.T)
        np.fill_diagonal(g, 0.0)
        self.conductance_w_k = g
        # Graph Laplacian: conduction heat into each node is -L @ T.
        self._laplacian = np.diag(g.sum(axis=1)) - g
        self.radiator_area_m2 = _vector("radiator_area_m2", radiator_area_m2, n)
        self.emissivity = _vector("emissivity", emissivity, n)
        self.absorptivity = _vector("absorptivity", absorptivity, n)
        if np.any(self.emissivity > 1.0) or np.any(self.absorptivity > 1.0):
            raise ValueError("emissivity and absorptivity must be at most 1")
        self.temperatures_c = _vector("initial_temp_c", initial_temp_c, n, signed=True)
        if np.any(self.temperatures_c < -KELVIN):
            raise ValueError("initial_temp_c must be above absolute zero")
        self._eps_sigma_a = self.emissivity * STEFAN_BOLTZMANN * self.radiator_area_m2
        self.radiated_j = 0.0  # cumulative heat radiated to space
        self.absorbed_j = 0.0  # cumulative heat from sun, Earth IR and heat inputs

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"no thermal node named {name!r}") from None

    def stored_energy_j(self) -> float:
        """Σ C·T (T in kelvin): changes only by what enters or leaves the network."""
        return float(np.dot(self.capacitance_j_k, self.temperatures_c + KELVIN))

    def radiated_w(self) -> FloatArray:
        """Heat each node radiates to space at its present temperature."""
        t = self.temperatures_c + KELVIN
        return self._eps_sigma_a * (t**4 - SPACE_SINK_K**4)

    def step(
        self,
        dt_s: float,
        heat_w: ArrayLike,
        solar_flux_w_m2_per_node: ArrayLike | None = None,
        earth_ir_w_m2: float = 0.0,
    ) -> None:
        """Advance ``dt_s`` with internal heat inputs (heaters, electronics) per node,
        the solar flux falling on each node's radiator and the Earth IR flux."""
        n = len(self.names)
        if not np.isfinite(dt_s) or dt_s <= 0.0:
            raise ValueError("dt_s must be positive and finite")
        q = np.array(heat_w, dtype=np.float64)
        if q.ndim == 0:
            q = np.full(n, float(q))
        if q.shape != (n,) or not np.all(np.isfinite(q)):
            raise ValueError(f"heat_w must be finite with shape ({n},)")
        q = q.copy()
        if solar_flux_w_m2_per_node is not None:
            flux = _vector("solar_flux_w_m2_per_node", solar_flux_w_m2_per_node, n)
            q += self.absorptivity * self.radiator_area_m2 * flux
        if earth_ir_w_m2:
            if not np.isfinite(earth_ir_w_m2) or earth_ir_w_m2 < 0.0:
                raise ValueError("earth_ir_w_m2 must be finite and non-negative")
            # Kirchhoff: IR absorptivity equals IR emissivity.
            q += self.emissivity * self.radiator_area_m2 * earth_ir_w_m2
        t = self.temperatures_c + KELVIN
        rad = self._eps_sigma_a * (t**4 - SPACE_SINK_K**4)
        h = 4.0 * self._eps_sigma_a * t**3
        c_dt = self.capacitance_j_k / dt_s
        a = self._laplacian + np.diag(c_dt + h)
        b = c_dt * t + q - rad + h * t
        t_new = np.asarray(np.linalg.solve(a, b), dtype=np.float64)
        np.maximum(t_new, SPACE_SINK_K, out=t_new)
        # Book radiation at the linearised rate actually used by the step.
        self.radiated_j += float(np.sum(rad + h * (t_new - t))) * dt_s
        self.absorbed_j += float(np.sum(q)) * dt_s
        self.temperatures_c = t_new - KELVIN
