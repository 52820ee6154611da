import itertools

import pytest

from flightsw.runtime.schedule import ScheduleError, build_schedule, period_for


def test_periods_and_rejections() -> None:
    assert period_for("a", 10, 10, 10) == 1
    assert period_for("a", 1, 10, 10) == 10
    assert period_for("a", 0.1, 10, 10) == 100
    assert period_for("a", 5, 10, 10) == 2
    for bad in (0, -1, 20, 3, 0.3):
        with pytest.raises(ScheduleError):
            period_for("a", bad, 10, 10)


def test_slow_apps_are_spread_over_minor_frames() -> None:
    apps = [(f"app{i}", 1.0, 1.0) for i in range(10)]
    slots, table = build_schedule(apps, 10, 10)
    assert len(table) == 10
    assert sorted(s.offset for s in slots) == list(range(10))
    assert all(len(frame) == 1 for frame in table)


def test_every_app_runs_at_its_rate_over_the_hyperperiod() -> None:
    apps = [("fast", 10.0, 1.0), ("half", 5.0, 1.0), ("slow", 1.0, 1.0), ("slower", 0.5, 1.0)]
    slots, table = build_schedule(apps, 10, 10)
    hyper = len(table)
    assert hyper == 20
    counts = [sum(i in frame for frame in table) for i in range(len(apps))]
    assert counts == [20, 10, 2, 1]
    # an app runs exactly period frames apart
    for i, s in enumerate(slots):
        frames = [f for f, frame in enumerate(table) if i in frame]
        assert all(b - a == s.period for a, b in itertools.pairwise(frames))


def test_slow_rates_and_exploding_hyperperiods_are_refused_naming_the_app() -> None:
    with pytest.raises(ScheduleError, match="slowest") as info:
        period_for("slow", 1e-7, 10, 10)
    assert info.value.app == "slow"
    assert period_for("hourly", 10 / 36_000, 10, 10) == 36_000
    # each period is a whole number of major frames; their multiple is 96,996,900 frames
    apps = [(f"a{p}", 10 / p, 1.0) for p in (30, 70, 110, 130, 170, 190)]
    with pytest.raises(ScheduleError, match="repeat only every") as info:
        build_schedule(apps, 10, 10)
    assert info.value.app in {a for a, _, _ in apps}
    _, table = build_schedule(apps[:3], 10, 10)
    assert len(table) == 2310
