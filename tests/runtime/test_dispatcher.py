"""Bad TCs get the right PUS-1 acceptance failure code and change nothing."""

import struct

import pytest

from flightsw.base.errors import CommandError
from flightsw.framework.app import FailureCode
from flightsw.packets import PusTc
from flightsw.sil.harness import SilHarness

APID = 0x064


def _fail_code_of_raw(h: SilHarness, raw: bytes) -> int:
    before = len(h.tm)
    h.send_raw(raw)
    h.run(0.2)
    reports = [p for p in h.tm[before:] if p.service == 1 and p.subservice == 2]
    assert len(reports) == 1, "exactly one acceptance failure expected"
    return struct.unpack_from(">H", reports[0].app_data, 4)[0]


def test_good_tc_gets_acceptance_start_completion(sil: SilHarness) -> None:
    rid = sil.send("counter.set_level", {"level": 3})
    sil.await_completion(rid)
    assert [v.subservice for v in sil.verifications(rid)] == [1, 3, 7]
    assert sil.exe.app("counter").instance.tlm["level"] == 3


def test_ack_flags_select_success_reports(sil: SilHarness) -> None:
    rid = sil.send("counter.set_level", {"level": 1}, ack_flags=0b1000)
    sil.run(2)
    assert [v.subservice for v in sil.verifications(rid)] == [7]
    rid = sil.send("counter.set_level", {"level": 1}, ack_flags=0)
    sil.run(2)
    assert sil.verifications(rid) == []
    # failures are reported whatever the flags say
    rid = sil.send("counter.refuse", ack_flags=0)
    sil.run(2)
    assert [(v.subservice, v.failure_code) for v in sil.verifications(rid)] == [
        (8, FailureCode.INVALID_STATE)
    ]


def test_handler_exception_is_an_execution_failure_and_app_survives(sil: SilHarness) -> None:
    rid = sil.send("counter.buggy")
    assert sil.failure_code(rid) == FailureCode.EXECUTION_ERROR
    assert sil.exe.app("counter").stats.exceptions == 1
    sil.send_and_assert_command("counter.set_level", {"level": 2})


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", FailureCode.MALFORMED_PACKET),
        (b"\x18", FailureCode.MALFORMED_PACKET),
        (bytes(7), FailureCode.MALFORMED_PACKET),
    ],
)
def test_garbage_is_rejected(sil: SilHarness, raw: bytes, code: int) -> None:
    got = _fail_code_of_raw(sil, raw)
    assert got in (code, FailureCode.BAD_LENGTH, FailureCode.MALFORMED_PACKET)


def test_bad_crc_and_version_and_length(sil: SilHarness) -> None:
    good = PusTc(APID, 17, 1).encode()
    bad_crc = good[:-1] + bytes([good[-1] ^ 1])
    assert _fail_code_of_raw(sil, bad_crc) == FailureCode.BAD_CHECKSUM
    pus1 = PusTc(APID, 17, 1, pus_version=1).encode()
    assert _fail_code_of_raw(sil, pus1) == FailureCode.BAD_PUS_VERSION
    assert _fail_code_of_raw(sil, good + b"\x00") == FailureCode.BAD_LENGTH
    assert _fail_code_of_raw(sil, good[:-3]) == FailureCode.BAD_LENGTH


def test_routing_failures(sil: SilHarness) -> None:
    assert _fail_code_of_raw(sil, PusTc(0x123, 17, 1).encode()) == FailureCode.ILLEGAL_APID
    assert _fail_code_of_raw(sil, PusTc(APID, 200, 1).encode()) == FailureCode.ILLEGAL_SERVICE
    assert _fail_code_of_raw(sil, PusTc(APID, 17, 99).encode()) == FailureCode.ILLEGAL_SUBSERVICE
    fm = PusTc(APID, 8, 1, app_data=b"\xbe\xef").encode()
    assert _fail_code_of_raw(sil, fm) == FailureCode.ILLEGAL_FUNCTION
    assert _fail_code_of_raw(sil, PusTc(APID, 8, 1, b"\x10").encode()) == FailureCode.BAD_LENGTH


def test_argument_checks(sil: SilHarness) -> None:
    fid = struct.pack(">H", 0x1001)
    out_of_range = PusTc(APID, 8, 1, fid + b"\x07").encode()
    assert _fail_code_of_raw(sil, out_of_range) == FailureCode.ARG_OUT_OF_RANGE
    too_long = PusTc(APID, 8, 1, fid + b"\x01\x02").encode()
    assert _fail_code_of_raw(sil, too_long) == FailureCode.BAD_LENGTH
    assert sil.exe.app("counter").instance.tlm["level"] == 0  # nothing changed


def test_random_garbage_never_stops_the_executive(sil: SilHarness) -> None:
    import random

    rng = random.Random(7)
    good = PusTc(APID, 17, 1).encode()
    for _ in range(300):
        kind = rng.randrange(3)
        if kind == 0:
            raw = rng.randbytes(rng.randrange(0, 40))
        elif kind == 1:
            b = bytearray(good)
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            raw = bytes(b)
        else:
            raw = good[: rng.randrange(len(good))]
        sil.send_raw(raw)
        sil.exe.run_minor_frame()
    sil.run(1)
    rejected = sum(sil.exe.dispatcher.rejected_by_code.values())
    assert rejected + sil.exe.dispatcher.accepted == 300
    sil.send_and_assert_command("counter.set_level", {"level": 1})


def test_pus8_reaches_every_function_in_the_dictionary() -> None:
    """Every command the dictionary declares as a function (TC(8,1) + id), in every app of
    the default mission (new services included), reaches its owner by TC(8,1), uplinked
    and released on board (the path of PUS-11, sequences and PUS-19): each is sent with
    application data its owner must refuse (so nothing runs) and must be refused by that
    owner's decoder, never as an unknown function; an id nobody declared is."""
    from flightsw.runtime.mission import load_mission

    m = load_mission()
    m.hal = {**m.hal, "spacecraft": {"boards": 4}}
    h = SilHarness(m)
    functions = [c for c in h.dictionary["commands"] if c.get("function_id") is not None]
    apps = {c["app"] for c in h.dictionary["commands"]}
    assert len(functions) >= 20 and {"executive", "payload", "power", "fdir"} <= apps
    routes = h.exe.dispatcher.by_function
    assert sorted(routes) == sorted(c["function_id"] for c in functions)
    for c in functions:
        fid = c["function_id"]
        assert (c["service"], c["subservice"]) == (8, 1)
        route = routes[fid]
        assert f"{route.app}.{route.cdef.name}" == c["name"]
        fixed = sum(struct.calcsize(">" + _code(a["type"])) for a in c["args"] or ())
        bad = b"\xff" * (fixed + 1) if c.get("layout") is None else b""
        for released in (False, True):
            tc = PusTc(APID, 8, 1, struct.pack(">H", fid) + bad, seq_count=fid & 0x3FFF)
            before = len(h.tm)
            if released:
                h.exe.dispatcher.dispatch(tc.encode())
            else:
                h.send_raw(tc.encode())
            h.run(0.2)
            failures = [
                (struct.unpack_from(">H", p.app_data, 4)[0], p.app_data[6:])
                for p in h.tm[before:]
                if p.service == 1 and p.subservice == 2
            ]
            assert len(failures) == 1, (c["name"], released, failures)
            code, reason = failures[0]
            assert code in (FailureCode.BAD_LENGTH, FailureCode.BAD_APP_DATA), (c["name"], code)
            # refused by the owner's decoder: the reason is the one its own parser (or the
            # declared layout, which names the command) gives for these octets
            if route.parser is not None:
                with pytest.raises(CommandError) as own:
                    route.parser(bad)
                assert reason == own.value.reason.encode()[:64], (c["name"], reason)
            else:
                assert c["name"].split(".", 1)[1].encode() in reason, (c["name"], reason)
    unknown = max(routes) + 1
    tc = PusTc(APID, 8, 1, struct.pack(">H", unknown), seq_count=1)
    assert _fail_code_of_raw(h, tc.encode()) == FailureCode.ILLEGAL_FUNCTION


def _code(type_name: str) -> str:
    from flightsw.framework.datatypes import TYPES

    return TYPES[type_name].code
