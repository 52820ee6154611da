"""PUS-17 test service: ping and connection tests."""

from flightsw.framework.app import FailureCode
from flightsw.sil.harness import SilHarness


def test_ping(sil: SilHarness) -> None:
    sil.send_and_assert_command("test.ping")
    assert len(sil.tm_of(17, 2)) == 1


def test_connection_test(sil: SilHarness) -> None:
    sil.send_and_assert_command("test.connection_test", {"apid": 0x064})
    assert sil.tm_of(17, 4)[-1].app_data == b"\x00\x64"
    rid = sil.send("test.connection_test", {"apid": 0x065})
    assert sil.failure_code(rid) == FailureCode.ILLEGAL_APID
