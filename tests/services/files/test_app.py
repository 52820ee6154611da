"""Files uplinked in segments (PUS 23 subset), and a job list submitted from one."""

import struct
import zlib

from flightsw.framework.app import FailureCode
from flightsw.services.files.app import read_complete_file
from tests.apps.conftest import small_node


def _name(n: str) -> bytes:
    return bytes([len(n)]) + n.encode()


def _upload(h, name: str, content: bytes, segment: int = 40, order=None) -> None:  # type: ignore[no-untyped-def]
    h.send_and_assert_command(
        "files.create_file",
        app_data=_name(name) + struct.pack(">II", len(content), zlib.crc32(content)),
    )
    offsets = list(range(0, len(content), segment))
    for off in order(offsets) if order else offsets:
        h.send_and_assert_command(
            "files.write_file",
            app_data=_name(name) + struct.pack(">I", off) + content[off : off + segment],
        )


def test_segments_in_any_order_resent_or_not_make_the_file() -> None:
    h = small_node(radiation_enabled=False)
    content = bytes(range(256)) * 3
    _upload(h, "blob", content, order=lambda o: list(reversed(o)) + o[:3])
    assert read_complete_file(h.hal.nv, "blob") == content
    h.send_and_assert_command("files.report_file", app_data=_name("blob"))
    rep = h.tm_of(23, 13)[-1].app_data
    assert rep[1:5] == b"blob" and struct.unpack(">IIB", rep[5:]) == (768, 768, 1)


def test_bad_file_commands() -> None:
    h = small_node(radiation_enabled=False)
    good = b"0.01,1,0,60\n"
    _upload(h, "jobs", good)
    rid = h.send("files.create_file", app_data=_name("jobs") + struct.pack(">II", 4, 0))
    assert h.failure_code(rid) == FailureCode.INVALID_STATE
    rid = h.send("files.write_file", app_data=_name("nope") + struct.pack(">I", 0) + b"x")
    assert h.failure_code(rid) == FailureCode.UNKNOWN_ID
    rid = h.send("files.write_file", app_data=_name("jobs") + struct.pack(">I", 100) + b"x")
    assert h.failure_code(rid) == FailureCode.ARG_OUT_OF_RANGE
    rid = h.send("files.create_file", app_data=_name("../etc") + struct.pack(">II", 4, 0))
    assert h.failure_code(rid) == FailureCode.BAD_APP_DATA
    # A file whose CRC does not match never becomes readable.
    h.send_and_assert_command(
        "files.create_file", app_data=_name("bad") + struct.pack(">II", 4, 12345)
    )
    h.send_and_assert_command("files.write_file", app_data=_name("bad") + bytes(4) + b"abcd")
    assert read_complete_file(h.hal.nv, "bad") is None


def test_payload_submits_a_job_list_file_all_or_none() -> None:
    h = small_node(boards=4, radiation_enabled=False)
    _upload(h, "batch1", b"# hours,prio,deadline,ckpt\n0.01,1,0,60\n0.02,2,0,60\n0.01,0,0,30\n")
    h.send_and_assert_command("payload.submit_jobs_file", app_data=_name("batch1"))
    p = h.exe.app("payload").instance
    assert len(p.jobs) == 3
    _upload(h, "batch2", b"0.01,1,0,60\n99999,1,0,60\n")
    rid = h.send("payload.submit_jobs_file", app_data=_name("batch2"))
    assert h.failure_code(rid) == FailureCode.ARG_OUT_OF_RANGE
    _upload(h, "batch3", b"0.01,1,0,60\nnot,a,job\n\xff\xfe garbage\n")
    rid = h.send("payload.submit_jobs_file", app_data=_name("batch3"))
    assert h.failure_code(rid) == FailureCode.BAD_APP_DATA
    rid = h.send_pus(8, 1, (0x2206).to_bytes(2, "big") + b"\x09ab")  # name length lies
    assert h.failure_code(rid) == FailureCode.BAD_LENGTH
    rid = h.send("payload.submit_jobs_file", app_data=_name("missing"))
    assert h.failure_code(rid) == FailureCode.UNKNOWN_ID
    assert len(p.jobs) == 3
    h.run(200)
    assert p.tlm["jobs_done"] == 3


def test_directory_listing_by_tc_and_one_quota_for_both_ways_in() -> None:
    from flightsw.framework import layouts
    from flightsw.services.files.app import FILE_LIST, LIST_PER_REPORT

    h = small_node(radiation_enabled=False)
    _upload(h, "jobs", b"0.01,1,0,60\n")  # by PUS-23
    store = h.exe.app("files").instance.store
    for i in range(LIST_PER_REPORT + 3):  # as CFDP leaves them: one not complete yet
        store.create(f"r{i:02d}")
        store.write_at(f"r{i:02d}", 0, b"x" * (i + 1))
        store.mark_complete(f"r{i:02d}", i != 5)
    h.send_and_assert_command("files.list_files", app_data=_name("r"))
    reports = [layouts.parse_fields(FILE_LIST, p.app_data, "t") for p in h.tm_of(23, 8)]
    assert [(r["total"], r["first"], len(r["files"])) for r in reports] == [
        (35, 0, 32),
        (35, 32, 3),
    ]
    files = {f["name"]: (f["size"], f["complete"]) for r in reports for f in r["files"]}
    assert files["r05"] == (6, 0) and files["r34"] == (35, 1) and "jobs" not in files
    # The quota counts what CFDP wrote too: a PUS-23 file that would pass it is refused.
    h.exe.params.set("files", "max_total_bytes", store.usage()[1] + 1024)
    h.run(0.2)
    rid = h.send("files.create_file", app_data=_name("more") + struct.pack(">II", 1000, 0))
    h.await_completion(rid)
    rid = h.send("files.create_file", app_data=_name("most") + struct.pack(">II", 100, 0))
    assert h.failure_code(rid) == FailureCode.QUEUE_FULL
