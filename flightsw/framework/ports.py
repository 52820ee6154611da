"""An app's ports: the devices, bus messages and executive services it declares it uses.

Next to its names (commands, telemetry, events, parameters, reports) an app declares
what it needs from outside itself, and gets nothing else:

* a **device** by HAL Protocol, as a class attribute: ``battery = Device(Battery)``
  (``Device(SolarArray, "solar_array")`` where the HAL's name differs from the
  attribute; ``OptionalDevice`` for one the app can do without). At load the executive
  looks each one up in the HAL, checks it satisfies the Protocol and hands the app that
  handle, typed: ``self.battery`` is a ``Battery``. An app sees no other device, and
  neither the HAL nor the simulated spacecraft behind it.
* the **bus messages** it subscribes to and publishes, with their payload types:
  ``SUBSCRIBES = (Subscribe(SAFE_MODE, SafeModeFlag),)``,
  ``PUBLISHES = (Publish(POWER_BUDGET, PowerBudget),)``. ``App.listen`` refuses an
  undeclared id, the app's bus refuses to publish one or a payload of another type, and
  the executive refuses a mission where a publisher's payload type is not what a
  subscriber of the same id declared.
* the **executive services** it may use (:mod:`flightsw.framework.exec_services`, each a narrow
  Protocol), as class attributes: ``catalog = Service(AppCatalog)``.

:func:`resolve_devices` and :func:`check_bus` are what the executive runs at load; each
raises :class:`~flightsw.base.errors.DeclarationError` naming the app and the port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from flightsw.base.errors import DeclarationError

if TYPE_CHECKING:
    from flightsw.framework.bus import Overflow, Pipe, SoftwareBus

T = TypeVar("T")


class _Port(Generic[T]):
    """A class-attribute declaration whose value, on an instance, is the handle the
    executive gave the app (set on the instance at construction: a plain attribute)."""

    kind = "port"

    def __init__(self, protocol: type[T], name: str | None = None) -> None:
        self.protocol = protocol
        self.name = name or ""
        self.attr = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr
        if not self.name:
            self.name = attr

    def _missing(self, obj: object) -> DeclarationError:
        return DeclarationError(
            f"{type(obj).__qualname__}.{self.attr}: {self.kind} {self.name!r} "
            "was not handed to this instance (built outside the executive?)"
        )


class Device(_Port[T]):
    """A device the app needs, by HAL Protocol; the mission is refused without it."""

    kind = "device"
    required = True

    @overload
    def __get__(self, obj: None, owner: type) -> Device[T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> Device[T] | T:
        if obj is None:
            return self
        raise self._missing(obj)


class OptionalDevice(_Port[T]):
    """A device the app uses when the HAL has it (``None`` on the instance otherwise)."""

    kind = "device"
    required = False

    @overload
    def __get__(self, obj: None, owner: type) -> OptionalDevice[T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> T | None: ...

    def __get__(self, obj: object | None, owner: type) -> OptionalDevice[T] | T | None:
        if obj is None:
            return self
        raise self._missing(obj)


class Service(Device[T]):
    """An executive service (a Protocol of :mod:`flightsw.framework.exec_services`) the app uses;
    the load is refused when the executive does not offer it."""

    kind = "service"

    def __init__(self, protocol: type[T]) -> None:
        super().__init__(protocol, protocol.__name__)


DevicePort = Device[Any] | OptionalDevice[Any]


@dataclass(frozen=True)
class _BusPort:
    msg_id: int
    payload: type


class Subscribe(_BusPort):
    """A bus message the app listens to: its id and the payload type it expects."""


class Publish(_BusPort):
    """A bus message the app sends: its id and the payload type it sends."""


def ports_of(cls: type) -> tuple[tuple[DevicePort, ...], tuple[Service[Any], ...]]:
    """The device and service ports ``cls`` declares (its bases' included)."""
    devices: dict[str, DevicePort] = {}
    services: dict[str, Service[Any]] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Service):
                services[attr] = value
            elif isinstance(value, Device | OptionalDevice):
                devices[attr] = value
    return tuple(devices.values()), tuple(services.values())


def resolve_devices(
    app: str, ports: Iterable[DevicePort], available: Mapping[str, object]
) -> dict[str, object | None]:
    """The handle for each declared device, by attribute; DeclarationError naming the
    app and the device when a required one is missing or does not satisfy its Protocol."""
    handles: dict[str, object | None] = {}
    for port in ports:
        handle = available.get(port.name)
        if handle is None:
            if port.required:
                raise DeclarationError(
                    f"app {app!r}: device {port.name!r} ({port.protocol.__name__}) "
                    f"is not in this HAL (it has {sorted(available)})"
                )
        elif not satisfies(handle, port.protocol):
            raise DeclarationError(
                f"app {app!r}: device {port.name!r} is a {type(handle).__name__}, "
                f"not a {port.protocol.__name__}"
            )
        handles[port.attr] = handle
    return handles


def satisfies(handle: object, protocol: type) -> bool:
    """``isinstance`` for a class or a runtime-checkable Protocol; for a Protocol that is
    not, whether ``handle`` has every method and attribute the Protocol names."""
    try:
        return isinstance(handle, protocol)
    except TypeError:
        names = set(getattr(protocol, "__annotations__", {}))
        names |= {n for n in vars(protocol) if not n.startswith("_")}
        return all(hasattr(handle, n) for n in names)


def _fields(kind: type) -> set[str]:
    names: set[str] = set()
    for klass in kind.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
        names.update(n for n in vars(klass) if not n.startswith("_"))
    return names


def payload_fits(sent: type, expected: type) -> bool:
    """Whether a payload of type ``sent`` is what a subscriber expecting ``expected``
    can read: the same class or a subclass, or (for a Protocol with data members, which
    ``issubclass`` cannot judge) a type that has every member the Protocol names."""
    if expected is object or sent is expected:
        return True
    try:
        return issubclass(sent, expected)
    except TypeError:
        members = {n for n in getattr(expected, "__annotations__", {})}
        members |= {n for n, v in vars(expected).items() if callable(v) and not n.startswith("_")}
        return members <= _fields(sent)


def check_bus(
    declared: Mapping[str, tuple[tuple[Subscribe, ...], tuple[Publish, ...]]],
    framework: Iterable[Publish] = (),
) -> None:
    """Refuse a mission where one message id is published with two payload types, or
    subscribed to with a type its publishers' payloads do not fit (naming the apps)."""
    publishers: dict[int, tuple[str, type]] = {}
    for app, pubs in [("executive", tuple(framework))] + [(a, p) for a, (_, p) in declared.items()]:
        for pub in pubs:
            seen = publishers.get(pub.msg_id)
            if seen is not None and seen[1] is not pub.payload:
                raise DeclarationError(
                    f"app {app!r}: publishes {pub.msg_id:#06x} as {pub.payload.__name__}, "
                    f"app {seen[0]!r} as {seen[1].__name__}"
                )
            publishers.setdefault(pub.msg_id, (app, pub.payload))
    for app, (subs, _) in declared.items():
        for sub in subs:
            seen = publishers.get(sub.msg_id)
            if seen is not None and not payload_fits(seen[1], sub.payload):
                raise DeclarationError(
                    f"app {app!r}: subscribes to {sub.msg_id:#06x} as {sub.payload.__name__}, "
                    f"but app {seen[0]!r} publishes {seen[1].__name__}"
                )


class AppBus:
    """The software bus as one app sees it: only the ids it declared, both ways.

    ``publish`` refuses (DeclarationError naming the app and the id) an id the app did
    not declare in ``PUBLISHES`` or a payload not of the declared type; ``listen``
    refuses an id not in ``SUBSCRIBES``. Otherwise each is the bus's own.
    """

    __slots__ = ("_app", "_bus", "_hears", "_sends", "waker")

    def __init__(
        self,
        bus: SoftwareBus,
        app: str,
        subscribes: Iterable[Subscribe] = (),
        publishes: Iterable[Publish] = (),
    ) -> None:
        self._bus = bus
        self._app = app
        self._sends = {p.msg_id: p.payload for p in publishes}
        self._hears = {s.msg_id for s in subscribes}
        self.waker: Any = None  # set on each pipe the app listens to (``Pipe.waker``)

    def publish(self, msg_id: int, payload: Any = None) -> int:
        """Send to every subscriber; returns how many pipes did not queue it."""
        kind = self._sends.get(msg_id)
        if kind is None or not isinstance(payload, kind):
            raise DeclarationError(
                f"app {self._app!r}: publishes {msg_id:#06x} "
                + (
                    "without declaring it in PUBLISHES"
                    if kind is None
                    else f"with a {type(payload).__name__}, declared {kind.__name__}"
                )
            )
        return self._bus.publish(msg_id, payload)

    def subscribers(self, msg_id: int) -> list[Pipe]:
        return self._bus.subscribers(msg_id)

    def listen(self, msg_id: int, depth: int, overflow: Overflow) -> Pipe:
        """The app's pipe for ``msg_id`` (made once, kept across restarts), subscribed."""
        if msg_id not in self._hears:
            raise DeclarationError(
                f"app {self._app!r}: listens to {msg_id:#06x} without declaring it in SUBSCRIBES"
            )
        name = f"{self._app}:{msg_id:#06x}"
        bus = self._bus
        pipe = bus.pipe(name)
        if pipe is None:
            pipe = bus.create_pipe(name, depth, overflow)
        if self.waker is not None:
            pipe.waker = self.waker
        bus.subscribe(msg_id, pipe)
        return pipe
