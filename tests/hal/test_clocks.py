from hal.clocks import SimClock, WallClock
from hal.interfaces import Clock, Watchdog
from hal.sim.watchdog import SimWatchdog


def test_sim_clock_jumps_and_never_goes_back() -> None:
    c = SimClock(5)
    assert isinstance(c, Clock)
    c.wait_until(100)
    assert c.now_ns() == 100
    c.wait_until(50)
    assert c.now_ns() == 100


def test_wall_clock_sleeps_until_target_with_injected_time() -> None:
    fake = {"t": 1_000}
    sleeps: list[float] = []

    def mono() -> int:
        return fake["t"]

    def sleep(s: float) -> None:
        sleeps.append(s)
        fake["t"] += int(s * 1e9)

    c = WallClock(start_ns=0, monotonic_ns=mono, sleep=sleep)
    assert c.now_ns() == 0
    c.wait_until(250_000_000)
    assert c.now_ns() >= 250_000_000
    assert sleeps == [0.25]
    c.wait_until(10)  # already past: no sleep
    assert sleeps == [0.25]


def test_sim_watchdog_expires_only_without_kicks() -> None:
    clock = SimClock()
    wd = SimWatchdog(clock, timeout_ns=1000)
    assert isinstance(wd, Watchdog)
    for t in range(0, 5000, 500):
        clock.wait_until(t)
        wd.kick()
        assert not wd.expired()
    clock.wait_until(7000)
    assert wd.expired()
    assert wd.timer.expiries == 1


def test_wall_clock_reset_makes_now_the_given_time() -> None:
    t = [1_000]
    clock = WallClock(start_ns=0, monotonic_ns=lambda: t[0], sleep=lambda s: None)
    t[0] = 5_000
    assert clock.now_ns() == 4_000
    clock.reset(0)
    assert clock.now_ns() == 0
    t[0] = 5_500
    assert clock.now_ns() == 500
