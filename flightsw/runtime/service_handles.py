"""The executive's services as one executive provides them.

Each object here is what an app that declares ``Service(X)`` receives, for one interface
``X`` of :mod:`flightsw.framework.exec_services`; :func:`provide` builds the whole set for
an executive. Each holds the executive but exposes only its interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flightsw.framework.datatypes import Value
from flightsw.framework.exec_services import (
    AppCatalog,
    AppControl,
    AppInfo,
    CommandPath,
    Counters,
    EventFilter,
    ExecutiveCounters,
    TmDownlink,
    TmPlayback,
    TmTap,
)
from flightsw.framework.parameters import ParameterMemory
from flightsw.framework.tables import TableRegistry

if TYPE_CHECKING:
    from flightsw.framework.tm_funnel import TmFunnel
    from flightsw.runtime.executive import AppStats, Executive, LoadedApp


class _Catalog:
    def __init__(self, exe: Executive) -> None:
        self._exe = exe
        self._infos: tuple[AppInfo, ...] = ()
        self._by_name: dict[str, LoadedApp] = {}

    def _index(self) -> None:
        if len(self._infos) != len(self._exe.apps):
            self._by_name = {a.spec.name: a for a in self._exe.apps}
            self._infos = tuple(
                AppInfo(a.spec.name, a.index, a.spec.id_base, a.cls.declarations())
                for a in self._exe.apps
            )

    @property
    def apid(self) -> int:
        return self._exe.config.apid

    @property
    def minor_frame_ns(self) -> int:
        return self._exe.minor_frame_ns

    @property
    def frame(self) -> int:
        return self._exe.frame

    @property
    def now_ns(self) -> int:
        return self._exe.now_ns

    def apps(self) -> tuple[AppInfo, ...]:
        self._index()
        return self._infos

    def app(self, name: str) -> AppInfo:
        self._index()
        return self._infos[self._by_name[name].index]

    def telemetry(self, app: str) -> Mapping[str, Value]:
        self._index()
        return self._by_name[app].instance.tlm


class _Control:
    def __init__(self, exe: Executive) -> None:
        self._exe = exe

    def stats(self, app: str) -> AppStats:
        return self._exe.app(app).stats

    def restart_app(self, app: str) -> bool:
        return self._exe.restart_app(self._exe.app(app))

    def enable_app(self, app: str) -> bool:
        return self._exe.enable_app(self._exe.app(app))

    def disable_app(self, app: str) -> bool:
        return self._exe.disable_app(self._exe.app(app))

    def reset_counters(self) -> None:
        for a in self._exe.apps:
            a.stats.overruns = a.stats.exceptions = a.stats.restarts = 0


class _Counters:
    def __init__(self, exe: Executive) -> None:
        self._exe = exe

    def counters(self) -> Counters:
        exe = self._exe
        stats = [a.stats for a in exe.apps]
        d = exe.dispatcher
        return Counters(
            frame=exe.frame,
            cycle_slips=exe.cycle_slips,
            overruns=sum(s.overruns for s in stats),
            exceptions=sum(s.exceptions for s in stats),
            restarts=sum(s.restarts for s in stats),
            apps_disabled=sum(s.disabled for s in stats),
            tc_received=d.received,
            tc_accepted=d.accepted,
            tc_rejected=sum(d.rejected_by_code.values()),
            uplink_dropped=d.uplink_dropped,
            tm_sent=exe.tm.sent,
            tm_dropped=exe.tm.dropped,
            bus_dropped=exe.bus.dropped_total(),
            events_dropped=exe.events.log_dropped,
            watchdog_kicks=exe.watchdog_kicks,
            invalid_samples=exe.hal.samples.total,
        )


class _Downlink:
    def __init__(self, tm: TmFunnel) -> None:
        self.attach = tm.attach


class _Taps:
    def __init__(self, tm: TmFunnel) -> None:
        self.tap = tm.tap


class _Playback:
    def __init__(self, tm: TmFunnel) -> None:
        self.send_raw = tm.send_raw


def provide(exe: Executive) -> Mapping[type, Any]:
    """Every service this executive offers, by the interface an app declares."""
    return {
        AppCatalog: _Catalog(exe),
        AppControl: _Control(exe),
        CommandPath: exe.dispatcher,
        EventFilter: exe.events,
        ExecutiveCounters: _Counters(exe),
        TableRegistry: exe.tables,
        TmDownlink: _Downlink(exe.tm),
        TmTap: _Taps(exe.tm),
        TmPlayback: _Playback(exe.tm),
        ParameterMemory: exe.params,
    }
