"""``flightsw packet decode|encode`` as a subprocess, the way interop scripts use it."""

import json
import subprocess
import sys

from flightsw.packets import PusTc, PusTm, SpacePacket

FLIGHTSW = [sys.executable, "-m", "flightsw.cli", "packet"]


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLIGHTSW, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={"CI": "1", "PATH": "/usr/bin:/bin"},
    )


def _assert_one_error_line(r: subprocess.CompletedProcess[str], *words: str) -> None:
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_decode_each_kind() -> None:
    tc = PusTc(0x64, 17, 1, b"\xab", seq_count=7, source_id=3)
    r = _run("decode", "pus-tc", tc.encode().hex())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "apid": 0x64,
        "seq_flags": 3,
        "seq_count": 7,
        "pus_version": 2,
        "ack_flags": 15,
        "service": 17,
        "subservice": 1,
        "source_id": 3,
        "app_data": "ab",
        "crc": int.from_bytes(tc.encode()[-2:], "big"),
    }
    tm = PusTm(0x64, 3, 25, b"\x10\x01", time=b"\x00\x00\x00\x05\x80\x00", msg_counter=9)
    got = json.loads(_run("decode", "pus-tm", tm.encode().hex()).stdout)
    assert got["time"] == "000000058000" and got["msg_counter"] == 9 and got["app_data"] == "1001"
    sp = SpacePacket(0x7FF, b"\x55" * 3, seq_count=2)
    got = json.loads(_run("decode", "space-packet", sp.encode().hex()).stdout)
    assert got == {
        "version": 0,
        "packet_type": 0,
        "sec_hdr_flag": 0,
        "apid": 0x7FF,
        "seq_flags": 3,
        "seq_count": 2,
        "data_length": 2,
        "data": "555555",
    }


def test_encode_derives_omitted_fields_and_keeps_given_ones() -> None:
    r = _run("encode", "pus-tc", '{"apid": 100, "service": 17, "subservice": 1}')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == PusTc(100, 17, 1).encode().hex()
    r = _run("encode", "pus-tc", '{"apid": 100, "service": 17, "subservice": 1, "crc": 4660}')
    assert r.stdout.strip().endswith("1234")
    r = _run("encode", "space-packet", '{"apid": 5, "data": "0102", "data_length": 7}')
    assert r.stdout.strip() == "0005c0000007" + "0102"


def test_time_len_option() -> None:
    tm = PusTm(1, 9, 2, b"", time=b"\x01\x02\x03\x04")
    r = _run("decode", "pus-tm", "--time-len", "4", tm.encode().hex())
    assert json.loads(r.stdout)["time"] == "01020304"
    r = _run("encode", "pus-tm", "--time-len", "4", '{"apid":1,"service":9,"subservice":2}')
    assert r.stdout.strip() == PusTm(1, 9, 2, time=bytes(4)).encode().hex()


def test_bad_input_gives_one_error_line() -> None:
    good = PusTc(0x64, 17, 1).encode()
    _assert_one_error_line(_run("decode", "pus-tc", good.hex()[:-1]), "odd")
    _assert_one_error_line(_run("decode", "pus-tc", good[:-3].hex()), "data_length", "byte 4")
    bad_crc = good[:-1] + bytes([good[-1] ^ 1])
    _assert_one_error_line(_run("decode", "pus-tc", bad_crc.hex()), "crc", f"byte {len(good) - 2}")
    pus1 = PusTc(0x64, 17, 1, pus_version=1).encode()
    _assert_one_error_line(_run("decode", "pus-tc", pus1.hex()), "pus_version")
    _assert_one_error_line(_run("decode", "pus-tc", (good + b"\0").hex()), "data_length")
    _assert_one_error_line(_run("decode", "pus-tc", "zz"), "hex")
    _assert_one_error_line(_run("decode", "no-such-kind", "00"), "unknown kind")
    _assert_one_error_line(_run("encode", "pus-tc", '{"apid": 1}'), "service")
    _assert_one_error_line(_run("encode", "pus-tc", "{not json"), "JSON")
    _assert_one_error_line(_run("encode", "pus-tc", '{"apid":1,"service":1,"subservice":1,"x":1}'))
    _assert_one_error_line(_run("encode", "pus-tc", '{"apid":4096,"service":1,"subservice":1}'))


def test_stdin_streams_and_survives_bad_lines() -> None:
    tcs = [PusTc(0x64, 17, 1, i.to_bytes(2, "big"), seq_count=i) for i in range(1000)]
    lines = [tc.encode().hex() for tc in tcs]
    lines.insert(500, "deadbeef")
    r = _run("decode", "pus-tc", "--stdin", stdin="\n".join(lines) + "\n")
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == 1001 and r.returncode == 1
    assert "error" in out[500] and "primary_header" not in out[499]
    assert [o["seq_count"] for o in out[:500] + out[501:]] == list(range(1000))
    objs = [json.dumps({k: v for k, v in o.items() if k != "crc"}) for o in out if "error" not in o]
    r = _run("encode", "pus-tc", "--stdin", stdin="\n".join(objs) + "\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [tc.encode().hex() for tc in tcs]
    r = _run("encode", "pus-tc", "--stdin", stdin='{"apid":1}\n' + objs[0] + "\n")
    outs = r.stdout.splitlines()
    assert "error" in json.loads(outs[0]) and outs[1] == tcs[0].encode().hex()
