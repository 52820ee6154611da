"""Radiation effects on the node's accelerator boards: upsets, latch-ups, functional interrupts.

The FDIR app must see memory upsets (mostly corrected by ECC, some not), single-event
latch-ups (a board's current jumps until its power is cycled) and single-event functional
interrupts (a board hangs until reset) at realistic, flux-dependent rates. The model draws
per-board event counts for a time step as independent Poisson processes whose rates scale
with the local flux (quiet = 1; the South Atlantic Anomaly and solar events raise it).
All boards are drawn in one vectorized call, so a node of 10,000 boards costs little more
than one of 64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

SECONDS_PER_DAY = 86_400.0
_T = TypeVar("_T", bound=np.generic)

# Default rates are ESTIMATES for a COTS accelerator card (a large SoC plus 16-32 GB of
# HBM/DRAM, ~1.4e11-2.7e11 bits) in a 700-800 km sun-synchronous orbit behind moderate
# (a few mm Al-equivalent) shielding, at quiet flux, i.e. outside the South Atlantic
# Anomaly and without a solar event. They are meant to exercise FDIR at plausible orders
# of magnitude, not to size a mission; replace them with test data for a real part.
#  - Memory upsets: published SEE rates for COTS DRAM/HBM in LEO are ~1e-10..1e-9
#    upsets/bit/day orbit-averaged (SAA included). 20 upsets/board-day at quiet flux on
#    ~2e11 bits is ~1e-10/bit/day quiet, a few times that orbit-averaged with the SAA.
#  - HBM was the most sensitive part of Google's Trillium (TPU v6e) in 67 MeV proton
#    tests for the Suncatcher study (irregularities from ~2 krad(Si), no hard failure up
#    to 15 krad(Si)); most upsets are corrected by ECC, a small multi-bit fraction is not
#    (0.5% assumed here).
#  - HPE Spaceborne Computer-1 on the ISS ran COTS servers for ~1.5 years and saw more
#    correctable memory errors than identical ground units but stayed up through software
#    hardening (monitoring power, temperature and memory errors; safe states): functional
#    interrupts are occasional and recoverable, latch-ups in modern FinFET parts rare.
#    SEFI 2e-3 and SEL 1e-4 per board-day (one per ~1.4 and ~27 board-years) are assumed.
#  - The SAA raises trapped-proton flux by one to two orders of magnitude at 750 km;
#    a peak multiplier of 30 is assumed (see sim_hw.environment.saa_flux_factor).


@dataclass(frozen=True)
class RadiationRates:
    """Per-board event rates at quiet flux, in events per board-day (estimates, see above)."""

    seu_per_board_day: float = 20.0
    uncorrectable_fraction: float = 0.005
    sel_per_board_day: float = 1.0e-4
    sefi_per_board_day: float = 2.0e-3
    saa_peak_multiplier: float = 30.0

    def __post_init__(self) -> None:
        for name in ("seu_per_board_day", "sel_per_board_day", "sefi_per_board_day"):
            if getattr(self, name) < 0.0:
                raise ValueError(f"{name} must be >= 0")
        if not 0.0 <= self.uncorrectable_fraction <= 1.0:
            raise ValueError("uncorrectable_fraction must be within [0, 1]")
        if self.saa_peak_multiplier < 1.0:
            raise ValueError("saa_peak_multiplier must be >= 1")


@dataclass(frozen=True)
class RadiationEvents:
    """What radiation did to each board during one step (one array element per board).

    ``seu`` counts upsets that ECC corrected; ``seu_uncorrectable`` those it could not
    (the two are disjoint, their sum is every upset). ``sel`` and ``sefi`` say whether at
    least one latch-up or functional interrupt struck the board during the step.
    """

    seu: npt.NDArray[np.int64]
    seu_uncorrectable: npt.NDArray[np.int64]
    sel: npt.NDArray[np.bool_]
    sefi: npt.NDArray[np.bool_]
    # True only when no board has any event (a caller may then skip the step's radiation
    # pass); False promises nothing, so it is the safe default.
    quiet: bool = False
    # Per kind (seu, seu_uncorrectable, sel, sefi): False only when that array is all
    # zeros (a caller may skip it); True promises nothing, so it is the safe default.
    kinds: tuple[bool, bool, bool, bool] = (True, True, True, True)

    @property
    def n_boards(self) -> int:
        return int(self.seu.shape[0])

    @property
    def total_seu(self) -> int:
        """Every upset of the step, corrected or not."""
        return int(self.seu.sum() + self.seu_uncorrectable.sum())

    @classmethod
    def none(cls, n_boards: int) -> RadiationEvents:
        """A quiet step: no event on any board."""
        zeros = np.zeros(n_boards, dtype=np.int64)
        no = np.zeros(n_boards, dtype=np.bool_)
        return cls(zeros, zeros.copy(), no, no.copy(), quiet=True, kinds=_NO_KINDS)


_NO_KINDS = (False, False, False, False)


def _frozen(a: npt.NDArray[_T]) -> npt.NDArray[_T]:
    a.flags.writeable = False
    return a


class RadiationModel:
    """Draws radiation events for N boards from an injected random generator."""

    def __init__(self, rates: RadiationRates, rng: np.random.Generator) -> None:
        self.rates = rates
        self.rng = rng
        self.steps = 0
        self.total_seu = 0
        self.total_seu_uncorrectable = 0
        self.total_sel = 0
        self.total_sefi = 0
        self._quiet: RadiationEvents | None = None  # the shared event-free step, per n

    def draw(
        self, dt_s: float, n_boards: int, flux_factor: float | npt.NDArray[np.float64] = 1.0
    ) -> RadiationEvents:
        """Events on each of ``n_boards`` boards over a step of ``dt_s`` seconds.

        ``flux_factor`` is the flux relative to quiet: a scalar for the whole node, or one
        value per board. The generator is consumed in a fixed order (corrected upsets,
        uncorrectable upsets, latch-ups, functional interrupts) so a seed fixes the draws.
        """
        if dt_s < 0.0:
            raise ValueError("dt must be >= 0")
        if n_boards < 0:
            raise ValueError("n_boards must be >= 0")
        if isinstance(flux_factor, (float, int)):  # one flux for the node: the usual case
            f = float(flux_factor)
            if not (f >= 0.0 and math.isfinite(f)):
                raise ValueError("flux_factor must be finite and >= 0")
            return self._draw_node(dt_s / SECONDS_PER_DAY * f, n_boards)
        flux = np.asarray(flux_factor, dtype=np.float64)
        if flux.ndim not in (0, 1) or (flux.ndim == 1 and flux.shape[0] != n_boards):
            raise ValueError("flux_factor must be a scalar or one value per board")
        if np.any(flux < 0.0) or not np.all(np.isfinite(flux)):
            raise ValueError("flux_factor must be finite and >= 0")
        r = self.rates
        if flux.ndim == 0:
            return self._draw_node(dt_s / SECONDS_PER_DAY * float(flux), n_boards)
        days = dt_s / SECONDS_PER_DAY * flux
        seu_lam = r.seu_per_board_day * days
        seu = self.rng.poisson(seu_lam * (1.0 - r.uncorrectable_fraction), size=n_boards)
        unc = self.rng.poisson(seu_lam * r.uncorrectable_fraction, size=n_boards)
        # P(at least one event in the step) for a Poisson process.
        sel = self.rng.random(n_boards) < -np.expm1(-r.sel_per_board_day * days)
        sefi = self.rng.random(n_boards) < -np.expm1(-r.sefi_per_board_day * days)
        events = RadiationEvents(
            seu.astype(np.int64, copy=False),
            unc.astype(np.int64, copy=False),
            np.asarray(sel, dtype=np.bool_),
            np.asarray(sefi, dtype=np.bool_),
        )
        return self._count(events)

    def _draw_node(self, days: float, n: int) -> RadiationEvents:
        """The same flux on every board: draw each kind's total for the node, then spread
        it uniformly over the boards. Independent Poisson counts per board and a Poisson
        total split uniformly are the same distribution; this costs a few scalar draws
        instead of four per-board arrays (events are rare within a step). Counted here.

        A quiet step (all four totals 0, the usual one) returns one shared, read-only,
        ``quiet`` set of events; kinds with no event share read-only zeros. The draws are
        the same either way: a total, then its spread only when it is not 0, per kind."""
        r = self.rates
        rng = self.rng
        seu_rate = r.seu_per_board_day * days * n

        def spread(total: int) -> npt.NDArray[np.int64]:
            counts = np.bincount(rng.integers(0, n, total), minlength=n)
            return counts.astype(np.int64, copy=False)  # (intp is int64 here: no copy)

        n_seu = int(rng.poisson(seu_rate * (1.0 - r.uncorrectable_fraction)))
        seu = spread(n_seu) if n_seu else None
        n_unc = int(rng.poisson(seu_rate * r.uncorrectable_fraction))
        unc = spread(n_unc) if n_unc else None
        n_sel = int(rng.poisson(r.sel_per_board_day * days * n))
        sel = spread(n_sel) > 0 if n_sel else None
        n_sefi = int(rng.poisson(r.sefi_per_board_day * days * n))
        sefi = spread(n_sefi) > 0 if n_sefi else None
        self.steps += 1
        quiet = self._quiet
        if quiet is None or quiet.n_boards != n:
            zeros, no = _frozen(np.zeros(n, dtype=np.int64)), _frozen(np.zeros(n, dtype=np.bool_))
            quiet = RadiationEvents(zeros, zeros, no, no, quiet=True, kinds=_NO_KINDS)
            self._quiet = quiet
        if not (n_seu or n_unc or n_sel or n_sefi):
            return quiet
        self.total_seu += n_seu
        self.total_seu_uncorrectable += n_unc
        if sel is not None:
            self.total_sel += int(np.count_nonzero(sel))
        if sefi is not None:
            self.total_sefi += int(np.count_nonzero(sefi))
        return RadiationEvents(
            quiet.seu if seu is None else seu,
            quiet.seu_uncorrectable if unc is None else unc,
            quiet.sel if sel is None else sel,
            quiet.sefi if sefi is None else sefi,
            kinds=(seu is not None, unc is not None, sel is not None, sefi is not None),
        )

    def _count(self, events: RadiationEvents) -> RadiationEvents:
        self.steps += 1
        self.total_seu += int(events.seu.sum())
        self.total_seu_uncorrectable += int(events.seu_uncorrectable.sum())
        self.total_sel += int(np.count_nonzero(events.sel))
        self.total_sefi += int(np.count_nonzero(events.sefi))
        return events
