"""PUS-9 time reports: rate and on-board time."""

import itertools
import struct

from flightsw.framework.app import FailureCode
from flightsw.packets import cuc_decode
from flightsw.sil.harness import SilHarness


def test_time_reports_follow_rate_and_carry_onboard_time(sil: SilHarness) -> None:
    sil.send_and_assert_command("time.set_time_rate", {"exponent": 1})
    start = len(sil.tm_of(9, 2))
    sil.run(10)
    reports = sil.tm_of(9, 2)[start:]
    assert len(reports) == 5
    times = [cuc_decode(r.app_data[1:]) for r in reports]
    assert all(b - a == 2_000_000_000 for a, b in itertools.pairwise(times))
    assert all(r.app_data[0] == 1 for r in reports)
    assert all(cuc_decode(r.time) == t for r, t in zip(reports, times, strict=False))


def test_time_rate_out_of_range(sil: SilHarness) -> None:
    rid = sil.send_pus(9, 1, struct.pack(">B", 17))
    assert sil.failure_code(rid) == FailureCode.ARG_OUT_OF_RANGE
