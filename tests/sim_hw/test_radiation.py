"""Radiation model statistics: Poisson rates, flux scaling (SAA), determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_hw.environment import flux_factor
from sim_hw.orbit import CircularOrbit
from sim_hw.radiation import RadiationEvents, RadiationModel, RadiationRates

Z999 = 3.29  # two-sided 99.9% normal quantile; Poisson counts here are large


def within_poisson_999(observed: float, expected: float) -> bool:
    return abs(observed - expected) <= Z999 * math.sqrt(expected)


def model(seed: int = 7, rates: RadiationRates | None = None) -> RadiationModel:
    return RadiationModel(rates or RadiationRates(), np.random.default_rng(seed))


def test_default_rates_are_plausible_and_validated() -> None:
    r = RadiationRates()
    assert 1.0 <= r.seu_per_board_day <= 1000.0
    assert 0.0 < r.uncorrectable_fraction < 0.05
    assert r.sel_per_board_day < r.sefi_per_board_day < r.seu_per_board_day
    assert r.saa_peak_multiplier >= 10.0
    with pytest.raises(ValueError):
        RadiationRates(seu_per_board_day=-1.0)
    with pytest.raises(ValueError):
        RadiationRates(uncorrectable_fraction=1.5)
    with pytest.raises(ValueError):
        RadiationRates(saa_peak_multiplier=0.5)


def test_seu_counts_match_rate_times_exposure() -> None:
    m = model()
    n_boards, days = 500, 200
    seu = unc = 0
    for _ in range(days):
        ev = m.draw(86_400.0, n_boards, 1.0)
        seu += int(ev.seu.sum())
        unc += int(ev.seu_uncorrectable.sum())
    r = m.rates
    exposure = n_boards * days
    assert within_poisson_999(seu + unc, r.seu_per_board_day * exposure)
    assert within_poisson_999(unc, r.seu_per_board_day * r.uncorrectable_fraction * exposure)
    assert m.total_seu == seu and m.total_seu_uncorrectable == unc and m.steps == days


def test_per_board_counts_are_poisson_dispersed() -> None:
    """Index of dispersion: variance/mean of Poisson counts is 1 (chi-square with n-1 dof)."""
    ev = model(3).draw(86_400.0, 4000, 1.0)
    counts = ev.seu + ev.seu_uncorrectable
    n = counts.size
    chi2 = float(np.sum((counts - counts.mean()) ** 2) / counts.mean())
    # chi-square(n-1) is ~normal(n-1, sqrt(2(n-1))) for large n.
    assert abs(chi2 - (n - 1)) < Z999 * math.sqrt(2 * (n - 1))


def test_latchups_and_functional_interrupts_at_their_rates() -> None:
    rates = RadiationRates(sel_per_board_day=1e-3, sefi_per_board_day=5e-3)
    m = model(11, rates)
    n_boards, days = 20_000, 10.0
    ev = m.draw(days * 86_400.0, n_boards, 1.0)
    # Each flag is "at least one event in the step": Binomial(n, 1 - exp(-rate*t)).
    for flags, rate in ((ev.sel, rates.sel_per_board_day), (ev.sefi, rates.sefi_per_board_day)):
        p = -math.expm1(-rate * days)
        expected = n_boards * p
        sd = math.sqrt(n_boards * p * (1 - p))
        assert abs(int(np.count_nonzero(flags)) - expected) <= Z999 * sd
    assert m.total_sel == int(np.count_nonzero(ev.sel))


def test_flux_factor_scales_rates_per_board() -> None:
    n = 2000
    flux = np.where(np.arange(n) < n // 2, 1.0, 30.0)
    ev = model(5).draw(86_400.0, n, flux)
    counts = ev.seu + ev.seu_uncorrectable
    quiet = int(counts[: n // 2].sum())
    hot = int(counts[n // 2 :].sum())
    rate = RadiationRates().seu_per_board_day
    assert within_poisson_999(quiet, rate * n / 2)
    assert within_poisson_999(hot, 30 * rate * n / 2)


def test_more_upsets_per_second_inside_the_saa_along_the_orbit() -> None:
    orbit = CircularOrbit()
    dt = 20.0
    t = np.arange(0.0, 86_400.0, dt)
    flux = flux_factor(orbit, t)
    in_saa = flux > 3.0
    m = model(9)
    counts = np.array([m.draw(dt, 64, float(f)).total_seu for f in flux])
    rate_in = counts[in_saa].sum() / (in_saa.sum() * dt)
    rate_out = counts[~in_saa].sum() / ((~in_saa).sum() * dt)
    assert rate_in > 3.0 * rate_out
    # Overall, the expected count follows the integrated flux.
    expected = RadiationRates().seu_per_board_day * 64 * float(flux.sum()) * dt / 86_400.0
    assert within_poisson_999(int(counts.sum()), expected)


def test_same_seed_same_draws_and_different_seed_differs() -> None:
    def run(seed: int) -> list[RadiationEvents]:
        m = model(seed)
        return [m.draw(600.0, 128, f) for f in (1.0, 30.0, 2.5)]

    a, b, c = run(42), run(42), run(43)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.seu, y.seu)
        np.testing.assert_array_equal(x.seu_uncorrectable, y.seu_uncorrectable)
        np.testing.assert_array_equal(x.sel, y.sel)
        np.testing.assert_array_equal(x.sefi, y.sefi)
    assert any(not np.array_equal(x.seu, z.seu) for x, z in zip(a, c, strict=True))


def test_no_exposure_means_no_events_and_shapes_are_per_board() -> None:
    m = model()
    for dt, flux in ((0.0, 1.0), (3600.0, 0.0)):
        ev = m.draw(dt, 10, flux)
        assert ev.n_boards == 10 and ev.total_seu == 0
        assert not ev.sel.any() and not ev.sefi.any()
    ev = m.draw(60.0, 7, 1.0)
    assert ev.seu.dtype == np.int64 and ev.seu_uncorrectable.dtype == np.int64
    assert ev.sel.dtype == np.bool_ and ev.sefi.shape == (7,)
    assert m.draw(60.0, 0, 1.0).n_boards == 0
    quiet = RadiationEvents.none(4)
    assert quiet.total_seu == 0 and quiet.n_boards == 4


def test_bad_draw_arguments() -> None:
    m = model()
    with pytest.raises(ValueError):
        m.draw(-1.0, 4)
    with pytest.raises(ValueError):
        m.draw(1.0, -4)
    with pytest.raises(ValueError):
        m.draw(1.0, 4, np.ones(3))
    with pytest.raises(ValueError):
        m.draw(1.0, 4, -1.0)
    with pytest.raises(ValueError):
        m.draw(1.0, 4, float("nan"))


@pytest.mark.parametrize("seed", [3, 2024])
def test_running_totals_are_what_the_drawn_events_hold_whatever_form_the_flux_takes(
    seed: int,
) -> None:
    """The node-wide path counts from its Poisson totals, not from the arrays: the
    counters must still equal the events returned, and a flux given as a Python float,
    an int or a numpy scalar must draw the same events from the same seed."""
    hot = RadiationRates(seu_per_board_day=5000.0, sel_per_board_day=50.0, sefi_per_board_day=80.0)
    runs = []
    for flux in (2.0, 2, np.float64(2.0), np.array(2.0)):
        m = model(seed, hot)
        events = [m.draw(30.0, 64, flux) for _ in range(40)]
        seu = sum(int(e.seu.sum()) for e in events)
        unc = sum(int(e.seu_uncorrectable.sum()) for e in events)
        sel = sum(int(np.count_nonzero(e.sel)) for e in events)
        sefi = sum(int(np.count_nonzero(e.sefi)) for e in events)
        assert (m.total_seu, m.total_seu_uncorrectable) == (seu, unc)
        assert (m.total_sel, m.total_sefi, m.steps) == (sel, sefi, 40)
        assert seu > 0 and sel > 0 and sefi > 0  # the counts were exercised
        runs.append((seu, unc, sel, sefi, [e.seu.tobytes() for e in events]))
    assert all(r == runs[0] for r in runs)


def _reference_draw_node(m: RadiationModel, days: float, n: int) -> tuple[np.ndarray, ...]:
    """The node draw as it was before the quiet path: every kind drawn and spread in
    turn, zeros allocated for the kinds with no event."""
    r, rng = m.rates, m.rng
    seu_rate = r.seu_per_board_day * days * n

    def spread(total: int) -> np.ndarray:
        if total == 0:
            return np.zeros(n, dtype=np.int64)
        return np.bincount(rng.integers(0, n, total), minlength=n).astype(np.int64)

    seu = spread(int(rng.poisson(seu_rate * (1.0 - r.uncorrectable_fraction))))
    unc = spread(int(rng.poisson(seu_rate * r.uncorrectable_fraction)))
    sel = spread(int(rng.poisson(r.sel_per_board_day * days * n))) > 0
    sefi = spread(int(rng.poisson(r.sefi_per_board_day * days * n))) > 0
    return seu, unc, sel, sefi


@pytest.mark.parametrize("seed", [3, 2024])
@pytest.mark.parametrize("n", [1, 1024])
def test_quiet_steps_share_one_event_free_set_and_draw_exactly_as_before(seed: int, n: int) -> None:
    # Rates high enough that every kind strikes in some steps and none in others.
    day = 86_400.0 / n  # per board-day: one event per node-second at flux 1
    rates = RadiationRates(
        seu_per_board_day=day,
        uncorrectable_fraction=0.2,
        sel_per_board_day=0.3 * day,
        sefi_per_board_day=0.5 * day,
    )
    fast, ref = model(seed, rates), model(seed, rates)
    flux = np.random.default_rng(seed).choice([0.0, 0.3, 1.0, 30.0], size=150)
    quiet = kinds = 0
    totals = np.zeros(4, dtype=np.int64)
    for f in flux:
        got = fast.draw(1.0, n, float(f))
        want = _reference_draw_node(ref, float(f) / 86_400.0, n)
        for a, b in zip((got.seu, got.seu_uncorrectable, got.sel, got.sefi), want, strict=True):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
        assert got.quiet == (not any(w.any() for w in want))
        for has, w in zip(got.kinds, want, strict=True):
            assert has == bool(w.any())  # False only for an all-zero kind; here exact
        if got.quiet:
            quiet += 1
            assert got is fast._quiet  # one shared set
            assert not got.seu.flags.writeable and not got.sefi.flags.writeable
        totals += [got.seu.sum(), got.seu_uncorrectable.sum(), got.sel.sum(), got.sefi.sum()]
        kinds += sum(bool(w.any()) for w in want)
    assert fast.rng.bit_generator.state == ref.rng.bit_generator.state  # the same stream
    assert 0 < quiet < len(flux) and kinds > 40 and (totals > 0).all()
    assert (fast.total_seu, fast.total_seu_uncorrectable) == (totals[0], totals[1])
    assert (fast.total_sel, fast.total_sefi, fast.steps) == (totals[2], totals[3], len(flux))


def test_the_shared_quiet_events_follow_the_board_count() -> None:
    m = model(
        5, RadiationRates(seu_per_board_day=0.0, sel_per_board_day=0.0, sefi_per_board_day=0.0)
    )
    a, b = m.draw(1.0, 8), m.draw(1.0, 16)
    assert a.quiet and b.quiet and a.n_boards == 8 and b.n_boards == 16
    assert RadiationEvents.none(4).quiet  # built quiet; otherwise quiet promises nothing
    assert RadiationEvents.none(4).kinds == (False,) * 4 and a.kinds == (False,) * 4
    built = RadiationEvents(a.seu, a.seu_uncorrectable, a.sel, a.sefi)
    assert not built.quiet and built.kinds == (True,) * 4  # nor do the kinds
