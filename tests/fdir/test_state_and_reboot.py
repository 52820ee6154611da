"""The flight computer's own faults: voting store, table check, watchdog reset, warm restart."""

import numpy as np

from fdir.voting import VotingStore
from hal.nvstore import MemoryNvStore
from sim_hw.faults import FaultKind, ScheduledFault
from tests.apps.conftest import small_node


def test_voting_store_repairs_a_corrupted_copy() -> None:
    nv = MemoryNvStore()
    store = VotingStore(nv, "crit")
    assert store.read() is None
    store.write(b"state-1")
    bad = bytearray(nv.read("crit.1") or b"")
    bad[-1] ^= 0x40
    nv.write("crit.1", bytes(bad))
    nv.delete("crit.2")
    assert store.read() == b"state-1"
    assert store.repairs == 2
    assert nv.read("crit.1") == nv.read("crit.0") == nv.read("crit.2")
    # Two copies that agree outvote a third that is valid but different.
    other = VotingStore(nv, "crit")
    nv.write("crit.0", nv.read("crit.1") or b"")
    VotingStore(nv, "x").write(b"stale")
    nv.write("crit.2", nv.read("x.0") or b"")
    assert other.read() == b"state-1"


def test_corrupted_fdir_table_is_reloaded() -> None:
    h = small_node(radiation_enabled=False)
    fdir = h.exe.app("fdir").instance
    h.run(2)
    good = fdir.ladder.timing
    fdir.ladder.timing = type(good)(**{**good.__dict__, "sel_cooldown_s": 9999.0})  # an upset
    h.run(65)
    assert fdir.ladder.timing == good and fdir.table_repairs == 1
    assert fdir.tlm["table_repairs"] == 1


def test_watchdog_reset_keeps_boot_count_state_and_packet_store() -> None:
    h = small_node(radiation_enabled=False)
    sc = h.hal.harness["sim"]
    sc.faults.extend([ScheduledFault(t, FaultKind.SEL, 2) for t in (5.0, 25.0, 45.0)])
    h.send_and_assert_command(
        "payload.submit_job",
        {"board_hours": 5.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 60.0},
    )
    for _ in range(16):
        h.send(
            "payload.submit_job",
            {"board_hours": 5.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 60.0},
        )
    h.run(60)
    fdir = h.exe.app("fdir").instance
    assert fdir.ladder.state[2] == 6 and fdir.state.boot_count == 1
    h.send_and_assert_command("fdir.enter_safe_mode")
    h.run(2)
    stored = h.exe.app("storage").instance.store.packet_count
    assert stored > 0
    assert h.hang(10.0)  # the executive stops; the 5 s watchdog resets the computer
    h.run(3)
    fdir = h.exe.app("fdir").instance
    assert fdir.state.boot_count == 2 and fdir.state.reset_reason == "watchdog"
    assert fdir.ladder.state[2] == 6 and not sc.boards.powered[2]  # still isolated
    assert fdir.safe  # still in safe mode: only the ground ends it
    assert h.exe.app("storage").instance.store.packet_count >= stored  # store intact
    boots = [p for p in h.tm_of(5, 3) if p.app_data[:2] == (0x2400 + 10).to_bytes(2, "big")]
    assert boots and int.from_bytes(boots[-1].app_data[2:6], "big") == 2
    assert boots[-1].app_data[6] == 1  # reason: watchdog


def test_a_short_stall_does_not_reset() -> None:
    h = small_node(radiation_enabled=False)
    h.run(2)
    assert not h.hang(3.0)
    h.run(2)
    assert h.exe.app("fdir").instance.state.boot_count == 1
    assert np.all(h.exe.app("fdir").instance.ladder.state == 0)
