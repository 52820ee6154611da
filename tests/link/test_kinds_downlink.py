import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import flightsw.link.kinds_downlink as kd
from flightsw.base.errors import DecodeError, EncodeError, FlightswError
from flightsw.cli.packet import decode_one, encode_one
from flightsw.link.aos_frame import AosFrame
from flightsw.link.framer import TmFramer
from flightsw.link.tm_frame import TmFrame
from flightsw.packets.kinds import KINDS, KindOptions
from tests.link.test_aos_frame import aos_frames
from tests.link.test_tm_frame import tm_frames

OPTS = KindOptions()


def without_nulls(obj: dict[str, object]) -> dict[str, object]:
    """fields_from_json takes byte fields as hex only, so a null ``ocf`` is left out."""
    return {k: v for k, v in obj.items() if v is not None}


def test_kinds_registered_with_their_assumptions() -> None:
    assert KINDS["tm-frame"] is kd.TM_FRAME_KIND
    assert KINDS["aos-frame"] is kd.AOS_FRAME_KIND
    assert "FECF assumed present" in kd.TM_FRAME_KIND.doc
    assert "no OCF" in kd.AOS_FRAME_KIND.doc


@given(tm_frames())
def test_tm_json_round_trip(frame: TmFrame) -> None:
    raw = frame.encode()
    kind = KINDS["tm-frame"]
    obj = decode_one(kind, raw.hex(), OPTS)
    assert obj["scid"] == frame.scid and obj["data"] == frame.data.hex()
    assert obj["ocf"] == (None if frame.ocf is None else frame.ocf.hex())
    assert obj["ocf_flag"] == frame.ocf_flag
    assert encode_one(kind, json.dumps(without_nulls(obj)), OPTS) == raw.hex()
    # computed FECF when omitted
    obj.pop("fecf")
    assert encode_one(kind, json.dumps(without_nulls(obj)), OPTS) == raw.hex()


@given(aos_frames(has_ocf=False))
def test_aos_json_round_trip(frame: AosFrame) -> None:
    raw = frame.encode()
    kind = KINDS["aos-frame"]
    obj = decode_one(kind, raw.hex(), OPTS)
    assert obj["vc_count"] == frame.vc_count and obj["version"] == 1
    assert encode_one(kind, json.dumps(obj), OPTS) == raw.hex()
    obj["fecf"] = None
    assert encode_one(kind, json.dumps(obj), OPTS) == raw.hex()


def test_framer_output_decodes_and_minimal_json_encodes() -> None:
    framer = TmFramer(0x1AB, frame_len=64, has_ocf=True, clcw_source=lambda: b"\x01\x02\x03\x04")
    obj = kd._tm_decode(framer.next_frame(), OPTS)
    assert (obj["vcid"], obj["first_header_pointer"], obj["ocf"]) == (7, 0x7FE, "01020304")
    kind = KINDS["tm-frame"]
    out = encode_one(kind, '{"scid": 5, "vcid": 1, "data": "0102", "ocf": "aabbccdd"}', OPTS)
    f = TmFrame.decode(bytes.fromhex(out))
    assert (f.scid, f.vcid, f.data, f.ocf, f.segment_length_id) == (
        5,
        1,
        b"\x01\x02",
        b"\xaa\xbb\xcc\xdd",
        3,
    )
    bad_fecf = encode_one(kind, '{"scid": 5, "vcid": 1, "data": "01", "fecf": 4660}', OPTS)
    assert bad_fecf.endswith("1234")
    with pytest.raises(DecodeError) as exc:
        decode_one(kind, bad_fecf, OPTS)
    assert exc.value.field == "fecf"
    no_ocf = encode_one(kind, '{"scid": 5, "vcid": 1, "data": "01", "ocf": ""}', OPTS)
    assert TmFrame.decode(bytes.fromhex(no_ocf)).ocf is None
    with_sec = encode_one(kind, '{"scid": 5, "vcid": 1, "data": "01", "sec_hdr": "abcd"}', OPTS)
    assert TmFrame.decode(bytes.fromhex(with_sec)).sec_hdr == b"\xab\xcd"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"scid": 5, "vcid": 1, "data": "01", "ocf_flag": 1}', "ocf_flag"),
        ('{"scid": 5, "vcid": 9, "data": "01"}', "vcid"),
        ('{"scid": null, "vcid": 1, "data": "01"}', "scid"),
        ('{"scid": 5, "vcid": 1, "data": "01", "ocf": "0102"}', "ocf"),
        ('{"scid": 5, "vcid": 1, "data": "01", "first_header_pointer": 1}', "first_header_pointer"),
        ('{"scid": 5, "vcid": 1}', "data"),
        ('{"scid": 5, "vcid": 1, "data": "01", "mc": 1}', "mc"),
    ],
)
def test_tm_encode_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(EncodeError) as exc:
        encode_one(KINDS["tm-frame"], text, OPTS)
    assert exc.value.field == field


def test_direct_encode_accepts_hex_or_null_ocf() -> None:
    raw = kd._tm_encode({"scid": 1, "vcid": 0, "data": b"\x01", "ocf": "00000001"}, OPTS)
    assert TmFrame.decode(raw).ocf == b"\x00\x00\x00\x01"
    raw = kd._tm_encode({"scid": 1, "vcid": 0, "data": b"\x01", "ocf": None, "ocf_flag": 0}, OPTS)
    assert TmFrame.decode(raw).ocf is None
    with pytest.raises(EncodeError):
        kd._tm_encode({"scid": 1, "vcid": 0, "data": b"\x01", "ocf": "zz"}, OPTS)


@given(st.binary(max_size=100), st.sampled_from(["tm-frame", "aos-frame"]))
def test_garbage_decodes_raise_only_decode_error(raw: bytes, name: str) -> None:
    with contextlib.suppress(DecodeError):
        KINDS[name].decode(raw, OPTS)


json_values = st.one_of(
    st.none(),
    st.integers(-5, 1 << 30),
    st.booleans(),
    st.text(max_size=6),
    st.binary(max_size=8).map(bytes.hex),
)


def random_objects(name: str) -> st.SearchStrategy[dict[str, object]]:
    return st.dictionaries(st.sampled_from([*KINDS[name].fields, "bogus"]), json_values, max_size=8)


@pytest.mark.parametrize("name", ["tm-frame", "aos-frame"])
def test_random_json_raises_only_project_errors(name: str) -> None:
    kind = KINDS[name]

    @given(random_objects(name))
    def check(obj: dict[str, object]) -> None:
        try:
            out = encode_one(kind, json.dumps(obj), OPTS)
        except FlightswError:
            return
        assert decode_one(kind, out, OPTS)["scid"] == obj["scid"]

    check()
