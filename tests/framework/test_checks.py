"""The monitoring engine's core: each check type with persistence, against a reference."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.framework.checks import CheckCore, CheckKind, CheckState

S = CheckState
INF = math.inf


def one(
    kind: CheckKind,
    low: float = -INF,
    high: float = INF,
    mask: int = 0,
    expected: int = 0,
    persistence: int = 1,
) -> CheckCore:
    return CheckCore([kind], [low], [high], [mask], [expected], [persistence], [True])


def run(core: CheckCore, values: list[float]) -> list[int]:
    out = []
    for v in values:
        core.evaluate(np.array([v]))
        out.append(int(core.state[0]))
    return out


def test_limit_needs_persistence_consecutive_samples() -> None:
    core = one(CheckKind.LIMIT, 0.0, 10.0, persistence=3)
    # A two-sample excursion changes nothing; three in a row does; back needs three too.
    got = run(core, [5, 11, 11, 5, 11, 11, 11, 5, 5, 5, -1, -1, -1])
    assert got == [
        0,
        0,
        0,
        0,
        0,
        0,
        S.ABOVE_HIGH,
        S.ABOVE_HIGH,
        S.ABOVE_HIGH,
        S.OK,
        S.OK,
        S.OK,
        S.BELOW_LOW,
    ]


def test_limit_persistence_one_and_transitions_returned() -> None:
    core = one(CheckKind.LIMIT, 0.0, 10.0)
    rows, before = core.evaluate(np.array([20.0]))
    assert rows.tolist() == [0] and before.tolist() == [S.UNCHECKED]
    assert core.state[0] == S.ABOVE_HIGH
    rows, _ = core.evaluate(np.array([20.0]))
    assert rows.size == 0  # no change, no transition


def test_expected_value_under_mask_with_persistence() -> None:
    core = one(CheckKind.EXPECTED, mask=0b0110, expected=0b0100, persistence=2)
    got = run(core, [0b0101, 0b1100, 0b0010, 0b0010, 0b0100, 0b1101, 0b1101])
    assert got == [0, S.OK, S.OK, S.UNEXPECTED, S.UNEXPECTED, S.OK, S.OK]


def test_delta_between_consecutive_samples() -> None:
    core = one(CheckKind.DELTA, -1.0, 2.0, persistence=2)
    # First sample only sets the previous value; steps of +3 twice -> above; -5 twice -> below.
    got = run(core, [0, 1, 4, 7, 8, 3, -2, -2])
    assert got == [0, 0, 0, S.ABOVE_HIGH, S.ABOVE_HIGH, S.ABOVE_HIGH, S.BELOW_LOW, S.BELOW_LOW]


def test_non_finite_is_invalid_and_disable_is_immediate() -> None:
    core = one(CheckKind.LIMIT, 0.0, 10.0, persistence=2)
    assert run(core, [50, 50, math.nan, math.nan]) == [0, S.ABOVE_HIGH, S.ABOVE_HIGH, S.INVALID]
    core.set_enabled([0], False)
    assert run(core, [5]) == [S.UNCHECKED]


def test_invalid_sample_restarts_the_delta() -> None:
    core = one(CheckKind.DELTA, -1.0, 1.0)
    # 0 -> NaN -> 100: the jump across the invalid sample is not a delta.
    assert run(core, [0, math.nan, 100, 100]) == [0, S.INVALID, S.INVALID, S.OK]


def _reference(
    kind: int,
    low: float,
    high: float,
    mask: int,
    expected: int,
    persistence: int,
    values: list[float],
) -> list[int]:
    """One check judged the slow, obvious way."""
    state, cand, count, prev, out = S.UNCHECKED, None, 0, math.nan, []
    for v in values:
        if not math.isfinite(v):
            raw = S.INVALID
        elif kind == CheckKind.LIMIT:
            raw = S.BELOW_LOW if v < low else S.ABOVE_HIGH if v > high else S.OK
        elif kind == CheckKind.EXPECTED:
            raw = S.OK if (int(v) & mask) == expected else S.UNEXPECTED
        else:
            if math.isnan(prev):
                raw = state
            else:
                d = v - prev
                raw = S.BELOW_LOW if d < low else S.ABOVE_HIGH if d > high else S.OK
        if kind == CheckKind.DELTA:
            prev = v if math.isfinite(v) else math.nan
        count = count + 1 if raw == cand else 1
        cand = raw
        if raw != state and count >= persistence:
            state = raw
        out.append(int(state))
    return out


ROWS = 6
_value = st.one_of(
    st.integers(-20, 20).map(float), st.sampled_from([math.nan, math.inf, -math.inf])
)


@settings(max_examples=40)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(CheckKind)),
            st.integers(-10, 5),
            st.integers(0, 10),
            st.integers(0, 15),
            st.integers(0, 15),
            st.integers(1, 4),
        ),
        min_size=ROWS,
        max_size=ROWS,
    ),
    st.lists(st.lists(_value, min_size=ROWS, max_size=ROWS), min_size=1, max_size=20),
    st.booleans(),
)
def test_vector_core_matches_the_reference_row_by_row(rows, samples, grouped) -> None:  # type: ignore[no-untyped-def]
    if grouped:  # rows of a kind contiguous: the core's slice path
        rows = sorted(rows, key=lambda r: r[0])
    core = CheckCore(
        [r[0] for r in rows],
        [float(r[1]) for r in rows],
        [float(r[1] + r[2]) for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [r[5] for r in rows],
        [True] * len(rows),
    )
    got = []
    for s in samples:
        core.evaluate(np.array(s, dtype=np.float64))
        got.append(core.state.tolist())
    for i, (kind, low, span, mask, expected, pers) in enumerate(rows):
        want = _reference(kind, low, low + span, mask, expected, pers, [s[i] for s in samples])
        assert [g[i] for g in got] == want, f"row {i}"


def test_an_array_of_boards_runs_as_rows_like_fdirs_board_monitors() -> None:
    """FDIR's per-board limit and delta monitors as rows: one limit and one delta row per
    board, persistence 1; the violated rows are FDIR's boolean 'bad' arrays."""
    rng = np.random.default_rng(11)
    boards = 256
    kinds = [CheckKind.LIMIT] * boards + [CheckKind.DELTA] * boards
    low = [0.0] * boards + [-5.0] * boards
    high = [85.0] * boards + [5.0] * boards
    core = CheckCore(
        kinds, low, high, [0] * 2 * boards, [0] * 2 * boards, [1] * 2 * boards, [True] * 2 * boards
    )
    temps = rng.uniform(20, 60, boards)
    core.evaluate(np.concatenate([temps, temps]))  # the deltas' first sample
    for _ in range(5):
        last = temps.copy()
        temps = temps + rng.normal(0, 3, boards)
        temps[rng.integers(0, boards, 3)] += 40  # a few boards jump and overheat
        core.evaluate(np.concatenate([temps, temps]))
        limit_bad = (temps < 0.0) | (temps > 85.0)
        delta_bad = np.abs(temps - last) > 5.0
        assert np.array_equal(core.state[:boards] >= S.BELOW_LOW, limit_bad)
        assert np.array_equal(core.state[boards:] >= S.BELOW_LOW, delta_bad)
