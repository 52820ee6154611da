"""The uplink CLI kinds, through the kind functions the CLI calls."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import flightsw.link.kinds_uplink  # noqa: F401  (registers the kinds)
from flightsw.base.errors import DecodeError, EncodeError, FlightswError
from flightsw.link.cltu import encode_cltu
from flightsw.link.tc_frame import TcFrame
from flightsw.packets.kinds import KINDS, KindOptions, fields_from_json

OPTS = KindOptions()


def encode(kind: str, obj: dict[str, object]) -> bytes:
    k = KINDS[kind]
    return k.encode(fields_from_json(k, obj), OPTS)


def test_kinds_are_registered() -> None:
    for name in ("tc-frame", "tc-frame-seg", "cltu", "cltu-randomized"):
        assert name in KINDS and KINDS[name].doc


def test_tc_frame_decode_gives_documented_fields() -> None:
    raw = TcFrame(scid=123, vcid=1, data=b"\x01\x02", seq=7, bypass=1).encode()
    out = KINDS["tc-frame"].decode(raw, OPTS)
    assert out == {
        "version": 0,
        "bypass": 1,
        "control": 0,
        "spare": 0,
        "scid": 123,
        "vcid": 1,
        "frame_length": 8,
        "seq": 7,
        "seq_flags": None,
        "map_id": None,
        "data": "0102",
        "fecf": int.from_bytes(raw[-2:], "big"),
    }


def test_tc_frame_json_round_trip_both_kinds() -> None:
    raw = encode("tc-frame", {"scid": 5, "vcid": 2, "data": "aabb", "seq_flags": 3, "map_id": 9})
    assert raw[5] == 0xC9
    out = KINDS["tc-frame-seg"].decode(raw, OPTS)
    assert (out["seq_flags"], out["map_id"], out["data"]) == (3, 9, "aabb")
    assert encode("tc-frame-seg", out) == raw
    plain = KINDS["tc-frame"].decode(raw, OPTS)
    assert plain["seq_flags"] is None and plain["data"] == "c9aabb"


def test_tc_frame_verbatim_fecf_and_length_make_bad_frames() -> None:
    raw = encode("tc-frame", {"scid": 5, "vcid": 2, "data": "aa", "fecf": 0})
    with pytest.raises(DecodeError) as exc:
        KINDS["tc-frame"].decode(raw, OPTS)
    assert exc.value.field == "fecf"
    raw = encode("tc-frame", {"scid": 5, "vcid": 2, "data": "aa", "frame_length": 99})
    with pytest.raises(DecodeError) as exc:
        KINDS["tc-frame"].decode(raw, OPTS)
    assert exc.value.field == "frame_length"


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"scid": 5, "vcid": 2}, "data"),
        ({"scid": 5000, "vcid": 2, "data": "aa"}, "scid"),
        ({"scid": 5, "vcid": 2, "data": "aa", "colour": 1}, "colour"),
        ({"scid": 5, "vcid": 2, "data": "zz"}, "data"),
        ({"scid": 5, "vcid": 2, "data": ""}, "data"),
    ],
)
def test_tc_frame_bad_json(obj: dict[str, object], field: str) -> None:
    with pytest.raises(EncodeError) as exc:
        encode("tc-frame", obj)
    assert exc.value.field == field


def test_cltu_kinds() -> None:
    frame = TcFrame(scid=1, vcid=0, data=b"cmd").encode()
    raw = encode("cltu", {"frame": frame.hex()})
    assert raw == encode_cltu(frame)
    out = KINDS["cltu"].decode(raw, OPTS)
    assert out == {"frame": (frame + b"\x55" * 4).hex(), "codeblocks": 2, "corrected": 0}
    assert encode("cltu", out) == raw  # decode output encodes back
    rnd = encode("cltu-randomized", {"frame": frame.hex()})
    assert rnd == encode_cltu(frame, randomize=True) != raw
    assert KINDS["cltu-randomized"].decode(rnd, OPTS)["frame"].startswith(frame.hex())
    damaged = bytearray(raw)
    damaged[3] ^= 0x10
    assert KINDS["cltu"].decode(bytes(damaged), OPTS)["corrected"] == 1


def test_cltu_encode_checks_statistics_and_frame() -> None:
    frame = "00112233"
    with pytest.raises(EncodeError) as exc:
        encode("cltu", {"frame": frame, "codeblocks": 3})
    assert exc.value.field == "codeblocks"
    with pytest.raises(EncodeError) as exc:
        encode("cltu", {"frame": frame, "corrected": 2})
    assert exc.value.field == "corrected"
    with pytest.raises(EncodeError):
        encode("cltu", {"frame": ""})
    with pytest.raises(EncodeError):
        encode("cltu", {})


@given(st.sampled_from(["tc-frame", "tc-frame-seg", "cltu", "cltu-randomized"]), st.binary())
def test_decoding_any_bytes_raises_only_decode_error(kind: str, raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        KINDS[kind].decode(raw, OPTS)


@given(
    st.dictionaries(
        st.sampled_from(
            ["scid", "vcid", "seq", "bypass", "control", "spare", "version", "map_id", "fecf"]
        ),
        st.one_of(st.none(), st.integers(-5, 70000)),
    ),
    st.binary(max_size=20),
)
def test_encoding_any_fields_raises_only_project_errors(
    fields: dict[str, object], data: bytes
) -> None:
    obj = {"scid": 1, "vcid": 1, **fields, "data": data.hex()}
    with contextlib.suppress(FlightswError):
        encode("tc-frame", obj)
