"""The table registry: load, validate, double-buffered commit, repair of critical tables."""

from __future__ import annotations

from typing import Any

import pytest
from construct import Int16ub, PrefixedArray, Struct

from flightsw.base.errors import CommandError
from flightsw.framework.app import FailureCode
from flightsw.framework.tables import TableDef, TableRegistry, crc32
from hal.nvstore import MemoryNvStore
from tests.support.nv import PowerFailingNv, PowerLoss

LAYOUT = Struct("values" / PrefixedArray(Int16ub, Int16ub))


def validate(value: Any) -> str | None:
    vals = value["values"]
    return None if vals == sorted(vals) else "values must be ascending"


def make(nv: Any, critical: bool = True) -> tuple[TableRegistry, list[Any]]:
    applied: list[Any] = []
    reg = TableRegistry(nv)
    reg.register(
        TableDef("t", LAYOUT, validate, applied.append, {"values": [1, 2]}, critical=critical)
    )
    return reg, applied


def image(*values: int) -> bytes:
    return bytes(LAYOUT.build({"values": list(values)}))


def test_load_validate_activate_and_the_next_boot_reads_the_golden_copy() -> None:
    nv = MemoryNvStore()
    reg, applied = make(nv)
    assert applied[-1] == {"values": [1, 2]}
    reg.load("t", image(3, 4, 5))
    assert applied[-1] == {"values": [1, 2]}  # loading does not touch the active table
    reg.validate("t")
    reg.activate("t")
    assert applied[-1] == {"values": [3, 4, 5]}
    assert reg.tables["t"].active_crc == crc32(image(3, 4, 5))
    _, applied2 = make(nv)  # a reboot: a fresh registry over the same NV
    assert applied2[-1] == {"values": [3, 4, 5]}


@pytest.mark.parametrize("bad", [image(5, 4), b"\x00\x05\x00", image(1) + b"\x00"])
def test_a_table_failing_validation_or_decoding_never_becomes_active(bad: bytes) -> None:
    reg, applied = make(MemoryNvStore())
    before = reg.tables["t"].active
    with pytest.raises(CommandError) as err:
        reg.load("t", bad)
        reg.validate("t")
    assert err.value.code == FailureCode.INVALID_TABLE and err.value.data
    with pytest.raises(CommandError) as err2:
        reg.activate("t")  # nothing validated to activate
    assert err2.value.code == FailureCode.INVALID_STATE
    assert reg.tables["t"].active == before and applied == [{"values": [1, 2]}]


@pytest.mark.parametrize("writes_before_loss", [0, 1, 2])
def test_power_loss_during_commit_leaves_one_whole_table(writes_before_loss: int) -> None:
    nv = PowerFailingNv()
    reg, _ = make(nv)
    reg.commit("t", {"values": [7, 8]})  # the golden copy now holds [7, 8]
    reg.load("t", image(9, 10, 11))
    reg.validate("t")
    nv.writes_left = writes_before_loss
    with pytest.raises(PowerLoss):
        reg.activate("t")
    nv.writes_left = None
    _, applied = make(nv)  # reboot
    # Three copies written in turn: fewer than two new ones -> the old table, else the new.
    want = [9, 10, 11] if writes_before_loss >= 2 else [7, 8]
    assert applied[-1] == {"values": want}


def test_a_load_interrupted_by_a_restart_is_gone_and_the_old_table_active() -> None:
    nv = MemoryNvStore()
    reg, _ = make(nv)
    reg.load("t", image(20, 30))
    reg.validate("t")  # validated but never activated
    reg2, applied = make(nv)
    assert applied[-1] == {"values": [1, 2]} and reg2.tables["t"].inactive is None


def test_corrupted_active_critical_table_is_repaired_from_golden() -> None:
    nv = MemoryNvStore()
    reg, applied = make(nv)
    reg.commit("t", {"values": [4, 5, 6]})
    st = reg.tables["t"]
    flipped = bytearray(st.active)
    flipped[3] ^= 0x40  # an upset in RAM
    st.active = bytes(flipped)
    nv.write("table.t.1", b"garbage")  # and one golden copy upset too: still outvoted
    assert reg.check_critical() == ["t"]
    assert st.active == image(4, 5, 6) and applied[-1] == {"values": [4, 5, 6]}
    assert reg.repairs == 1 and reg.check_critical() == []


def test_non_critical_tables_are_not_checked() -> None:
    reg, _ = make(MemoryNvStore(), critical=False)
    reg.tables["t"].active = b"\xff"
    assert reg.check_critical() == [] and reg.checks == 0


def test_a_validation_function_that_raises_refuses_the_image() -> None:
    reg = TableRegistry(MemoryNvStore())

    def boom(value: Any) -> str | None:
        if value["values"] and value["values"][0] == 99:
            raise ZeroDivisionError("bug")
        return None

    reg.register(TableDef("t", LAYOUT, boom, lambda v: None, {"values": []}))
    reg.load("t", image(99))
    with pytest.raises(CommandError, match="ZeroDivisionError"):
        reg.validate("t")
    assert reg.tables["t"].inactive is None
