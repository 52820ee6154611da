"""``flightsw packet decode|encode`` as a subprocess, the way interop scripts use it."""

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import EncodeError, FlightswError
from flightsw.cli.packet import decode_one, encode_one
from flightsw.link.cltu import encode_cltu
from flightsw.link.tc_frame import TcFrame
from flightsw.link.tm_frame import TmFrame
from flightsw.packets import PUS_TC, PusTc, PusTm, SpacePacket
from flightsw.packets.kinds import KINDS, KindOptions, declared_fields
from tests.link.test_aos_frame import aos_frames
from tests.link.test_tc_frame import tc_frames
from tests.link.test_tm_frame import tm_frames
from tests.packets.strategies import pus_tcs, pus_tms, space_packets

OPTS = KindOptions()

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


# --- in process: every kind, decode -> JSON -> encode -------------------------------------

KIND_BYTES: dict[str, st.SearchStrategy[bytes]] = {
    "space-packet": space_packets().map(lambda p: p.encode()),
    "pus-tc": pus_tcs().map(lambda p: p.encode()),
    "pus-tm": pus_tms().map(lambda p: p.encode()),
    "tm-frame": tm_frames().map(lambda f: f.encode(has_fecf=True)),
    "aos-frame": aos_frames(has_ocf=False).map(lambda f: f.encode(has_fecf=True)),
    "tc-frame": tc_frames(segmented=False).filter(lambda f: f.has_fecf).map(TcFrame.encode),
    "tc-frame-seg": tc_frames(segmented=True).filter(lambda f: f.has_fecf).map(TcFrame.encode),
    "cltu": st.binary(min_size=1, max_size=300).map(encode_cltu),
    "cltu-randomized": st.binary(min_size=1, max_size=300).map(
        lambda b: encode_cltu(b, randomize=True)
    ),
}


def test_every_kind_has_a_round_trip_strategy() -> None:
    assert set(KIND_BYTES) == set(KINDS)


@given(st.sampled_from(sorted(KIND_BYTES)).flatmap(lambda n: st.tuples(st.just(n), KIND_BYTES[n])))
def test_decode_output_encodes_back_to_the_same_bytes(case: tuple[str, bytes]) -> None:
    """What ``packet decode KIND`` prints, ``packet encode KIND`` takes back to the same
    bytes, nulls included (a TM frame without OCF printed "ocf": null that encode refused)."""
    name, raw = case
    kind = KINDS[name]
    text = json.dumps(decode_one(kind, raw.hex(), OPTS))
    assert encode_one(kind, text, OPTS) == raw.hex()
    assert list(json.loads(text)) == list(kind.fields)


CODINGS = {"cltu", "cltu-randomized"}  # decoding corrects bit errors: the JSON round-trips


@st.composite
def received(draw: st.DrawFn) -> tuple[str, bytes]:
    """Bytes of a kind as they may arrive: a good encoding with up to three octets
    overwritten (a header field out of the encoder's habits, a bit error in a codeblock)."""
    name = draw(st.sampled_from(sorted(KIND_BYTES)))
    raw = bytearray(draw(KIND_BYTES[name]))
    for _ in range(draw(st.integers(0, 3))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return name, bytes(raw)


@given(received())
def test_whatever_decodes_encodes_back(case: tuple[str, bytes]) -> None:
    """Not only what our encoder makes: any bytes ``packet decode`` accepts give JSON
    that ``packet encode`` takes, and the same bytes back (a coding: the same JSON)."""
    name, raw = case
    kind = KINDS[name]
    try:
        text = json.dumps(decode_one(kind, raw.hex(), OPTS))
    except FlightswError:
        return  # garbage refused with our error is the decoder's business, tested there
    back = encode_one(kind, text, OPTS)
    if name in CODINGS:
        assert json.loads(text) == decode_one(kind, back, OPTS)
    else:
        assert back == raw.hex()


def test_a_cltu_with_corrected_bits_encodes_back_to_the_same_decode() -> None:
    """decode printed "corrected": 1 for a CLTU with a bit error; encode refused it."""
    good = bytearray(encode_cltu(b"\x01\x02\x03\x04\x05\x06\x07\x08"))
    good[5] ^= 0x10  # one bit error in the first codeblock
    obj = decode_one(KINDS["cltu"], bytes(good).hex(), OPTS)
    assert obj["corrected"] == 1 and obj["codeblocks"] == 2
    again = encode_one(KINDS["cltu"], json.dumps(obj), OPTS)
    assert decode_one(KINDS["cltu"], again, OPTS) == obj
    too_many = json.dumps({**obj, "corrected": 3})
    with pytest.raises(EncodeError, match="corrected"):
        encode_one(KINDS["cltu"], too_many, OPTS)


def test_tm_frame_without_ocf_or_secondary_header_as_null_encodes() -> None:
    obj = {"scid": 5, "vcid": 1, "data": "0102", "sec_hdr": None, "ocf": None, "fecf": None}
    assert (
        encode_one(KINDS["tm-frame"], json.dumps(obj), OPTS)
        == TmFrame(5, 1, b"\1\2").encode().hex()
    )


def test_tm_frame_without_ocf_round_trips() -> None:
    raw = TmFrame(5, 1, b"\x01\x02").encode()
    obj = decode_one(KINDS["tm-frame"], raw.hex(), OPTS)
    assert obj["ocf"] is None and obj["ocf_flag"] == 0
    assert encode_one(KINDS["tm-frame"], json.dumps(obj), OPTS) == raw.hex()
    r = _run("encode", "tm-frame", json.dumps(obj))
    assert r.returncode == 0 and r.stdout.strip() == raw.hex(), r.stderr


def test_kind_fields_are_the_declarations() -> None:
    """The CLI's field names are read from the construct declarations, not listed."""
    assert KINDS["pus-tc"].fields == declared_fields(PUS_TC, PusTc)
    assert KINDS["tm-frame"].fields[:4] == ("version", "scid", "vcid", "ocf_flag")
    assert "ocf" not in KINDS["aos-frame"].fields  # the kind's declaration has no OCF
    assert KINDS["tc-frame"].required == ("scid", "vcid", "data")
    assert {"frame_length", "seq_flags", "map_id", "fecf"} <= set(KINDS["tc-frame"].nullable)


def test_null_is_omitted_for_every_field_but_the_required() -> None:
    """Any field with a default may be null: the same as leaving it out."""
    for kind in KINDS.values():
        assert set(kind.nullable) == set(kind.fields) - set(kind.required), kind.name
