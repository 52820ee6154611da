"""What the executive hands each app: its name, ids, and the framework services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flightsw.app import CommandDef, EventDef
from flightsw.bus import SoftwareBus
from flightsw.datatypes import Value
from hal.backend import Hal

if TYPE_CHECKING:
    from flightsw.services.parameters import ParameterStore
    from flightsw.services.tm_funnel import TmFunnel
    from flightsw.services.verification import TcRequest, Verifier


@dataclass(slots=True)
class CommandRequest:
    """An accepted command on its way to the owning app's handler."""

    cdef: CommandDef
    args: dict[str, Any]
    tc_request: TcRequest


@dataclass
class AppContext:
    """The framework as one app sees it."""

    name: str
    id_base: int
    bus: SoftwareBus
    tm: TmFunnel
    verifier: Verifier
    params: ParameterStore
    hal: Hal
    emit: Callable[[EventDef, dict[str, Value]], None]
    options: dict[str, Any] = field(default_factory=dict)
    executive: Any = None  # the Executive, for the core services that report on it
    seed: int = 0  # the mission seed, for apps with seeded behaviour
    # What an app keeps across restarts of itself (not across a reboot): the context
    # outlives the instances the executive builds, so state an app must not lose on a
    # restart (the link layer's acknowledged commands, its anti-replay counters) lives here.
    retained: dict[str, Any] = field(default_factory=dict)

    def now_ns(self) -> int:
        return self.hal.clock.now_ns()
