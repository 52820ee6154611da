import struct

from flightsw.framework.app import FailureCode
from flightsw.ground.commanding import id_list
from flightsw.sil.harness import SilHarness

GAIN, LIMIT = 0x1001, 0x1002


def test_report_parameter_values(sil: SilHarness) -> None:
    sil.send_and_assert_command("parameters.report_parameters", app_data=id_list([GAIN, LIMIT]))
    data = sil.tm_of(20, 2)[-1].app_data
    assert data == struct.pack(">BHfHH", 2, GAIN, 1.5, LIMIT, 100)


def test_set_with_validation_all_or_nothing(sil: SilHarness) -> None:
    good = struct.pack(">BHfHH", 2, GAIN, 2.5, LIMIT, 500)
    sil.send_and_assert_command("parameters.set_parameters", app_data=good)
    assert sil.exe.params.get("counter", "gain") == 2.5
    assert sil.exe.params.get("counter", "limit") == 500
    # second value out of range: nothing changes
    bad = struct.pack(">BHfHH", 2, GAIN, 3.5, LIMIT, 5000)
    rid = sil.send("parameters.set_parameters", app_data=bad)
    assert sil.failure_code(rid) == FailureCode.ARG_OUT_OF_RANGE
    assert sil.exe.params.get("counter", "gain") == 2.5
    nan = struct.pack(">BHf", 1, GAIN, float("nan"))
    assert sil.failure_code(sil.send("parameters.set_parameters", app_data=nan)) == (
        FailureCode.ARG_OUT_OF_RANGE
    )


def test_bad_parameter_tcs(sil: SilHarness) -> None:
    cases = [
        (struct.pack(">BHf", 1, 0x7777, 1.0), FailureCode.UNKNOWN_ID),
        (struct.pack(">BH", 1, GAIN), FailureCode.BAD_LENGTH),
        (struct.pack(">BHfB", 1, GAIN, 1.0, 0), FailureCode.BAD_LENGTH),
        (b"", FailureCode.BAD_LENGTH),
    ]
    for data, code in cases:
        assert sil.failure_code(sil.send("parameters.set_parameters", app_data=data)) == code
    rid = sil.send("parameters.report_parameters", app_data=id_list([0x7777]))
    assert sil.failure_code(rid) == FailureCode.UNKNOWN_ID


def test_app_sees_new_value(sil: SilHarness) -> None:
    sil.send_and_assert_command(
        "parameters.set_parameters", app_data=struct.pack(">BHf", 1, GAIN, 7.0)
    )
    sil.run(1.1)
    assert sil.exe.app("counter").instance.tlm["gain"] == 7.0
