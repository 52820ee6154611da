"""The radio link between the node and a ground station: range, budget, bit errors, delay.

Link-layer code (CLTU decoding, COP-1 retransmission, frame CRC checks) must be exercised
with the bit errors and delays a real pass produces: few at zenith, many near the horizon.
This module turns geometry into a slant range, the range into Eb/N0 with a textbook link
budget, Eb/N0 into an uncoded BPSK bit error rate, and flips that fraction of bits in a
frame with an injected random generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from sim_hw.orbit import R_EARTH_KM

FloatArray = npt.NDArray[np.float64]

SPEED_OF_LIGHT_KM_S = 299_792.458
BOLTZMANN_DBW_PER_K_HZ = 10.0 * math.log10(1.380_649e-23)  # -228.6 dBW/K/Hz


def _scalar_or_array(x: npt.NDArray[Any]) -> Any:
    return x.item() if x.ndim == 0 else x


@overload
def slant_range_km(
    altitude_km: float, elevation_deg: float, station_alt_km: float = ...
) -> float: ...
@overload
def slant_range_km(
    altitude_km: float, elevation_deg: npt.NDArray[Any], station_alt_km: float = ...
) -> FloatArray: ...
def slant_range_km(
    altitude_km: float, elevation_deg: float | npt.NDArray[Any], station_alt_km: float = 0.0
) -> float | FloatArray:
    """Distance from a ground station (``station_alt_km`` above the sphere) to a node at
    the given altitude and elevation: rho = sqrt(r^2 - (Rs cos el)^2) - Rs sin el."""
    if altitude_km <= 0 or station_alt_km >= altitude_km:
        raise ValueError("altitude must be positive and above the station")
    el = np.radians(np.asarray(elevation_deg, dtype=np.float64))
    r = R_EARTH_KM + altitude_km
    rs = R_EARTH_KM + station_alt_km
    rho = np.sqrt(r**2 - (rs * np.cos(el)) ** 2) - rs * np.sin(el)
    return _scalar_or_array(rho)  # type: ignore[no-any-return]


def free_space_loss_db(range_km: float, frequency_hz: float) -> float:
    """Free-space path loss 20 log10(4 pi d f / c)."""
    if range_km <= 0 or frequency_hz <= 0:
        raise ValueError("range and frequency must be positive")
    return 20.0 * math.log10(4.0 * math.pi * range_km * frequency_hz / SPEED_OF_LIGHT_KM_S)


def propagation_delay_s(range_km: float) -> float:
    """One-way light time over the given range."""
    if range_km < 0:
        raise ValueError("range must be >= 0")
    return range_km / SPEED_OF_LIGHT_KM_S


@dataclass(frozen=True)
class LinkBudget:
    """A one-way link: transmitter EIRP, receiver G/T, carrier, bit rate and other losses
    (atmosphere, polarization, pointing, implementation), all in dB units."""

    eirp_dbw: float
    g_over_t_dbk: float
    frequency_hz: float
    data_rate_bps: float
    losses_db: float = 0.0

    def __post_init__(self) -> None:
        if self.frequency_hz <= 0 or self.data_rate_bps <= 0:
            raise ValueError("frequency and data rate must be positive")

    def c_over_n0_dbhz(self, range_km: float) -> float:
        """Carrier to noise density at the receiver."""
        return (
            self.eirp_dbw
            - free_space_loss_db(range_km, self.frequency_hz)
            - self.losses_db
            + self.g_over_t_dbk
            - BOLTZMANN_DBW_PER_K_HZ
        )

    def ebn0_db(self, range_km: float) -> float:
        """Energy per bit over noise density at the receiver."""
        return self.c_over_n0_dbhz(range_km) - 10.0 * math.log10(self.data_rate_bps)

    def ber(self, range_km: float) -> float:
        """Uncoded BPSK bit error rate at that range."""
        return bpsk_ber(self.ebn0_db(range_km))


# An example uncoded S-band downlink, chosen so bit errors matter near the horizon:
# 1 W into a 0 dBi antenna, a small ground dish (G/T 12 dB/K), 1 Mbit/s, 5 dB of
# atmosphere, polarization, pointing and implementation losses. At 750 km this gives
# Eb/N0 ~ 7.6 dB (BER ~ 4e-4) at 5 deg elevation and ~ 18.6 dB at zenith.
S_BAND_DOWNLINK = LinkBudget(
    eirp_dbw=0.0, g_over_t_dbk=12.0, frequency_hz=2.25e9, data_rate_bps=1.0e6, losses_db=5.0
)

# The default node's links, at fixed rates whose errors the budget implies.
# Down: 2 Mbit/s uncoded BPSK at S-band, 2 dBW EIRP (a 2 W transmitter behind a
# hemispherical antenna and its losses), a 5 m ground dish (G/T 15 dB/K) and 5 dB of
# atmosphere, polarization, pointing and implementation losses: Eb/N0 ~ 9.5 dB
# (BER ~ 1e-5, a frame in ten lost) at a 5 deg mask, ~ 20.5 dB at zenith (error-free).
# Up: 64 kbit/s, 50 dBW from the ground (200 W into a 27 dBi dish), the node's
# omni (G/T -27 dB/K): Eb/N0 above 30 dB down to the mask, as uplinks are built.
DEFAULT_DOWNLINK = LinkBudget(
    eirp_dbw=2.0, g_over_t_dbk=15.0, frequency_hz=2.25e9, data_rate_bps=2.0e6, losses_db=5.0
)
DEFAULT_UPLINK = LinkBudget(
    eirp_dbw=50.0, g_over_t_dbk=-27.0, frequency_hz=2.05e9, data_rate_bps=64.0e3, losses_db=5.0
)

_ERFC = np.vectorize(math.erfc, otypes=[np.float64])


@overload
def bpsk_ber(ebn0_db: float) -> float: ...
@overload
def bpsk_ber(ebn0_db: npt.NDArray[Any]) -> FloatArray: ...
def bpsk_ber(ebn0_db: float | npt.NDArray[Any]) -> float | FloatArray:
    """Bit error rate of coherent BPSK in white noise: 0.5 erfc(sqrt(Eb/N0)).

    A single value goes through ``math`` (the radio asks for one a second in a pass; the
    array path's vectorised erfc costs more than the rest of the link state): the same
    C functions, so the same bits (``tests/sim_hw/test_radio_link.py``)."""
    if isinstance(ebn0_db, float | int):
        try:
            return 0.5 * math.erfc(math.sqrt(10.0 ** (ebn0_db / 10.0)))
        except OverflowError:  # an Eb/N0 beyond 3,000 dB: no error at all
            return 0.0
    ebn0 = 10.0 ** (np.asarray(ebn0_db, dtype=np.float64) / 10.0)
    return _scalar_or_array(np.asarray(0.5 * _ERFC(np.sqrt(ebn0))))  # type: ignore[no-any-return]


class BitErrorChannel:
    """Flips independent random bits at a given rate, from an injected generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.frames = 0
        self.bits_seen = 0
        self.bits_flipped = 0

    def corrupt(self, data: bytes, ber: float) -> tuple[bytes, int]:
        """A copy of ``data`` with each bit flipped with probability ``ber``, and how many
        bits were flipped."""
        if not 0.0 <= ber <= 1.0:  # also rejects NaN
            raise ValueError("bit error rate must be within [0, 1]")
        n_bits = 8 * len(data)
        self.frames += 1
        self.bits_seen += n_bits
        if ber == 0.0 or n_bits == 0:
            return bytes(data), 0
        # Binomial count, then that many distinct positions: cheap when errors are rare.
        k = int(self.rng.binomial(n_bits, ber))
        if k == 0:
            return bytes(data), 0
        positions = self.rng.choice(n_bits, size=k, replace=False)
        flips = np.zeros(n_bits, dtype=np.bool_)
        flips[positions] = True
        out = np.frombuffer(data, dtype=np.uint8) ^ np.packbits(flips)
        self.bits_flipped += k
        return out.tobytes(), k
