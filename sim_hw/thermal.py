"""Lumped-parameter thermal network of the spacecraft: nodes with heat capacity, linked by
conductances, radiating to deep space and absorbing sunlight and Earth infrared.

It gives the thermal app and FDIR temperatures that respond to heaters, payload heat and
eclipse the way a real radiator-cooled bus does, and it stays stable at the large time
steps a fast SIL run uses. A pumped loop behind a thermostatic bypass valve is a link
whose conductance follows the temperature of its warm end (``ValveLink``), so a radiator
sized for full load can be isolated when the load is light.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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


def earth_view_factor_vertical_plate(
    altitude_km: float, earth_radius_km: float = 6378.137
) -> float:
    """View factor from a flat plate whose normal is horizontal (perpendicular to nadir)
    to a spherical Earth below it: F = (atan(1/X) - X/H^2) / pi with H = r/R and
    X = sqrt(H^2 - 1). It is 1/2 on the ground and falls off with height (0.2255 at
    750 km): the share of Earth infrared a side-facing radiator or an orbit-normal array
    face receives."""
    if altitude_km <= 0.0 or earth_radius_km <= 0.0:
        raise ValueError("altitude and Earth radius must be positive")
    h = (earth_radius_km + altitude_km) / earth_radius_km
    x = math.sqrt(h * h - 1.0)
    return (math.atan(1.0 / x) - x / (h * h)) / math.pi


@dataclass
class ValveLink:
    """A pumped loop from node ``hot`` to node ``cold`` through a thermostatic bypass valve.

    The valve senses the loop's inlet (the ``hot`` node): closed below ``setpoint_c``
    (the loop then bypasses the radiator and only ``g_min_w_k`` of parasitic conduction
    remains), opening in proportion over ``band_k`` to ``g_max_w_k`` fully open.
    ``opening`` is the valve position (0..1) after the last step.
    """

    hot: int
    cold: int
    g_min_w_k: float
    g_max_w_k: float
    setpoint_c: float
    band_k: float
    opening: float = 0.0

    def __post_init__(self) -> None:
        for name in ("g_min_w_k", "g_max_w_k", "setpoint_c", "band_k"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"ValveLink.{name} must be finite")
        if self.g_min_w_k < 0.0 or self.g_max_w_k < 0.0 or self.band_k <= 0.0:
            raise ValueError("ValveLink conductances must be >= 0 and band_k > 0")

    def position(self, hot_c: float) -> float:
        """Valve opening (0 closed .. 1 open) at an inlet temperature."""
        return min(1.0, max(0.0, (hot_c - self.setpoint_c) / self.band_k))

    def conductance_w_k(self, hot_c: float) -> float:
        """Hot-to-cold conductance at an inlet temperature."""
        g_max = max(self.g_max_w_k, self.g_min_w_k)
        return self.g_min_w_k + (g_max - self.g_min_w_k) * self.position(hot_c)


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
        self._alpha_a = self.absorptivity * self.radiator_area_m2
        self._laplacian_rows: list[list[float]] = self._laplacian.tolist()
        self._esa: list[float] = self._eps_sigma_a.tolist()
        self._cap: list[float] = self.capacitance_j_k.tolist()
        self._eps_a = self.emissivity * self.radiator_area_m2
        self.valves: list[ValveLink] = []
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

    def add_valve(
        self,
        hot: str,
        cold: str,
        g_min_w_k: float,
        g_max_w_k: float,
        setpoint_c: float,
        band_k: float,
    ) -> ValveLink:
        """Add a valve-controlled loop from ``hot`` to ``cold`` (see ``ValveLink``)."""
        i, j = self.index(hot), self.index(cold)
        if i == j:
            raise ValueError("a valve links two different nodes")
        valve = ValveLink(i, j, g_min_w_k, g_max_w_k, setpoint_c, band_k)
        valve.opening = valve.position(float(self.temperatures_c[i]))
        self.valves.append(valve)
        return valve

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
            q += self._alpha_a * flux
        if earth_ir_w_m2:
            if not np.isfinite(earth_ir_w_m2) or earth_ir_w_m2 < 0.0:
                raise ValueError("earth_ir_w_m2 must be finite and non-negative")
            # Kirchhoff: IR absorptivity equals IR emissivity.
            q += self._eps_a * earth_ir_w_m2
        self.advance(dt_s, q)

    def advance(self, dt_s: float, heat_w: FloatArray | Sequence[float]) -> None:
        """``step`` without input checks, for a caller that builds ``heat_w`` itself
        (total heat into each node, sun and Earth IR included, one value per node).

        Plain Python floats: for the handful of nodes of a spacecraft this is several
        times faster than numpy's per-call overhead, and gives the same numbers."""
        n = len(self.names)
        t = [x + KELVIN for x in self.temperatures_c.tolist()]
        heat = heat_w.tolist() if isinstance(heat_w, np.ndarray) else list(heat_w)
        a = [row[:] for row in self._laplacian_rows]
        b = [0.0] * n
        h = [0.0] * n
        rad_total = 0.0
        sink4 = SPACE_SINK_K**4
        for i in range(n):
            ti = t[i]
            t3 = ti * ti * ti
            esa = self._esa[i]
            rad = esa * (t3 * ti - sink4)
            h[i] = hi = 4.0 * esa * t3
            c_dt = self._cap[i] / dt_s
            a[i][i] += c_dt + hi
            b[i] = c_dt * ti + heat[i] - rad + hi * ti
            rad_total += rad
        for v in self.valves:
            # Heat carried hot -> cold, linearised about now (implicit, like radiation).
            i, j = v.hot, v.cold
            ti, tj = t[i], t[j]
            g_max = max(v.g_max_w_k, v.g_min_w_k)
            raw = (ti - KELVIN - v.setpoint_c) / v.band_k
            u = min(1.0, max(0.0, raw))
            g = v.g_min_w_k + (g_max - v.g_min_w_k) * u
            slope = (g_max - v.g_min_w_k) / v.band_k if 0.0 < raw < 1.0 else 0.0
            dq_dti = g + slope * (ti - tj)
            q0 = g * (ti - tj)
            # Flow out of i: q0 + dq_dti (Ti' - Ti) - g (Tj' - Tj); into j the same.
            a[i][i] += dq_dti
            a[i][j] -= g
            a[j][i] -= dq_dti
            a[j][j] += g
            lin = dq_dti * ti - g * tj - q0
            b[i] += lin
            b[j] -= lin
        t_new = _solve(a, b)
        # Book radiation at the linearised rate actually used by the step.
        rad_lin = rad_total
        for i in range(n):
            t_new[i] = max(t_new[i], SPACE_SINK_K)
            rad_lin += h[i] * (t_new[i] - t[i])
        self.radiated_j += rad_lin * dt_s
        self.absorbed_j += math.fsum(heat) * dt_s
        self.temperatures_c = np.array(t_new) - KELVIN
        for v in self.valves:
            v.opening = v.position(t_new[v.hot] - KELVIN)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting on small dense systems (in place)."""
    n = len(b)
    for k in range(n):
        p = max(range(k, n), key=lambda r: abs(a[r][k]))
        if p != k:
            a[k], a[p] = a[p], a[k]
            b[k], b[p] = b[p], b[k]
        row_k = a[k]
        pivot = row_k[k]
        if pivot == 0.0:
            raise ValueError("singular thermal network (a node with no capacitance path)")
        for r in range(k + 1, n):
            row_r = a[r]
            f = row_r[k] / pivot
            if f:
                for c in range(k, n):
                    row_r[c] -= f * row_k[c]
                b[r] -= f * b[k]
    x = [0.0] * n
    for k in range(n - 1, -1, -1):
        row_k = a[k]
        acc = b[k]
        for c in range(k + 1, n):
            acc -= row_k[c] * x[c]
        x[k] = acc / row_k[k]
    return x
