"""The node's surroundings: ground stations and their contact windows, relay line of sight,
and the particle environment (South Atlantic Anomaly, solar particle events).

Contacts decide when telecommands can arrive and stored telemetry can be dumped; relay
visibility decides when two nodes can talk; the flux factor scales the radiation model's
upset rates. All of it is geometry on a spherical Earth, vectorized over time so a day of
contacts is a handful of numpy calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, overload

import numpy as np
import numpy.typing as npt

from sim_hw.orbit import R_EARTH_KM, CircularOrbit, gmst_rad

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

EDGE_TOLERANCE_S = 0.05  # contact edges are refined until bracketed this tightly


@dataclass(frozen=True)
class GroundStation:
    """A ground antenna on a spherical Earth (at ``alt_m`` above it) with an elevation mask."""

    name: str
    lat_deg: float
    lon_deg: float
    min_elevation_deg: float = 5.0
    alt_m: float = 0.0

    def __post_init__(self) -> None:
        for key in ("lat_deg", "lon_deg", "min_elevation_deg", "alt_m"):
            if not math.isfinite(getattr(self, key)):
                raise ValueError(f"{self.name}: {key} must be finite")
        if not -90.0 <= self.lat_deg <= 90.0:
            raise ValueError(f"{self.name}: latitude out of range")
        if not -180.0 <= self.lon_deg <= 360.0:
            raise ValueError(f"{self.name}: longitude out of range")
        if not -90.0 <= self.min_elevation_deg < 90.0:
            raise ValueError(f"{self.name}: elevation mask out of range")
        if not -500.0 <= self.alt_m <= 9_000.0:
            raise ValueError(f"{self.name}: altitude out of range (-500..9000 m)")


# High-latitude stations see a polar orbit on most revolutions (coordinates rounded).
POLAR_STATIONS: tuple[GroundStation, ...] = (
    GroundStation("Svalbard", 78.23, 15.39, alt_m=500.0),
    GroundStation("Kiruna", 67.86, 20.96, alt_m=400.0),
    GroundStation("Inuvik", 68.32, -133.55, alt_m=100.0),
    GroundStation("Troll", -72.01, 2.53, alt_m=1_300.0),
)
# The operator's own stations (China): mid and low latitudes, a few passes a day each.
OPERATOR_STATIONS: tuple[GroundStation, ...] = (
    GroundStation("Miyun", 40.45, 116.85, alt_m=100.0),
    GroundStation("Kashgar", 39.50, 76.00, alt_m=1_300.0),
    GroundStation("Sanya", 18.30, 109.30, alt_m=20.0),
)
DEFAULT_STATIONS: tuple[GroundStation, ...] = POLAR_STATIONS + OPERATOR_STATIONS
STATION_KEYS = ("name", "lat_deg", "lon_deg", "alt_m", "min_elevation_deg")


def stations_from_config(tables: Any, where: str = "ground_stations") -> tuple[GroundStation, ...]:
    """Stations from a mission's ``[[hal.ground_stations]]`` tables.

    Each needs ``name``, ``lat_deg`` and ``lon_deg``; ``alt_m`` (0) and
    ``min_elevation_deg`` (5) are optional. Raises ValueError naming the table and key.
    """
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{where}: must be a non-empty array of tables")
    out: list[GroundStation] = []
    for i, t in enumerate(tables):
        here = f"{where}[{i}]"
        if not isinstance(t, dict):
            raise ValueError(f"{here}: must be a table")
        extra = set(t) - set(STATION_KEYS)
        if extra:
            raise ValueError(f"{here}.{sorted(extra)[0]}: unknown key")
        for key in ("name", "lat_deg", "lon_deg"):
            if key not in t:
                raise ValueError(f"{here}.{key}: missing")
        if not isinstance(t["name"], str) or not t["name"]:
            raise ValueError(f"{here}.name: must be a non-empty string")
        for key in STATION_KEYS[1:]:
            if key in t and (isinstance(t[key], bool) or not isinstance(t[key], int | float)):
                raise ValueError(f"{here}.{key}: must be a number")
        try:
            out.append(
                GroundStation(
                    t["name"],
                    float(t["lat_deg"]),
                    float(t["lon_deg"]),
                    float(t.get("min_elevation_deg", 5.0)),
                    float(t.get("alt_m", 0.0)),
                )
            )
        except ValueError as exc:
            raise ValueError(f"{here}: {exc}") from None
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: station names must be unique")
    return tuple(out)


@dataclass(frozen=True)
class ContactWindow:
    """One pass of a node over a station: above the mask from start to end."""

    station: str
    start_s: float
    end_s: float
    max_elevation_deg: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def _scalar_or_array(x: npt.NDArray[Any]) -> Any:
    return x.item() if x.ndim == 0 else x


def station_position_eci_km(station: GroundStation, orbit: CircularOrbit, t_s: Any) -> FloatArray:
    """Station position in ECI (km), shape (..., 3): the Earth turns under the orbit."""
    theta = gmst_rad(orbit.day_at(t_s))
    lat = math.radians(station.lat_deg)
    lon = np.radians(station.lon_deg) + theta
    return (R_EARTH_KM + station.alt_m / 1000.0) * np.stack(
        [
            math.cos(lat) * np.cos(lon),
            math.cos(lat) * np.sin(lon),
            np.full_like(lon, math.sin(lat)),
        ],
        axis=-1,
    )


@overload
def elevation_deg(orbit: CircularOrbit, station: GroundStation, t_s: float) -> float: ...
@overload
def elevation_deg(
    orbit: CircularOrbit, station: GroundStation, t_s: npt.NDArray[Any]
) -> FloatArray: ...
def elevation_deg(
    orbit: CircularOrbit, station: GroundStation, t_s: float | npt.NDArray[Any]
) -> float | FloatArray:
    """Elevation of the node above the station's horizon (degrees; negative below it)."""
    site = station_position_eci_km(station, orbit, t_s)
    rho = orbit.position_eci_km(t_s) - site
    up = site / (R_EARTH_KM + station.alt_m / 1000.0)
    sin_el = np.sum(rho * up, axis=-1) / np.linalg.norm(rho, axis=-1)
    return _scalar_or_array(np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0))))  # type: ignore[no-any-return]


def _bisect_edges(
    f: Callable[[FloatArray], FloatArray], lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """Refine sign changes of f bracketed in [lo, hi] (f(lo) and f(hi) of opposite sign)."""
    lo = lo.copy()
    hi = hi.copy()
    lo_positive = f(lo) >= 0.0
    while lo.size and float(np.max(hi - lo)) > EDGE_TOLERANCE_S:
        mid = 0.5 * (lo + hi)
        same_as_lo = (f(mid) >= 0.0) == lo_positive
        lo = np.where(same_as_lo, mid, lo)
        hi = np.where(same_as_lo, hi, mid)
    return np.asarray(0.5 * (lo + hi))


def _golden_max(
    f: Callable[[FloatArray], FloatArray], lo: FloatArray, hi: FloatArray, iterations: int = 40
) -> FloatArray:
    """Maximum of f on each [lo, hi] (f unimodal there), by golden-section search."""
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo.copy(), hi.copy()
    for _ in range(iterations):
        c = b - g * (b - a)
        d = a + g * (b - a)
        left_better = f(c) > f(d)
        b = np.where(left_better, d, b)
        a = np.where(left_better, a, c)
    return f(np.asarray(0.5 * (a + b)))


def contact_windows(
    orbit: CircularOrbit,
    stations: Iterable[GroundStation],
    t0_s: float,
    t1_s: float,
    step_s: float = 10.0,
) -> list[ContactWindow]:
    """Passes of the node over the stations in [t0, t1], sorted by start time.

    Elevation is sampled every ``step_s`` and each rise and set is refined by bisection to
    better than 0.1 s. A pass already under way at t0 starts at t0; one still under way at
    t1 ends at t1. A pass shorter than ``step_s`` that falls between two samples can be
    missed, so keep the step well below the shortest pass that matters.
    """
    if t1_s <= t0_s:
        raise ValueError("t1 must be after t0")
    if step_s <= 0:
        raise ValueError("step must be positive")
    n = math.ceil((t1_s - t0_s) / step_s)
    t = np.minimum(t0_s + step_s * np.arange(n + 1, dtype=np.float64), t1_s)
    windows: list[ContactWindow] = []
    for station in stations:

        def margin(tt: FloatArray, st: GroundStation = station) -> FloatArray:
            return elevation_deg(orbit, st, tt) - st.min_elevation_deg

        above = margin(t) >= 0.0
        rises = np.flatnonzero(~above[:-1] & above[1:])
        sets = np.flatnonzero(above[:-1] & ~above[1:])
        starts = _bisect_edges(margin, t[rises], t[rises + 1])
        ends = _bisect_edges(margin, t[sets], t[sets + 1])
        if above[0]:
            starts = np.concatenate([[t0_s], starts])
        if above[-1]:
            ends = np.concatenate([ends, [t1_s]])
        if starts.size == 0:
            continue
        peaks = _peak_elevations(margin, t, starts, ends, step_s) + station.min_elevation_deg
        windows.extend(
            ContactWindow(station.name, float(s), float(e), float(p))
            for s, e, p in zip(starts, ends, peaks, strict=True)
        )
    windows.sort(key=lambda w: (w.start_s, w.station))
    return windows


def _peak_elevations(
    margin: Callable[[FloatArray], FloatArray],
    t: FloatArray,
    starts: FloatArray,
    ends: FloatArray,
    step_s: float,
) -> FloatArray:
    """Highest elevation margin of each pass: best sample, then golden section around it."""
    values = margin(t)
    centre = np.empty_like(starts)
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        inside = np.flatnonzero((t >= s) & (t <= e))
        centre[i] = t[inside[np.argmax(values[inside])]] if inside.size else 0.5 * (s + e)
    lo = np.maximum(centre - step_s, starts)
    hi = np.minimum(centre + step_s, ends)
    return _golden_max(margin, lo, hi)


def contacts_by_station(
    orbit: CircularOrbit, stations: Sequence[GroundStation], t0_s: float, t1_s: float
) -> dict[str, dict[str, float]]:
    """Per station: passes (``count``, a pass under way at an edge counts) and time above
    the mask (``minutes``) within [t0, t1], with the highest elevation seen."""
    out: dict[str, dict[str, float]] = {
        s.name: {"count": 0, "minutes": 0.0, "max_elevation_deg": 0.0} for s in stations
    }
    if t1_s <= t0_s:
        return out
    for w in contact_windows(orbit, stations, t0_s, t1_s):
        entry = out[w.station]
        entry["count"] += 1
        entry["minutes"] += w.duration_s / 60.0
        entry["max_elevation_deg"] = max(entry["max_elevation_deg"], w.max_elevation_deg)
    for entry in out.values():
        entry["minutes"] = round(entry["minutes"], 3)
        entry["max_elevation_deg"] = round(entry["max_elevation_deg"], 3)
    return out


class Positioned(Protocol):
    """Anything with a position in ECI over time: a node's orbit, a GEO relay."""

    def position_eci_km(self, t_s: npt.ArrayLike) -> FloatArray: ...


@overload
def relay_visible(
    orbit_a: Positioned, orbit_b: Positioned, t_s: float, grazing_altitude_km: float = ...
) -> bool: ...
@overload
def relay_visible(
    orbit_a: Positioned,
    orbit_b: Positioned,
    t_s: npt.NDArray[Any],
    grazing_altitude_km: float = ...,
) -> BoolArray: ...
def relay_visible(
    orbit_a: Positioned,
    orbit_b: Positioned,
    t_s: float | npt.NDArray[Any],
    grazing_altitude_km: float = 100.0,
) -> bool | BoolArray:
    """True where the straight line between two nodes (or a node and a GEO relay) clears
    the Earth plus a grazing layer of atmosphere (the segment's closest point to the
    centre is above it)."""
    ra = orbit_a.position_eci_km(t_s)
    rb = orbit_b.position_eci_km(t_s)
    d = rb - ra
    dd = np.sum(d * d, axis=-1)
    safe_dd = np.where(dd > 0.0, dd, 1.0)
    s = np.clip(-np.sum(ra * d, axis=-1) / safe_dd, 0.0, 1.0)
    closest = ra + s[..., None] * d
    clear = np.linalg.norm(closest, axis=-1) > R_EARTH_KM + grazing_altitude_km
    return _scalar_or_array(np.asarray(clear))  # type: ignore[no-any-return]


SAA_CENTRE_LAT_DEG = -27.0
SAA_CENTRE_LON_DEG = -50.0
SAA_SIGMA_LAT_DEG = 10.0
SAA_SIGMA_LON_DEG = 25.0
SAA_PEAK_MULTIPLIER = 30.0


@overload
def saa_flux_factor(
    lat_deg: float,
    lon_deg: float,
    peak_multiplier: float = ...,
) -> float: ...
@overload
def saa_flux_factor(
    lat_deg: npt.NDArray[Any],
    lon_deg: npt.NDArray[Any],
    peak_multiplier: float = ...,
) -> FloatArray: ...
def saa_flux_factor(
    lat_deg: float | npt.NDArray[Any],
    lon_deg: float | npt.NDArray[Any],
    peak_multiplier: float = SAA_PEAK_MULTIPLIER,
) -> float | FloatArray:
    """Trapped-proton flux relative to quiet flux: a smooth bump over the South Atlantic.

    A Gaussian in latitude and (wrapped) longitude centred near 27 S 50 W, equal to
    ``peak_multiplier`` at the centre and tending to 1 far away. At 700-800 km the real
    anomaly spans roughly 0-50 S and 90 W-30 E; the widths are chosen to cover that.
    """
    if peak_multiplier < 1.0:
        raise ValueError("peak multiplier must be >= 1")
    lat = np.asarray(lat_deg, dtype=np.float64)
    dlon = np.mod(np.asarray(lon_deg, dtype=np.float64) - SAA_CENTRE_LON_DEG + 180.0, 360.0)
    dlon = dlon - 180.0
    z2 = ((lat - SAA_CENTRE_LAT_DEG) / SAA_SIGMA_LAT_DEG) ** 2 + (dlon / SAA_SIGMA_LON_DEG) ** 2
    return _scalar_or_array(1.0 + (peak_multiplier - 1.0) * np.exp(-0.5 * z2))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SolarParticleEvent:
    """A solar proton event: flux raised ``multiplier`` times for ``duration_s`` seconds."""

    start_s: float
    duration_s: float
    multiplier: float

    def __post_init__(self) -> None:
        if self.duration_s <= 0:
            raise ValueError("solar event duration must be positive")
        if self.multiplier < 1.0:
            raise ValueError("solar event multiplier must be >= 1")


@overload
def solar_flux_factor(events: Sequence[SolarParticleEvent], t_s: float) -> float: ...
@overload
def solar_flux_factor(
    events: Sequence[SolarParticleEvent], t_s: npt.NDArray[Any]
) -> FloatArray: ...
def solar_flux_factor(
    events: Sequence[SolarParticleEvent], t_s: float | npt.NDArray[Any]
) -> float | FloatArray:
    """Flux relative to quiet at time t from the solar events active then.

    Particle fluxes add: each active event contributes ``multiplier - 1`` on top of the
    quiet 1. Events are flat-topped over [start, start + duration). They are applied over
    the whole orbit (conservative: in reality the geomagnetic field keeps most solar
    protons out of low latitudes).
    """
    t = np.asarray(t_s, dtype=np.float64)
    factor = np.ones_like(t)
    for ev in events:
        active = (t >= ev.start_s) & (t < ev.start_s + ev.duration_s)
        factor = factor + np.where(active, ev.multiplier - 1.0, 0.0)
    return _scalar_or_array(factor)  # type: ignore[no-any-return]


@overload
def flux_factor(
    orbit: CircularOrbit,
    t_s: float,
    events: Sequence[SolarParticleEvent] = ...,
    saa_peak_multiplier: float = ...,
) -> float: ...
@overload
def flux_factor(
    orbit: CircularOrbit,
    t_s: npt.NDArray[Any],
    events: Sequence[SolarParticleEvent] = ...,
    saa_peak_multiplier: float = ...,
) -> FloatArray: ...
def flux_factor(
    orbit: CircularOrbit,
    t_s: float | npt.NDArray[Any],
    events: Sequence[SolarParticleEvent] = (),
    saa_peak_multiplier: float = SAA_PEAK_MULTIPLIER,
) -> float | FloatArray:
    """Total flux relative to quiet where the node is at time t: quiet + SAA + solar events."""
    lat, lon = orbit.subsatellite_latlon_deg(t_s)
    saa = saa_flux_factor(np.asarray(lat), np.asarray(lon), saa_peak_multiplier)
    spe = solar_flux_factor(events, np.asarray(t_s, dtype=np.float64))
    return _scalar_or_array(np.asarray(saa + spe - 1.0))  # type: ignore[no-any-return]
