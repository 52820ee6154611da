import struct

from flightsw.framework.app import FailureCode
from flightsw.ground.commanding import id_list
from flightsw.sil.harness import SilHarness

SID = 0x1001  # CounterApp base 0x1000 + local sid 1


def _counter_reports(h: SilHarness) -> list[tuple[int, int, float]]:
    out = []
    for p in h.tm_of(3, 25):
        (sid,) = struct.unpack_from(">H", p.app_data)
        if sid == SID:
            out.append(struct.unpack(">IBf", p.app_data[2:]))
    return out


def test_periodic_reports_carry_declared_points(sil: SilHarness) -> None:
    sil.run(10.1)  # 101 minor frames: t = 0.0 .. 10.0 s, reports at 1..10 s
    reports = _counter_reports(sil)
    assert len(reports) == 10
    counts = [r[0] for r in reports]
    assert counts == sorted(counts) and counts[-1] >= 9
    assert reports[-1][2] == 1.5  # the gain parameter's default


def test_disable_enable_and_one_shot(sil: SilHarness) -> None:
    sil.send_and_assert_command("housekeeping.disable_hk", app_data=id_list([SID]))
    n = len(_counter_reports(sil))
    sil.run(5)
    assert len(_counter_reports(sil)) == n
    sil.send_and_assert_command("housekeeping.report_hk_once", app_data=id_list([SID]))
    assert len(_counter_reports(sil)) == n + 1
    sil.send_and_assert_command("housekeeping.enable_hk", app_data=id_list([SID]))
    sil.run(5)
    assert len(_counter_reports(sil)) >= n + 5


def test_change_interval(sil: SilHarness) -> None:
    data = struct.pack(">BHI", 1, SID, 200)
    sil.send_and_assert_command("housekeeping.set_hk_interval", app_data=data)
    n = len(_counter_reports(sil))
    sil.run(2)
    assert len(_counter_reports(sil)) - n == 10


def test_bad_hk_commands(sil: SilHarness) -> None:
    rid = sil.send("housekeeping.enable_hk", app_data=id_list([0x7777]))
    assert sil.failure_code(rid) == FailureCode.UNKNOWN_ID
    rid = sil.send("housekeeping.enable_hk", app_data=b"\x02\x10\x01")
    assert sil.failure_code(rid) == FailureCode.BAD_LENGTH
    for ms in (150, 50, 0, 86_400_001):
        rid = sil.send("housekeeping.set_hk_interval", app_data=struct.pack(">BHI", 1, SID, ms))
        assert sil.failure_code(rid) == FailureCode.ARG_OUT_OF_RANGE
