"""FDIR's event reports, bounded but never silently cut.

A burst (a solar particle event latching up dozens of boards in one second) must not
drop reports: events wait in a bounded backlog and go out at most ``per_frame`` a frame,
oldest first. Only when the backlog itself is full is an event dropped; the drop is
counted and reported (``EVENTS_LOST`` with the count) as soon as there is room.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

Emit = Callable[..., None]


class EventBacklog:
    """Queued ``(event name, arguments)``; :meth:`flush` emits a frame's share."""

    def __init__(self, limit: int = 4096, per_frame: int = 256) -> None:
        if limit < 1 or per_frame < 1:
            raise ValueError("event backlog limit and per-frame budget must be positive")
        self.queue: deque[tuple[str, dict[str, Any]]] = deque()
        self.limit = limit
        self.per_frame = per_frame
        self.dropped = 0  # since start
        self.unreported = 0  # dropped and not yet reported
        self.sent = 0

    def add(self, name: str, **args: Any) -> None:
        if len(self.queue) >= self.limit:
            self.dropped += 1
            self.unreported += 1
            return
        self.queue.append((name, args))

    def flush(self, emit: Emit) -> None:
        """Emit up to ``per_frame`` events (the loss report first, if any)."""
        budget = self.per_frame
        if self.unreported:
            emit("EVENTS_LOST", count=min(self.unreported, 0xFFFFFFFF))
            self.unreported = 0
            budget -= 1
        q = self.queue
        while q and budget > 0:
            name, args = q.popleft()
            emit(name, **args)
            self.sent += 1
            budget -= 1
