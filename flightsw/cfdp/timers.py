"""cfdp-py's timers on the injected clock, not the host's.

cfdp-py times its positive-acknowledgement, NAK and check timers with
``spacepackets.countdown.Countdown``, which reads the host's wall clock. On the simulated
clock that would make a transfer depend on the host's speed (a 10 s ACK timer would
never expire in a run that goes 600x real time, or expire at different points on a
loaded machine). So the handler modules' ``Countdown`` is replaced here, once, by
:class:`ClockCountdown`, which reads the clock of the entity that is running the state
machine at the time (:func:`running`): each :class:`~flightsw.cfdp.entity.CfdpEntity`
enters its own clock around every call into cfdp-py.

An entity's clock is its *link time*: it stands still while the link is down, so the
timers of a transfer do not run out during a loss of signal and the transfer goes on
at the next contact (CFDP's suspend/resume, done by the clock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import cfdppy.handler.dest
import cfdppy.handler.source
from cfdppy.mib import CheckTimerProvider, EntityType
from spacepackets.countdown import Countdown
from spacepackets.util import UnsignedByteField

from flightsw.base.errors import FlightswError

MsClock = Callable[[], int]
_RUNNING: list[MsClock] = []


@contextmanager
def running(clock: MsClock) -> Iterator[None]:
    """Timers made or checked inside this block read ``clock`` (milliseconds)."""
    _RUNNING.append(clock)
    try:
        yield
    finally:
        _RUNNING.pop()


def _clock() -> MsClock:
    if not _RUNNING:
        raise FlightswError("a CFDP timer used outside an entity's clock (flightsw.cfdp.timers)")
    return _RUNNING[-1]


class ClockCountdown(Countdown):  # type: ignore[misc]
    """A countdown on the clock of the entity that created it."""

    def __init__(self, init_timeout: timedelta | None = None) -> None:
        self._now = _clock()
        self._timeout_ms = (
            0 if init_timeout is None else int(init_timeout / timedelta(milliseconds=1))
        )
        self._start_time_ms = self._now() if init_timeout is not None else 0

    def timed_out(self) -> bool:
        return self._now() - self._start_time_ms >= self._timeout_ms

    def start(self) -> None:
        self._start_time_ms = self._now()

    def remaining_time(self) -> timedelta:
        left = self._start_time_ms + self._timeout_ms - self._now()
        return timedelta(milliseconds=max(left, 0))


class ClockCheckTimers(CheckTimerProvider):  # type: ignore[misc]
    """Check timers (class 1 EOF before all data) of a fixed length on the entity's clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def provide_check_timer(
        self,
        local_entity_id: UnsignedByteField,
        remote_entity_id: UnsignedByteField,
        entity_type: EntityType,
    ) -> Countdown:
        return ClockCountdown(timedelta(seconds=self.seconds))


def install() -> None:
    """Make cfdp-py's handlers time on the entity clock (idempotent)."""
    cfdppy.handler.dest.Countdown = ClockCountdown
    cfdppy.handler.source.Countdown = ClockCountdown


install()
