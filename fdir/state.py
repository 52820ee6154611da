"""FDIR's critical state and boot record, kept across processor resets.

What must survive a reset: how many times the computer has booted and why it last
reset, whether the node is in safe mode, which boards are isolated, and the golden
copy of the FDIR table. It lives in a :class:`fdir.voting.VotingStore` on the HAL's
non-volatile store, written whenever it changes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from fdir.voting import Store, VotingStore

RESET_REASONS = ("power_on", "watchdog", "command", "exception")


@dataclass
class CriticalState:
    boot_count: int = 0
    reset_reason: str = "power_on"
    safe_mode: bool = False
    isolated: list[int] = field(default_factory=list)
    table: dict[str, Any] = field(default_factory=dict)

    @property
    def reset_reason_code(self) -> int:
        """The reset reason as reported in TM: its index in RESET_REASONS, 255 if unknown."""
        if self.reset_reason in RESET_REASONS:
            return RESET_REASONS.index(self.reset_reason)
        return 255

    def encode(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def decode(cls, raw: bytes) -> CriticalState:
        doc = json.loads(raw)
        return cls(
            boot_count=int(doc.get("boot_count", 0)),
            reset_reason=str(doc.get("reset_reason", "power_on")),
            safe_mode=bool(doc.get("safe_mode", False)),
            isolated=[int(b) for b in doc.get("isolated", [])],
            table=dict(doc.get("table", {})),
        )


class StateKeeper:
    """Loads the critical state at boot, and saves it when it changes."""

    def __init__(self, nv: Store, name: str = "fdir_state") -> None:
        self.store = VotingStore(nv, name)
        self.saves = 0
        self._last: bytes | None = None

    def load(self) -> CriticalState | None:
        raw = self.store.read()
        if raw is None:
            return None
        try:
            return CriticalState.decode(raw)
        except (ValueError, TypeError):
            return None

    def save(self, state: CriticalState) -> None:
        raw = state.encode()
        if raw != self._last:
            self.store.write(raw)
            self._last = raw
            self.saves += 1
