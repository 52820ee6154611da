"""What a non-finite number from a device is: an invalid sample, counted, never passed on.

Every backend (simulated, serial bench) applies the same rule at the HAL boundary, so a
NaN or an infinity from a bench (a valid CRC says nothing about the value) reaches no app:

* a scalar reading (battery, solar array) with a non-finite field is invalid as a whole:
  the device raises :class:`InvalidSample` (a ``FlightswError``, so an app's step takes
  it like a device that did not answer: this cycle's sample is missing, the app counts
  it in ``device_errors`` and goes on);
* a per-unit reading (one thermistor of many, one switch current, one board's value)
  loses only that unit's value, which reads as NaN: the one marker of "no value", that
  apps skip. An infinity becomes NaN too, so no app ever sees one.

Either way the backend's :class:`SampleCounter` counts it by reading kind; the executive
reports the total in its housekeeping (``invalid_samples``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from flightsw.base.errors import FlightswError

KINDS = ("battery", "solar_array", "switches", "temperatures", "boards")


class InvalidSample(FlightswError):
    """A reading whose value is not a finite number: this cycle's sample is missing."""

    def __init__(self, kind: str, field_name: str, value: float) -> None:
        self.kind = kind
        self.field_name = field_name
        super().__init__(f"{kind}.{field_name}: {value!r} is not a finite number")


@dataclass
class SampleCounter:
    """Invalid samples (scalar readings refused, unit values blanked) by reading kind."""

    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def count(self, kind: str, n: int = 1) -> None:
        self.by_kind[kind] = self.by_kind.get(kind, 0) + n

    def scalars(self, kind: str, **values: float) -> None:
        """Raise (and count) :class:`InvalidSample` if any value is not finite."""
        for name, value in values.items():
            if not math.isfinite(value):
                self.count(kind)
                raise InvalidSample(kind, name, value)

    def units(self, kind: str, values: Iterable[float]) -> tuple[float, ...]:
        """The per-unit values with every non-finite one as NaN (each counted)."""
        out = tuple(map(float, values))
        if all(map(math.isfinite, out)):
            return out
        self.count(kind, sum(1 for v in out if not math.isfinite(v)))
        return tuple(v if math.isfinite(v) else math.nan for v in out)

    def unit_array(self, kind: str, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """``values`` with every non-finite element as NaN (each counted); the same array
        when all are finite (no copy on the hot path), a copy otherwise."""
        finite = np.isfinite(values)
        if finite.all():
            return values
        self.count(kind, int(values.size - np.count_nonzero(finite)))
        out: NDArray[np.float64] = np.where(finite, values, np.nan)
        return out
