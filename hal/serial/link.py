"""Request/response over a bench serial line, inside a fixed time budget per call.

The executive gives each app a slot; a bench device that is slow, silent or noisy must
not stretch it. Every call therefore has a deadline taken from the injected clock, each
attempt a shorter timeout, and a failed call raises a counted :class:`DeviceTimeout` or
:class:`DeviceError` that the calling app turns into "data invalid".

How long a call can block: the port's read timeout is set once to ``poll_s`` (1 ms by
default) and every read asks only for what ``in_waiting`` reports (or one octet when
nothing is waiting), so one read blocks at most ``poll_s``. The loop checks the clock
after every read, so a call returns at most one ``poll_s`` after its deadline (plus the
time to write one frame). Should the clock not advance (a simulated clock on a real
port), the number of empty reads and of octets read per attempt are capped as well.
"""

from __future__ import annotations

import math
from typing import Protocol, TypeVar

from flightsw.base.errors import DecodeError, FlightswError
from hal.interfaces import Clock
from hal.serial.protocol import (
    NAK_TYPE,
    Frame,
    FrameDecoder,
    Message,
    Nak,
    NakCode,
    encode_frame,
    response_type,
)

M = TypeVar("M", bound=Message)

NS_PER_S = 1_000_000_000
READ_CHUNK = 4096
MAX_OCTETS_PER_ATTEMPT = 64 * 1024


class DeviceError(FlightswError):
    """A bench device that failed a request: bad answer, refusal or I/O error."""


class DeviceTimeout(DeviceError):
    """No valid response within the request's timeout and retries."""


class DeviceNak(DeviceError):
    """The device refused the request with a NAK code."""

    def __init__(self, request_type: int, code: int) -> None:
        self.request_type = request_type
        self.code = code
        try:
            why = NakCode(code).name
        except ValueError:
            why = f"code {code}"
        super().__init__(f"device refused request 0x{request_type:02x}: {why}")


class SerialPort(Protocol):
    """The part of a ``serial.Serial`` the link uses (a fake in tests)."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...


class _Busy:
    """Marker: the device answered BUSY; the attempt may be retried."""


_BUSY = _Busy()


class SerialLink:
    """Numbered requests with per-attempt timeout, retries and stale-response discarding."""

    def __init__(
        self,
        port: SerialPort,
        clock: Clock,
        *,
        timeout_ns: int = 20_000_000,
        retries: int = 2,
        budget_ns: int = 100_000_000,
        poll_s: float = 0.001,
    ) -> None:
        if timeout_ns <= 0 or budget_ns <= 0 or retries < 0 or not 0 <= poll_s <= 0.1:
            raise ValueError("timeout and budget must be > 0, retries >= 0, poll_s in 0..0.1")
        self.port = port
        self.clock = clock
        self.timeout_ns = timeout_ns
        self.retries_per_call = retries
        self.budget_ns = budget_ns
        self.poll_s = poll_s
        port.timeout = poll_s
        self.decoder = FrameDecoder()
        self._seq = 0
        self.requests = 0
        self.responses = 0
        self.timeouts = 0
        self.retries = 0
        self.naks = 0
        self.errors = 0
        self.stale = 0

    def counters(self) -> dict[str, int]:
        """Link and frame-decoder counters, for housekeeping."""
        return {
            "requests": self.requests,
            "responses": self.responses,
            "timeouts": self.timeouts,
            "retries": self.retries,
            "naks": self.naks,
            "errors": self.errors,
            "stale": self.stale,
            **self.decoder.counters(),
        }

    def error(self, reason: str) -> DeviceError:
        """A counted :class:`DeviceError` (devices use it for answers that do not fit)."""
        self.errors += 1
        return DeviceError(reason)

    def request(self, msg: Message, expect: type[M], deadline_ns: int | None = None) -> M:
        """Send ``msg`` and return its response decoded as ``expect``.

        Gives up at ``deadline_ns`` or after ``budget_ns``, whichever is first. Raises
        :class:`DeviceTimeout`, :class:`DeviceNak` or :class:`DeviceError` (all counted);
        an unencodable ``msg`` raises ``EncodeError`` before anything is sent.
        """
        payload = msg.encode()
        self.requests += 1
        now = self.clock.now_ns()
        deadline = now + self.budget_ns
        if deadline_ns is not None:
            deadline = min(deadline, deadline_ns)
        self._drain()
        sent: set[int] = set()
        busy = False
        for attempt in range(self.retries_per_call + 1):
            if attempt:
                if self.clock.now_ns() >= deadline:
                    break
                self.retries += 1
            seq = self._next_seq()
            sent.add(seq)
            self._write(encode_frame(msg.TYPE, seq, payload))
            attempt_deadline = min(self.clock.now_ns() + self.timeout_ns, deadline)
            result = self._await(msg.TYPE, sent, expect, attempt_deadline)
            if isinstance(result, _Busy):
                busy = True
                continue
            if result is not None:
                self.responses += 1
                return result
            late = self._after_timeout(msg.TYPE, sent, expect)
            if isinstance(late, _Busy):
                busy = True
            elif late is not None:
                self.responses += 1
                return late
        if busy:
            self.errors += 1
            raise DeviceNak(msg.TYPE, NakCode.BUSY)
        self.timeouts += 1
        raise DeviceTimeout(f"no response to request 0x{msg.TYPE:02x} after {len(sent)} attempt(s)")

    # --- internals -----------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _write(self, raw: bytes) -> None:
        try:
            self.port.write(raw)
        except OSError as exc:
            raise self.error(f"serial write failed: {exc}") from exc

    def _read(self) -> bytes:
        try:
            waiting = self.port.in_waiting
            return self.port.read(min(max(waiting, 1), READ_CHUNK))
        except OSError as exc:
            raise self.error(f"serial read failed: {exc}") from exc

    def _drain(self) -> None:
        """Discard whatever arrived between calls: answers to requests already given up."""
        total = 0
        try:
            while total < MAX_OCTETS_PER_ATTEMPT and self.port.in_waiting > 0:
                data = self.port.read(min(self.port.in_waiting, READ_CHUNK))
                if not data:
                    break
                total += len(data)
                self.stale += len(self.decoder.feed(data))
        except OSError as exc:
            raise self.error(f"serial read failed: {exc}") from exc
        self.stale += len(self.decoder.resync())

    def _after_timeout(self, req_type: int, sent: set[int], expect: type[M]) -> M | _Busy | None:
        """Collect what already arrived; drop a partial frame that cannot be our answer.

        A corrupted length makes the decoder wait for octets that never come and hides
        the frames behind it. A partial frame whose header carries one of this call's
        sequence numbers and an answer type is most likely our answer in flight, and is
        kept; anything else is abandoned and the octets after it are rescanned.
        """
        frames: list[Frame] = []
        try:
            waiting = self.port.in_waiting
            if waiting:
                frames = self.decoder.feed(self.port.read(min(waiting, MAX_OCTETS_PER_ATTEMPT)))
        except OSError as exc:
            raise self.error(f"serial read failed: {exc}") from exc
        result = self._consider(frames, req_type, sent, expect)
        if result is not None:
            return result
        head = self.decoder.pending_header()
        if head is not None and head[1] in sent and head[0] in (response_type(req_type), NAK_TYPE):
            return None
        return self._consider(self.decoder.resync(), req_type, sent, expect)

    def _await(
        self, req_type: int, sent: set[int], expect: type[M], deadline: int
    ) -> M | _Busy | None:
        remaining = max(0, deadline - self.clock.now_ns())
        poll_ns = max(1, int(self.poll_s * NS_PER_S))
        max_idle = math.ceil(remaining / poll_ns) + 1
        idle = 0
        octets = 0
        while self.clock.now_ns() < deadline and idle <= max_idle:
            data = self._read()
            if not data:
                idle += 1
                continue
            octets += len(data)
            result = self._consider(self.decoder.feed(data), req_type, sent, expect)
            if result is not None:
                return result
            if octets > MAX_OCTETS_PER_ATTEMPT:
                break
        return None

    def _consider(
        self, frames: list[Frame], req_type: int, sent: set[int], expect: type[M]
    ) -> M | _Busy | None:
        """The first frame answering this call; every other frame is counted stale."""
        want = response_type(req_type)
        for i, frame in enumerate(frames):
            if frame.seq not in sent or frame.type not in (want, NAK_TYPE):
                self.stale += 1
                continue
            self.stale += len(frames) - i - 1
            try:
                if frame.type == NAK_TYPE:
                    nak = Nak.decode(frame.payload)
                    self.naks += 1
                    if nak.code == NakCode.BUSY:
                        return _BUSY
                    self.errors += 1
                    raise DeviceNak(nak.request_type, nak.code)
                return expect.decode(frame.payload)
            except DecodeError as exc:
                raise self.error(f"undecodable response to 0x{req_type:02x}: {exc}") from exc
        return None
