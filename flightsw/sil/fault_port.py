"""A fault-injection port for a simulated build running in real time (test equipment).

A bench has test equipment beside the flight computer that can make things go wrong
on purpose; a simulated build paced by the wall clock (``flightsw sim --realtime
--fault-port udp:HOST:PORT``) gets the same from this port: a ground procedure sends
one JSON datagram ``{"kind": "sel", "target": 3, "detail": {}}`` and the fault is
scheduled into the simulated spacecraft at its current time; the port answers
``{"ok": true, "t_s": ...}`` or ``{"ok": false, "error": "..."}``.

It is not part of the flight software: it reaches the simulated world (``sim_hw``),
never the executive, and it exists only on a paced clock (on the simulated clock faults
come from the mission or a scenario, so runs stay deterministic). Bounded: at most
``max_per_poll`` datagrams a poll, each at most ``MAX_DATAGRAM`` octets; refusals are
counted.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
from typing import Any

from flightsw.base.errors import FlightswError
from sim_hw.faults import FaultKind, ScheduledFault

MAX_DATAGRAM = 4096
MAX_PER_POLL = 16


def parse_fault(data: bytes, now_s: float) -> ScheduledFault:
    """One request datagram -> the fault to schedule now; FlightswError naming the field."""
    try:
        req = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FlightswError(f"fault request is not JSON: {exc}") from None
    if not isinstance(req, dict):
        raise FlightswError("fault request: expected an object {kind, target, detail}")
    unknown = set(req) - {"kind", "target", "detail"}
    if unknown:
        raise FlightswError(f"fault request: unknown keys {sorted(unknown)}")
    kinds = [k.value for k in FaultKind]
    kind = req.get("kind")
    if kind not in kinds:
        raise FlightswError(f"fault request kind: {kind!r} is not one of {', '.join(kinds)}")
    target = req.get("target")
    if isinstance(target, bool) or not isinstance(target, int | str):
        raise FlightswError(f"fault request target: {target!r} is not a board index or a name")
    if isinstance(target, int) and not 0 <= target < 1_000_000:
        raise FlightswError(f"fault request target: {target} outside 0..999999")
    detail = req.get("detail", {})
    if not isinstance(detail, dict) or not all(
        isinstance(v, int | str) or (isinstance(v, float) and math.isfinite(v))
        for v in detail.values()
    ):
        raise FlightswError("fault request detail: expected an object of finite numbers/text")
    return ScheduledFault(now_s, FaultKind(kind), target, dict(detail))


class FaultPort:
    """Takes fault requests on a UDP socket and schedules them into the spacecraft."""

    def __init__(self, bind: tuple[str, int], max_per_poll: int = MAX_PER_POLL) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        try:
            self.sock.bind(bind)
        except OSError as exc:
            self.sock.close()
            raise FlightswError(f"--fault-port {bind[0]}:{bind[1]}: {exc}") from None
        self.max_per_poll = max_per_poll
        self.injected = 0
        self.refused = 0

    def poll(self, spacecraft: Any) -> None:
        """Schedule what arrived into ``spacecraft`` (a ``sim_hw`` Spacecraft) at its time."""
        for _ in range(self.max_per_poll):
            try:
                data, sender = self.sock.recvfrom(MAX_DATAGRAM + 1)
            except (BlockingIOError, OSError):
                return
            try:
                if len(data) > MAX_DATAGRAM:
                    raise FlightswError(f"fault request longer than {MAX_DATAGRAM} octets")
                fault = parse_fault(data, float(spacecraft.t_s))
                spacecraft.faults.extend([fault])
            except FlightswError as exc:
                self.refused += 1
                answer: dict[str, Any] = {"ok": False, "error": str(exc)}
            else:
                self.injected += 1
                answer = {"ok": True, "t_s": fault.t_s}
            with contextlib.suppress(OSError):  # the requester went away: the fault stands
                self.sock.sendto(json.dumps(answer).encode(), sender)

    def close(self) -> None:
        self.sock.close()
