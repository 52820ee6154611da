"""Orbit geometry for a compute node: circular orbit, sun direction, beta angle and eclipse.

The node flies a circular (usually sun-synchronous, dawn-dusk) orbit. The power, thermal
and radiation models need where the node is, where the sun is, and whether the node is in
the Earth's shadow; ground contacts need the Earth's rotation. The model is analytic and
cheap (a circular orbit whose node precesses with J2, a mean sun on a circular ecliptic
at the distance of an eccentric Earth orbit, a spherical Earth casting a conical umbra and
penumbra): good to a fraction of a degree, which is all a flight-software test bench
needs. Every function accepts a scalar time or a numpy array of times, so a whole day can
be evaluated in one call.

Time ``t_s`` is seconds since the epoch ``day_of_year`` (a fractional day of the year in
UT; day 80.0 is taken as the March equinox at 0h UT).
"""

from __future__ import annotations

import math
from typing import Any, overload

import numpy as np
import numpy.typing as npt

MU_EARTH_KM3_S2 = 398_600.4418  # WGS-84 / EGM-96 gravitational parameter
R_EARTH_KM = 6_378.137  # WGS-84 equatorial radius
J2_EARTH = 1.082_626_68e-3  # EGM-96 second zonal harmonic
OBLIQUITY_DEG = 23.44  # obliquity of the ecliptic (J2000, rounded)
TROPICAL_YEAR_DAYS = 365.242_19
SIDEREAL_DAY_S = 86_164.0905
EARTH_ROTATION_RAD_S = 2.0 * math.pi / SIDEREAL_DAY_S
SECONDS_PER_DAY = 86_400.0
MARCH_EQUINOX_DAY = 80.0  # day of year (0h UT) taken as the March equinox
SUN_MEAN_MOTION_RAD_S = 2.0 * math.pi / (TROPICAL_YEAR_DAYS * SECONDS_PER_DAY)
AU_KM = 149_597_870.7  # IAU 2012
R_SUN_KM = 695_700.0  # IAU 2015 nominal solar radius
EARTH_ORBIT_ECCENTRICITY = 0.0167
ANOMALISTIC_YEAR_DAYS = 365.259_64
PERIHELION_DAY = 3.0  # early January (day of year, same convention as the epoch)
# Solar irradiance at 1 AU from the ASTM E-490 air-mass-zero spectrum. With the Earth's
# eccentricity it spans 1,321 W/m2 (aphelion, early July) to 1,413 W/m2 (perihelion).
SOLAR_CONSTANT_1AU_W_M2 = 1366.1

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def circular_period_s(altitude_km: float) -> float:
    """Period of a circular orbit at the given altitude (Kepler's third law)."""
    if altitude_km <= 0:
        raise ValueError("altitude must be positive")
    a = R_EARTH_KM + altitude_km
    return 2.0 * math.pi * math.sqrt(a**3 / MU_EARTH_KM3_S2)


def nodal_precession_rad_s(altitude_km: float, inclination_deg: float) -> float:
    """Secular J2 drift of the right ascension of the ascending node (rad/s)."""
    a = R_EARTH_KM + altitude_km
    n = math.sqrt(MU_EARTH_KM3_S2 / a**3)
    return -1.5 * n * J2_EARTH * (R_EARTH_KM / a) ** 2 * math.cos(math.radians(inclination_deg))


def sun_synchronous_inclination_deg(altitude_km: float) -> float:
    """Inclination at which J2 turns the orbit plane once per tropical year (sun-synchronous)."""
    if altitude_km <= 0:
        raise ValueError("altitude must be positive")
    a = R_EARTH_KM + altitude_km
    n = math.sqrt(MU_EARTH_KM3_S2 / a**3)
    cos_i = -SUN_MEAN_MOTION_RAD_S / (1.5 * n * J2_EARTH * (R_EARTH_KM / a) ** 2)
    if not -1.0 <= cos_i <= 1.0:
        raise ValueError(f"no sun-synchronous orbit at {altitude_km} km")
    return math.degrees(math.acos(cos_i))


def eclipse_fraction(beta_deg: float, altitude_km: float) -> float:
    """Fraction of a circular orbit spent in the cylindrical Earth shadow at a beta angle.

    Zero when |beta| is at or beyond beta* = asin(R / (R + h)); otherwise
    (1/pi) * acos(sqrt(h^2 + 2 R h) / ((R + h) cos beta)).
    """
    if altitude_km <= 0:
        raise ValueError("altitude must be positive")
    r = R_EARTH_KM + altitude_km
    beta_star = math.asin(R_EARTH_KM / r)
    beta = math.radians(abs(beta_deg))
    if beta >= beta_star:
        return 0.0
    x = math.sqrt(altitude_km**2 + 2.0 * R_EARTH_KM * altitude_km) / (r * math.cos(beta))
    return math.acos(min(1.0, x)) / math.pi


def gmst_rad(day_of_year: FloatArray | float) -> FloatArray:
    """Greenwich mean sidereal angle for a fractional UT day of the year.

    The mean sun crosses the Greenwich meridian at 12h UT, and its right ascension grows
    uniformly from zero at the March equinox: a model consistent with ``sun_unit_vector``.
    """
    d = np.asarray(day_of_year, dtype=np.float64)
    mean_sun_ra = 2.0 * np.pi * (d - MARCH_EQUINOX_DAY) / TROPICAL_YEAR_DAYS
    # 2*pi*d is the UT hour angle of the mean sun (modulo whole turns) minus pi at midnight.
    return np.asarray(np.mod(mean_sun_ra + 2.0 * np.pi * d - np.pi, 2.0 * np.pi))


def sun_unit_vector_at_day(day_of_year: FloatArray | float) -> FloatArray:
    """Unit vector to the sun in ECI (x to the March equinox), shape (..., 3).

    A circular ecliptic: longitude grows uniformly from zero at the March equinox.
    """
    d = np.asarray(day_of_year, dtype=np.float64)
    lam = 2.0 * np.pi * (d - MARCH_EQUINOX_DAY) / TROPICAL_YEAR_DAYS
    eps = math.radians(OBLIQUITY_DEG)
    return np.stack(
        [np.cos(lam), math.cos(eps) * np.sin(lam), math.sin(eps) * np.sin(lam)], axis=-1
    )


def sun_distance_au(day_of_year: FloatArray | float) -> FloatArray:
    """Earth-sun distance (AU) to first order in the eccentricity: 1 - e cos(M)."""
    d = np.asarray(day_of_year, dtype=np.float64)
    mean_anomaly = 2.0 * np.pi * (d - PERIHELION_DAY) / ANOMALISTIC_YEAR_DAYS
    return np.asarray(1.0 - EARTH_ORBIT_ECCENTRICITY * np.cos(mean_anomaly))


def solar_flux_w_m2(day_of_year: FloatArray | float) -> FloatArray:
    """Solar irradiance at the Earth's distance on that day (inverse square of the distance)."""
    return np.asarray(SOLAR_CONSTANT_1AU_W_M2 / sun_distance_au(day_of_year) ** 2)


def disc_sunlit_fraction(
    sun_radius_rad: FloatArray, earth_radius_rad: FloatArray, separation_rad: FloatArray
) -> FloatArray:
    """Fraction of the solar disc not hidden by the Earth's disc, as seen from the node.

    Two discs of apparent radii ``sun_radius_rad`` and ``earth_radius_rad`` whose centres
    are ``separation_rad`` apart (Montenbruck & Gill, Satellite Orbits, 3.4.2): 1 when
    they do not overlap, 0 when the Earth covers the sun (umbra), the share of the solar
    disc outside the lens of overlap in between (penumbra). Small-angle plane geometry.
    """
    a = np.asarray(sun_radius_rad, dtype=np.float64)
    b = np.asarray(earth_radius_rad, dtype=np.float64)
    c = np.asarray(separation_rad, dtype=np.float64)
    lit = np.ones(np.broadcast(a, b, c).shape)
    partial = (c < a + b) & (c > np.abs(a - b))
    if np.any(partial):
        ap, bp, cp = (np.broadcast_to(v, lit.shape)[partial] for v in (a, b, c))
        x = (cp * cp + ap * ap - bp * bp) / (2.0 * cp)
        y = np.sqrt(np.maximum(ap * ap - x * x, 0.0))
        lens = (
            ap * ap * np.arccos(np.clip(x / ap, -1.0, 1.0))
            + bp * bp * np.arccos(np.clip((cp - x) / bp, -1.0, 1.0))
            - cp * y
        )
        lit[partial] = 1.0 - lens / (np.pi * ap * ap)
    hidden = c <= b - a  # the Earth's disc covers the whole sun
    annular = c <= a - b  # the Earth inside the solar disc (never in low orbit)
    lit = np.where(hidden, 0.0, lit)
    lit = np.where(annular & ~hidden, 1.0 - (b * b) / (a * a), lit)
    return np.asarray(np.clip(lit, 0.0, 1.0))


def _scalar_or_array(x: npt.NDArray[Any]) -> Any:
    """Return a Python scalar for a 0-d result, the array otherwise."""
    return x.item() if x.ndim == 0 else x


class CircularOrbit:
    """A circular orbit whose plane precesses with J2, with the sun and the Earth's shadow.

    ``inclination_deg=None`` picks the sun-synchronous inclination for the altitude.
    ``ltan_h`` is the mean local time of the ascending node at the epoch (18.0 is a
    dawn-dusk orbit, 12.0 puts the sun in the orbit plane at the equinox). ``phase_deg``
    is the argument of latitude at the epoch (0 = at the ascending node) and
    ``raan_offset_deg`` rotates the plane away from the LTAN (for a second plane of a
    constellation).
    """

    def __init__(
        self,
        altitude_km: float = 750.0,
        inclination_deg: float | None = None,
        ltan_h: float = 18.0,
        day_of_year: float = 80.0,
        raan_offset_deg: float = 0.0,
        phase_deg: float = 0.0,
    ) -> None:
        if altitude_km <= 0:
            raise ValueError("altitude must be positive")
        if inclination_deg is None:
            inclination_deg = sun_synchronous_inclination_deg(altitude_km)
        if not 0.0 <= inclination_deg <= 180.0:
            raise ValueError("inclination must be within [0, 180] degrees")
        self.altitude_km = float(altitude_km)
        self.inclination_deg = float(inclination_deg)
        self.ltan_h = float(ltan_h)
        self.day_of_year = float(day_of_year)
        self.raan_offset_deg = float(raan_offset_deg)
        self.phase_deg = float(phase_deg)
        self.radius_km = R_EARTH_KM + self.altitude_km
        self.period_s = circular_period_s(self.altitude_km)
        self.mean_motion_rad_s = 2.0 * math.pi / self.period_s
        self.raan_rate_rad_s = nodal_precession_rad_s(self.altitude_km, self.inclination_deg)
        mean_sun_ra = 2.0 * math.pi * (self.day_of_year - MARCH_EQUINOX_DAY) / TROPICAL_YEAR_DAYS
        self.raan0_rad = (
            mean_sun_ra + math.radians(15.0 * (self.ltan_h - 12.0) + self.raan_offset_deg)
        ) % (2.0 * math.pi)

    def __repr__(self) -> str:
        return (
            f"CircularOrbit(altitude_km={self.altitude_km}, "
            f"inclination_deg={self.inclination_deg:.3f}, ltan_h={self.ltan_h}, "
            f"day_of_year={self.day_of_year}, raan_offset_deg={self.raan_offset_deg}, "
            f"phase_deg={self.phase_deg})"
        )

    def day_at(self, t_s: npt.ArrayLike) -> FloatArray:
        """Fractional UT day of the year at time t."""
        return self.day_of_year + np.asarray(t_s, dtype=np.float64) / SECONDS_PER_DAY

    def raan_rad(self, t_s: npt.ArrayLike) -> FloatArray:
        """Right ascension of the ascending node at time t (precessing with J2)."""
        return np.asarray(self.raan0_rad + self.raan_rate_rad_s * np.asarray(t_s, np.float64))

    def orbit_normal(self, t_s: npt.ArrayLike) -> FloatArray:
        """Unit angular-momentum vector of the orbit plane in ECI, shape (..., 3)."""
        raan = self.raan_rad(t_s)
        inc = math.radians(self.inclination_deg)
        return np.stack(
            [
                math.sin(inc) * np.sin(raan),
                -math.sin(inc) * np.cos(raan),
                np.full_like(raan, math.cos(inc)),
            ],
            axis=-1,
        )

    def position_eci_km(self, t_s: npt.ArrayLike) -> FloatArray:
        """Position in ECI (km), shape (..., 3) for t of shape (...)."""
        t = np.asarray(t_s, dtype=np.float64)
        u = math.radians(self.phase_deg) + self.mean_motion_rad_s * t
        raan = self.raan_rad(t)
        inc = math.radians(self.inclination_deg)
        cu, su = np.cos(u), np.sin(u)
        co, so = np.cos(raan), np.sin(raan)
        ci, si = math.cos(inc), math.sin(inc)
        return self.radius_km * np.stack(
            [co * cu - so * su * ci, so * cu + co * su * ci, su * si], axis=-1
        )

    def subsatellite_latlon_deg(self, t_s: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Geocentric latitude and longitude (east, in [-180, 180)) under the node."""
        r = self.position_eci_km(t_s)
        lat = np.degrees(np.arcsin(r[..., 2] / self.radius_km))
        lon_eci = np.arctan2(r[..., 1], r[..., 0])
        lon = np.degrees(lon_eci - gmst_rad(self.day_at(t_s)))
        return np.asarray(lat), np.asarray(np.mod(lon + 180.0, 360.0) - 180.0)

    def sun_unit_vector(self, t_s: npt.ArrayLike) -> FloatArray:
        """Unit vector to the sun in ECI at time t, shape (..., 3)."""
        return sun_unit_vector_at_day(self.day_at(t_s))

    @overload
    def beta_angle_deg(self, t_s: float) -> float: ...
    @overload
    def beta_angle_deg(self, t_s: npt.NDArray[Any]) -> FloatArray: ...
    def beta_angle_deg(self, t_s: float | npt.NDArray[Any]) -> float | FloatArray:
        """Angle between the sun vector and the orbit plane (positive on the normal side)."""
        s = self.sun_unit_vector(t_s)
        h = self.orbit_normal(t_s)
        sin_beta = np.clip(np.sum(s * h, axis=-1), -1.0, 1.0)
        return _scalar_or_array(np.degrees(np.arcsin(sin_beta)))  # type: ignore[no-any-return]

    def sun_position_eci_km(self, t_s: npt.ArrayLike) -> FloatArray:
        """Position of the sun in ECI (km), shape (..., 3): direction and distance."""
        day = self.day_at(t_s)
        return np.asarray(sun_unit_vector_at_day(day) * (AU_KM * sun_distance_au(day))[..., None])

    def solar_flux_w_m2(self, t_s: npt.ArrayLike) -> FloatArray:
        """Solar irradiance at time t (W/m2): 1,321 in early July to 1,413 in early January."""
        return solar_flux_w_m2(self.day_at(t_s))

    @overload
    def sunlit_fraction(self, t_s: float) -> float: ...
    @overload
    def sunlit_fraction(self, t_s: npt.NDArray[Any]) -> FloatArray: ...
    def sunlit_fraction(self, t_s: float | npt.NDArray[Any]) -> float | FloatArray:
        """Share of the solar disc the node sees: 1 in sunlight, 0 in the Earth's umbra,
        in between in the penumbra (conical shadow of a spherical Earth)."""
        r = self.position_eci_km(t_s)
        to_sun = self.sun_position_eci_km(t_s) - r
        r_norm = np.linalg.norm(r, axis=-1)
        d_sun = np.linalg.norm(to_sun, axis=-1)
        sun_radius = np.arcsin(R_SUN_KM / d_sun)
        earth_radius = np.arcsin(np.minimum(R_EARTH_KM / r_norm, 1.0))
        cos_sep = -np.sum(r * to_sun, axis=-1) / (r_norm * d_sun)
        separation = np.arccos(np.clip(cos_sep, -1.0, 1.0))
        lit = disc_sunlit_fraction(sun_radius, earth_radius, separation)
        return _scalar_or_array(lit)  # type: ignore[no-any-return]

    @overload
    def in_eclipse(self, t_s: float) -> bool: ...
    @overload
    def in_eclipse(self, t_s: npt.NDArray[Any]) -> BoolArray: ...
    def in_eclipse(self, t_s: float | npt.NDArray[Any]) -> bool | BoolArray:
        """True where any part of the sun is hidden by the Earth (umbra or penumbra)."""
        lit = np.asarray(self.sunlit_fraction(t_s))
        return _scalar_or_array(np.asarray(lit < 1.0))  # type: ignore[no-any-return]
