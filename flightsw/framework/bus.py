"""The software bus: publish/subscribe by message id with bounded per-subscriber pipes.

Messages are in-process Python objects addressed by an integer message id. Each
subscriber owns a pipe with a fixed depth and an overflow policy:

* ``REJECT_NEWEST`` (default): a full pipe refuses the new message; ``publish`` reports
  how many subscribers refused it and the pipe counts the drop. Used for commands, so
  the dispatcher can send a PUS-1 failure instead of silently losing a TC.
* ``DROP_OLDEST``: the oldest queued message is discarded to make room (counted). Used
  for telemetry-like streams where the newest sample matters most.

Nothing grows without bound: every drop is counted on the pipe and on the bus.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flightsw.base.errors import FlightswError


class Overflow(Enum):
    """What a full pipe does with one more message."""

    REJECT_NEWEST = "reject_newest"
    DROP_OLDEST = "drop_oldest"


@dataclass(slots=True)
class Message:
    """One bus message: its id and an in-process payload."""

    msg_id: int
    payload: Any


@dataclass(eq=False)
class Pipe:
    """A subscriber's bounded inbox."""

    name: str
    depth: int
    overflow: Overflow = Overflow.REJECT_NEWEST
    queue: deque[Message] = field(default_factory=deque)
    dropped: int = 0
    received: int = 0
    high_water: int = 0
    # Whoever sleeps on this pipe (the executive's record of the app that owns it): each
    # message offered, queued or not, sets its ``wake_ns`` to 0 (see ``App.next_due_ns``).
    waker: Any = None

    def offer(self, msg: Message) -> bool:
        """Queue a message; False only when a reject-newest pipe refused it."""
        if self.waker is not None:
            self.waker.wake_ns = 0
        q = self.queue
        if len(q) >= self.depth:
            self.dropped += 1
            if self.overflow is Overflow.REJECT_NEWEST:
                return False
            q.popleft()
            q.append(msg)
            self.received += 1
            return True
        q.append(msg)
        self.received += 1
        n = len(q)
        if n > self.high_water:
            self.high_water = n
        return True

    def drain(self, limit: int | None = None) -> Iterator[Message]:
        """Yield queued messages oldest first, at most ``limit`` of them."""
        q = self.queue
        n = len(q) if limit is None else min(limit, len(q))
        pop = q.popleft
        for _ in range(n):
            yield pop()

    def __len__(self) -> int:
        return len(self.queue)

    def __bool__(self) -> bool:
        """A pipe is a handle, true even when empty (``len(pipe)`` says how full it is).

        Without this, ``__len__`` makes an empty pipe false, and ``pipe or make_one()``
        silently takes the wrong branch."""
        return True


class BusError(FlightswError):
    """Misuse of the bus (bad depth, duplicate pipe name)."""


class SoftwareBus:
    """Routes messages from publishers to the pipes subscribed to their id."""

    def __init__(self) -> None:
        self._routes: dict[int, list[Pipe]] = {}
        self._pipes: dict[str, Pipe] = {}
        self.published = 0
        self.undeliverable = 0  # published to an id nobody subscribes to
        self.rejected = 0  # refused by full pipes (sum over pipes)

    def create_pipe(
        self, name: str, depth: int, overflow: Overflow = Overflow.REJECT_NEWEST
    ) -> Pipe:
        if depth < 1:
            raise BusError(f"pipe {name!r}: depth must be >= 1, got {depth}")
        if name in self._pipes:
            raise BusError(f"pipe {name!r} already exists")
        pipe = Pipe(name, depth, overflow)
        self._pipes[name] = pipe
        return pipe

    def pipe(self, name: str) -> Pipe | None:
        """The pipe called ``name``, or None when there is none."""
        return self._pipes.get(name)

    def subscribe(self, msg_id: int, pipe: Pipe) -> None:
        subs = self._routes.setdefault(msg_id, [])
        if pipe not in subs:
            subs.append(pipe)

    def unsubscribe(self, msg_id: int, pipe: Pipe) -> None:
        subs = self._routes.get(msg_id, [])
        if pipe in subs:
            subs.remove(pipe)

    def publish(self, msg_id: int, payload: Any = None) -> int:
        """Send to every subscriber; returns how many pipes did not queue it."""
        self.published += 1
        subs = self._routes.get(msg_id)
        if not subs:
            self.undeliverable += 1
            return 0
        msg = Message(msg_id, payload)
        refused = 0
        for pipe in subs:
            if not pipe.offer(msg):
                refused += 1
        self.rejected += refused
        return refused

    def subscribers(self, msg_id: int) -> list[Pipe]:
        return list(self._routes.get(msg_id, ()))

    @property
    def pipes(self) -> dict[str, Pipe]:
        return dict(self._pipes)

    def dropped_total(self) -> int:
        return sum(p.dropped for p in self._pipes.values())
