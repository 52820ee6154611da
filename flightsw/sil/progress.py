"""A small progress bar for long work: drawn on a terminal, silent under CI or a pipe."""

from __future__ import annotations

import os
import sys
from typing import TextIO


def progress_wanted(stream: TextIO = sys.stderr) -> bool:
    """True on an interactive terminal when not running under CI."""
    return stream.isatty() and not os.environ.get("CI")


class Progress:
    """Redraws one line at most every 1 % of the total; no clock is read."""

    def __init__(
        self,
        total: int,
        label: str,
        enabled: bool | None = None,
        stream: TextIO = sys.stderr,
        width: int = 30,
    ) -> None:
        self.total = max(1, total)
        self.label = label
        self.stream = stream
        self.enabled = progress_wanted(stream) if enabled is None else enabled
        self.width = width
        self._step = max(1, self.total // 100)
        self._next = 0
        self.done = 0

    def update(self, done: int) -> None:
        self.done = done
        if self.enabled and done >= self._next:
            self._next = done + self._step
            self._draw()

    def _draw(self) -> None:
        frac = min(1.0, self.done / self.total)
        filled = int(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac * 100:5.1f}% {self.done}/{self.total}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.done = self.total
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
