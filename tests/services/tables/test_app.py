"""Table management in SIL: the PUS-12 definitions table loaded from a file on board."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from flightsw.framework.app import FailureCode
from flightsw.framework.layouts import decode
from flightsw.framework.tables import crc32
from flightsw.services.monitoring.app import TABLE, TABLE_NAME
from flightsw.services.tables.app import DUMP_TM, LOAD_TC, NAME_TC, STATUS_TM
from flightsw.sil.harness import SilHarness
from tests.support.ops import core_node, set_point

TABLES_BASE = 0x0E00


def pmon(
    pmon_id: int, point: str = "probe.x", low: float = 0.0, high: float = 10.0
) -> dict[str, Any]:
    return {
        "pmon_id": pmon_id,
        "point": point,
        "check": "limit",
        "persistence": 1,
        "mode": "report_only",
        "enabled": 1,
        "low": low,
        "high": high,
        "mask": 0,
        "expected": 0,
    }


def upload(h: SilHarness, name: str, content: bytes) -> None:
    raw = bytes([len(name)]) + name.encode()
    h.send_and_assert_command(
        "files.create_file", app_data=raw + struct.pack(">II", len(content), zlib.crc32(content))
    )
    for off in range(0, len(content), 200):
        h.send_and_assert_command(
            "files.write_file", app_data=raw + struct.pack(">I", off) + content[off : off + 200]
        )


def named(table: str = TABLE_NAME) -> bytes:
    return bytes(NAME_TC.build({"table": table}))


def load(h: SilHarness, file: str) -> int:
    return h.send("tables.load_table", app_data=LOAD_TC.build({"table": TABLE_NAME, "file": file}))


def status(h: SilHarness) -> dict[str, Any]:
    h.send_and_assert_command("tables.report_table", app_data=named())
    out: dict[str, Any] = decode(STATUS_TM, h.tm_of(140, 8)[-1].app_data, "tm(140,8)")
    return out


def running_ids(h: SilHarness) -> list[int]:
    return [d["pmon_id"] for d in h.exe.app("monitoring").instance.defs]


def image(*defs: dict[str, Any]) -> bytes:
    return bytes(TABLE.build({"definitions": list(defs)}))


def test_load_validate_activate_dump_and_report_crc() -> None:
    h = core_node()
    new = image(pmon(1), pmon(2, "probe.temp", -5.0, 5.0))
    upload(h, "mon.tbl", new)
    h.await_completion(load(h, "mon.tbl"))
    st = status(h)
    assert st["inactive"] == 1 and st["inactive_crc"] == crc32(new) and running_ids(h) == []
    h.send_and_assert_command("tables.validate_table", app_data=named())
    assert status(h)["inactive"] == 2
    h.send_and_assert_command("tables.activate_table", app_data=named())
    st = status(h)
    assert st["active_crc"] == crc32(new) and st["inactive"] == 0 and st["commits"] == 1
    assert running_ids(h) == [1, 2]
    h.send_and_assert_command("tables.dump_table", app_data=named())
    segs = [decode(DUMP_TM, p.app_data, "tm(140,6)") for p in h.tm_of(140, 6)]
    assert b"".join(s["data"] for s in sorted(segs, key=lambda s: s["offset"])) == new
    set_point(h, "x", 99.0)
    h.run(1.0)
    assert h.tm_of(12, 12)  # the table's definition runs


def test_a_table_failing_validation_never_becomes_active_and_says_why() -> None:
    h = core_node()
    good = image(pmon(1))
    upload(h, "good.tbl", good)
    h.await_completion(load(h, "good.tbl"))
    h.send_and_assert_command("tables.validate_table", app_data=named())
    h.send_and_assert_command("tables.activate_table", app_data=named())
    upload(h, "bad.tbl", image(pmon(5, "probe.nonexistent")))
    h.await_completion(load(h, "bad.tbl"))  # it decodes: the load itself succeeds
    rid = h.send("tables.validate_table", app_data=named())
    assert h.failure_code(rid) == FailureCode.INVALID_TABLE
    assert b"no telemetry point" in h.tm_of(1, 8)[-1].app_data
    rid = h.send("tables.activate_table", app_data=named())
    assert h.failure_code(rid) == FailureCode.INVALID_STATE
    st = status(h)
    assert st["active_crc"] == crc32(good) and st["rejects"] == 1
    assert "no telemetry point" in st["last_reason"] and running_ids(h) == [1]
    # An image that does not even decode is refused at load, with its reason.
    upload(h, "junk.tbl", b"\x00\x05\x01")
    assert h.failure_code(load(h, "junk.tbl")) == FailureCode.INVALID_TABLE
    rejected = [p for p in h.tm if p.service == 5 and p.app_data[:2] == b"\x0e\x03"]
    assert len(rejected) == 2 and running_ids(h) == [1]


def test_warm_restart_in_the_middle_of_a_load_leaves_the_old_table_active() -> None:
    h = core_node()
    upload(h, "v1.tbl", image(pmon(1)))
    h.await_completion(load(h, "v1.tbl"))
    for sub in ("validate_table", "activate_table"):
        h.send_and_assert_command(f"tables.{sub}", app_data=named())
    upload(h, "v2.tbl", image(pmon(2), pmon(3)))
    h.await_completion(load(h, "v2.tbl"))
    h.send_and_assert_command("tables.validate_table", app_data=named())
    h.reboot("watchdog")  # validated, never activated
    assert running_ids(h) == [1]
    st = status(h)
    assert st["inactive"] == 0 and st["active_crc"] == crc32(image(pmon(1)))
    # After the restart the operator reloads and commits; the new table then survives one.
    h.await_completion(load(h, "v2.tbl"))
    for sub in ("validate_table", "activate_table"):
        h.send_and_assert_command(f"tables.{sub}", app_data=named())
    h.reboot("watchdog")
    assert running_ids(h) == [2, 3]


def test_a_corrupted_active_critical_table_is_repaired_from_its_golden_copy() -> None:
    h = core_node()
    h.send_and_assert_command(
        "monitoring.add_monitoring_definitions",
        app_data=b"\x01" + image(pmon(4))[2:],  # the TC's N is a u8, the table's a u16
    )
    reg = h.exe.tables
    st = reg.tables[TABLE_NAME]
    good = st.active
    upset = bytearray(good)
    upset[-3] ^= 0x10  # an upset in the active image in RAM
    st.active = bytes(upset)
    mon = h.exe.app("monitoring").instance
    mon.defs[0]["high"] = -1.0  # and the working copy it was decoded into
    mark = len(h.tm)
    h.run(10.5)  # the tables service checks every 10 s
    assert st.active == good and reg.repairs == 1
    repaired = [p for p in h.tm[mark:] if p.service == 5 and p.app_data[:2] == b"\x0e\x04"]
    assert len(repaired) == 1
    assert mon.defs[0]["high"] == 10.0  # the owner took the repaired table
    assert status(h)["repairs"] == 1
