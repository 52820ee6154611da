"""The app model: what an app declares and the base class it derives from.

An app declares, next to its code, its commands (with typed, range-checked
arguments), telemetry points, events, parameters and housekeeping structures. The
executive reads these declarations at load to route commands, build housekeeping
reports and export the ground dictionary; there is no second list to keep in sync.

Ids in declarations are *local*; the mission gives each app an ``id_base`` and the
global id (function id, event id, parameter id, structure id) is base + local.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from flightsw.base.errors import CommandError, DeclarationError, DecodeError, EncodeError
from flightsw.base.schema import Schema
from flightsw.framework import layouts
from flightsw.framework.bus import Overflow, Pipe
from flightsw.framework.datatypes import TYPES, Value, data_type
from flightsw.framework.ports import DevicePort, Publish, Service, Subscribe, ports_of

if TYPE_CHECKING:
    from flightsw.framework.context import AppContext, CommandRequest


class Severity(IntEnum):
    """Event severities; the value is the PUS service 5 report subtype."""

    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4


class FailureCode(IntEnum):
    """PUS-1 failure codes flightsw reports, with one meaning each."""

    ILLEGAL_APID = 1
    BAD_LENGTH = 2
    BAD_CHECKSUM = 3
    ILLEGAL_SERVICE = 4
    ILLEGAL_SUBSERVICE = 5
    ILLEGAL_FUNCTION = 6
    BAD_APP_DATA = 7
    ARG_OUT_OF_RANGE = 8
    BAD_PUS_VERSION = 9
    MALFORMED_PACKET = 10
    QUEUE_FULL = 11
    APP_UNAVAILABLE = 12
    EXECUTION_ERROR = 13
    INVALID_STATE = 14
    NOT_ARMED = 15
    UNKNOWN_ID = 16
    TIMEOUT = 17
    INVALID_TABLE = 18  # a table image its validation function refuses (reason in the data)


@dataclass(frozen=True)
class Arg:
    """A typed command (or event) argument with an optional valid range."""

    name: str
    type: str
    min: float | None = None
    max: float | None = None
    unit: str = ""
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise DeclarationError(f"argument {self.name!r}: unknown type {self.type!r}")


@dataclass(frozen=True)
class CommandDef:
    """A command: routed by PUS (service, subservice) or by a function-management id.

    ``parser`` names an app method that turns the raw application data into handler
    keyword arguments at acceptance time (older services, each holding a ``layout`` it
    is tested against); a ``layout`` alone (:mod:`flightsw.framework.layouts`) decodes the data at
    acceptance into the handler's keyword arguments. Either way the dictionary exports
    the layout and the ground encodes the command from it. Otherwise the declared
    ``args`` are unpacked and range-checked.
    """

    name: str
    handler: str
    args: tuple[Arg, ...] = ()
    service: int | None = None
    subservice: int | None = None
    function_id: int | None = None  # local id; routed as PUS TC(8,1)
    parser: str | None = None
    critical: bool = False  # needs arming before it fires
    doc: str = ""
    layout: Any = None  # a construct from flightsw.framework.layouts, for a variable layout

    def arg_struct(self) -> struct.Struct:
        return struct.Struct(">" + "".join(TYPES[a.type].code for a in self.args))


FUNCTION_MANAGEMENT = (8, 1)


def command(
    *,
    args: tuple[Arg, ...] | list[Arg] = (),
    service: int | None = None,
    subservice: int | None = None,
    function_id: int | None = None,
    parser: str | None = None,
    critical: bool = False,
    name: str | None = None,
    doc: str = "",
    layout: Any = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the decorated method as a command handler."""
    if (function_id is None) == (service is None):
        raise DeclarationError("a command needs either function_id or service/subservice")
    if service is not None and subservice is None:
        raise DeclarationError("service given without subservice")
    if layout is not None and args:
        raise DeclarationError("a command has a layout or args, not both")

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__flightsw_command__ = CommandDef(  # type: ignore[attr-defined]
            name=name or fn.__name__.removeprefix("cmd_"),
            handler=fn.__name__,
            args=tuple(args),
            service=service,
            subservice=subservice,
            function_id=function_id,
            parser=parser,
            critical=critical,
            doc=doc or (fn.__doc__ or "").strip().split("\n")[0],
            layout=layout,
        )
        return fn

    return wrap


@dataclass(frozen=True)
class TelemetryDef:
    """A telemetry point an app keeps current in ``self.tlm``."""

    name: str
    type: str
    unit: str = ""
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise DeclarationError(f"telemetry {self.name!r}: unknown type {self.type!r}")


@dataclass(frozen=True)
class EventDef:
    """An event: id, severity, typed arguments and a message template."""

    local_id: int
    name: str
    severity: Severity
    args: tuple[Arg, ...] = ()
    text: str = ""

    def arg_struct(self) -> struct.Struct:
        return struct.Struct(">" + "".join(TYPES[a.type].code for a in self.args))


@dataclass(frozen=True)
class ParameterDef:
    """A tunable value with type, default and valid range, settable by PUS 20."""

    local_id: int
    name: str
    type: str
    default: Value
    min: float | None = None
    max: float | None = None
    unit: str = ""
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise DeclarationError(f"parameter {self.name!r}: unknown type {self.type!r}")


@dataclass(frozen=True)
class ReportDef:
    """A TM report an app (or the executive) sends: PUS (service, subservice) and the
    layout of its application data (:mod:`flightsw.framework.layouts`), exported in the dictionary
    so the ground decodes it without flight code."""

    service: int
    subservice: int
    name: str
    layout: Any  # a construct from flightsw.framework.layouts
    doc: str = ""


@dataclass(frozen=True)
class HkDef:
    """A housekeeping structure: which points, how often, enabled at start or not."""

    local_sid: int
    name: str
    points: tuple[str, ...]
    interval_s: float = 1.0
    enabled: bool = True
    doc: str = ""


@dataclass
class AppDeclarations:
    """Everything an app class declares, collected once per class."""

    commands: tuple[CommandDef, ...] = ()
    telemetry: tuple[TelemetryDef, ...] = ()
    events: tuple[EventDef, ...] = ()
    parameters: tuple[ParameterDef, ...] = ()
    housekeeping: tuple[HkDef, ...] = ()
    reports: tuple[ReportDef, ...] = ()
    # ports (flightsw.framework.ports): what the app needs from outside itself
    devices: tuple[DevicePort, ...] = ()
    services: tuple[Service[Any], ...] = ()
    subscribes: tuple[Subscribe, ...] = ()
    publishes: tuple[Publish, ...] = ()

    def names(self) -> dict[str, set[object]]:
        """The names its code may use, by kind (``flightsw.framework.name_check``)."""
        return {
            "event": {e.name for e in self.events},
            "parameter": {p.name for p in self.parameters},
            "report": {r.name for r in self.reports},
            "telemetry": {t.name for t in self.telemetry},
            "subscription": {s.msg_id for s in self.subscribes},
            "publication": {p.msg_id for p in self.publishes},
        }

    def validate(self, owner: str) -> None:
        def unique(kind: str, keys: list[Any]) -> None:
            seen: set[Any] = set()
            for k in keys:
                if k in seen:
                    raise DeclarationError(f"{owner}: duplicate {kind} {k!r}")
                seen.add(k)

        unique("command name", [c.name for c in self.commands])
        unique("function id", [c.function_id for c in self.commands if c.function_id is not None])
        unique(
            "service/subservice",
            [(c.service, c.subservice) for c in self.commands if c.service is not None],
        )
        unique("telemetry point", [t.name for t in self.telemetry])
        unique("event id", [e.local_id for e in self.events])
        unique("event name", [e.name for e in self.events])
        unique("parameter id", [p.local_id for p in self.parameters])
        unique("parameter name", [p.name for p in self.parameters])
        unique("housekeeping sid", [h.local_sid for h in self.housekeeping])
        unique("report name", [r.name for r in self.reports])
        unique("report service/subservice", [(r.service, r.subservice) for r in self.reports])
        unique("device", [d.attr for d in self.devices])
        unique("subscription", [m.msg_id for m in self.subscribes])
        unique("publication", [m.msg_id for m in self.publishes])
        for cmd in self.commands:
            if cmd.layout is not None and cmd.args:
                raise DeclarationError(f"{owner}.{cmd.name}: a layout replaces the args")
        points = {t.name for t in self.telemetry}
        for h in self.housekeeping:
            missing = [p for p in h.points if p not in points]
            if missing:
                raise DeclarationError(f"{owner}: HK {h.name!r} names undeclared {missing}")
        for p in self.parameters:
            try:
                data_type(p.type).coerce(p.default, p.name)
            except EncodeError as exc:
                raise DeclarationError(f"{owner}: parameter default: {exc}") from None


class App:
    """Base class of every app the executive runs.

    Subclasses set ``TELEMETRY``, ``EVENTS``, ``PARAMETERS``, ``HOUSEKEEPING`` and
    ``REPORTS`` (TM reports other than HK and events, with their layouts) and
    mark command handlers with ``@command``. ``OPTIONS`` declares the mission file's
    ``options`` table of the app (``flightsw.base.schema``): the loader checks it and fills
    in the defaults, so ``self.ctx.options[name]`` always holds a checked value.
    ``init`` runs at load and again on every restart (a restart builds a fresh
    instance); ``step`` runs at the app's rate and must return promptly: long work is
    sliced over several steps.

    Ports (:mod:`flightsw.framework.ports`): devices (``boards = Device(AcceleratorBoards)``) and
    executive services (``catalog = Service(AppCatalog)``) as class attributes, the
    instance's attribute being the handle; ``SUBSCRIBES`` and ``PUBLISHES`` the bus
    messages with their payload types. The executive refuses to load an app whose ports
    it cannot satisfy or whose code names an event, parameter, telemetry point, report
    or message it did not declare (:mod:`flightsw.framework.name_check`; ``EVENT_SENDERS`` names
    methods of the app that take an event name as ``emit`` does).
    """

    TELEMETRY: ClassVar[tuple[TelemetryDef, ...]] = ()
    EVENTS: ClassVar[tuple[EventDef, ...]] = ()
    PARAMETERS: ClassVar[tuple[ParameterDef, ...]] = ()
    HOUSEKEEPING: ClassVar[tuple[HkDef, ...]] = ()
    REPORTS: ClassVar[tuple[ReportDef, ...]] = ()
    SUBSCRIBES: ClassVar[tuple[Subscribe, ...]] = ()
    PUBLISHES: ClassVar[tuple[Publish, ...]] = ()
    EVENT_SENDERS: ClassVar[tuple[str, ...]] = ()
    OPTIONS: ClassVar[Schema] = Schema()
    DEFAULT_RATE_HZ: ClassVar[float] = 1.0

    _declarations: ClassVar[AppDeclarations]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        commands: dict[str, CommandDef] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                cdef = getattr(value, "__flightsw_command__", None)
                if isinstance(cdef, CommandDef):
                    commands[attr] = cdef
        devices, services = ports_of(cls)
        decl = AppDeclarations(
            commands=tuple(commands.values()),
            telemetry=tuple(cls.TELEMETRY),
            events=tuple(cls.EVENTS),
            parameters=tuple(cls.PARAMETERS),
            housekeeping=tuple(cls.HOUSEKEEPING),
            reports=tuple(cls.REPORTS),
            devices=devices,
            services=services,
            subscribes=tuple(cls.SUBSCRIBES),
            publishes=tuple(cls.PUBLISHES),
        )
        decl.validate(cls.__qualname__)
        if not isinstance(cls.OPTIONS, Schema):
            raise DeclarationError(
                f"{cls.__qualname__}: OPTIONS must be a flightsw.base.schema.Schema"
            )
        cls._declarations = decl

    @classmethod
    def declarations(cls) -> AppDeclarations:
        return cls._declarations

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.name = ctx.name
        for attr, handle in ctx.ports.items():  # devices and services, as declared
            setattr(self, attr, handle)
        self.tlm: dict[str, Value] = {
            t.name: (0.0 if TYPES[t.type].kind == "float" else 0) for t in self.TELEMETRY
        }
        self._events = {e.name: e for e in self.EVENTS}

    # --- lifecycle -------------------------------------------------------------
    def init(self) -> None:
        """Set up state; called once at load and after each restart."""

    def step(self, now_ns: int) -> None:
        """One scheduled slice of work."""

    def nothing_due(self, now_ns: int) -> bool:
        """True when a ``step`` at ``now_ns`` would change nothing: no message waits on
        the app's pipes, nothing is due, its telemetry already shows its state. The
        executive then skips the step (it still counts the slot as run), so a frame with
        nothing due costs almost nothing. Only an exact test may return True: skipping
        must leave the telemetry byte for byte what running would have made (the default,
        False, runs every scheduled slot). An app whose idle step only notes the time
        (when it last ran, a link clock) notes it here before saying True, as its step
        would. Commands waiting for the app are the executive's to see: it never asks an
        app with a command queued."""
        return False

    def next_due_ns(self, now_ns: int) -> int:
        """The wake-time form of ``nothing_due``, asked instead of it when an app defines
        it: the earliest time at which a step could change anything. A time W later than
        ``now_ns`` says that a step at any slot from ``now_ns`` up to (not including) W
        would change nothing, for as long as nothing reaches the app from outside: no
        message on one of its pipes (its command pipe, and each pipe it listens to through
        ``ctx.bus``), no parameter set, no restart. The executive keeps W and serves the
        app's slots before it with one comparison each (counted as run), asking again
        after any of those. So only a state that only those can change may go into W:
        not a device's status, another app's state, or a time the app cannot compute now.
        Asked without side effects (it is not asked every slot). The default, ``now_ns``,
        runs the step (or asks ``nothing_due``, when the app defines that instead)."""
        return now_ns

    # --- services for subclasses ----------------------------------------------
    def param(self, name: str) -> Value:
        """Current value of one of this app's parameters.

        Read from the live store every call, never from a copy: a value set by command
        counts at once, and so does one an upset changed behind the store's back (FDIR's
        memory guard repairs it, the apps see what is there meanwhile). Apps read some
        parameters many times a step; this is one dict look-up."""
        return self.ctx.params.values[name]

    def emit(self, event: str, **args: Value) -> None:
        """Report one of this app's declared events."""
        self.ctx.emit(self._events[event], args)

    def send_tm(self, service: int, subservice: int, app_data: bytes) -> None:
        """Send a PUS TM packet of this app's through the TM funnel."""
        self.ctx.tm.send(service, subservice, app_data)

    def send_report(self, name: str, value: Any) -> None:
        """Send one of this app's declared TM reports, built from its layout."""
        rdef = next(r for r in self.REPORTS if r.name == name)
        data = layouts.encode(rdef.layout, value, {}, f"{self.name}.{name}")
        self.ctx.tm.send(rdef.service, rdef.subservice, data)

    def listen(
        self, msg_id: int, depth: int = 4, overflow: Overflow = Overflow.DROP_OLDEST
    ) -> Pipe:
        """A pipe subscribed to ``msg_id`` (declared in ``SUBSCRIBES``), kept across
        restarts of this app.

        Drop-oldest by default, for status streams where the newest value is what matters
        (budgets, caps); ``REJECT_NEWEST`` for requests whose sender counts a refusal.
        """
        return self.ctx.bus.listen(msg_id, depth, overflow)

    def complete(self, req: CommandRequest) -> None:
        """Report completion of a command whose handler returned ``DEFERRED``."""
        self.ctx.verifier.completion_ok(req.tc_request)

    def fail(self, req: CommandRequest, code: int, data: bytes = b"") -> None:
        """Report failure of a command whose handler returned ``DEFERRED``."""
        self.ctx.verifier.completion_fail(req.tc_request, code, data)


DEFERRED = object()
"""Returned by a command handler whose completion is reported later by the app."""

WAKE_NEVER = 1 << 62
"""An ``App.next_due_ns`` for "not until something reaches me" (later than any run)."""


def decode_app_data(cdef: CommandDef, data: bytes, app: str) -> dict[str, Any]:
    """A command's handler arguments from its application data (declared layout or args);
    CommandError with BAD_APP_DATA (or BAD_LENGTH) naming ``app.command`` when it does not
    decode."""
    if cdef.layout is None:
        return unpack_args(cdef, data)
    return layouts.parse_tc(cdef.layout, data, f"{app}.{cdef.name}")


def unpack_args(cdef: CommandDef, data: bytes) -> dict[str, Value]:
    """Decode and range-check declared arguments; raise CommandError with a PUS-1 code."""
    st = cdef.arg_struct()
    if len(data) != st.size:
        raise CommandError(
            FailureCode.BAD_LENGTH,
            f"{cdef.name}: application data is {len(data)} bytes, expected {st.size}",
        )
    values = st.unpack(data)
    out: dict[str, Value] = {}
    for arg, value in zip(cdef.args, values, strict=True):
        if isinstance(value, float) and value != value:  # NaN
            raise CommandError(FailureCode.ARG_OUT_OF_RANGE, f"{arg.name} is NaN")
        if (arg.min is not None and value < arg.min) or (arg.max is not None and value > arg.max):
            raise CommandError(
                FailureCode.ARG_OUT_OF_RANGE,
                f"{cdef.name}: {arg.name}={value} outside [{arg.min}, {arg.max}]",
            )
        out[arg.name] = value
    return out


def pack_args(args: tuple[Arg, ...], values: dict[str, Any], owner: str) -> bytes:
    """Encode argument values in declared order (ground side and events)."""
    unknown = set(values) - {a.name for a in args}
    if unknown:
        raise EncodeError(owner, f"unknown arguments {sorted(unknown)}")
    ordered: list[Value] = []
    for a in args:
        if a.name not in values:
            raise EncodeError(f"{owner}.{a.name}", "missing argument")
        ordered.append(data_type(a.type).coerce(values[a.name], f"{owner}.{a.name}"))
    try:
        return struct.pack(">" + "".join(TYPES[a.type].code for a in args), *ordered)
    except struct.error as exc:
        raise EncodeError(owner, str(exc)) from None


def unpack_values(types: tuple[str, ...], data: bytes, field_name: str) -> tuple[Value, ...]:
    """Decode values of the given types; DecodeError on a length mismatch."""
    st = struct.Struct(">" + "".join(TYPES[t].code for t in types))
    if len(data) != st.size:
        raise DecodeError(field_name, 0, f"{len(data)} bytes, expected {st.size}")
    return tuple(st.unpack(data))


@dataclass
class AppSpec:
    """How a mission asks for one app: class, rate, id base and parameter overrides."""

    name: str
    cls: type[App]
    rate_hz: float
    id_base: int
    params: dict[str, Any] = field(default_factory=dict)
    budget_ms: float | None = None
    pipe_depth: int = 16
    options: dict[str, Any] = field(default_factory=dict)
