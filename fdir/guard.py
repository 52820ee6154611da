"""Memory protection for what FDIR decides with: every parameter and the FDIR table.

Every parameter of every app (the limits FDIR uses among them) is compared every frame
with a golden copy; the golden copy lives in RAM (with its own CRC) and, packed, in the
voting store on NV. A change through PUS-20 (the
store's ``sets`` counter moves) is legitimate: the golden copy follows it. A value that
changed any other way (an upset) is put back from the golden copy and reported.

The classes at the end expose the parameters and the live table as memory regions a
simulated upset can reach (``hal.interfaces.MemoryRegion``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from fdir.voting import Store, VotingStore
from flightsw.framework.datatypes import TYPES
from flightsw.framework.parameters import ParameterMemory


def _code(type_name: str) -> str:
    """The struct code a parameter is held as in memory (a bool is a whole byte)."""
    return "B" if type_name == "bool" else TYPES[type_name].code


class ParamGuard:
    """Golden copy of all parameter values; :meth:`check` repairs upsets."""

    def __init__(self, store: ParameterMemory, nv: Store | None) -> None:
        self.store = store
        self.entries = sorted(store.by_id.values(), key=lambda e: e.pid)
        self.record = struct.Struct(">" + "".join(_code(e.pdef.type) for e in self.entries))
        self.golden_nv = VotingStore(nv, "params_golden") if nv is not None else None
        self.refs = [(store.values[e.app], e.pdef.name) for e in self.entries]
        # The every-frame comparison reads each app's values with one C-level getter
        # (a tuple per app); the pid-ordered list above serves packing and repair.
        by_app: dict[str, list[str]] = {}
        for e in self.entries:
            by_app.setdefault(e.app, []).append(e.pdef.name)
        self.getters = [(store.values[app], itemgetter(*names)) for app, names in by_app.items()]
        # The every-frame test itself: each app's value dict against a copy taken with
        # the golden values (dict equality, in C, one call for all apps).
        self.live_dicts = [store.values[app] for app in by_app]
        self.golden_dicts: list[dict[str, Any]] = []
        self.repairs = 0
        self.golden: list[Any] = []
        self.golden_fast: list[Any] = []
        self.golden_crc = 0
        self.seen_sets = -1
        self.check()

    def _values(self) -> list[Any]:
        return [d[name] for d, name in self.refs]

    def _fast(self) -> list[Any]:
        return [get(d) for d, get in self.getters]

    def _pack(self, values: list[Any]) -> bytes:
        try:
            return self.record.pack(*values)
        except struct.error:
            return b""  # a value its type cannot hold: certainly not the golden one

    def _take_golden(self) -> None:
        self.golden = self._values()
        self.golden_fast = self._fast()
        self.golden_dicts = [dict(d) for d in self.live_dicts]
        packed = self._pack(self.golden)
        self.golden_crc = zlib.crc32(packed)
        self.seen_sets = self.store.sets
        if self.golden_nv is not None:
            self.golden_nv.write(packed)

    def check(self) -> list[int]:
        """Repair values that differ from the golden copy; the repaired parameter ids.

        Every value is compared with its golden twin each call (each app's value dict
        against a copy, about a microsecond for all); the golden copy's own CRC is
        checked only when a repair needs it.
        """
        if self.store.sets != self.seen_sets:
            self._take_golden()
            return []
        if self.live_dicts == self.golden_dicts:  # (list ==: the dicts pairwise, in C)
            return []
        fast = self._fast()  # a value differs, or a dict holds more than the parameters
        if fast == self.golden_fast:
            return []
        live = self._values()
        if live == self.golden:
            self.golden_fast = fast
            return []
        golden = self.golden
        if zlib.crc32(self._pack(golden)) != self.golden_crc:
            golden = self._golden_from_nv() or golden  # the RAM copy was hit: use NV's
        repaired = []
        for e, now, good in zip(self.entries, live, golden, strict=True):
            if now != good or type(now) is not type(good):
                self.store.values[e.app][e.pdef.name] = good
                repaired.append(e.pid)
        self.repairs += len(repaired)
        self.golden_fast = self._fast()
        return repaired

    def _golden_from_nv(self) -> list[Any] | None:
        raw = self.golden_nv.read() if self.golden_nv is not None else None
        if raw is None or len(raw) != self.record.size:
            return None
        values = list(self.record.unpack(raw))
        self.golden = values
        return values


class ParamRegion:
    """The parameter store as words ``app.name``, each in its declared wire type."""

    def __init__(self, store: ParameterMemory) -> None:
        self.store = store
        self.by_word = {f"{e.app}.{e.pdef.name}": e for e in store.by_id.values()}

    def words(self) -> tuple[str, ...]:
        return tuple(sorted(self.by_word))

    def peek(self, word: str) -> bytes:
        e = self.by_word[word]
        value = self.store.values[e.app][e.pdef.name]
        code = _code(e.pdef.type)
        try:
            return struct.pack(">" + code, value)
        except struct.error:
            return b"\xff" * struct.calcsize(code)

    def poke(self, word: str, data: bytes) -> None:
        e = self.by_word[word]
        (value,) = struct.unpack(">" + _code(e.pdef.type), data)
        self.store.values[e.app][e.pdef.name] = value


class TableRegion:
    """The live FDIR table as words (an i64 or an f64 each, as the value is held), read
    and written through callbacks."""

    def __init__(
        self, read: Callable[[], dict[str, float]], write: Callable[[str, float], None]
    ) -> None:
        self.read = read
        self.write = write

    def words(self) -> tuple[str, ...]:
        return tuple(sorted(self.read()))

    def peek(self, word: str) -> bytes:
        value = self.read()[word]
        return struct.pack(">q" if isinstance(value, int) else ">d", value)

    def poke(self, word: str, data: bytes) -> None:
        held = self.read()[word]
        (value,) = struct.unpack(">q" if isinstance(held, int) else ">d", data)
        self.write(word, value)
