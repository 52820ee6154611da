"""The one timing helper every benchmark group uses, so their rates are comparable."""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(fn: Callable[[], object], budget_s: float) -> float:
    """Calls per second of ``fn`` over about ``budget_s`` (best of three rounds)."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt > budget_s / 10:
            break
        n *= 2
    best = dt / n
    for _ in range(2):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return 1.0 / best
