"""FDIR's building blocks on their own: event backlog, health table, fault counters,
parameter guard, FDIR table, table-driven monitors."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fdir.counters import FaultCounter
from fdir.eventlog import EventBacklog
from fdir.guard import ParamGuard, ParamRegion
from fdir.health import Health, HealthTable, UnitKind
from fdir.table import flat, table_crc, timing_from, validated_table
from fdir.watch import WatchTable
from flightsw.framework.app import ParameterDef
from flightsw.framework.parameters import ParameterStore
from hal.nvstore import MemoryNvStore


def test_backlog_sends_a_frames_share_and_reports_what_it_had_to_drop() -> None:
    log = EventBacklog(limit=5, per_frame=3)
    for b in range(8):
        log.add("BOARD_LATCHUP", board=b)
    sent: list[tuple[str, dict[str, int]]] = []
    log.flush(lambda name, **a: sent.append((name, a)))
    assert sent[0] == ("EVENTS_LOST", {"count": 3}) and len(sent) == 3
    log.flush(lambda name, **a: sent.append((name, a)))
    log.flush(lambda name, **a: sent.append((name, a)))
    assert [a["board"] for n, a in sent if n == "BOARD_LATCHUP"] == [0, 1, 2, 3, 4]
    assert log.dropped == 3 and not log.queue
    with pytest.raises(ValueError):
        EventBacklog(limit=0)


def test_health_table_reports_only_changes() -> None:
    t = HealthTable({UnitKind.BOARD: 4, UnitKind.SENSOR: 2})
    idx = np.array([1, 2], dtype=np.intp)
    assert t.set(UnitKind.BOARD, idx, Health.NEEDS_RECOVERY) == [(1, 2), (2, 2)]
    assert t.set(UnitKind.BOARD, idx, Health.NEEDS_RECOVERY) == []
    assert t.set(UnitKind.BOARD, idx, np.array([2, 0], dtype=np.int8)) == [(2, 0)]
    assert t.of(UnitKind.SENSOR).tolist() == [0, 0]


def test_fault_counter_counts_n_in_a_sliding_window() -> None:
    c = FaultCounter(3)
    one = np.array([1], dtype=np.intp)
    assert not c.record(one, 0.0, 3, 100.0).any()
    assert not c.record(one, 50.0, 3, 100.0).any()
    assert c.record(one, 99.0, 3, 100.0).all()  # three within 100 s
    assert not c.record(one, 160.0, 3, 100.0).any()  # the first two fell out
    c.clear(one)
    assert c.record(np.array([], dtype=np.intp), 0.0, 3, 1.0).size == 0


def _store() -> ParameterStore:
    st = ParameterStore()
    st.declare("fdir", 0x2400, ParameterDef(1, "sel_excess_w", "f32", 30.0, 1.0, 1000.0))
    st.declare("fdir", 0x2400, ParameterDef(2, "n", "u8", 3, 1, 32))
    st.declare("storage", 0x1400, ParameterDef(1, "recording", "bool", True))
    return st


def test_param_guard_repairs_upsets_and_follows_legitimate_sets() -> None:
    st, nv = _store(), MemoryNvStore()
    guard = ParamGuard(st, nv)
    region = ParamRegion(st)
    assert set(region.words()) == {"fdir.sel_excess_w", "fdir.n", "storage.recording"}
    raw = bytearray(region.peek("fdir.sel_excess_w"))
    raw[0] ^= 0x40  # an exponent bit: 30 W becomes ~1e-37 W
    region.poke("fdir.sel_excess_w", bytes(raw))
    region.poke("storage.recording", b"\x41")  # a bool byte with stray bits
    assert st.get("fdir", "sel_excess_w") < 1e-30
    assert sorted(guard.check()) == [0x1401, 0x2401]
    assert st.get("fdir", "sel_excess_w") == 30.0 and st.get("storage", "recording") is True
    st.set("fdir", "sel_excess_w", 45.0)  # a PUS-20 set: the golden copy follows
    assert guard.check() == [] and st.get("fdir", "sel_excess_w") == 45.0
    guard.golden[0] = 1.0  # the RAM golden copy hit too: NV's copy is used
    region.poke("fdir.sel_excess_w", struct.pack(">f", 7.0))
    assert guard.check() and st.get("fdir", "sel_excess_w") == 45.0


class _ReferenceGuard:
    """The guard's rule written plainly (every value against its golden twin, the type
    too when a value differs): what the fast every-frame test must agree with."""

    def __init__(self, st: ParameterStore) -> None:
        self.st = st
        self.golden = {k: dict(v) for k, v in st.values.items()}
        self.sets = st.sets

    def check(self) -> list[int]:
        if self.st.sets != self.sets:
            self.golden = {k: dict(v) for k, v in self.st.values.items()}
            self.sets = self.st.sets
            return []
        live = [self.st.values[e.app][e.pdef.name] for e in self.st.by_id.values()]
        want = [self.golden[e.app][e.pdef.name] for e in self.st.by_id.values()]
        if live == want:
            return []
        out = []
        for e, now, good in zip(self.st.by_id.values(), live, want, strict=True):
            if now != good or type(now) is not type(good):
                self.st.values[e.app][e.pdef.name] = good
                out.append(e.pid)
        return sorted(out)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 31), st.booleans()), max_size=30))
def test_param_guard_repairs_what_the_plain_rule_repairs(ops: list[tuple[int, int, bool]]) -> None:
    """Bit flips (several in one frame, or one a frame) and legitimate sets in any order:
    the guard's fast test repairs exactly what comparing every value would, at once."""
    live, ref_store = _store(), _store()
    guard, ref = ParamGuard(live, MemoryNvStore()), _ReferenceGuard(ref_store)
    words = sorted(ParamRegion(live).words())
    for word_i, bit, end_frame in ops:
        for store in (live, ref_store):
            region = ParamRegion(store)
            word = words[word_i]
            if bit == 31 and word == "fdir.n":  # a PUS-20 set, not an upset
                store.set("fdir", "n", 7)
                continue
            raw = bytearray(region.peek(word))
            raw[(bit // 8) % len(raw)] ^= 0x80 >> (bit % 8)
            region.poke(word, bytes(raw))
        if end_frame:
            assert sorted(guard.check()) == ref.check()
            assert live.values == ref_store.values
    assert sorted(guard.check()) == ref.check()
    assert live.values == ref_store.values


def test_fdir_table_checks_and_crc() -> None:
    t = validated_table({"sel_n": 2, "sel_m": 3, "ladder": {"readmit_wait_s": 4.0}})
    values = flat(t)
    crc = table_crc(values)
    assert table_crc({**values, "ladder.min_beats": 3.0}) != crc
    assert table_crc({**values, "sel_n": 2**1100}) == -1
    assert timing_from({**values, "ladder.min_beats": math.nan}).min_beats == -1
    for bad, match in (
        ({"bogus": 1}, "bogus"),
        ({"ladder": {"nope": 1}}, "ladder.nope"),
        ({"ladder": {"cycle_off_s": 0}}, "cycle_off_s"),
        ({"sel_n": 4, "sel_m": 2}, "sel_n"),
    ):
        with pytest.raises(ValueError, match=match):
            validated_table(bad)


def test_watch_table_persistence_episodes_modes_and_bad_options() -> None:
    w = WatchTable.from_options(
        [
            {
                "id": 3,
                "point": "power.soc",
                "low": 0.2,
                "persist": 2,
                "mode": "active",
                "action": "safe_mode",
            }
        ]
    )
    # The check is the monitoring engine's (PUS-12's): a state changes after `persist`
    # equal results, into a violation and out of it, so one good sample between two bad
    # runs is one episode, and two good ones end it.
    samples = [0.5, 0.1, 0.1, 0.1, 0.5, 0.1, 0.1, 0.5, 0.5, 0.1, 0.1]
    values = iter(samples)
    hits = [w.evaluate(lambda app, point: next(values)) for _ in samples]
    assert [i for i, h in enumerate(hits) if h] == [2, 10]
    assert hits[2] == hits[10] == [(3, 0.1, 1)]  # once per episode
    assert w.core.samples == len(samples)  # the shared engine did the judging
    w.set(3, 1, 1, 0.0, 1.0)
    assert w.evaluate(lambda a, p: 1.5) == []  # one sample: not yet
    assert w.evaluate(lambda a, p: 1.5) == [(3, 1.5, 0)]  # report only: no action
    assert w.evaluate(lambda a, p: None) == []  # a point that does not exist: no verdict
    w.set(3, 1, 0, 0.0, 1.0)
    assert w.evaluate(lambda a, p: float("nan")) == []  # invalid, never a violation
    assert w.evaluate(lambda a, p: float("nan")) == []
    with pytest.raises(KeyError):
        w.set(9, 1, 0, 0.0, 1.0)
    with pytest.raises(ValueError):
        w.set(3, 1, 0, 2.0, 1.0)
    for bad in (
        {"point": "nodot"},
        {"point": "a.b", "mode": "loud"},
        {"point": "a.b", "x": 1},
        {"point": "a.b", "id": 0},
        {"point": "a.b", "action": "explode"},
    ):
        with pytest.raises(ValueError):
            WatchTable.from_options([bad])
