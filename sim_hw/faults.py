"""The fault injector: scheduled faults from a test script plus random radiation faults.

Fault-injection campaigns and FDIR tests need faults at chosen times (a switch that
over-currents at t=120 s, a radio outage during a pass) mixed with the random faults the
radiation environment produces, and afterwards a record of exactly what was injected
when, to compare with what FDIR detected. Same schedule and seed, same faults, same log.

A scheduled fault may name its target by the state it must find (``@busy``, ``@idle``,
``@powered``, ``@off``, ``@any`` board, each with ``_unhit`` to leave out boards earlier
scheduled faults struck; ``@label:NAME`` for the target an earlier fault labelled NAME
hit): the simulated world resolves it at injection, from its own seeded
generator, so seeds vary the board states faults meet.

:class:`FaultTracker` keeps the truth scoring needs: for every injected fault, whether
it could act (and why not), the board's state when it struck, and what became of it
(when a latch-up or hang was cleared and how, when the board was healthy and working
again, when a switch tripped and conducted again, when memory was scrubbed).
"""

from __future__ import annotations

import json
import math
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
    SENSOR_DRIFT = "sensor_drift"  # reads truth + rate * (t - t0): looks like a real trend
    MEMORY_UPSET = "memory_upset"  # a bit flipped in flight-software memory (SIL only)
    SILENT_CORRUPTION = "silent_corruption"  # a job's computation corrupted outside ECC


BOARD_KINDS = frozenset(
    {
        FaultKind.SEL,
        FaultKind.SEFI,
        FaultKind.SEU,
        FaultKind.SEU_UNCORRECTABLE,
        FaultKind.SILENT_CORRUPTION,
    }
)
TARGET_STATES = ("busy", "idle", "powered", "off", "any")


@dataclass(frozen=True)
class ScheduledFault:
    """A fault a test asks for: at ``t_s``, ``kind`` strikes ``target`` (board index or
    device name), with free-form ``detail`` (e.g. stuck value, outage duration)."""

    t_s: float
    kind: FaultKind
    target: int | str
    detail: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # a later fault may target "@label:<label>" (the same unit)


@dataclass(frozen=True)
class InjectedFault:
    """A fault that was injected, from the schedule or drawn from the radiation model."""

    t_s: float
    kind: FaultKind
    target: int | str
    source: Literal["schedule", "random"]
    detail: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {
            "t_s": self.t_s,
            "kind": self.kind.value,
            "target": self.target,
            "source": self.source,
            "detail": self.detail,
        }
        if self.label:
            out["label"] = self.label
        return out


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

    @property
    def next_due_s(self) -> float:
        """When the next scheduled fault is due (inf when none is left)."""
        if self._next < len(self._schedule):
            return self._schedule[self._next].t_s
        return math.inf

    def release_due(self, t_s: float) -> list[InjectedFault]:
        """Scheduled faults due by ``t_s`` (each keeps its own time), logged."""
        faults: list[InjectedFault] = []
        while self._next < len(self._schedule) and self._schedule[self._next].t_s <= t_s:
            s = self._schedule[self._next]
            faults.append(
                InjectedFault(s.t_s, s.kind, s.target, "schedule", dict(s.detail), s.label)
            )
            self._next += 1
        self._keep(faults)
        return faults

    def _keep(self, faults: list[InjectedFault]) -> None:
        for f in faults:
            if len(self._log) == self._log.maxlen:
                self.log_dropped += 1
            self._log.append(f)
        self.injected += len(faults)

    def step(
        self,
        t_s: float,
        dt_s: float,
        n_boards: int,
        flux_factor: float | npt.NDArray[np.float64] = 1.0,
        release_scheduled: bool = True,
    ) -> tuple[list[InjectedFault], RadiationEvents]:
        """Faults of the step (t, t + dt], and the radiation events drawn for it.

        Scheduled faults due by t + dt are released at their scheduled time (a fault
        scheduled at or before the first step's start is released in that step rather than
        lost), unless ``release_scheduled`` is False (the caller releases them at their
        own times with :meth:`release_due`). Radiation latch-ups, functional interrupts
        and uncorrectable upsets become one fault per affected board, stamped at the end
        of the step; corrected upsets stay aggregated as counts in the returned events.
        """
        if dt_s < 0.0:
            raise ValueError("dt must be >= 0")
        if self._last_end_s is not None and t_s < self._last_end_s - 1e-9:
            raise ValueError("steps must not go back in time")
        end = t_s + dt_s
        self._last_end_s = end
        faults: list[InjectedFault] = []
        while (
            release_scheduled
            and self._next < len(self._schedule)
            and self._schedule[self._next].t_s <= end
        ):
            s = self._schedule[self._next]
            faults.append(
                InjectedFault(s.t_s, s.kind, s.target, "schedule", dict(s.detail), s.label)
            )
            self._next += 1
        if self.radiation is None:
            events = RadiationEvents.none(n_boards)
        else:
            events = self.radiation.draw(dt_s, n_boards, flux_factor)
            if not events.quiet:  # a quiet step has no board to fault
                faults.extend(_radiation_faults(end, events))
        self._keep(faults)
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
    _seu, has_unc, has_sel, has_sefi = events.kinds  # (a kind without events: no search)
    for board in np.flatnonzero(events.sel) if has_sel else ():
        faults.append(InjectedFault(t_s, FaultKind.SEL, int(board), "random"))
    for board in np.flatnonzero(events.sefi) if has_sefi else ():
        faults.append(InjectedFault(t_s, FaultKind.SEFI, int(board), "random"))
    for board in np.flatnonzero(events.seu_uncorrectable) if has_unc else ():
        count = int(events.seu_uncorrectable[board])
        faults.append(
            InjectedFault(t_s, FaultKind.SEU_UNCORRECTABLE, int(board), "random", {"count": count})
        )
    return faults


def board_state(boards: Any, b: int) -> str:
    """What a board was doing, from the model's truth: off, damaged, hung, working, idle
    (powered, alive, no work), with "+latched" when a latch-up holds it."""
    if not boards.powered[b]:
        return "off"
    if boards.damaged[b]:
        return "damaged"
    state = "hung" if boards.hung[b] else ("working" if boards.working[b] else "idle")
    return state + ("+latched" if boards.latched[b] else "")


class FaultTracker:
    """Every injected fault as a record (a dict), followed until its effect is resolved.

    Records are created by the spacecraft when a fault strikes and updated by
    :meth:`observe`, which the spacecraft calls at every frame and physics step with the
    time the state it sees was reached. Fields, by kind:

    - all: ``t_s``, ``kind``, ``target``, ``source``, ``detail``, ``effective``,
      ``reason`` (why not effective), ``state`` (the board's, for board faults);
    - ``sel``: ``cleared_s`` and ``cleared_by`` (``power_off`` or ``damage``),
      ``healthy_s`` (powered, undamaged, no latch-up, no hang), ``working_s``;
    - ``sefi``: ``cleared_s``, ``cleared_by`` (``reset``, ``power_off``, ``damage``),
      ``healthy_s``, ``working_s``;
    - ``seu``: ``scrubbed_s`` (the board's latent flips cleared);
    - ``seu_uncorrectable`` and ``silent_corruption``: ``job_hit`` (the board was
      computing, so a job's data was corrupted);
    - ``switch_overcurrent``: ``tripped_s``, ``trips``, ``restored_s`` (conducting
      again after the last trip);
    - ``memory_upset``: ``region``, ``key``, ``bit``, ``repaired_s`` (set by the HAL).

    The record list is bounded (oldest dropped, counted); open records are bounded by it.
    """

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT) -> None:
        self.records: deque[dict[str, Any]] = deque(maxlen=limit)
        self.dropped = 0
        self._open: list[dict[str, Any]] = []

    def add(self, record: dict[str, Any], follow: bool) -> dict[str, Any]:
        if len(self.records) == self.records.maxlen:
            self.dropped += 1
        self.records.append(record)
        if follow:
            self._open.append(record)
        return record

    def observe(self, sc: Any, t_s: float) -> None:
        """Update open records from the world's state, reached at ``t_s``."""
        if not self._open:
            return
        b = sc.boards
        still: list[dict[str, Any]] = []
        for r in self._open:
            kind = r["kind"]
            if kind in ("sel", "sefi"):
                done = self._board_fault(r, b, int(r["target"]), t_s)
            elif kind == "seu":
                i = int(r["target"])
                done = bool(b.latent_flips[i] == 0)
                if done:
                    r["scrubbed_s"] = t_s
            elif kind == "switch_overcurrent":
                self._switch(r, sc, t_s)
                done = False
            else:
                done = True
            if not done:
                still.append(r)
        self._open = still

    @staticmethod
    def _board_fault(r: dict[str, Any], b: Any, i: int, t_s: float) -> bool:
        held = bool(b.latched[i]) if r["kind"] == "sel" else bool(b.hung[i])
        if r.get("cleared_s") is None:
            if held and not b.damaged[i]:
                return False
            r["cleared_s"] = t_s
            if b.damaged[i]:
                r["cleared_by"] = "damage"
            elif not b.powered[i]:
                r["cleared_by"] = "power_off"
            else:
                r["cleared_by"] = "reset"
        if b.damaged[i]:
            r["damaged"] = True
            return True
        healthy = b.powered[i] and not b.latched[i] and not b.hung[i]
        if r.get("healthy_s") is None and healthy:
            r["healthy_s"] = t_s
        if r.get("healthy_s") is not None and healthy and b.working[i]:
            r["working_s"] = t_s
            return True
        return False

    @staticmethod
    def _switch(r: dict[str, Any], sc: Any, t_s: float) -> None:
        name = str(r["target"])
        trips = sc.pcdu.trips(name) - int(r.get("trips_before", 0))
        if trips > int(r.get("trips", 0)):
            r["trips"] = trips
            r["tripped_s"] = r.get("tripped_s", t_s)
            r["restored_s"] = None
        elif trips and r.get("restored_s") is None and sc.pcdu.is_conducting(name):
            r["restored_s"] = t_s


def resolve_target(
    f: InjectedFault,
    boards: Any,
    labels: dict[str, int | str],
    rng: np.random.Generator,
    struck: set[int] | None = None,
) -> int | str | None:
    """The unit a scheduled fault strikes: its target, or one drawn from those in the state
    it names (``@busy``...; ``@busy_unhit`` etc. leave out the boards earlier scheduled
    faults struck), or the unit an earlier fault labelled (``@label:NAME``). None when no
    unit is in that state (or the label was never used)."""
    target = f.target
    if not isinstance(target, str) or not target.startswith("@"):
        return target
    want = target[1:]
    if want.startswith("label:"):
        return labels.get(want.removeprefix("label:"))
    unhit = want.endswith("_unhit")
    want = want.removesuffix("_unhit")
    powered = np.asarray(boards.powered)
    alive = powered & ~np.asarray(boards.damaged)
    latched = np.asarray(boards.latched)
    working = np.asarray(boards.working) & ~latched
    pool = {
        "busy": working,
        "idle": alive & ~working & ~np.asarray(boards.hung) & ~latched,
        "powered": powered,
        "off": ~powered,
        "any": np.ones(boards.count, dtype=bool),
    }.get(want)
    if pool is None:
        return None
    if unhit and struck:
        pool = pool.copy()
        pool[np.fromiter(struck, dtype=np.intp)] = False
    idx = np.flatnonzero(pool)
    return int(idx[rng.integers(idx.size)]) if idx.size else None


def board_fault_effect(kind: FaultKind, boards: Any, b: int) -> str:
    """Why a board fault cannot act on board ``b`` now ("" when it can)."""
    if not 0 <= b < boards.count:
        return "no such board"
    if not boards.powered[b]:
        return "board unpowered"
    if boards.damaged[b]:
        return "board damaged"
    if kind is FaultKind.SEL and boards.latched[b]:
        return "board already latched"
    if kind is FaultKind.SEFI and boards.hung[b]:
        return "board already hung"
    if kind is FaultKind.SILENT_CORRUPTION and not boards.working[b]:
        return "board not computing"
    return ""
