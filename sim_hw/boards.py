"""Many COTS accelerator boards as one set of numpy arrays: power, temperature, ECC memory,
heartbeat, job progress, and the radiation faults that FDIR must detect from them.

A compute node carries hundreds to thousands of boards, so every command takes an index
array, nothing loops over boards in Python, and a step's cost hardly grows with the
number of boards. The fault truth (latch-up, hang, damage, latent memory flips) is kept
apart from the telemetry, because flight software only sees current, temperature, ECC
counters and heartbeat and has to infer the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# The float telemetry of every board lives as the rows of one (6, n) array, in this
# order (BoardArray.float_block). The first MOVING_ROWS change at every step; the others,
# the settings and what they draw, only on commands and faults (settings_version), so a
# snapshot copies the moving rows each time and the setting rows only when they changed.
FLOAT_ROWS = ("temperature_c", "work_done", "current_a", "power_w", "utilization", "power_cap_w")
MOVING_ROWS = 2
# The counters a snapshot copies, likewise rows of one (3, n) int64 array (count_block).
COUNT_ROWS = ("ecc_corrected", "ecc_uncorrectable", "checksum_errors")

TELEMETRY_KEYS = (
    "powered",
    "utilization",
    "power_cap_w",
    "power_w",
    "current_a",
    "temperature_c",
    "ecc_corrected",
    "ecc_uncorrectable",
    "heartbeat",
    "work_done",
    "job_errors",
    "checksum_errors",
)


@dataclass(frozen=True)
class BoardParams:
    """Electrical, thermal and fault parameters shared by every board of an array."""

    idle_w: float = 40.0
    max_w: float = 350.0
    rail_v: float = 12.0
    damaged_w: float = 20.0  # a dead board still leaks this much while powered
    sel_extra_current_a: float = 5.0  # latch-up current on the 12 V rail
    sel_damage_after_s: float = 10.0  # latch-up held longer than this burns the part
    heartbeat_period_s: float = 1.0
    work_per_s_at_full: float = 1.0  # work units per second at utilization 1
    thermal_capacitance_j_k: float = 1500.0
    conductance_to_coldplate_w_k: float = 10.0
    # Probability that a new upset lands in a word already holding a latent flip, per
    # latent flip (about 1 / ECC words in the scrub domain; exaggerated by default so
    # scrubbing matters within a simulated day).
    double_bit_prob_per_latent: float = 1e-4
    # Silent data corruption: the share of upsets on a working board that corrupt the
    # computation outside ECC's reach (logic, registers, caches). The job's algorithm-
    # based checksums catch ``checksum_coverage`` of them; the rest escape, unseen.
    silent_prob_per_seu: float = 2e-3
    checksum_coverage: float = 0.95

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not math.isfinite(value) or value < 0.0:
                raise ValueError(f"BoardParams.{name} must be finite and >= 0, got {value}")
        for name in (
            "rail_v",
            "heartbeat_period_s",
            "thermal_capacitance_j_k",
            "conductance_to_coldplate_w_k",
        ):
            if getattr(self, name) <= 0.0:
                raise ValueError(f"BoardParams.{name} must be positive")
        if self.max_w < self.idle_w:
            raise ValueError("BoardParams.max_w must be at least idle_w")
        if self.double_bit_prob_per_latent > 1.0:
            raise ValueError("BoardParams.double_bit_prob_per_latent must be at most 1")
        if self.silent_prob_per_seu > 1.0 or self.checksum_coverage > 1.0:
            raise ValueError("BoardParams silent_prob_per_seu and checksum_coverage must be <= 1")


_A = TypeVar("_A", bound="np.ndarray[Any, Any]")
Sparse = tuple[NDArray[np.intp], IntArray]  # (boards, counts), counts all > 0


def _sparse(idx: NDArray[np.intp], counts: IntArray) -> Sparse:
    keep = counts > 0
    return idx[keep], counts[keep].astype(np.int64)


@dataclass
class RadiationEffects:
    """What upsets did beyond the counts asked for (sparse: only boards with a count)."""

    double_bit: Sparse | None = None  # two flips in one ECC word: uncorrectable
    double_bit_working: Sparse | None = None  # ...of them, on a board computing a job
    caught: Sparse | None = None  # job corruptions the job's checksums caught
    escaped: Sparse | None = None  # job corruptions nothing caught


_NO_HITS: tuple[NDArray[np.intp], IntArray] = (
    np.zeros(0, dtype=np.intp),
    np.zeros(0, dtype=np.int64),
)


def _readonly(a: _A) -> _A:
    v = a.view()
    v.flags.writeable = False
    return v


class BoardArray:
    """``n`` boards driven by index arrays; ``step`` advances them all at once.

    Observable state (read-only views): ``powered``, ``utilization`` (commanded),
    ``power_cap_w``, ``power_w``, ``current_a`` (12 V rail), ``temperature_c``,
    ``ecc_corrected`` and ``ecc_uncorrectable`` (since power-on), ``heartbeat`` (a new int
    array), ``work_done``, ``job_errors``. Hidden truth (read-only views): ``latched``
    (SEL), ``hung`` (SEFI), ``damaged`` (permanent), ``latent_flips`` (corrected but not
    yet scrubbed).

    Behaviour: a powered, healthy board draws ``idle_w`` plus its utilization's share of
    ``max_w - idle_w``, limited by its power cap (never below idle). A hung board draws
    idle power and neither works nor beats. A latched board keeps working but draws
    ``sel_extra_current_a`` more; held longer than ``sel_damage_after_s`` it is damaged
    for good: no heartbeat, no work, ``damaged_w`` leakage while powered. Power-off clears
    latch, hang and memory (latent flips); power-on restarts the ECC counters. The
    heartbeat counter is monotonic across power cycles.

    Cost: between state changes every board's power is constant, so work, heartbeat and
    the exact solution of each board's thermal node (all boards share one cold plate) are
    carried as per-board constants times a few scalars. ``step`` only updates the scalars;
    the arrays are brought up to date when a command, a fault or a read needs them, and a
    read never changes the stored state (reading cannot change any later result).
    """

    def __init__(self, n: int, params: BoardParams, rng: np.random.Generator) -> None:
        if int(n) != n or n < 1:
            raise ValueError(f"board count must be a positive integer, got {n!r}")
        self.n = n = int(n)
        self.params = params
        self.rng = rng
        self._g = params.conductance_to_coldplate_w_k
        self._c = params.thermal_capacitance_j_k
        self._now_s = 0.0
        # The float telemetry as rows of one block and the copied counters as rows of
        # another (FLOAT_ROWS, COUNT_ROWS): every field below that is a row is a view of
        # its block, so it must only ever be written in place (``a[...] = ``, ``out=``),
        # never rebound (tests/sim_hw/test_boards.py checks that they stay views).
        self._fblock = np.zeros((len(FLOAT_ROWS), n))
        self._cblock = np.zeros((len(COUNT_ROWS), n), dtype=np.int64)
        (
            self._temperature_c,
            self._work_done,
            self._current_a,
            self._power_w,
            self._utilization,
            self._power_cap_w,
        ) = self._fblock
        self._ecc_corrected, self._ecc_uncorrectable, self._checksum_errors = self._cblock
        # Commanded and fault state.
        self._powered = np.zeros(n, dtype=np.bool_)
        self._power_cap_w[:] = params.max_w
        self._latched = np.zeros(n, dtype=np.bool_)
        self._hung = np.zeros(n, dtype=np.bool_)
        self._damaged = np.zeros(n, dtype=np.bool_)
        self._latent_flips = np.zeros(n, dtype=np.int64)
        self._burn_at_s = np.full(n, np.inf)  # when a held latch-up destroys the board
        self._next_burn_s = math.inf
        # Counters (ecc_* and checksum_errors, caught by the job's checksums: _cblock).
        self._job_errors = np.zeros(n, dtype=np.int64)
        self._silent_escapes = np.zeros(n, dtype=np.int64)  # hidden truth: not caught
        self._beats_base = np.zeros(n)  # fractional beats up to the last fold
        self._work_base = np.zeros(n)  # work up to the last fold
        # Derived from the state by _refresh (only when _dirty).
        self._dirty = True
        # Versions for readers that keep copies: settings_version changes whenever
        # powered, utilization, power cap, power or current may have changed (every such
        # change sets _dirty, and _refresh counts it); _counts_versions[i] whenever the
        # counter COUNT_ROWS[i] may have.
        self._settings_version = 0
        self._counts_versions = [0] * len(COUNT_ROWS)
        self._alive = np.zeros(n, dtype=np.bool_)
        self._beat_rate = np.zeros(n)  # beats per second
        self._work_rate = np.zeros(n)  # work units per second
        self._total_power_w = 0.0
        # Lazy time integration since the last _fold: work and beats accrue at constant
        # rates for _elapsed_s; temperature = P/G + u + dev * m, where u is the (shared)
        # response to the cold plate and m the decay of each board's own transient.
        self._elapsed_s = 0.0
        self._p_over_g = np.zeros(n)
        self._dev = np.zeros(n)
        self._u = 20.0
        self._m = 1.0
        self._sum_p_over_g = 0.0
        self._sum_dev = 0.0
        # What reads see, computed from the above on demand (reads never change state,
        # so reading or not cannot change a single bit of a run).
        self._temperature_c[:] = 20.0
        self._stale = False
        self._decay_dt = (math.nan, 1.0)
        self._heat_w = 0.0
        self._tmp = np.zeros(n)
        self.cold_plate_temp_c = 20.0

    # --- views -------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self.n

    @property
    def now_s(self) -> float:
        """Simulated time: the sum of every ``step``'s ``dt_s``."""
        return self._now_s

    @property
    def powered(self) -> BoolArray:
        return _readonly(self._powered)

    @property
    def utilization(self) -> FloatArray:
        return _readonly(self._utilization)

    @property
    def power_cap_w(self) -> FloatArray:
        return _readonly(self._power_cap_w)

    @property
    def power_w(self) -> FloatArray:
        self._refresh()
        return _readonly(self._power_w)

    @property
    def current_a(self) -> FloatArray:
        self._refresh()
        return _readonly(self._current_a)

    @property
    def temperature_c(self) -> FloatArray:
        self._materialize()
        return _readonly(self._temperature_c)

    @property
    def ecc_corrected(self) -> IntArray:
        return _readonly(self._ecc_corrected)

    @property
    def ecc_uncorrectable(self) -> IntArray:
        return _readonly(self._ecc_uncorrectable)

    @property
    def heartbeat(self) -> IntArray:
        """Beats since construction (a new array; floors the fractional count)."""
        self._refresh()  # (the rates now; computed here, the one reader of the beats)
        beats = np.multiply(self._beat_rate, self._elapsed_s)
        beats += self._beats_base
        beats += 1e-9
        np.floor(beats, out=beats)
        return beats.astype(np.int64)

    @property
    def work_done(self) -> FloatArray:
        self._materialize()
        return _readonly(self._work_done)

    @property
    def job_errors(self) -> IntArray:
        return _readonly(self._job_errors)

    @property
    def working(self) -> BoolArray:
        """Truth: boards computing now (powered, alive, not hung, utilization above 0)."""
        self._refresh()
        out: BoolArray = self._work_rate > 0.0
        return out

    @property
    def latched(self) -> BoolArray:
        return _readonly(self._latched)

    @property
    def hung(self) -> BoolArray:
        return _readonly(self._hung)

    @property
    def damaged(self) -> BoolArray:
        return _readonly(self._damaged)

    @property
    def latent_flips(self) -> IntArray:
        return _readonly(self._latent_flips)

    @property
    def total_power_w(self) -> float:
        """Power drawn by all boards now (after the last command, fault or step)."""
        self._refresh()
        return self._total_power_w

    @property
    def heat_w(self) -> float:
        """Average heat the boards passed into the cold plate during the last step."""
        return self._heat_w

    @property
    def float_block(self) -> FloatArray:
        """The float telemetry now, as rows ``FLOAT_ROWS`` of one (6, n) read-only view:
        ``float_block.copy()`` is a whole snapshot of them in one copy."""
        self._materialize()
        return _readonly(self._fblock)

    @property
    def count_block(self) -> IntArray:
        """The counters ``COUNT_ROWS`` as rows of one (3, n) read-only view."""
        return _readonly(self._cblock)

    @property
    def settings_version(self) -> int:
        """Changes whenever ``powered`` or a setting row of ``float_block`` (rows
        ``MOVING_ROWS:``: current, power, utilization, power cap) may have changed; while
        it stays the same, so do they, bit for bit."""
        self._refresh()
        return self._settings_version

    @property
    def counts_versions(self) -> tuple[int, ...]:
        """One version per row of ``count_block`` (``COUNT_ROWS``): each changes whenever
        that counter may have changed (on a radiation step, mostly only the first)."""
        return tuple(self._counts_versions)

    def telemetry(self) -> dict[str, NDArray[Any]]:
        """Copies of the observable arrays (nothing of the hidden fault truth)."""
        self._materialize()
        return {
            "powered": self._powered.copy(),
            "utilization": self._utilization.copy(),
            "power_cap_w": self._power_cap_w.copy(),
            "power_w": self._power_w.copy(),
            "current_a": self._current_a.copy(),
            "temperature_c": self._temperature_c.copy(),
            "ecc_corrected": self._ecc_corrected.copy(),
            "ecc_uncorrectable": self._ecc_uncorrectable.copy(),
            "heartbeat": self.heartbeat,
            "work_done": self._work_done.copy(),
            "job_errors": self._job_errors.copy(),
            "checksum_errors": self._checksum_errors.copy(),
        }

    # --- commands ----------------------------------------------------------------------

    def _index(self, idx: ArrayLike) -> NDArray[np.intp]:
        """Board indices from an int array/list/scalar or a length-n boolean mask."""
        arr = np.asarray(idx)
        if arr.dtype == np.bool_:
            if arr.shape != (self.n,):
                raise ValueError(f"boolean board mask must have shape ({self.n},)")
            return np.flatnonzero(arr)
        if arr.size == 0:
            return np.zeros(0, dtype=np.intp)
        if not np.issubdtype(arr.dtype, np.integer) or arr.ndim > 1:
            raise ValueError("board indices must be integers (a scalar or 1-D array)")
        flat = np.atleast_1d(arr).astype(np.intp)
        if flat.min() < 0 or flat.max() >= self.n:
            raise ValueError(f"board index out of range 0..{self.n - 1}")
        return flat

    def _values(self, name: str, value: ArrayLike, count: int) -> FloatArray:
        v = np.asarray(value, dtype=np.float64)
        if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != count):
            raise ValueError(f"{name} must be a scalar or have one value per index")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite")
        return np.broadcast_to(v, (count,))

    def _silent_corruption(
        self, hit: NDArray[np.intp], flips: NDArray[np.int64], effects: RadiationEffects
    ) -> None:
        p = self.params
        working = self._work_rate[hit] > 0.0
        if not p.silent_prob_per_seu or not working.any():
            return
        silent = self.rng.binomial(flips * working, p.silent_prob_per_seu)
        caught = self.rng.binomial(silent, p.checksum_coverage)
        if np.count_nonzero(caught):
            self._counts_versions[2] += 1
        self._checksum_errors[hit] += caught
        self._silent_escapes[hit] += silent - caught
        effects.caught = _sparse(hit, caught)
        effects.escaped = _sparse(hit, silent - caught)

    def corrupt_job(self, board: int, caught: bool) -> bool:
        """A corruption of a working board's computation (a scheduled fault): counted as
        caught by the job's checksums or as an escape. False when the board is not
        computing (nothing to corrupt)."""
        self._refresh()
        if not self._work_rate[board] > 0.0:
            return False
        if caught:
            self._counts_versions[2] += 1
            self._checksum_errors[board] += 1
        else:
            self._silent_escapes[board] += 1
        return True

    @property
    def checksum_errors(self) -> IntArray:
        """Corruptions the job's checksums caught (cumulative since power-on)."""
        return _readonly(self._checksum_errors)

    @property
    def silent_escapes(self) -> IntArray:
        """Hidden truth: corruptions no check caught."""
        return _readonly(self._silent_escapes)

    def set_power(self, idx: ArrayLike, on: bool) -> None:
        """Switch boards on or off. Off clears latch, hang and memory; on restarts ECC
        counters (boards already in the requested state are untouched)."""
        i = self._index(idx)
        if on:
            i = i[~self._powered[i]]
            if i.size:
                self._counts_versions = [v + 1 for v in self._counts_versions]
            self._powered[i] = True
            self._ecc_corrected[i] = 0
            self._ecc_uncorrectable[i] = 0
            self._checksum_errors[i] = 0
        else:
            self._powered[i] = False
            self._latched[i] = False
            self._hung[i] = False
            self._latent_flips[i] = 0
            self._burn_at_s[i] = np.inf
            self._latch_changed()
        self._dirty = True

    def set_utilization(self, idx: ArrayLike, u: ArrayLike) -> None:
        """Commanded utilization, clipped to 0..1."""
        i = self._index(idx)
        self._utilization[i] = np.clip(self._values("utilization", u, i.size), 0.0, 1.0)
        self._dirty = True

    def set_power_cap(self, idx: ArrayLike, w: ArrayLike) -> None:
        """Power limit in watts (a cap below idle leaves the board at idle)."""
        i = self._index(idx)
        self._power_cap_w[i] = np.maximum(self._values("power cap", w, i.size), 0.0)
        self._dirty = True

    def reset(self, idx: ArrayLike) -> None:
        """Reboot: clears a hang, not a latch-up (that needs a power cycle)."""
        i = self._index(idx)
        self._hung[i] = False
        self._dirty = True

    def scrub(self, idx: ArrayLike) -> None:
        """Memory scrub: rewrites corrected words, clearing latent flips."""
        self._latent_flips[self._index(idx)] = 0

    # --- radiation ---------------------------------------------------------------------

    def _counts(self, name: str, value: ArrayLike) -> IntArray:
        a = np.asarray(value)
        if a.shape != (self.n,):
            raise ValueError(f"{name} must have shape ({self.n},)")
        if a.dtype != np.int64:
            if not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"{name} must be an integer array")
            a = a.astype(np.int64)
        return a

    def _flags(self, name: str, value: ArrayLike) -> BoolArray:
        a = np.asarray(value)
        if a.shape != (self.n,) or a.dtype != np.bool_:
            raise ValueError(f"{name} must be a boolean array of shape ({self.n},)")
        return a

    def _hits(self, name: str, counts: IntArray | None) -> tuple[NDArray[np.intp], IntArray]:
        """Alive boards with a non-zero count, and their counts (sparse: most are 0)."""
        if counts is None:
            return _NO_HITS
        hit = (counts != 0).nonzero()[0]
        if not hit.size:
            return hit, counts[hit]
        values = counts[hit]
        if values.min() < 0:
            raise ValueError(f"{name} must not be negative")
        keep = self._alive[hit]
        if not keep.all():
            hit, values = hit[keep], values[keep]
        return hit, values

    def _double_bit_errors(self, hit: NDArray[np.intp], flips: IntArray) -> IntArray:
        """How many of the new flips land in a word that already holds a latent flip.

        One Bernoulli draw per new flip (so binomial per board) with probability
        ``latent_flips * double_bit_prob_per_latent``; drawn as uniforms because numpy's
        binomial with a per-board probability costs ~200 ns a board.
        """
        p = self._latent_flips[hit] * self.params.double_bit_prob_per_latent
        if not np.count_nonzero(p):
            return np.zeros(hit.size, dtype=np.int64)
        if flips.max() == 1:
            return (self.rng.random(hit.size) < p).astype(np.int64)
        pairs = self.rng.random(int(flips.sum())) < np.repeat(p, flips)
        owner = np.repeat(np.arange(hit.size), flips)[pairs]
        return np.bincount(owner, minlength=hit.size).astype(np.int64)

    def settle(self) -> None:
        """Bring power and rates up to date with the commands and faults so far: all that
        ``apply_radiation`` does with no event on any board (a caller that skips a quiet
        step's pass calls this instead, as the time of this refresh shapes the rounding
        of the thermal re-basing when the state changes again before the next step)."""
        self._refresh()

    def apply_radiation(
        self,
        seu: ArrayLike | None,
        seu_uncorrectable: ArrayLike | None,
        sel: ArrayLike | None,
        sefi: ArrayLike | None,
        at_s: float | None = None,
    ) -> RadiationEffects:
        """Upsets per board since the last call; only powered, undamaged boards feel them.

        ``seu``: single-bit upsets (ECC corrects them on read, but each leaves a latent
        flip until scrubbed, and may pair with an existing one into an uncorrectable
        double-bit error). ``seu_uncorrectable``: multi-bit upsets ECC cannot correct.
        ``sel``: latch-up starts. ``sefi``: functional interrupt (board hangs).
        Uncorrectable errors on a board that is doing work also corrupt its job.
        ``at_s`` is when they strike (a latch-up's damage clock starts then; default: the
        boards' own time). None for a kind: no event of that kind (as all zeros, unsearched).
        Returns what the upsets did beyond the counts given: double-bit errors, and
        corruptions the job's checksums caught or missed (board, count each).
        """
        effects = RadiationEffects()
        seu_a = None if seu is None else self._counts("seu", seu)
        unc_a = (
            None
            if seu_uncorrectable is None
            else self._counts("seu_uncorrectable", seu_uncorrectable)
        )
        sel_a = None if sel is None else self._flags("sel", sel)
        sefi_a = None if sefi is None else self._flags("sefi", sefi)
        self._refresh()
        hit, flips = self._hits("seu", seu_a)
        if hit.size:
            double = self._double_bit_errors(hit, flips)
            self._counts_versions[0] += 1
            if np.count_nonzero(double):
                self._counts_versions[1] += 1
            self._ecc_corrected[hit] += flips - double
            self._ecc_uncorrectable[hit] += double
            latent = self._latent_flips[hit] + flips - 2 * double
            self._latent_flips[hit] = np.maximum(latent, 0)
            self._job_errors[hit] += double * (self._work_rate[hit] > 0.0)
            effects.double_bit = _sparse(hit, double)
            effects.double_bit_working = _sparse(hit, double * (self._work_rate[hit] > 0.0))
            self._silent_corruption(hit, flips, effects)
        hit, count = self._hits("seu_uncorrectable", unc_a)
        if hit.size:
            self._counts_versions[1] += 1
            self._ecc_uncorrectable[hit] += count
            self._job_errors[hit] += count * (self._work_rate[hit] > 0.0)
        if sel_a is not None and np.count_nonzero(sel_a):
            new = sel_a & self._alive & ~self._latched
            if new.any():
                self._latched |= new
                start = self._now_s if at_s is None else at_s
                burn_at = start + self.params.sel_damage_after_s
                self._burn_at_s[new] = burn_at
                self._next_burn_s = min(self._next_burn_s, burn_at)
                self._dirty = True
        if sefi_a is not None and np.count_nonzero(sefi_a):
            self._hung |= sefi_a & self._alive
            self._dirty = True
        return effects

    # --- time --------------------------------------------------------------------------

    def _fold(self) -> None:
        """Fold the time integrated since the last fold into the per-board bases (only
        before the rates change, so the arithmetic never depends on who reads when)."""
        if self._elapsed_s:
            np.multiply(self._work_rate, self._elapsed_s, out=self._tmp)
            self._work_base += self._tmp
            np.multiply(self._beat_rate, self._elapsed_s, out=self._tmp)
            self._beats_base += self._tmp
            self._elapsed_s = 0.0
        if self._m != 1.0:
            self._dev *= self._m
            self._sum_dev *= self._m
            self._m = 1.0
        self._stale = True

    def _materialize(self) -> None:
        """Compute the read-side arrays (work, temperature) for now (the heartbeat is
        computed when read, into the new array it returns)."""
        self._refresh()
        if not self._stale:
            return
        np.multiply(self._work_rate, self._elapsed_s, out=self._work_done)
        self._work_done += self._work_base
        np.multiply(self._dev, self._m, out=self._temperature_c)
        self._temperature_c += self._p_over_g
        self._temperature_c += self._u
        self._stale = False

    def _refresh(self) -> None:
        """Recompute per-board power and rates after commands or faults changed state."""
        if not self._dirty:
            return
        self._dirty = False
        self._settings_version += 1
        self._fold()  # settle the past at the old rates first
        p = self.params
        dyn = p.max_w - p.idle_w
        np.logical_and(self._powered, ~self._damaged, out=self._alive)
        working = self._alive & ~self._hung
        if dyn > 0.0:
            cap_u = np.clip((self._power_cap_w - p.idle_w) / dyn, 0.0, 1.0)
            eff_u = np.minimum(self._utilization, cap_u)
        else:
            eff_u = np.zeros(self.n)
        power = np.where(working, p.idle_w + eff_u * dyn, 0.0)
        power += np.where(self._alive & self._hung, p.idle_w, 0.0)
        power += np.where(self._powered & self._damaged, p.damaged_w, 0.0)
        power += np.where(self._latched, p.sel_extra_current_a * p.rail_v, 0.0)
        self._power_w[:] = power
        np.divide(power, p.rail_v, out=self._current_a)
        self._work_rate[:] = np.where(working, eff_u * p.work_per_s_at_full, 0.0)
        self._beat_rate[:] = np.where(working, 1.0 / p.heartbeat_period_s, 0.0)
        self._total_power_w = float(power.sum())
        # Re-base the thermal transient on the new powers; temperatures stay continuous.
        p_over_g = power / self._g
        self._dev += self._p_over_g
        self._dev -= p_over_g
        self._p_over_g = p_over_g
        self._sum_p_over_g = float(p_over_g.sum())
        self._sum_dev = float(self._dev.sum())

    def _latch_changed(self) -> None:
        held = self._burn_at_s[self._latched]
        self._next_burn_s = float(held.min()) if held.size else math.inf

    def _burn(self) -> None:
        """Latch-ups held past the damage time destroy their boards."""
        burnt = self._latched & (self._now_s > self._burn_at_s)
        self._damaged |= burnt
        self._latched &= ~burnt
        self._hung &= ~burnt
        self._burn_at_s[burnt] = np.inf
        self._latch_changed()
        self._dirty = True

    def step(self, dt_s: float, coldplate_temp_c: float) -> None:
        """Advance every board by ``dt_s`` against a cold plate at ``coldplate_temp_c``.

        Powers are held over the step; the thermal update is the exact solution of
        C dT/dt = P - G (T - T_coldplate) for that step, so any ``dt_s`` is stable.
        """
        if not math.isfinite(dt_s) or dt_s <= 0.0:
            raise ValueError("dt_s must be positive and finite")
        if not math.isfinite(coldplate_temp_c):
            raise ValueError("coldplate_temp_c must be finite")
        self._refresh()
        if self._decay_dt[0] != dt_s:
            self._decay_dt = (dt_s, math.exp(-self._g * dt_s / self._c))
        decay = self._decay_dt[1]
        du = (coldplate_temp_c - self._u) * (1.0 - decay)
        dm = self._m * (decay - 1.0)
        self._u += du
        self._m += dm
        stored_w = self._c * (self.n * du + dm * self._sum_dev) / dt_s
        self._heat_w = self._total_power_w - stored_w
        self._elapsed_s += dt_s
        self._now_s += dt_s
        self._stale = True
        self.cold_plate_temp_c = coldplate_temp_c
        if self._now_s > self._next_burn_s:
            self._burn()
