"""Accelerator-board array: vectorized commands, power and heat, radiation faults."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim_hw.boards import COUNT_ROWS, FLOAT_ROWS, TELEMETRY_KEYS, BoardArray, BoardParams

P = BoardParams()
HIDDEN = ("latched", "hung", "damaged", "latent_flips", "silent_escapes")


def make(n: int = 8, seed: int = 1, params: BoardParams = P, on: bool = True) -> BoardArray:
    b = BoardArray(n, params, np.random.default_rng(seed))
    if on:
        b.set_power(np.arange(n), True)
    return b


def quiet(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    z = np.zeros(n, dtype=np.int64)
    f = np.zeros(n, dtype=np.bool_)
    return z, z.copy(), f, f.copy()


def radiate(
    b: BoardArray,
    seu: dict[int, int] | None = None,
    unc: dict[int, int] | None = None,
    sel: list[int] | None = None,
    sefi: list[int] | None = None,
) -> None:
    s, u, latch, hang = quiet(b.n)
    for i, k in (seu or {}).items():
        s[i] = k
    for i, k in (unc or {}).items():
        u[i] = k
    latch[sel or []] = True
    hang[sefi or []] = True
    b.apply_radiation(s, u, latch, hang)


def run(b: BoardArray, seconds: float, dt: float = 1.0, coldplate: float = 20.0) -> None:
    for _ in range(round(seconds / dt)):
        b.step(dt, coldplate)


# --- commands and power --------------------------------------------------------------


def test_vectorized_commands_set_power_from_utilization_and_cap() -> None:
    b = make(6, on=False)
    b.set_power([0, 1, 2, 3, 4], True)
    b.set_utilization(np.arange(6), np.array([0.0, 0.5, 1.0, 1.0, 2.0, 1.0]))
    b.set_power_cap(np.array([3, 4]), np.array([200.0, 10.0]))
    b.step(1.0, 20.0)
    expected = np.array([40.0, 40.0 + 0.5 * 310.0, 350.0, 200.0, 40.0, 0.0])
    np.testing.assert_allclose(b.power_w, expected)
    np.testing.assert_allclose(b.current_a, expected / 12.0)
    assert b.utilization[4] == 1.0  # clipped
    assert b.total_power_w == pytest.approx(expected.sum())
    assert list(b.powered) == [True] * 5 + [False]


def test_boolean_masks_and_scalars_select_boards() -> None:
    b = make(5)
    mask = np.array([True, False, True, False, False])
    b.set_utilization(mask, 1.0)
    b.set_utilization(4, 0.5)
    assert list(b.utilization) == [1.0, 0.0, 1.0, 0.0, 0.5]
    b.set_power(mask, False)
    assert list(b.powered) == [False, True, False, True, True]


def test_work_and_heartbeat_advance_with_time_and_utilization() -> None:
    b = make(3)
    b.set_utilization([0, 1], [1.0, 0.25])
    b.set_power([2], False)
    run(b, 10.0, dt=0.5)
    np.testing.assert_allclose(b.work_done, [10.0, 2.5, 0.0])
    assert list(b.heartbeat) == [10, 10, 0]


def test_temperature_settles_at_coldplate_plus_power_over_conductance() -> None:
    b = make(2)
    b.set_utilization([0, 1], [1.0, 0.0])
    run(b, 3000.0, dt=5.0, coldplate=15.0)
    np.testing.assert_allclose(b.temperature_c, [15.0 + 35.0, 15.0 + 4.0], atol=1e-6)
    assert b.heat_w == pytest.approx(390.0, rel=1e-6)


def test_heat_into_coldplate_balances_power_and_stored_heat() -> None:
    b = make(4)
    b.set_utilization(np.arange(4), [0.1, 0.4, 0.7, 1.0])
    t0 = float(b.temperature_c.sum())
    heat_j = power_j = 0.0
    for k in range(200):
        if k == 50:
            b.set_utilization([1, 2], 0.0)
        if k == 120:
            b.set_power([3], False)
        power_j += b.total_power_w * 2.0
        b.step(2.0, 10.0 + 0.05 * k)
        heat_j += b.heat_w * 2.0
    stored_j = P.thermal_capacitance_j_k * (float(b.temperature_c.sum()) - t0)
    assert power_j == pytest.approx(heat_j + stored_j, rel=1e-9)


def test_temperature_matches_per_step_exact_reference() -> None:
    rng = np.random.default_rng(5)
    n = 16
    b = make(n)
    temp = np.full(n, 20.0)
    g, c = P.conductance_to_coldplate_w_k, P.thermal_capacitance_j_k
    for k in range(300):
        if k % 17 == 0:
            b.set_utilization(np.arange(n), rng.uniform(0, 1, n))
        if k % 40 == 3:
            b.set_power(rng.integers(0, n, 3), bool(k % 80 == 3))
        power = np.array(b.power_w)
        dt = float(rng.uniform(0.1, 5.0))
        tcp = float(rng.uniform(-10, 40))
        ss = tcp + power / g
        temp = ss + (temp - ss) * math.exp(-g * dt / c)
        b.step(dt, tcp)
        if k % 25 == 0:
            np.testing.assert_allclose(b.temperature_c, temp, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b.temperature_c, temp, rtol=0, atol=1e-9)


# --- latch-up ------------------------------------------------------------------------


def test_latchup_jumps_current_and_damages_if_not_cycled() -> None:
    b = make(4)
    b.set_utilization(np.arange(4), 0.5)
    b.step(1.0, 20.0)
    before = np.array(b.current_a)
    radiate(b, sel=[2])
    b.step(1.0, 20.0)
    jump = b.current_a - before
    np.testing.assert_allclose(jump, [0, 0, P.sel_extra_current_a, 0], atol=1e-12)
    assert b.latched[2]
    run(b, P.sel_damage_after_s + 1.0)
    assert b.damaged[2] and not b.latched[2]
    assert b.power_w[2] == pytest.approx(P.damaged_w)
    beats, work = int(b.heartbeat[2]), float(b.work_done[2])
    run(b, 20.0)
    assert b.heartbeat[2] == beats
    assert b.work_done[2] == work
    assert b.heartbeat[1] > beats  # the others go on
    b.set_power([2], False)
    b.set_power([2], True)
    run(b, 5.0)
    assert b.damaged[2]  # permanent
    assert b.heartbeat[2] == beats


def test_latchup_cleared_by_power_cycle_in_time() -> None:
    b = make(4)
    radiate(b, sel=[1])
    run(b, P.sel_damage_after_s - 2.0)
    b.set_power([1], False)
    assert not b.latched[1]
    b.step(1.0, 20.0)
    b.set_power([1], True)
    run(b, 30.0)
    assert not b.damaged.any()
    assert b.power_w[1] == pytest.approx(P.idle_w)
    assert b.heartbeat[1] > 20


def test_reset_does_not_clear_latchup() -> None:
    b = make(2)
    radiate(b, sel=[0])
    b.reset([0])
    run(b, P.sel_damage_after_s + 1.0)
    assert b.damaged[0]


# --- SEFI ----------------------------------------------------------------------------


def test_sefi_stops_heartbeat_and_work_until_reset() -> None:
    b = make(3)
    b.set_utilization(np.arange(3), 1.0)
    run(b, 5.0)
    radiate(b, sefi=[0, 2])
    run(b, 10.0)
    assert list(b.heartbeat) == [5, 15, 5]
    np.testing.assert_allclose(b.work_done, [5.0, 15.0, 5.0])
    assert b.power_w[0] == pytest.approx(P.idle_w)
    b.reset([0])
    run(b, 4.0)
    assert list(b.heartbeat) == [9, 19, 5]
    assert b.hung[2] and not b.hung[0]


def test_power_cycle_clears_hang() -> None:
    b = make(1)
    radiate(b, sefi=[0])
    b.set_power([0], False)
    b.set_power([0], True)
    run(b, 3.0)
    assert b.heartbeat[0] == 3


# --- memory --------------------------------------------------------------------------


def test_single_upsets_are_corrected_and_leave_latent_flips() -> None:
    b = make(3)
    radiate(b, seu={0: 4, 2: 1})
    assert list(b.ecc_corrected) == [4, 0, 1]
    assert list(b.latent_flips) == [4, 0, 1]
    b.scrub([0])
    assert list(b.latent_flips) == [0, 0, 1]
    assert list(b.ecc_corrected) == [4, 0, 1]  # the counter is history


def test_uncorrectable_upsets_corrupt_jobs_only_on_working_boards() -> None:
    b = make(3)
    b.set_utilization([0, 1], 1.0)
    radiate(b, sefi=[1])
    radiate(b, unc={0: 2, 1: 1, 2: 3})
    assert list(b.ecc_uncorrectable) == [2, 1, 3]
    assert list(b.job_errors) == [2, 0, 0]


@pytest.mark.parametrize("seed", [2, 9])
def test_a_kind_given_as_none_is_the_same_as_all_zeros(seed: int) -> None:
    a, b = make(64, seed=seed), make(64, seed=seed)
    rng = np.random.default_rng(seed)
    for k in range(40):
        a.set_utilization(np.arange(0, 64, 3), 0.5)
        b.set_utilization(np.arange(0, 64, 3), 0.5)
        arrays = [
            rng.poisson(0.3, 64).astype(np.int64),
            rng.poisson(0.05, 64).astype(np.int64),
            rng.random(64) < 0.02,
            rng.random(64) < 0.02,
        ]
        absent = rng.random(4) < 0.5
        zeros = [np.zeros_like(x) if gone else x for x, gone in zip(arrays, absent, strict=True)]
        nones = [None if gone else x for x, gone in zip(arrays, absent, strict=True)]
        fa = a.apply_radiation(*zeros, at_s=float(k))
        fb = b.apply_radiation(*nones, at_s=float(k))
        assert repr(fa) == repr(fb)
        a.step(1.0, 20.0)
        b.step(1.0, 20.0)
    for name in (*TELEMETRY_KEYS, "latched", "hung", "damaged", "latent_flips"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert a.rng.bit_generator.state == b.rng.bit_generator.state


def test_latent_flips_raise_double_bit_errors_and_scrubbing_cuts_them() -> None:
    params = BoardParams(double_bit_prob_per_latent=2e-3)
    n = 64
    rng = np.random.default_rng(11)
    draws = [rng.poisson(2.0, n) for _ in range(300)]
    _, unc, latch, hang = quiet(n)
    scrubbed, unscrubbed = make(n, 3, params), make(n, 3, params)
    for k, seu in enumerate(draws):
        for b in (scrubbed, unscrubbed):
            b.apply_radiation(seu, unc, latch, hang)
            b.step(1.0, 20.0)
        if k % 10 == 9:
            scrubbed.scrub(np.arange(n))
    few, many = int(scrubbed.ecc_uncorrectable.sum()), int(unscrubbed.ecc_uncorrectable.sum())
    assert many > 5 * few
    assert few > 0  # latent flips within a scrub period still pair up
    assert unscrubbed.latent_flips.sum() > scrubbed.latent_flips.sum()
    # Every upset is either corrected or became part of a double-bit error.
    total = sum(int(d.sum()) for d in draws)
    for b in (scrubbed, unscrubbed):
        assert int(b.ecc_corrected.sum()) + int(b.ecc_uncorrectable.sum()) == total


@pytest.mark.parametrize("flips", [1, 3])
def test_double_bit_rate_matches_latent_flip_probability(flips: int) -> None:
    params = BoardParams(double_bit_prob_per_latent=0.01)
    n = 20_000
    b = make(n, 4, params)
    radiate(b, seu=dict.fromkeys(range(n), 10))  # 10 latent flips each (p = 0.1 per flip)
    assert int(b.ecc_uncorrectable.sum()) == 0  # no latent flips before: no pairs
    s, u, latch, hang = quiet(n)
    s[:] = flips
    b.apply_radiation(s, u, latch, hang)
    doubles = np.array(b.ecc_uncorrectable)
    expected = n * flips * 0.1
    assert abs(doubles.sum() - expected) < 5 * math.sqrt(expected * 0.9)
    assert doubles.max() <= flips
    # Each double-bit error consumes the new flip and the latent one it paired with.
    np.testing.assert_array_equal(b.latent_flips, 10 + flips - 2 * doubles)
    np.testing.assert_array_equal(b.ecc_corrected, 10 + flips - doubles)


def test_power_on_restarts_ecc_counters_and_power_off_clears_memory() -> None:
    b = make(2)
    radiate(b, seu={0: 3, 1: 2}, unc={0: 1})
    b.set_power([0], False)
    assert b.latent_flips[0] == 0
    b.set_power([0, 1], True)  # board 1 is already on: untouched
    assert list(b.ecc_corrected) == [0, 2]
    assert list(b.ecc_uncorrectable) == [0, 0]


# --- radiation on unpowered boards ---------------------------------------------------


def test_unpowered_and_damaged_boards_ignore_radiation() -> None:
    b = make(4)
    b.set_power([1], False)
    radiate(b, sel=[3])
    run(b, P.sel_damage_after_s + 1.0)
    assert b.damaged[3]
    radiate(b, seu={1: 5, 3: 5}, unc={1: 1, 3: 1}, sel=[1, 3], sefi=[1, 3])
    assert b.ecc_corrected[1] == b.ecc_corrected[3] == 0
    assert b.ecc_uncorrectable[1] == b.ecc_uncorrectable[3] == 0
    assert not b.latched[1] and not b.hung[1] and not b.latched[3]
    assert b.latent_flips[1] == 0


# --- telemetry, determinism, scale ---------------------------------------------------


def test_telemetry_is_observable_copies_only() -> None:
    b = make(4)
    tm = b.telemetry()
    assert set(tm) == set(TELEMETRY_KEYS)
    assert not set(tm) & set(HIDDEN)
    tm["powered"][:] = False
    tm["temperature_c"][:] = 999.0
    assert b.powered.all()
    assert (b.temperature_c < 100).all()
    assert tm["heartbeat"].dtype == np.int64


def test_state_arrays_are_read_only() -> None:
    b = make(2)
    for name in ("powered", "utilization", "latched", "hung", "damaged", "power_w"):
        with pytest.raises(ValueError):
            getattr(b, name)[0] = 1


def scenario(seed: int) -> dict[str, np.ndarray]:
    params = BoardParams(double_bit_prob_per_latent=1e-2)
    n = 32
    b = make(n, seed, params)
    b.set_utilization(np.arange(n), 0.8)
    env = np.random.default_rng(99)  # same radiation for every seed
    for k in range(100):
        b.apply_radiation(
            env.poisson(1.0, n),
            env.poisson(0.01, n),
            env.random(n) < 0.002,
            env.random(n) < 0.005,
        )
        b.step(1.0, 20.0)
        if k % 20 == 19:
            b.reset(np.arange(n))
    return b.telemetry()


def test_same_seed_same_telemetry_other_seed_differs() -> None:
    a, b, c = scenario(1), scenario(1), scenario(2)
    for key in TELEMETRY_KEYS:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["ecc_uncorrectable"], c["ecc_uncorrectable"])


def test_reading_telemetry_does_not_change_a_single_bit() -> None:
    def go(read_every_step: bool) -> dict[str, np.ndarray]:
        n = 16
        b = make(n, 8, BoardParams(double_bit_prob_per_latent=1e-2))
        env = np.random.default_rng(3)
        for k in range(200):
            if k % 30 == 0:
                b.set_utilization(np.arange(n), env.uniform(0, 1, n))
            b.apply_radiation(
                env.poisson(0.5, n), env.poisson(0.01, n), env.random(n) < 0.01, quiet(n)[3]
            )
            b.step(0.1 + 0.01 * (k % 7), 15.0 + 0.1 * k)
            if read_every_step:
                b.telemetry()
                _ = b.temperature_c, b.work_done, b.heartbeat, b.total_power_w
        return b.telemetry()

    quiet_run, nosy_run = go(False), go(True)
    for key in TELEMETRY_KEYS:
        np.testing.assert_array_equal(quiet_run[key], nosy_run[key])


def test_ten_thousand_boards_step() -> None:
    n = 10_000
    b = make(n)
    b.set_utilization(np.arange(n), np.linspace(0, 1, n))
    rng = np.random.default_rng(0)
    for _ in range(20):
        b.apply_radiation(
            rng.poisson(0.01, n), np.zeros(n, np.int64), np.zeros(n, bool), np.zeros(n, bool)
        )
        b.step(1.0, 20.0)
    assert b.total_power_w == pytest.approx(n * (40.0 + 0.5 * 310.0), rel=1e-9)
    assert int(b.ecc_corrected.sum()) > 0
    assert (b.heartbeat == 20).all()


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.set_power([4], True),
        lambda b: b.set_power([-1], True),
        lambda b: b.set_power([0.5], True),
        lambda b: b.set_power(np.array([True, False]), True),
        lambda b: b.set_utilization([0, 1], [0.5]),
        lambda b: b.set_utilization([0], math.nan),
        lambda b: b.set_power_cap([0], math.inf),
        lambda b: b.step(0.0, 20.0),
        lambda b: b.step(1.0, math.nan),
        lambda b: b.apply_radiation(np.zeros(3, int), np.zeros(4, int), quiet(4)[2], quiet(4)[3]),
        lambda b: b.apply_radiation(-np.ones(4, int), np.zeros(4, int), quiet(4)[2], quiet(4)[3]),
        lambda b: b.apply_radiation(np.zeros(4, float), np.zeros(4, int), quiet(4)[2], quiet(4)[3]),
        lambda b: b.apply_radiation(*quiet(4)[:2], np.zeros(4, int), quiet(4)[3]),
    ],
)
def test_bad_input_raises_value_error(call: object) -> None:
    b = make(4)
    with pytest.raises(ValueError):
        call(b)  # type: ignore[operator]


def test_bad_params_rejected() -> None:
    with pytest.raises(ValueError):
        BoardParams(idle_w=400.0, max_w=350.0)
    with pytest.raises(ValueError):
        BoardParams(rail_v=0.0)
    with pytest.raises(ValueError):
        BoardArray(0, P, np.random.default_rng(0))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["on", "off", "util", "cap", "reset", "scrub", "rad", "step"]),
            st.lists(st.integers(0, 5), max_size=6),
            st.floats(0.0, 400.0),
        ),
        max_size=40,
    )
)
def test_invariants_hold_under_any_command_sequence(
    ops: list[tuple[str, list[int], float]],
) -> None:
    b = make(6, on=False)
    rng = np.random.default_rng(0)
    beats = b.heartbeat.copy()
    damaged = b.damaged.copy()
    for op, idx, x in ops:
        i = np.array(idx, dtype=np.intp)
        if op == "on":
            b.set_power(i, True)
        elif op == "off":
            b.set_power(i, False)
        elif op == "util":
            b.set_utilization(i, x / 400.0)
        elif op == "cap":
            b.set_power_cap(i, x)
        elif op == "reset":
            b.reset(i)
        elif op == "scrub":
            b.scrub(i)
        elif op == "rad":
            b.apply_radiation(
                rng.poisson(x / 100, 6),
                rng.poisson(0.1, 6),
                rng.random(6) < 0.2,
                rng.random(6) < 0.2,
            )
        else:
            b.step(1.0 + x / 100, 20.0)
        assert (b.power_w >= 0).all()
        assert (b.power_w[~b.powered] == 0).all()
        assert (b.heartbeat >= beats).all()
        assert (b.damaged >= damaged).all()
        assert not (b.latched & ~b.powered).any()
        assert not (b.hung & ~b.powered).any()
        assert (b.latent_flips >= 0).all()
        beats, damaged = b.heartbeat.copy(), b.damaged.copy()
    assert_block_views(b)


def assert_block_views(b: BoardArray) -> None:
    """Each float field and copied counter is still a row of its block (a field rebound
    instead of written in place would leave the block, and a snapshot, stale)."""
    for blk, names in ((b._fblock, FLOAT_ROWS), (b._cblock, COUNT_ROWS)):
        for row, name in enumerate(names):
            field = getattr(b, f"_{name}")
            assert field.base is blk, name
            assert np.shares_memory(field, blk[row]) and field.shape == (b.n,), name
    for blk, names in ((b.float_block, FLOAT_ROWS), (b.count_block, COUNT_ROWS)):
        assert not blk.flags.writeable
        for row, name in enumerate(names):
            np.testing.assert_array_equal(blk[row], getattr(b, name), err_msg=name)


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_fields_stay_views_of_the_blocks_through_every_kind_of_change(seed: int) -> None:
    b = make(16, seed=seed)
    rng = np.random.default_rng(seed)
    assert_block_views(b)
    for k in range(60):
        i = np.flatnonzero(rng.random(16) < 0.3)
        b.set_utilization(i, rng.random(i.size))
        b.set_power_cap(i[::2], 100.0 + 300.0 * rng.random(i[::2].size))
        if k % 7 == 3:
            b.set_power(i[:2], False)
        if k % 7 == 5:
            b.set_power(np.arange(16), True)
        if k % 11 == 4:
            b.reset(i)
            b.scrub(i)
        b.apply_radiation(
            rng.poisson(0.5, 16),
            rng.poisson(0.05, 16),
            rng.random(16) < 0.02,
            rng.random(16) < 0.02,
        )
        b.corrupt_job(int(rng.integers(16)), bool(k % 2))
        b.step(1.0, 20.0 + k % 5)
        assert_block_views(b)
    assert b.ecc_corrected.sum() > 0 and b.checksum_errors.sum() > 0  # counters did move


def test_silent_corruption_is_mostly_caught_by_checksums() -> None:
    params = BoardParams(silent_prob_per_seu=0.5, checksum_coverage=0.9)
    n = 64
    b = make(n, 3, params)
    b.set_utilization(np.arange(n), 1.0)
    b.step(1.0, 20.0)
    for _ in range(50):
        b.apply_radiation(np.full(n, 10), np.zeros(n, int), np.zeros(n, bool), np.zeros(n, bool))
    caught = int(b.checksum_errors.sum())
    escaped = int(b.silent_escapes.sum())
    total = caught + escaped
    assert abs(total - 0.5 * 10 * 50 * n) < 4 * (0.25 * 10 * 50 * n) ** 0.5
    assert abs(caught / total - 0.9) < 0.02
    idle = make(4, 3, params)  # powered but not working: nothing to corrupt
    idle.apply_radiation(np.full(4, 10), np.zeros(4, int), np.zeros(4, bool), np.zeros(4, bool))
    assert idle.checksum_errors.sum() == 0 and idle.silent_escapes.sum() == 0
