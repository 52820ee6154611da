"""Files uplinked in segments (PUS 23 subset), and a job list submitted from one."""

import struct
import zlib

from flightsw.app import FailureCode
from flightsw.services.files import read_complete_file
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
