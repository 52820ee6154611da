"""The executive: a cooperative, single-threaded, deterministic frame scheduler.

Each minor frame it waits for the frame's start on the injected clock, steps the
hardware backend, dispatches uplinked TCs, runs the apps due in this frame (each one
first handling the commands on its pipe), measures each app's CPU time, and flushes
the TM funnel. An app that says nothing is due (``App.nothing_due``) is skipped for
that slot; one that says when something next can be (``App.next_due_ns``) sleeps until
then, its slots served by one comparison, unless a message reaches one of its pipes, a
parameter is set or it is restarted (each of which wakes it). At the end of each major
frame it kicks the watchdog. An app that raises is isolated: the failure is reported,
the app is rebuilt from its class and restarted, and one that keeps failing is disabled.

Two clocks, one rule. CPU time is measured on the host, so it is host data: it goes to
the host profile (``host_profile()``, the SIL summary's ``host_profile``) and never to
telemetry, events or FDIR while the clock is simulated, where the same mission and seed
must give the same telemetry on any machine under any load. On a paced (wall) clock an
app that exceeds its budget makes the frame late for real: that overrun is counted,
reported (event + HK) and, when repeated, published on the bus for FDIR.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flightsw.base.errors import CommandError, DeclarationError, FlightswError
from flightsw.framework import msgids
from flightsw.framework.app import DEFERRED, App, AppSpec, FailureCode
from flightsw.framework.bus import SoftwareBus
from flightsw.framework.context import AppContext, CommandRequest
from flightsw.framework.events import EventRecord, EventReporter
from flightsw.framework.name_check import undeclared
from flightsw.framework.parameters import OwnParameters, ParameterStore
from flightsw.framework.ports import AppBus, Publish, check_bus, resolve_devices
from flightsw.framework.tables import TableRegistry
from flightsw.framework.tm_funnel import AppTm, TmFunnel
from flightsw.framework.verification import Verifier
from flightsw.runtime import service_handles
from flightsw.runtime.dispatcher import Dispatcher, Route
from flightsw.runtime.schedule import Slot, build_schedule
from hal.backend import Hal
from hal.nvstore import MemoryNvStore

NS_PER_S = 1_000_000_000
EXECUTIVE_APP = "executive"
CpuMeter = Callable[[], int]


class AppLoadError(FlightswError):
    """An app that could not start at load (its ``init`` raised); names the app."""

    def __init__(self, app: str, reason: str) -> None:
        self.app = app
        self.reason = reason
        super().__init__(f"app {app!r} failed to start: {reason}")


@dataclass
class HostProfile:
    """What the host measured about one app. Host data: on the simulated clock it is
    reported apart from telemetry (the SIL summary's ``host_profile``) and decides nothing."""

    cpu_ns: int = 0
    max_cpu_ns: int = 0
    over_budget: int = 0  # steps whose measured CPU time exceeded the app's budget


@dataclass
class AppStats:
    """Per-app accounting the executive keeps and reports (deterministic, except ``host``)."""

    runs: int = 0
    overruns: int = 0  # judged overruns: only on a paced clock (see the module docstring)
    consecutive_overruns: int = 0
    exceptions: int = 0
    restarts: int = 0
    commands: int = 0
    disabled: bool = False
    failure_times: deque[int] = field(default_factory=lambda: deque(maxlen=16))
    host: HostProfile = field(default_factory=HostProfile)


@dataclass(frozen=True, slots=True)
class AppFault:
    """Published on ``msgids.APP_FAULT`` for FDIR."""

    app: str
    kind: str  # "overrun", "exception", "disabled"
    count: int


# What the framework itself publishes on the bus (apps declare theirs in PUBLISHES).
FRAMEWORK_PUBLISHES = (Publish(msgids.EVENT, EventRecord), Publish(msgids.APP_FAULT, AppFault))


@dataclass
class LoadedApp:
    """An app as the executive runs it."""

    index: int
    spec: AppSpec
    cls: type[App]
    ctx: AppContext
    instance: App
    pipe_msg_id: int
    budget_ns: int
    stats: AppStats = field(default_factory=AppStats)
    slot: Slot | None = None
    # Apps with no periodic work of their own (command handlers only) are run only in
    # frames where a command waits for them.
    commands_only: bool = False
    # Apps that say when a step would change nothing (``App.nothing_due``): asked first.
    may_skip: bool = False
    # Apps that say when their next step can change anything (``App.next_due_ns``) ...
    wakes: bool = False
    # ... and the time they said: slots before it are skipped with one comparison. Set to
    # 0 (asked again) by a message offered to any of its pipes (``Pipe.waker``), a
    # parameter set, a restart, an enable or disable.
    wake_ns: int = 0


@dataclass
class ExecutiveConfig:
    """Frame structure and fault-handling limits (from the mission's [executive])."""

    apid: int = 0x064
    minor_frame_hz: float = 10.0
    minor_per_major: int = 10
    start_ns: int = 0
    tm_queue_depth: int = 4096
    uplink_depth: int = 64
    max_tc_per_frame: int = 16
    max_restarts: int = 3
    restart_window_s: float = 600.0
    overrun_escalation: int = 3
    seed: int = 0  # the mission's seed; apps derive their random streams from it


class Executive:
    """Loads the apps of a mission onto a HAL and runs their frames."""

    def __init__(
        self,
        config: ExecutiveConfig,
        specs: list[AppSpec],
        hal: Hal,
        cpu_meter: CpuMeter = time.perf_counter_ns,
    ) -> None:
        self.config = config
        self.hal = hal
        if hal.nv is None:  # a HAL without NV (a bare test build) gets RAM, once, here
            hal.nv = MemoryNvStore()
        self.clock = hal.clock
        self._cpu = cpu_meter
        # Overruns are judged only where a long step makes a frame late for real.
        self.judges_overruns = bool(self.clock.paced)
        # Skip the steps of apps that say they have nothing to do (``App.nothing_due``); off
        # only to check that skipping changes nothing (tests run both ways).
        self.skip_idle_steps = True
        self.minor_frame_ns = round(NS_PER_S / config.minor_frame_hz)
        self.bus = SoftwareBus()
        self.tm = TmFunnel(config.apid, self.clock, config.tm_queue_depth)
        self.verifier = Verifier(self.tm)
        self.params = ParameterStore()
        self.events = EventReporter(self.tm, self.bus)
        self.tables = TableRegistry(hal.nv)
        self.dispatcher = Dispatcher(
            config.apid, self.bus, self.verifier, config.uplink_depth, config.max_tc_per_frame
        )
        self.frame = 0
        self._param_sets = 0  # ``params.sets`` when the wake times were last valid
        self.cycle_slips = 0
        self.watchdog_kicks = 0
        self.watchdog_kick_failures = 0
        self.apps: list[LoadedApp] = []
        self.services = service_handles.provide(self)
        self._load(specs)

    # --- loading ----------------------------------------------------------------
    def _load(self, specs: list[AppSpec]) -> None:
        names = [s.name for s in specs]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise DeclarationError(f"app names used twice: {sorted(dupes)}")
        for index, spec in enumerate(specs):
            decl = spec.cls.declarations()
            known = {p.name for p in decl.parameters}
            unknown = set(spec.params) - known
            if unknown:
                raise DeclarationError(f"{spec.name}: unknown parameters {sorted(unknown)}")
            for pdef in decl.parameters:
                self.params.declare(spec.name, spec.id_base, pdef, spec.params.get(pdef.name))
            for edef in decl.events:
                self.events.declare(spec.name, spec.id_base, edef)
            spec.options = spec.cls.OPTIONS.validate(spec.options, f"{spec.name}.options")
            ctx = AppContext(
                name=spec.name,
                id_base=spec.id_base,
                bus=AppBus(self.bus, spec.name, decl.subscribes, decl.publishes),
                tm=AppTm(self.tm),
                verifier=self.verifier,
                params=OwnParameters(self.params, spec.name),
                clock=self.clock,
                emit=self.events.emitter(spec.name, spec.id_base),
                options=dict(spec.options),
                ports=self._ports(spec),
                backend=self.hal.backend,
                reset_cause=self.hal.reset_cause,
                seed=self.config.seed,
            )
            msg_id = msgids.APP_COMMAND_BASE + index
            pipe = self.bus.create_pipe(f"{spec.name}.commands", spec.pipe_depth)
            self.bus.subscribe(msg_id, pipe)
            budget = spec.budget_ms * 1e6 if spec.budget_ms else self.minor_frame_ns
            loaded = LoadedApp(
                index, spec, spec.cls, ctx, spec.cls.__new__(spec.cls), msg_id, int(budget)
            )
            loaded.commands_only = spec.cls.step is App.step
            loaded.wakes = spec.cls.next_due_ns is not App.next_due_ns
            loaded.may_skip = loaded.wakes or spec.cls.nothing_due is not App.nothing_due
            pipe.waker = loaded  # a command wakes a sleeping app ...
            ctx.bus.waker = loaded  # ... and so does a message on a pipe it listens to
            self.apps.append(loaded)
            for cdef in decl.commands:
                parser = None  # the dispatcher decodes declared args and layouts itself
                if cdef.parser:  # an older service's own parser, tested against its layout
                    parser = self._parser_for(loaded, cdef.parser)
                fid = None if cdef.function_id is None else spec.id_base + cdef.function_id
                try:
                    self.dispatcher.add_route(Route(spec.name, msg_id, cdef, parser), fid)
                except CommandError as exc:
                    raise DeclarationError(exc.reason) from None
        ports = {s.name: s.cls.declarations() for s in specs}
        check_bus({n: (d.subscribes, d.publishes) for n, d in ports.items()}, FRAMEWORK_PUBLISHES)
        self._pipes = {a.index: self.bus.pipes[f"{a.spec.name}.commands"] for a in self.apps}
        slots, self.table = build_schedule(
            [(a.spec.name, a.spec.rate_hz, 1.0) for a in self.apps],
            self.config.minor_frame_hz,
            self.config.minor_per_major,
        )
        for a, slot in zip(self.apps, slots, strict=True):
            a.slot = slot
        # Instances are built after every app is registered so core services can see all.
        for a in self.apps:
            a.instance = a.cls(a.ctx)
        for a in self.apps:
            try:
                a.instance.init()
            except Exception as exc:  # an app that cannot start is a load error
                raise AppLoadError(a.spec.name, f"{type(exc).__name__}: {exc}") from exc

    def _ports(self, spec: AppSpec) -> dict[str, object | None]:
        """The handles of the app's declared devices and services, by attribute; refuses
        (DeclarationError naming app and name) a port this build cannot satisfy, or code
        of the app that names an event, parameter, point, report or message it did not
        declare (``flightsw.framework.name_check``)."""
        decl = spec.cls.declarations()
        problems = undeclared(spec.cls, decl.names())
        if problems:
            raise DeclarationError(f"app {spec.name!r}: " + "; ".join(problems))
        available: dict[str, object] = {**self.hal.devices, "nv": self.hal.nv}
        handles = resolve_devices(spec.name, decl.devices, available)
        for port in decl.services:
            service = self.services.get(port.protocol)
            if service is None:
                raise DeclarationError(
                    f"app {spec.name!r}: the executive offers no service {port.name!r}"
                )
            handles[port.attr] = service
        return handles

    @staticmethod
    def _parser_for(loaded: LoadedApp, name: str) -> Callable[[bytes], dict[str, Any]]:
        def parse(data: bytes) -> dict[str, Any]:
            result: dict[str, Any] = getattr(loaded.instance, name)(data)
            return result

        return parse

    def _guarded_init(self, a: LoadedApp) -> None:
        try:
            a.instance.init()
        except Exception as exc:
            self._app_failed(a, exc, "init")

    def app(self, name: str) -> LoadedApp:
        for a in self.apps:
            if a.spec.name == name:
                return a
        raise KeyError(name)

    # --- running ----------------------------------------------------------------
    def submit_tc(self, tc: bytes) -> bool:
        """Uplink one TC; False when the bounded uplink queue refused it."""
        return self.dispatcher.submit(tc)

    @property
    def now_ns(self) -> int:
        return self.config.start_ns + self.frame * self.minor_frame_ns

    def run_minor_frame(self) -> None:
        t = self.now_ns
        if self.clock.now_ns() > t + self.minor_frame_ns:
            self.cycle_slips += 1  # a wall clock ran past this whole frame already
        self.clock.wait_until(t)
        self.hal.step(t)
        self.dispatcher.process()
        apps = self.apps
        pipes = self._pipes
        skip_idle_steps = self.skip_idle_steps
        if self.params.sets != self._param_sets:  # a parameter set wakes every app
            self._param_sets = self.params.sets
            self.wake_all()
        for i in self.table[self.frame % len(self.table)]:
            a = apps[i]
            if a.wake_ns > t:  # asleep (``App.next_due_ns``): nothing reached it since
                a.stats.runs += 1  # the slot was served: there was nothing to do
                continue
            if a.stats.disabled:
                continue
            if not pipes[i].queue:
                if a.commands_only:
                    continue
                if skip_idle_steps and a.may_skip:
                    if a.wakes:
                        wake = self._next_due(a, t)
                        if wake > t:
                            a.wake_ns = wake
                            a.stats.runs += 1
                            continue
                    elif self._nothing_due(a, t):
                        a.stats.runs += 1
                        continue
            self._run_app(a, t)
        self.tm.flush()
        self.frame += 1
        if self.frame % self.config.minor_per_major == 0:
            try:
                self.hal.watchdog.kick()
                self.watchdog_kicks += 1
            except FlightswError:
                # A bench watchdog that did not answer: counted; the next major frame
                # tries again, and a real timer that expires resets us as it should.
                self.watchdog_kick_failures += 1

    def run_frames(self, n: int) -> None:
        for _ in range(n):
            self.run_minor_frame()

    def run_for(self, seconds: float) -> None:
        self.run_frames(round(seconds * NS_PER_S / self.minor_frame_ns))

    @staticmethod
    def _nothing_due(a: LoadedApp, t: int) -> bool:
        """The app's own word that its step would change nothing; an app whose test
        raises is run (its step meets the same fault and is handled as a failure)."""
        try:
            return a.instance.nothing_due(t)
        except Exception:
            return False

    @staticmethod
    def _next_due(a: LoadedApp, t: int) -> int:
        """The app's own word on when its next step can change anything; an app whose
        answer raises (or is not an int) is run now, as for ``_nothing_due``."""
        try:
            wake = a.instance.next_due_ns(t)
        except Exception:
            return t
        return wake if type(wake) is int else t

    def wake_all(self) -> None:
        """Forget every wake time: each app that sleeps is asked again at its next slot
        (anything that changes what apps may depend on outside their pipes calls this)."""
        for a in self.apps:
            a.wake_ns = 0

    def _run_app(self, a: LoadedApp, t: int) -> None:
        cpu = self._cpu
        c0 = cpu()
        st = a.stats
        pipe = self._pipes[a.index]
        try:
            if pipe.queue:
                for msg in pipe.drain():
                    self._execute(a, msg.payload)
            a.instance.step(t)
        except Exception as exc:
            self._app_failed(a, exc, "step")
        dt = cpu() - c0
        st.runs += 1
        host = st.host
        host.cpu_ns += dt
        if dt > host.max_cpu_ns:
            host.max_cpu_ns = dt
        if dt > a.budget_ns:
            host.over_budget += 1
            if self.judges_overruns:
                self._overrun(a, dt)
        elif self.judges_overruns:
            st.consecutive_overruns = 0

    def _overrun(self, a: LoadedApp, cpu_ns: int) -> None:
        """An app exceeded its slot on a paced clock: counted, reported, escalated."""
        st = a.stats
        st.overruns += 1
        st.consecutive_overruns += 1
        self._exec_event("APP_OVERRUN", app=a.index, cpu_us=min(cpu_ns // 1000, 0xFFFFFFFF))
        if st.consecutive_overruns == self.config.overrun_escalation:
            self.bus.publish(msgids.APP_FAULT, AppFault(a.spec.name, "overrun", st.overruns))

    def host_profile(self) -> dict[str, dict[str, float | int]]:
        """Per-app CPU time as measured on this host (not deterministic: never in TM)."""
        out: dict[str, dict[str, float | int]] = {}
        for a in self.apps:
            s, h = a.stats, a.stats.host
            out[a.spec.name] = {
                "cpu_mean_us": round(h.cpu_ns / s.runs / 1000, 3) if s.runs else 0.0,
                "cpu_max_us": round(h.max_cpu_ns / 1000, 3),
                "cpu_total_ms": round(h.cpu_ns / 1e6, 3),
                "over_budget": h.over_budget,
            }
        return out

    def _execute(self, a: LoadedApp, req: CommandRequest) -> None:
        v = self.verifier
        a.stats.commands += 1
        v.start_ok(req.tc_request)
        try:
            result = getattr(a.instance, req.cdef.handler)(**req.args)
        except CommandError as exc:
            v.completion_fail(req.tc_request, exc.code, exc.reason.encode()[:64])
            return
        except Exception as exc:
            v.completion_fail(
                req.tc_request, FailureCode.EXECUTION_ERROR, type(exc).__name__.encode()[:64]
            )
            a.stats.exceptions += 1
            self._exec_event("APP_EXCEPTION", app=a.index, count=a.stats.exceptions)
            return
        if result is not DEFERRED:
            v.completion_ok(req.tc_request)

    def _app_failed(self, a: LoadedApp, exc: Exception, where: str) -> None:
        st = a.stats
        st.exceptions += 1
        self._exec_event("APP_EXCEPTION", app=a.index, count=st.exceptions)
        self.bus.publish(msgids.APP_FAULT, AppFault(a.spec.name, "exception", st.exceptions))
        # Failures, not restarts, decide: a restart the ground or FDIR commands is no fault.
        now = self.now_ns
        st.failure_times.append(now)
        window = int(self.config.restart_window_s * NS_PER_S)
        recent = [t for t in st.failure_times if now - t <= window]
        if len(recent) > self.config.max_restarts and self.disable_app(a):
            return
        self.restart_app(a)

    def restart_app(self, a: LoadedApp) -> bool:
        """Rebuild the app from its class (its state is lost; parameters and what it keeps
        in ``ctx.retained`` stay). False when the fresh instance failed to start: the app
        is then disabled (reported, and published for FDIR)."""
        a.stats.restarts += 1
        a.stats.consecutive_overruns = 0  # a fresh instance starts a fresh streak
        a.wake_ns = 0  # a fresh instance is asked afresh
        self._exec_event("APP_RESTARTED", app=a.index, count=a.stats.restarts)
        try:
            a.instance = a.cls(a.ctx)
            a.instance.init()
        except Exception:
            a.stats.exceptions += 1
            self._exec_event("APP_EXCEPTION", app=a.index, count=a.stats.exceptions)
            self.disable_app(a)
            return False
        return True

    def disable_app(self, a: LoadedApp) -> bool:
        """Stop running the app; commands already accepted for it fail with TM(1,4)
        APP_UNAVAILABLE (new ones are refused at acceptance), so none waits unreported.

        The executive's own app is never disabled (False; it is restarted instead): it
        carries ``enable_app`` and ``restart_app``, the ground's only way to bring any
        app back, and a disabled app's commands are refused."""
        if a.spec.name == EXECUTIVE_APP:
            return False
        a.stats.disabled = True
        a.wake_ns = 0  # a disabled app's slots are not served
        self.dispatcher.disabled_apps.add(a.spec.name)
        for msg in self._pipes[a.index].drain():
            self.verifier.start_fail(
                msg.payload.tc_request, FailureCode.APP_UNAVAILABLE, b"app disabled"
            )
        self._exec_event("APP_DISABLED", app=a.index)
        self.bus.publish(msgids.APP_FAULT, AppFault(a.spec.name, "disabled", a.stats.exceptions))
        return True

    def enable_app(self, a: LoadedApp) -> bool:
        """Re-enable a disabled app and restart it; False when it failed to start again."""
        a.stats.disabled = False
        a.stats.failure_times.clear()
        self.dispatcher.disabled_apps.discard(a.spec.name)
        return self.restart_app(a)

    def _exec_event(self, name: str, **args: Any) -> None:
        """Report one of the executive's own events (declared by the executive app)."""
        for a in self.apps:
            if a.spec.name == EXECUTIVE_APP:
                for edef in a.cls.declarations().events:
                    if edef.name == name:
                        self.events.report(a.spec.id_base + edef.local_id, a.spec.name, edef, args)
                        return
