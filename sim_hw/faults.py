"""The fault injector: scheduled faults from a test script plus random radiation faults.

Fault-injection campaigns and FDIR tests need faults at chosen times (a switch that
over-currents at t=120 s, a radio outage during a pass) mixed with the random faults the
radiation environment produces, and afterwards a record of exactly what was injected
when, to compare with what FDIR detected. Same schedule and seed, same faults, same log.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from sim_hw.radiation import RadiationEvents, RadiationModel

DEFAULT_LOG_LIMIT = 100_000


class FaultKind(StrEnum):
    """What goes wrong."""

    SEU = "seu"
    SEU_UNCORRECTABLE = "seu_uncorrectable"
    SEL = "sel"
    SEFI = "sefi"
    SWITCH_OVERCURRENT = "switch_overcurrent"
    SENSOR_STUCK = "sensor_stuck"
    RADIO_OUTAGE = "radio_outage"
    HEATER_STUCK = "heater_stuck"


@dataclass(frozen=True)
class ScheduledFault:
    """A fault a test asks for: at ``t_s``, ``kind`` strikes ``target`` (board index or
    device name), with free-form ``detail`` (e.g. stuck value, outage duration)."""

    t_s: float
    kind: FaultKind
    target: int | str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InjectedFault:
    """A fault that was injected, from the schedule or drawn from the radiation model."""

    t_s: float
    kind: FaultKind
    target: int | str
    source: Literal["schedule", "random"]
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "t_s": self.t_s,
            "kind": self.kind.value,
            "target": self.target,
            "source": self.source,
            "detail": self.detail,
        }


class FaultInjector:
    """Releases scheduled faults as simulated time passes and turns radiation events into
    per-board faults.

    The log keeps the most recent ``log_limit`` faults; older ones are dropped and counted
    in ``log_dropped``.
    """

    def __init__(
        self,
        schedule: list[ScheduledFault],
        radiation: RadiationModel | None = None,
        log_limit: int = DEFAULT_LOG_LIMIT,
    ) -> None:
        if log_limit <= 0:
            raise ValueError("log limit must be positive")
        # Stable sort: faults at the same time keep the order the test gave them.
        self._schedule = sorted(schedule, key=lambda f: f.t_s)
        self._next = 0
        self.radiation = radiation
        self._log: deque[InjectedFault] = deque(maxlen=log_limit)
        self.log_dropped = 0
        self.injected = 0
        self._last_end_s: float | None = None

    @property
    def log(self) -> list[InjectedFault]:
        """Every injected fault still held, oldest first."""
        return list(self._log)

    @property
    def pending(self) -> int:
        """Scheduled faults not yet released."""
        return len(self._schedule) - self._next

    def step(
        self,
        t_s: float,
        dt_s: float,
        n_boards: int,
        flux_factor: float | npt.NDArray[np.float64] = 1.0,
    ) -> tuple[list[InjectedFault], RadiationEvents]:
        """Faults of the step (t, t + dt], and the radiation events drawn for it.

        Scheduled faults due by t + dt are released at their scheduled time (a fault
        scheduled at or before the first step's start is released in that step rather than
        lost). Radiation latch-ups, functional interrupts and uncorrectable upsets become
        one fault per affected board, stamped at the end of the step; corrected upsets stay
        aggregated as counts in the returned events.
        """
        if dt_s < 0.0:
            raise ValueError("dt must be >= 0")
        if self._last_end_s is not None and t_s < self._last_end_s - 1e-9:
            raise ValueError("steps must not go back in time")
        end = t_s + dt_s
        self._last_end_s = end
        faults: list[InjectedFault] = []
        while self._next < len(self._schedule) and self._schedule[self._next].t_s <= end:
            s = self._schedule[self._next]
            faults.append(InjectedFault(s.t_s, s.kind, s.target, "schedule", dict(s.detail)))
            self._next += 1
        if self.radiation is None:
            events = RadiationEvents.none(n_boards)
        else:
            events = self.radiation.draw(dt_s, n_boards, flux_factor)
            faults.extend(_radiation_faults(end, events))
        for f in faults:
            if len(self._log) == self._log.maxlen:
                self.log_dropped += 1
            self._log.append(f)
        self.injected += len(faults)
        return faults, events

    def extend(self, faults: list[ScheduledFault]) -> None:
        """Add faults to the schedule (a scenario loaded after the spacecraft was built)."""
        pending = self._schedule[self._next :] + list(faults)
        self._schedule = self._schedule[: self._next] + sorted(pending, key=lambda f: f.t_s)

    def log_to_json(self) -> str:
        """The log as a JSON array (keys sorted, so equal logs give equal text)."""
        return json.dumps([f.to_dict() for f in self._log], sort_keys=True)


def _radiation_faults(t_s: float, events: RadiationEvents) -> list[InjectedFault]:
    """One fault per board hit by a latch-up, a functional interrupt or uncorrectable upsets."""
    faults: list[InjectedFault] = []
    for board in np.flatnonzero(events.sel):
        faults.append(InjectedFault(t_s, FaultKind.SEL, int(board), "random"))
    for board in np.flatnonzero(events.sefi):
        faults.append(InjectedFault(t_s, FaultKind.SEFI, int(board), "random"))
    for board in np.flatnonzero(events.seu_uncorrectable):
        count = int(events.seu_uncorrectable[board])
        faults.append(
            InjectedFault(t_s, FaultKind.SEU_UNCORRECTABLE, int(board), "random", {"count": count})
        )
    return faults
