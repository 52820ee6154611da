"""Links of a cluster: optical inter-satellite links between nodes and Ka-band links to
geostationary data-relay satellites, with outages as injectable faults.

The nodes of a cluster fly together in the dawn-dusk orbit; an optical terminal on each
pair points at the other, acquires it (pointing, acquisition and tracking take
``acquisition_s`` after the line of sight opens or an outage ends) and then carries
Gbit/s. A GEO data relay (Tianlian/TDRS class) sits over a fixed longitude and forwards
a node's Ka-band return link to its ground terminal: ~120-140 ms one way on the node's
leg, as much again down to the ground.

Everything here is a pure function of time and of the injected faults (no state that
depends on the order of the calls): a cluster run on many machines asks the same
questions in any order and gets the same answers. Line of sight is
``sim_hw.environment.relay_visible`` (the segment clears the Earth plus a grazing layer);
range gives the light time and the bit error rate (received optical power falls with
the square of the range, so Eb/N0 falls 20 dB per decade).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sim_hw.environment import GroundStation, Positioned, relay_visible, station_position_eci_km
from sim_hw.orbit import MU_EARTH_KM3_S2, R_EARTH_KM, SIDEREAL_DAY_S, CircularOrbit, gmst_rad
from sim_hw.radio_link import BOLTZMANN_DBW_PER_K_HZ, SPEED_OF_LIGHT_KM_S, LinkBudget, bpsk_ber

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# A geostationary orbit turns with the Earth: Kepler's third law at one sidereal day.
GEO_RADIUS_KM = (MU_EARTH_KM3_S2 * (SIDEREAL_DAY_S / (2.0 * math.pi)) ** 2) ** (1.0 / 3.0)

# The node's Ka-band return link to a GEO relay: a 0.6 m dish (~42 dBi) behind ~20 W
# and its losses (55 dBW EIRP), the relay's single-access antenna (G/T 26 dB/K, TDRS
# class), 26 GHz, 100 Mbit/s, 3 dB of pointing, polarization and implementation losses:
# Eb/N0 ~ 13 dB (BER ~ 1e-10) at the longest slant range (~44,600 km).
KA_RETURN = LinkBudget(
    eirp_dbw=55.0, g_over_t_dbk=26.0, frequency_hz=26.0e9, data_rate_bps=100.0e6, losses_db=3.0
)


def light_time_s(range_km: float) -> float:
    """One-way light time over a range."""
    if range_km < 0 or not math.isfinite(range_km):
        raise ValueError("range must be finite and >= 0")
    return range_km / SPEED_OF_LIGHT_KM_S


def packet_error_probability(octets: int, ber: float) -> float:
    """Chance that a packet of ``octets`` has at least one bit error: 1 - (1 - ber)^bits
    (the frame check rejects it, so it is lost on that hop)."""
    if not 0.0 <= ber <= 1.0:
        raise ValueError("bit error rate must be within [0, 1]")
    if octets < 0:
        raise ValueError("octets must be >= 0")
    if ber == 1.0:
        return 1.0 if octets else 0.0
    return -math.expm1(8 * octets * math.log1p(-ber))


@dataclass(frozen=True)
class OpticalIslConfig:
    """An optical inter-satellite terminal pair."""

    rate_bps: float = 10.0e9
    acquisition_s: float = 20.0  # pointing, acquisition and tracking before data flows
    max_range_km: float = 4_500.0  # beyond this the terminal cannot close the link
    ebn0_db_at_ref: float = 14.0  # BER ~1e-12 at the reference range
    ref_range_km: float = 2_000.0
    grazing_altitude_km: float = 100.0  # the beam must clear the atmosphere below this

    def __post_init__(self) -> None:
        for key in ("rate_bps", "max_range_km", "ref_range_km"):
            v = getattr(self, key)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"isl {key} must be finite and > 0")
        if not (math.isfinite(self.acquisition_s) and self.acquisition_s >= 0):
            raise ValueError("isl acquisition_s must be finite and >= 0")

    def ber(self, range_km: float) -> float:
        """Bit error rate at a range: Eb/N0 falls 20 dB per decade of range."""
        if range_km <= 0:
            return float(bpsk_ber(self.ebn0_db_at_ref + 60.0))
        ebn0 = self.ebn0_db_at_ref - 20.0 * math.log10(range_km / self.ref_range_km)
        return float(bpsk_ber(ebn0))


@dataclass(frozen=True)
class LinkOutage:
    """An injected link fault: ``link`` is ``"isl:A-B"`` (node indices, either order),
    ``"geo:NAME"`` (every node's link to that relay), ``"node:I"`` (every link of node I:
    a node that went silent) or ``"*"``; with ``ber`` None the link is down, otherwise it
    stays up with that bit error rate."""

    link: str
    start_s: float
    duration_s: float
    ber: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.duration_s)):
            raise ValueError("outage times must be finite")
        if self.duration_s <= 0:
            raise ValueError("outage duration must be > 0")
        if self.ber is not None and not 0.0 <= self.ber <= 1.0:
            raise ValueError("outage ber must be within [0, 1]")

    def overlaps(self, t0_s: float, t1_s: float) -> bool:
        return self.start_s < t1_s and t0_s < self.start_s + self.duration_s

    def covers(self, names: tuple[str, ...]) -> bool:
        return self.link == "*" or self.link in names


class GeoRelay:
    """A geostationary data-relay satellite over ``lon_deg`` with its ground terminal."""

    def __init__(
        self, name: str, lon_deg: float, terminal: GroundStation, day_of_year: float = 80.0
    ) -> None:
        if not (math.isfinite(lon_deg) and -180.0 <= lon_deg <= 360.0):
            raise ValueError(f"{name}: longitude out of range")
        self.name = name
        self.lon_deg = float(lon_deg)
        self.terminal = terminal
        self.day_of_year = float(day_of_year)
        self._clock = CircularOrbit(day_of_year=self.day_of_year)  # only its clock is used

    def __repr__(self) -> str:
        return f"GeoRelay({self.name!r}, lon_deg={self.lon_deg}, terminal={self.terminal.name!r})"

    def day_at(self, t_s: npt.ArrayLike) -> FloatArray:
        return np.asarray(self.day_of_year + np.asarray(t_s, dtype=np.float64) / 86_400.0)

    def position_eci_km(self, t_s: npt.ArrayLike) -> FloatArray:
        """Position in ECI: on the equator, turning with the Earth over its longitude."""
        theta = gmst_rad(self.day_at(t_s)) + math.radians(self.lon_deg)
        unit = np.stack([np.cos(theta), np.sin(theta), np.zeros_like(theta)], axis=-1)
        return np.asarray(GEO_RADIUS_KM * unit, dtype=np.float64)

    def ground_leg_s(self, t_s: float) -> float:
        """Light time from the relay down to its ground terminal."""
        ground = station_position_eci_km(self.terminal, self._clock, t_s)
        return light_time_s(float(np.linalg.norm(self.position_eci_km(t_s) - ground)))

    def ground_legs_s(self, t_s: FloatArray) -> FloatArray:
        """``ground_leg_s`` at many times at once."""
        ground = station_position_eci_km(self.terminal, self._clock, t_s)
        rng = np.linalg.norm(self.position_eci_km(t_s) - ground, axis=-1)
        return np.asarray(rng / SPEED_OF_LIGHT_KM_S, dtype=np.float64)


# Tianlian-class relays over China's longitudes and a third for the Atlantic side, each
# with a ground terminal that sees it (Miyun, Kashgar).
MIYUN = GroundStation("Miyun", 40.45, 116.85, min_elevation_deg=5.0, alt_m=100.0)
KASHGAR = GroundStation("Kashgar", 39.50, 76.00, min_elevation_deg=5.0, alt_m=1_300.0)
DEFAULT_RELAYS: tuple[tuple[str, float, GroundStation], ...] = (
    ("TL-80E", 80.0, MIYUN),
    ("TL-177E", 176.8, MIYUN),
    ("TL-17E", 16.8, KASHGAR),
)


@dataclass(frozen=True)
class LinkState:
    """One hop at one time: up or why not, its range, light time, bit error rate and rate."""

    up: bool
    why: str  # "up", "no_line_of_sight", "out_of_range", "acquiring", "outage"
    range_km: float
    delay_s: float
    ber: float
    rate_bps: float

    def transfer_s(self, octets: int) -> float:
        """Light time plus the time to clock the octets out at the link's rate."""
        return self.delay_s + 8.0 * octets / self.rate_bps


WHY = ("up", "no_line_of_sight", "out_of_range", "acquiring", "outage")


@dataclass(frozen=True)
class LinkBatch:
    """Many hops at once (arrays of one length): what :class:`LinkState` says of one.
    ``why`` holds indices into :data:`WHY`."""

    up: BoolArray
    why: IntArray
    range_km: FloatArray
    delay_s: FloatArray
    ber: FloatArray
    rate_bps: float

    def __len__(self) -> int:
        return len(self.up)

    def state(self, k: int) -> LinkState:
        """Hop ``k`` as a :class:`LinkState`."""
        return LinkState(
            bool(self.up[k]),
            WHY[int(self.why[k])],
            float(self.range_km[k]),
            float(self.delay_s[k]),
            float(self.ber[k]),
            self.rate_bps,
        )


def _canonical_index(link: str, prefix: str) -> int | None:
    """``I`` of ``prefix:I`` when the name is written as the model writes it, else None."""
    tail = link.removeprefix(prefix)
    if tail == link or not tail.isdigit() or str(int(tail)) != tail:
        return None
    return int(tail)


def _canonical_pair(link: str) -> tuple[int, int] | None:
    """``(A, B)`` of ``isl:A-B`` when written as the model writes it (A < B), else None."""
    if not link.startswith("isl:"):
        return None
    lo, sep, hi = link[4:].partition("-")
    if not sep or not lo.isdigit() or not hi.isdigit():
        return None
    a, b = int(lo), int(hi)
    return (a, b) if f"isl:{a}-{b}" == link else None


class ClusterLinks:
    """Every link of a cluster as a pure function of time and the injected outages.

    A link is up at t when its geometry holds at t and ``acquisition_s`` before (checked
    at both ends and the middle of that span) and no outage touches that span: the
    terminals re-acquire after every break.
    """

    def __init__(
        self,
        orbits: Sequence[CircularOrbit],
        relays: Sequence[GeoRelay] = (),
        isl: OpticalIslConfig | None = None,
        ka: LinkBudget = KA_RETURN,
        geo_acquisition_s: float = 10.0,
        outages: Sequence[LinkOutage] = (),
    ) -> None:
        self.orbits = list(orbits)
        self.relays = list(relays)
        self.isl_cfg = isl or OpticalIslConfig()
        self.ka = ka
        self.geo_acquisition_s = float(geo_acquisition_s)
        self.outages = list(outages)
        # The orbits' elements as arrays, for positions of many nodes at once.
        o = self.orbits
        self._phase = np.array([math.radians(x.phase_deg) for x in o], dtype=np.float64)
        self._motion = np.array([x.mean_motion_rad_s for x in o], dtype=np.float64)
        self._raan0 = np.array([x.raan0_rad for x in o], dtype=np.float64)
        self._raan_rate = np.array([x.raan_rate_rad_s for x in o], dtype=np.float64)
        self._cos_i = np.array([math.cos(math.radians(x.inclination_deg)) for x in o])
        self._sin_i = np.array([math.sin(math.radians(x.inclination_deg)) for x in o])
        self._radius = np.array([x.radius_km for x in o], dtype=np.float64)

    def _fault(self, names: tuple[str, ...], t0: float, t1: float) -> tuple[bool, float]:
        """(down, extra ber) from the outages touching [t0, t1] on any of these names."""
        down, ber = False, 0.0
        for o in self.outages:
            if o.covers(names) and o.overlaps(t0, t1 + 1e-9):
                if o.ber is None:
                    down = True
                elif o.start_s <= t1 < o.start_s + o.duration_s:
                    ber = max(ber, o.ber)
        return down, ber

    def _state(
        self, a: Positioned, b: Positioned, t_s: float, acq_s: float, max_range_km: float
    ) -> tuple[str, float]:
        span = np.array([t_s - acq_s, t_s - acq_s / 2.0, t_s])
        rng = float(np.linalg.norm(b.position_eci_km(t_s) - a.position_eci_km(t_s)))
        seen = relay_visible(a, b, span, self.isl_cfg.grazing_altitude_km)
        if not seen[-1]:
            return "no_line_of_sight", rng
        if rng > max_range_km:
            return "out_of_range", rng
        if not seen.all():
            return "acquiring", rng
        ranges = np.linalg.norm(b.position_eci_km(span) - a.position_eci_km(span), axis=-1)
        if float(ranges.max()) > max_range_km:
            return "acquiring", rng
        return "up", rng

    def isl(self, a: int, b: int, t_s: float) -> LinkState:
        """The optical link between nodes ``a`` and ``b`` at t."""
        cfg = self.isl_cfg
        why, rng = self._state(
            self.orbits[a], self.orbits[b], t_s, cfg.acquisition_s, cfg.max_range_km
        )
        lo, hi = sorted((a, b))
        names = (f"isl:{lo}-{hi}", f"node:{a}", f"node:{b}")
        down, extra = self._fault(names, t_s - cfg.acquisition_s, t_s)
        if why == "up" and down:
            why = "outage"
        ber = min(1.0, cfg.ber(rng) + extra)
        return LinkState(why == "up", why, rng, light_time_s(rng), ber, cfg.rate_bps)

    def geo(self, node: int, relay: int, t_s: float) -> LinkState:
        """The Ka-band link from a node to a GEO relay at t (delay: the node's leg only)."""
        r = self.relays[relay]
        acq = self.geo_acquisition_s
        why, rng = self._state(self.orbits[node], r, t_s, acq, math.inf)
        down, extra = self._fault((f"geo:{r.name}", f"node:{node}"), t_s - acq, t_s)
        if why == "up" and down:
            why = "outage"
        ber = min(1.0, float(self.ka.ber(rng)) + extra)
        return LinkState(why == "up", why, rng, light_time_s(rng), ber, self.ka.data_rate_bps)

    def best_geo(self, node: int, t_s: float) -> int | None:
        """The relay with the shortest node leg that is up at t (ties: lowest index)."""
        best: tuple[float, int] | None = None
        for k in range(len(self.relays)):
            s = self.geo(node, k, t_s)
            if s.up and (best is None or (s.delay_s, k) < best):
                best = (s.delay_s, k)
        return None if best is None else best[1]

    # --- many hops at once (numpy over the pairs; the same model as above) ----------
    def positions_eci_km(self, nodes: IntArray, t_s: FloatArray) -> FloatArray:
        """Positions of ``nodes[m]`` at ``t_s[m, ...]`` (km), shape t_s.shape + (3,): what
        each node's ``CircularOrbit.position_eci_km`` gives, for many nodes at once."""
        t = np.asarray(t_s, dtype=np.float64)
        idx = np.asarray(nodes, dtype=np.int64).reshape(nodes.shape + (1,) * (t.ndim - 1))
        u = self._phase[idx] + self._motion[idx] * t
        raan = self._raan0[idx] + self._raan_rate[idx] * t
        cu, su = np.cos(u), np.sin(u)
        co, so = np.cos(raan), np.sin(raan)
        ci, si = self._cos_i[idx], self._sin_i[idx]
        xyz = np.stack([co * cu - so * su * ci, so * cu + co * su * ci, su * si], axis=-1)
        return np.asarray(self._radius[idx][..., None] * xyz, dtype=np.float64)

    def _states(
        self, ra: FloatArray, rb: FloatArray, max_range_km: float
    ) -> tuple[IntArray, FloatArray]:
        """``_state`` for many hops: positions (M, 3 span times, 3) -> (why, range)."""
        d = rb - ra
        dd = np.sum(d * d, axis=-1)
        safe_dd = np.where(dd > 0.0, dd, 1.0)
        s = np.clip(-np.sum(ra * d, axis=-1) / safe_dd, 0.0, 1.0)
        closest = ra + s[..., None] * d
        seen = np.linalg.norm(closest, axis=-1) > R_EARTH_KM + self.isl_cfg.grazing_altitude_km
        ranges = np.linalg.norm(d, axis=-1)
        rng = ranges[:, -1]
        why = np.zeros(len(rng), dtype=np.int64)
        acquiring = ~seen.all(axis=-1) | (ranges.max(axis=-1) > max_range_km)
        why[acquiring] = 3
        why[rng > max_range_km] = 2
        why[~seen[:, -1]] = 1
        return why, rng

    def _faults(
        self, t_s: FloatArray, acq_s: float, match: Callable[[str], BoolArray | None]
    ) -> tuple[BoolArray, FloatArray]:
        """``_fault`` for many hops: ``match(link)`` says which hops an outage's name
        covers (None: none)."""
        n = len(t_s)
        down = np.zeros(n, dtype=bool)
        ber = np.zeros(n, dtype=np.float64)
        t0, t1 = t_s - acq_s, t_s
        for o in self.outages:
            hit = np.ones(n, dtype=bool) if o.link == "*" else match(o.link)
            if hit is None:
                continue
            touch = hit & (o.start_s < t1 + 1e-9) & (t0 < o.start_s + o.duration_s)
            if o.ber is None:
                down |= touch
            else:
                now = touch & (o.start_s <= t1) & (t1 < o.start_s + o.duration_s)
                ber = np.where(now, np.maximum(ber, o.ber), ber)
        return down, ber

    def isl_batch(self, a: IntArray, b: IntArray, t_s: FloatArray) -> LinkBatch:
        """``isl(a[m], b[m], t_s[m])`` for every m, at once."""
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        t = np.asarray(t_s, dtype=np.float64)
        cfg = self.isl_cfg
        span = t[:, None] + np.array([-cfg.acquisition_s, -cfg.acquisition_s / 2.0, 0.0])
        why, rng = self._states(
            self.positions_eci_km(a, span), self.positions_eci_km(b, span), cfg.max_range_km
        )
        lo, hi = np.minimum(a, b), np.maximum(a, b)

        def match(link: str) -> BoolArray | None:
            pair = _canonical_pair(link)
            if pair is not None:
                return np.asarray((lo == pair[0]) & (hi == pair[1]))
            i = _canonical_index(link, "node:")
            return None if i is None else np.asarray((a == i) | (b == i))

        down, extra = self._faults(t, cfg.acquisition_s, match)
        why[(why == 0) & down] = 4
        ebn0 = cfg.ebn0_db_at_ref - 20.0 * np.log10(
            np.where(rng > 0, rng, cfg.ref_range_km) / cfg.ref_range_km
        )
        ebn0 = np.where(rng > 0, ebn0, cfg.ebn0_db_at_ref + 60.0)
        ber = np.minimum(1.0, np.asarray(bpsk_ber(ebn0)) + extra)
        return LinkBatch(why == 0, why, rng, rng / SPEED_OF_LIGHT_KM_S, ber, cfg.rate_bps)

    def geo_batch(self, nodes: IntArray, relay: int, t_s: FloatArray) -> LinkBatch:
        """``geo(nodes[m], relay, t_s[m])`` for every m, at once."""
        nodes = np.asarray(nodes, dtype=np.int64)
        t = np.asarray(t_s, dtype=np.float64)
        r = self.relays[relay]
        acq = self.geo_acquisition_s
        span = t[:, None] + np.array([-acq, -acq / 2.0, 0.0])
        why, rng = self._states(
            self.positions_eci_km(nodes, span), r.position_eci_km(span), math.inf
        )

        def match(link: str) -> BoolArray | None:
            if link == f"geo:{r.name}":
                return np.ones(len(nodes), dtype=bool)
            i = _canonical_index(link, "node:")
            return None if i is None else np.asarray(nodes == i)

        down, extra = self._faults(t, acq, match)
        why[(why == 0) & down] = 4
        ka = self.ka
        fsl = 20.0 * np.log10(4.0 * math.pi * rng * ka.frequency_hz / SPEED_OF_LIGHT_KM_S)
        ebn0 = (
            ka.eirp_dbw - fsl - ka.losses_db + ka.g_over_t_dbk - BOLTZMANN_DBW_PER_K_HZ
        ) - 10.0 * math.log10(ka.data_rate_bps)
        ber = np.minimum(1.0, np.asarray(bpsk_ber(ebn0)) + extra)
        return LinkBatch(why == 0, why, rng, rng / SPEED_OF_LIGHT_KM_S, ber, ka.data_rate_bps)

    def best_geo_batch(self, nodes: IntArray, t_s: FloatArray) -> tuple[IntArray, list[LinkBatch]]:
        """``best_geo`` for every (nodes[m], t_s[m]) (-1: none) and each relay's batch."""
        batches = [self.geo_batch(nodes, k, t_s) for k in range(len(self.relays))]
        best = np.full(len(nodes), -1, dtype=np.int64)
        if batches:
            delay = np.stack([np.where(g.up, g.delay_s, np.inf) for g in batches])
            k = np.argmin(delay, axis=0)  # the first of equal delays: the lowest index
            best = np.where(np.isfinite(delay[k, np.arange(len(nodes))]), k, -1)
        return best, batches


def geo_relays(
    day_of_year: float, spec: Sequence[tuple[str, float, GroundStation]] = DEFAULT_RELAYS
) -> list[GeoRelay]:
    """The relays of ``spec`` (name, longitude, terminal) on the run's epoch."""
    return [GeoRelay(n, lon, term, day_of_year) for n, lon, term in spec]


def formation(base: CircularOrbit, nodes: int, spacing_deg: float) -> list[CircularOrbit]:
    """``nodes`` orbits in the plane of ``base``, each ``spacing_deg`` ahead of the last
    (a string of pearls: neighbours 2 r sin(spacing / 2) apart)."""
    if nodes < 1:
        raise ValueError("a formation needs at least one node")
    if not math.isfinite(spacing_deg):
        raise ValueError("spacing must be finite")
    return [
        CircularOrbit(
            base.altitude_km,
            base.inclination_deg,
            base.ltan_h,
            base.day_of_year,
            base.raan_offset_deg,
            base.phase_deg + i * spacing_deg,
        )
        for i in range(nodes)
    ]
