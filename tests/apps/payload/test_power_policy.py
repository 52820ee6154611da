"""Admission within the power budget: hysteresis, holds, and no flapping."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.apps.payload.power_policy import NS_PER_S, AdmissionPolicy, PowerLimits

LIM = PowerLimits()


def _run(budgets: list[float], wanted: int) -> list[int]:
    policy = AdmissionPolicy()
    running, out = 0, []
    for t, b in enumerate(budgets):
        running = policy.target(running, wanted, b, t * NS_PER_S, LIM)
        out.append(running)
    return out


def test_admits_only_what_runs_at_full_power_within_the_budget() -> None:
    assert _run([10_000.0], 100) == [int(10_000 * 0.95 // 350)]
    assert _run([10_000.0], 5) == [5]
    assert _run([0.0, 10_000.0], 100)[0] == 0


def test_a_falling_budget_is_shared_before_boards_are_shed_then_held() -> None:
    # 27 boards at full; the budget falls to 6 kW (222 W each: kept), then 3 kW (111 W
    # each: shed after two steps, down to what runs at full), then recovers at once.
    out = _run([10_000.0] * 3 + [6_000.0] * 3 + [3_000.0] * 3 + [10_000.0] * 40, 100)
    assert out[:6] == [27] * 6
    assert out[6] == 27 and out[7] == int(3_000 * 0.95 // 350)
    assert all(x == out[7] for x in out[8 : 7 + 30])  # held after the shed
    assert out[-1] == 27  # admitted again once the hold is over


def test_no_budget_sheds_at_once() -> None:
    assert _run([10_000.0, 0.0], 100) == [27, 0]


@settings(max_examples=80, deadline=None)
@given(
    st.floats(500.0, 200_000.0),
    st.floats(0.0, 0.2),
    st.integers(0, 2**32 - 1),
    st.integers(1, 2000),
)
def test_a_noisy_budget_never_makes_the_payload_flap(
    level: float, noise: float, seed: int, wanted: int
) -> None:
    """A budget wandering within +-noise of a level (power estimates jitter): after the
    first shed, if any, the running count never changes direction."""
    rng = np.random.default_rng(seed)
    budgets = list(level * (1.0 + noise * rng.uniform(-1.0, 1.0, 300)))
    out = _run(budgets, wanted)
    steps = np.diff(out)
    moves = np.sign(steps[steps != 0])
    assert np.count_nonzero(np.diff(moves)) <= 1  # up then down at most once: no flapping
    # And what runs never needs more than the budget can give at the shed threshold.
    assert all(
        n * LIM.min_w <= b * 1.0 + 1e-6 or n == 0 for n, b in zip(out[2:], budgets[2:], strict=True)
    )
