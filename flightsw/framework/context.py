"""What the executive hands each app: its name, ids, and the framework services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flightsw.framework.app import CommandDef, EventDef
from flightsw.framework.datatypes import Value
from flightsw.framework.ports import AppBus
from hal.interfaces import Clock

if TYPE_CHECKING:
    from flightsw.framework.parameters import OwnParameters
    from flightsw.framework.tm_funnel import AppTm
    from flightsw.framework.verification import TcRequest, Verifier


@dataclass(slots=True)
class CommandRequest:
    """An accepted command on its way to the owning app's handler."""

    cdef: CommandDef
    args: dict[str, Any]
    tc_request: TcRequest


@dataclass
class AppContext:
    """The framework as one app sees it: no HAL and no executive, only the handles of
    the ports the app declared (``ports``: devices and services, by attribute name, set
    on the instance by ``App.__init__``) and its view of the bus."""

    name: str
    id_base: int
    bus: AppBus
    tm: AppTm  # sends its own packets; the funnel's sinks and taps are declared services
    verifier: Verifier
    params: OwnParameters  # its own parameters; all of them are ParameterMemory
    clock: Clock
    emit: Callable[[EventDef, dict[str, Value]], None]
    options: dict[str, Any] = field(default_factory=dict)
    ports: dict[str, object | None] = field(default_factory=dict)
    backend: str = "sim"  # the HAL backend's name (sim, serial, ...)
    reset_cause: str = "power_on"  # why the computer last started (the HAL's register)
    seed: int = 0  # the mission seed, for apps with seeded behaviour
    # What an app keeps across restarts of itself (not across a reboot): the context
    # outlives the instances the executive builds, so state an app must not lose on a
    # restart (the link layer's acknowledged commands, its anti-replay counters) lives here.
    retained: dict[str, Any] = field(default_factory=dict)

    def now_ns(self) -> int:
        return self.clock.now_ns()
