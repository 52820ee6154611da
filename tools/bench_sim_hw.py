"""sim_hw benchmark: the cost of advancing the accelerator-board array by one step.

One "step" here is what the SIL does each minor frame for the payload: apply the
radiation drawn for the interval, then ``BoardArray.step``. It is measured for 64, 1024
and 10,000 boards; because the model is whole-array numpy operations, the cost should
hardly grow with the board count, and ``board_step_ratio_10000_vs_64`` (target <= 4)
says how well that holds. The arrays that ``step`` integrates lazily are brought up to
date on a read, so ``board_step_with_telemetry_*`` adds one ``telemetry()`` per step: the
cost when the flight software reads every board every frame.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim_hw.boards import BoardArray, BoardParams

SIZES = (64, 1024, 10_000)
SEU_PER_BOARD_STEP = 0.01  # an SAA pass: far above the quiet-orbit rate


def best_us(fn: Callable[[int], object], budget_s: float) -> float:
    """Microseconds per call of ``fn(k)`` over about ``budget_s`` (best of three rounds)."""
    reps = 1
    while True:
        t0 = time.perf_counter()
        for k in range(reps):
            fn(k)
        dt = time.perf_counter() - t0
        if dt > budget_s / 10:
            break
        reps *= 2
    best = dt / reps
    for _ in range(2):
        t0 = time.perf_counter()
        for k in range(reps):
            fn(k)
        best = min(best, (time.perf_counter() - t0) / reps)
    return best * 1e6


def board_costs_us(n: int, budget_s: float, seed: int = 7) -> tuple[float, float]:
    """Microseconds per radiation + step, and per radiation + step + telemetry read, for
    ``n`` powered, busy boards."""
    rng = np.random.default_rng(seed)
    boards = BoardArray(n, BoardParams(), np.random.default_rng(seed + 1))
    everyone = np.arange(n)
    boards.set_power(everyone, True)
    boards.set_utilization(everyone, rng.uniform(0.3, 1.0, n))
    # A few different radiation draws, cycled, so no step sees an all-zero input.
    draws = [
        (
            rng.poisson(SEU_PER_BOARD_STEP, n).astype(np.int64),
            rng.poisson(SEU_PER_BOARD_STEP / 100, n).astype(np.int64),
            np.zeros(n, dtype=np.bool_),
            np.zeros(n, dtype=np.bool_),
        )
        for _ in range(8)
    ]

    def one(k: int) -> None:
        boards.apply_radiation(*draws[k & 7])
        boards.step(1.0, 20.0)

    def one_read(k: int) -> None:
        one(k)
        boards.telemetry()

    return best_us(one, budget_s), best_us(one_read, budget_s)


def run(quick: bool = False) -> dict[str, float]:
    budget = 0.3 if quick else 1.5
    out: dict[str, float] = {}
    for n in SIZES:
        step, with_read = board_costs_us(n, budget)
        out[f"board_step_{n}_us"] = step
        out[f"board_step_with_telemetry_{n}_us"] = with_read
    out["board_step_ratio_10000_vs_64"] = out["board_step_10000_us"] / out["board_step_64_us"]
    return out


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:45s} {v:16,.3f}")
