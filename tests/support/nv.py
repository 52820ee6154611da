"""An NV store that loses power mid-commit, for the tests of what survives a torn write
(the voting store, the table registry)."""

from __future__ import annotations

from hal.nvstore import MemoryNvStore


class PowerLoss(OSError):
    """The store lost power in the middle of a write sequence."""


class PowerFailingNv(MemoryNvStore):
    """A store whose power fails after ``writes_left`` more file writes (None: never):
    the write that finds none left raises :class:`PowerLoss` and writes nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.writes_left: int | None = None

    def write(self, name: str, data: bytes) -> None:
        if self.writes_left is not None:
            if self.writes_left == 0:
                raise PowerLoss(name)
            self.writes_left -= 1
        super().write(name, data)
