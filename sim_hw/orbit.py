"""Orbit geometry: the Keplerian period of a circular orbit.

The full orbit and environment model (beta angle, eclipse, ground contacts) builds on
this module.
"""

from __future__ import annotations

import math

MU_EARTH_KM3_S2 = 398_600.4418  # WGS-84 / EGM-96 gravitational parameter
R_EARTH_KM = 6_378.137  # WGS-84 equatorial radius


def circular_period_s(altitude_km: float) -> float:
    """Period of a circular orbit at the given altitude (Kepler's third law)."""
    if altitude_km <= 0:
        raise ValueError("altitude must be positive")
    a = R_EARTH_KM + altitude_km
    return 2.0 * math.pi * math.sqrt(a**3 / MU_EARTH_KM3_S2)
