"""The TC dispatcher: decodes uplinked TCs, accepts or rejects them, routes them.

A TC that finds the uplink queue full is refused at once with TM(1,2) QUEUE_FULL; the
link layer asks :meth:`Dispatcher.room` first so that it can hold commands back instead.
Acceptance checks, in order: the packet decodes (length, version, CRC), it is for our
APID, the service and subservice are known, a function-management TC names a known
function, the application data unpacks into the declared arguments and each is in
range, and the owning app's command pipe has room. The first failed check gives a
TM(1,2) with its code; passing all gives TM(1,1) (if asked for) and a message on the
app's pipe. Nothing a TC contains can raise out of here.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass
from typing import Any

from flightsw.base.errors import CommandError, DecodeError
from flightsw.framework.app import FUNCTION_MANAGEMENT, CommandDef, FailureCode, decode_app_data
from flightsw.framework.bus import SoftwareBus
from flightsw.framework.context import CommandRequest
from flightsw.framework.verification import TcRequest, Verifier
from flightsw.packets import PusTc, tc_request_id_from_bytes

_U16 = struct.Struct(">H")

_DECODE_CODES = {
    "crc": FailureCode.BAD_CHECKSUM,
    "pus_version": FailureCode.BAD_PUS_VERSION,
    "data_length": FailureCode.BAD_LENGTH,
    "length": FailureCode.BAD_LENGTH,
}


@dataclass
class Route:
    """Where an accepted command goes."""

    app: str
    msg_id: int
    cdef: CommandDef
    parser: Any  # bound method or None


class Dispatcher:
    """Owns the bounded uplink queue and the command routing tables."""

    def __init__(
        self,
        apid: int,
        bus: SoftwareBus,
        verifier: Verifier,
        uplink_depth: int = 64,
        max_per_frame: int = 16,
    ) -> None:
        self.apid = apid
        self._bus = bus
        self._verifier = verifier
        self.uplink: deque[bytes] = deque()
        self.uplink_depth = uplink_depth
        self.max_per_frame = max_per_frame
        self.by_service: dict[tuple[int, int], Route] = {}
        self.by_function: dict[int, Route] = {}
        self.disabled_apps: set[str] = set()
        self.received = 0
        self.uplink_dropped = 0
        self.accepted = 0
        self.released = 0  # on-board TCs handed to dispatch() (scheduler, sequences)
        self.rejected_by_code: dict[int, int] = {}

    def add_route(self, route: Route, function_id: int | None) -> None:
        c = route.cdef
        if function_id is not None:
            if function_id in self.by_function:
                other = self.by_function[function_id]
                raise CommandError(
                    0,
                    f"function id 0x{function_id:04x} of {route.app}.{c.name} "
                    f"already used by {other.app}.{other.cdef.name}",
                )
            self.by_function[function_id] = route
        else:
            assert c.service is not None and c.subservice is not None
            key = (c.service, c.subservice)
            if key == FUNCTION_MANAGEMENT or key in self.by_service:
                raise CommandError(0, f"TC({key[0]},{key[1]}) of {route.app} is already routed")
            self.by_service[key] = route

    def room(self) -> int:
        """How many more TCs the uplink queue takes now (the link layer asks first)."""
        return self.uplink_depth - len(self.uplink)

    def submit(self, tc: bytes) -> bool:
        """Queue an uplinked TC; when the uplink queue is full the TC is refused with a
        TM(1,2) QUEUE_FULL (and counted), and False returned."""
        self.received += 1
        if len(self.uplink) >= self.uplink_depth:
            self.uplink_dropped += 1
            raw = bytes(tc)
            try:
                head = PusTc.decode(raw)
                req = TcRequest(head.request_id, head.ack_flags, head.source_id)
            except DecodeError:
                req = TcRequest(tc_request_id_from_bytes(raw), 0)
            self._verifier.acceptance_fail(req, FailureCode.QUEUE_FULL, b"uplink queue full")
            return False
        self.uplink.append(bytes(tc))
        return True

    def process(self) -> int:
        """Handle up to ``max_per_frame`` queued TCs; returns how many were handled."""
        n = min(len(self.uplink), self.max_per_frame)
        for _ in range(n):
            self._handle(self.uplink.popleft())
        return n

    def _reject(self, req: TcRequest, code: int, reason: str) -> None:
        self.rejected_by_code[code] = self.rejected_by_code.get(code, 0) + 1
        self._verifier.acceptance_fail(req, code, reason.encode()[:64])

    def dispatch(self, raw: bytes) -> None:
        """Handle an on-board TC now (released by the scheduler or a sequence): the same
        acceptance checks, routing and PUS-1 reports as an uplinked TC, without waiting
        in the uplink queue (the caller's own queue is bounded)."""
        self.received += 1
        self.released += 1
        self._handle(raw)

    def target_room(self, raw: bytes) -> tuple[int, int] | None:
        """The command pipe ``raw`` would go to and its free places, as (msg id, room);
        None when it would be refused before reaching a pipe. Lets an on-board source
        (the scheduler) hold a TC back instead of losing it to a full pipe."""
        try:
            route, _ = self._resolve(PusTc.decode(raw))
        except (DecodeError, CommandError):
            return None
        pipes = self._bus.subscribers(route.msg_id)
        return route.msg_id, min((p.depth - len(p.queue) for p in pipes), default=0)

    def check(self, raw: bytes) -> None:
        """Would ``raw`` be accepted (decodes, our APID, routed, arguments valid)?

        CommandError with the acceptance failure code if not; nothing is reported.
        Used to refuse a bad TC when it is stored for later, not when it is due.
        """
        try:
            tc = PusTc.decode(raw)
        except DecodeError as exc:
            code = _DECODE_CODES.get(exc.field, FailureCode.MALFORMED_PACKET)
            raise CommandError(code, str(exc)) from None
        self._resolve(tc, check_disabled=False)

    def _resolve(self, tc: PusTc, check_disabled: bool = True) -> tuple[Route, dict[str, Any]]:
        """The route and handler arguments of a decoded TC; CommandError if refused."""
        if tc.apid != self.apid:
            raise CommandError(FailureCode.ILLEGAL_APID, f"apid 0x{tc.apid:03x}")
        data = tc.app_data
        key = (tc.service, tc.subservice)
        if key == FUNCTION_MANAGEMENT:
            if len(data) < 2:
                raise CommandError(FailureCode.BAD_LENGTH, "TC(8,1) without a function id")
            (fid,) = _U16.unpack_from(data, 0)
            route = self.by_function.get(fid)
            data = data[2:]
            if route is None:
                raise CommandError(FailureCode.ILLEGAL_FUNCTION, f"function 0x{fid:04x}")
        else:
            route = self.by_service.get(key)
            if route is None:
                known = any(s == tc.service for s, _ in self.by_service) or tc.service == 8
                code = FailureCode.ILLEGAL_SUBSERVICE if known else FailureCode.ILLEGAL_SERVICE
                raise CommandError(code, f"TC({tc.service},{tc.subservice})")
        if check_disabled and route.app in self.disabled_apps:
            raise CommandError(FailureCode.APP_UNAVAILABLE, f"{route.app} is disabled")
        try:
            parse = route.parser
            args = parse(data) if parse else decode_app_data(route.cdef, data, route.app)
        except CommandError:
            raise
        except Exception as exc:  # a parser bug must not stop the executive
            raise CommandError(FailureCode.BAD_APP_DATA, f"{type(exc).__name__}: {exc}") from None
        return route, args

    def _handle(self, raw: bytes) -> None:
        try:
            tc = PusTc.decode(raw)
        except DecodeError as exc:
            req = TcRequest(tc_request_id_from_bytes(raw), 0)
            code = _DECODE_CODES.get(exc.field, FailureCode.MALFORMED_PACKET)
            self._reject(req, code, str(exc))
            return
        req = TcRequest(tc.request_id, tc.ack_flags, tc.source_id)
        try:
            route, args = self._resolve(tc)
        except CommandError as exc:
            self._reject(req, exc.code, exc.reason)
            return
        if self._bus.publish(route.msg_id, CommandRequest(route.cdef, args, req)):
            self._reject(req, FailureCode.QUEUE_FULL, f"{route.app} command pipe full")
            return
        self.accepted += 1
        self._verifier.acceptance_ok(req)
