"""Exact gates: skip a computation only when it is provably a no-op, and a mode that checks.

FDIR's full check runs every second over every board; in the usual second nothing has
happened (no latch-up, no hang, no board on a recovery step, no new memory error, no
switch changed) and most of it changes nothing. A gate tests a sufficient condition for
that (a handful of cheap comparisons) and skips the work. A gate must never change what
the flight software does: the telemetry of a run is the same byte for byte with or without
it. The reasoning for each gate is written next to it; the check mode proves it on a run.

Check mode (environment ``FLIGHTSW_CHECK_GATES=1`` when the app starts, or the app's
``check_gates`` set by a test): whenever a gate says "skip", the skipped code runs anyway
and the state it could change is compared before and after. A difference is a wrong gate:
it is recorded (:class:`GateLog`, bounded, kept across restarts of the app) and raised as
:class:`GateMismatch`, which the executive reports as an app exception, so a fingerprint
run in check mode differs too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

_T = TypeVar("_T", bound=np.generic)
CHECK_ENV = "FLIGHTSW_CHECK_GATES"
MAX_RECORDED = 64  # gate errors kept (the first ones); the count goes on


def check_mode() -> bool:
    """Whether gates are checked (read once, when an app starts)."""
    return os.environ.get(CHECK_ENV, "") == "1"


class GateMismatch(AssertionError):
    """A gate skipped code that was not a no-op (check mode only): a defect of the flight
    software, not of its input, so not a ``FlightswError`` a device guard would absorb."""


def same(a: NDArray[np.generic] | None, b: NDArray[np.generic] | None) -> bool:
    """The two arrays hold the same bits (same dtype, shape and bytes); two Nones too.

    Bitwise, so a computation on ``a`` gives exactly what it gave on ``b`` (NaN payloads
    and signed zeros included). One array is the same as itself (the sim's reports share
    the arrays that did not change); integers compare by value, which is their bits;
    contiguous floats as the unsigned integers of their bits (no ``tobytes`` copies)."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    kind = a.dtype.kind
    if kind in "iu":
        return bool(np.array_equal(a, b))
    bits = _BITS.get(a.dtype.itemsize) if kind == "f" else None
    if bits is not None and a.flags.c_contiguous and b.flags.c_contiguous:
        return bool(np.array_equal(a.view(bits), b.view(bits)))
    return a.tobytes() == b.tobytes()


_BITS = {2: np.uint16, 4: np.uint32, 8: np.uint64}  # float width: its bits as one integer


def kept(a: NDArray[_T]) -> NDArray[_T]:
    """What to keep of a telemetry array to compare with later: ``a`` itself when nothing
    can change it (read-only, and so is every array under it: the sim's reports), else a
    copy (an array its owner may still write to)."""
    x: object = a
    while isinstance(x, np.ndarray):
        if x.flags.writeable:
            return a.copy()
        x = x.base
    return a


@dataclass
class GateLog:
    """Wrong gates found in check mode: the first ``MAX_RECORDED`` and how many in all."""

    errors: list[str] = field(default_factory=list)
    mismatches: int = 0


class GateChecker:
    """Runs skipped code in check mode and compares the state it could change."""

    def __init__(
        self,
        enabled: bool,
        state: Callable[[], tuple[object, ...]],
        log: GateLog | None = None,
    ) -> None:
        self.enabled = enabled
        self.state = state
        self.log = log if log is not None else GateLog()

    def noop(self, gate: str, body: Callable[[], object]) -> None:
        """Check mode: ``body`` (what the gate skipped) must leave the state as it was."""
        if not self.enabled:
            return
        before = self.state()
        body()
        after = self.state()
        if before != after:
            diff = [i for i, (x, y) in enumerate(zip(before, after, strict=True)) if x != y]
            self.fail(gate, f"state items {diff} changed")

    def equal(self, gate: str, got: object, want: object) -> None:
        """Check mode: the gated value ``got`` equals the one computed in full."""
        if self.enabled and got != want:
            self.fail(gate, f"{got!r} != {want!r}")

    def fail(self, gate: str, what: str) -> None:
        self.log.mismatches += 1
        if len(self.log.errors) < MAX_RECORDED:
            self.log.errors.append(f"{gate}: {what}")
        raise GateMismatch(f"gate {gate} skipped work that was not a no-op: {what}")
