"""Switch ladder: retry with back-off, isolate on repeats, critical switches never left off."""

from flightsw.apps.power.switch_ladder import (
    EXTERNAL_CONTROL,
    FAULTY,
    HEALTHY,
    NEEDS_RECOVERY,
    PERMANENT_FAULTY,
    SwitchLadder,
)


def test_retries_back_off_then_isolate() -> None:
    lad = SwitchLadder(("avionics", "payload_0"), {"avionics"})
    assert not lad.tripped(1, 0.0, 2.0, 3, 600.0)
    assert lad.health[1] == NEEDS_RECOVERY and lad.due(1.0) == [] and lad.due(2.0) == [1]
    assert lad.health[1] == HEALTHY
    assert not lad.tripped(1, 3.0, 2.0, 3, 600.0) and lad.retry_at[1] == 7.0  # doubled
    assert lad.due(7.0) == [1]
    assert lad.tripped(1, 8.0, 2.0, 3, 600.0) and lad.health[1] == FAULTY
    assert not lad.may_close(1) and lad.due(1e6) == []
    lad.command(1, HEALTHY)
    assert lad.may_close(1) and not lad.tripped(1, 9.0, 2.0, 3, 600.0)  # history cleared


def test_critical_switches_are_retried_forever_and_external_control_is_left_alone() -> None:
    lad = SwitchLadder(("avionics", "payload_0"), {"avionics"})
    for k in range(10):
        assert not lad.tripped(0, 100.0 * k, 1.0, 3, 1e6)
        assert lad.due(100.0 * k + 70.0) == [0]
    lad.command(1, EXTERNAL_CONTROL)
    assert not lad.tripped(1, 0.0, 1.0, 1, 10.0) and lad.health[1] == EXTERNAL_CONTROL
    lad.command(1, PERMANENT_FAULTY)
    assert not lad.may_close(1)
