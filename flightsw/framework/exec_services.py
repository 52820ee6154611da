"""The executive's services an app may declare it uses, each a narrow typed interface.

Core services (housekeeping, monitoring, events, comms, the scheduler, the sequencer,
the executive's own app) and FDIR need more of the executive than a flight app does:
which apps run and their telemetry, restarting one, injecting a TC. Instead of the whole
executive, an app declares each service it uses as a port (``Service(AppCatalog)``,
:mod:`flightsw.framework.ports`) and gets an object with exactly that interface:

* :class:`AppCatalog`: the loaded apps (name, index, id base, declarations), each one's
  current telemetry (read-only), the frame structure and the frame time.
* :class:`AppControl`: restart, enable or disable an app by name; its counters.
* :class:`CommandPath`: the dispatcher as an on-board TC source sees it.
* :class:`EventFilter`: the declared event ids and which are disabled for TM.
* :class:`ExecutiveCounters`: the executive's own counters, for its housekeeping.
* :class:`flightsw.framework.tables.TableRegistry`: the tables (already a class of its own).
* :class:`TmDownlink`: every TM packet the funnel flushes, with its channel (the radio).
* :class:`TmTap`: every real-time TM packet as it is sent (the packet store, the relay).
* :class:`TmPlayback`: queue packets already stamped (a store dump) for the downlink.
* :class:`flightsw.framework.parameters.ParameterMemory`: every app's parameters by id
  (PUS-20, FDIR's memory guard).

Without them an app sees only its own: ``ctx.tm`` sends its packets
(:class:`flightsw.framework.tm_funnel.AppTm`), ``ctx.params`` holds its parameters
(:class:`flightsw.framework.parameters.OwnParameters`).

The executive builds the objects behind them (:mod:`flightsw.runtime.service_handles`);
nothing there holds more than its interface says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from flightsw.framework.app import AppDeclarations, EventDef
from flightsw.framework.datatypes import Value
from flightsw.framework.parameters import ParameterMemory
from flightsw.framework.tables import TableRegistry

if TYPE_CHECKING:
    from flightsw.framework.tm_funnel import TmSink
    from flightsw.runtime.executive import AppStats


@dataclass(frozen=True)
class AppInfo:
    """One loaded app as other apps may know it."""

    name: str
    index: int  # its place in the mission (the ``app`` argument of executive events)
    id_base: int
    declarations: AppDeclarations


class AppCatalog(Protocol):
    """Read-only: the apps, their declarations and their current telemetry."""

    @property
    def apid(self) -> int: ...

    @property
    def minor_frame_ns(self) -> int: ...

    @property
    def frame(self) -> int:
        """Minor frames run since start (0 while the apps are being loaded)."""
        ...

    @property
    def now_ns(self) -> int:
        """This frame's start on the on-board clock."""
        ...

    def apps(self) -> tuple[AppInfo, ...]: ...

    def app(self, name: str) -> AppInfo:
        """KeyError when no app is called ``name``."""
        ...

    def telemetry(self, app: str) -> Mapping[str, Value]:
        """The app's current telemetry points (of its running instance); KeyError when
        there is no such app."""
        ...


class AppControl(Protocol):
    """Restart, enable and disable apps by name (FDIR and the executive's commands)."""

    def stats(self, app: str) -> AppStats:
        """The executive's counters of one app (read them; do not write)."""
        ...

    def restart_app(self, app: str) -> bool: ...

    def enable_app(self, app: str) -> bool: ...

    def disable_app(self, app: str) -> bool: ...

    def reset_counters(self) -> None:
        """Zero every app's overrun, exception and restart counters."""
        ...


class CommandPath(Protocol):
    """The dispatcher as an on-board TC source uses it (see ``flightsw.runtime.dispatcher``)."""

    uplink_depth: int

    def room(self) -> int: ...

    def submit(self, tc: bytes) -> bool: ...

    def dispatch(self, raw: bytes) -> None: ...

    def target_room(self, raw: bytes) -> tuple[int, int] | None: ...

    def check(self, raw: bytes) -> None: ...


class EventFilter(Protocol):
    """The declared events (global id -> owning app and declaration) and the ids whose
    TM reports are disabled (PUS-5 enable/disable)."""

    @property
    def ids(self) -> Mapping[int, tuple[str, EventDef]]: ...

    @property
    def disabled(self) -> set[int]: ...


class TmDownlink(Protocol):
    """The downlink's end of the TM funnel (comms): every packet flushed, with its channel."""

    def attach(self, owner: str, sink: TmSink) -> None:
        """``sink`` gets every packet flushed; one per owner (a restart replaces it)."""
        ...


class TmTap(Protocol):
    """Every new real-time TM packet as it is sent (recorders: the packet store, the relay)."""

    def tap(self, owner: str, fn: Callable[[bytes], None]) -> None:
        """``fn`` sees each packet; one per owner (a restart replaces it)."""
        ...


class TmPlayback(Protocol):
    """Queue packets already stamped (a packet store's dump) for the downlink."""

    def send_raw(self, pkt: bytes, channel: int = ...) -> None: ...


@dataclass(frozen=True)
class Counters:
    """The executive's own counters at one moment (wrapping is the reader's business)."""

    frame: int
    cycle_slips: int
    overruns: int
    exceptions: int
    restarts: int
    apps_disabled: int
    tc_received: int
    tc_accepted: int
    tc_rejected: int
    uplink_dropped: int
    tm_sent: int
    tm_dropped: int
    bus_dropped: int
    events_dropped: int
    watchdog_kicks: int
    invalid_samples: int


class ExecutiveCounters(Protocol):
    def counters(self) -> Counters: ...


OFFERED: Set[type] = frozenset(
    {
        AppCatalog,
        AppControl,
        CommandPath,
        EventFilter,
        ExecutiveCounters,
        TableRegistry,
        TmDownlink,
        TmTap,
        TmPlayback,
        ParameterMemory,
    }
)
