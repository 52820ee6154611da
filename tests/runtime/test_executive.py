import itertools
import time
from collections.abc import Callable

from flightsw.framework import msgids
from flightsw.runtime.executive import AppFault
from flightsw.runtime.mission import load_mission
from flightsw.sil.harness import SilHarness
from tests.support.apps import CounterApp, CrashingApp, CrashOnceApp, spec
from tests.support.clocks import fake_wall_clock


def test_same_mission_same_seed_gives_identical_tm_bytes() -> None:
    # The second run's host looks 10,000 times slower: every step measures far over its
    # budget. On the simulated clock that is host data and must change no TM byte.
    def run(cpu_meter: Callable[[], int], seed: int = 1) -> bytes:
        mission = load_mission(seed=seed)
        h = SilHarness(mission, extra_apps=[spec(CounterApp, "counter")], cpu_meter=cpu_meter)
        h.send("counter.set_level", {"level": 2})
        h.send_pus(17, 1)
        h.run(120)
        assert all(a.stats.overruns == 0 for a in h.exe.apps)
        return b"".join(h.raw_tm)

    def crawling_host() -> int:
        return time.perf_counter_ns() * 10_000

    first, second = run(time.perf_counter_ns), run(crawling_host)
    assert len(first) > 1000
    assert first == second
    assert run(time.perf_counter_ns, seed=2) != first


def test_on_the_simulated_clock_cpu_time_goes_to_the_host_profile_only() -> None:
    ticks = itertools.count()

    def meter() -> int:  # every step looks like it took 0.5 s
        return next(ticks) * 500_000_000

    h = SilHarness(extra_apps=[spec(CounterApp, "counter")], cpu_meter=meter)
    faults = h.exe.bus.create_pipe("test.faults", 8)
    h.exe.bus.subscribe(msgids.APP_FAULT, faults)
    h.run(10)
    assert all(a.stats.overruns == 0 for a in h.exe.apps)
    assert not [m.payload for m in faults.drain() if m.payload.kind == "overrun"]
    assert not [p for p in h.tm_of(5, 2) if p.app_data[:2] == b"\x00\x01"]  # no APP_OVERRUN
    profile = h.exe.host_profile()
    assert profile["counter"]["over_budget"] == 10
    assert profile["counter"]["cpu_max_us"] >= 500_000


def test_apps_run_at_their_rate_and_watchdog_is_kicked_each_major_frame() -> None:
    h = SilHarness(extra_apps=[spec(CounterApp, "counter", rate_hz=2.0)])
    h.run(10)
    assert h.exe.app("counter").stats.runs == 20
    assert h.exe.app("housekeeping").stats.runs == 100
    assert h.exe.watchdog_kicks == 10
    assert h.hal.stepper.watchdog_expiries == 0


def test_overrun_on_a_paced_clock_is_detected_counted_reported_and_escalated() -> None:
    # A CPU meter that makes the counter app look like it takes 0.5 s per run.
    ticks = itertools.count()
    state = {"slow": False}

    def meter() -> int:
        return next(ticks) * (500_000_000 if state["slow"] else 1)

    # The executive alone: FDIR (which restarts apps that keep overrunning) stays out.
    mission = load_mission()
    mission.apps = [s for s in mission.apps if s.name != "fdir"]
    h = SilHarness(
        mission,
        extra_apps=[spec(CounterApp, "counter")],
        cpu_meter=meter,
        clock=fake_wall_clock(mission.executive.start_ns),
    )
    faults = h.exe.bus.create_pipe("test.faults", 8)
    h.exe.bus.subscribe(msgids.APP_FAULT, faults)
    counter = h.exe.app("counter")
    original = counter.instance.step

    def slow_step(now_ns: int) -> None:
        state["slow"] = True
        original(now_ns)

    counter.instance.step = slow_step  # type: ignore[method-assign]
    real_run = h.exe._run_app

    def run_app(a, t):  # type: ignore[no-untyped-def]
        state["slow"] = False
        real_run(a, t)
        state["slow"] = False

    h.exe._run_app = run_app  # type: ignore[method-assign]
    h.run(5)
    assert counter.stats.overruns == 5
    assert h.exe.app("housekeeping").stats.overruns == 0
    fault = [m.payload for m in faults.drain()]
    assert fault == [AppFault("counter", "overrun", 3)]
    # an APP_OVERRUN event (executive id base 0 + local id 1) went down as TM(5,2)
    overrun_events = [p for p in h.tm_of(5, 2) if p.app_data[:2] == b"\x00\x01"]
    assert len(overrun_events) == 5


def test_an_app_that_raises_is_restarted_and_the_executive_goes_on() -> None:
    CrashOnceApp.crashed = False
    h = SilHarness(
        extra_apps=[spec(CrashOnceApp, "flaky"), spec(CounterApp, "counter", id_base=0x1100)]
    )
    h.run(5)
    flaky = h.exe.app("flaky")
    assert flaky.stats.exceptions == 1 and flaky.stats.restarts == 1
    assert not flaky.stats.disabled
    assert h.exe.app("counter").stats.runs == 5
    assert h.exe.app("counter").instance.count == 5  # type: ignore[attr-defined]
    # APP_EXCEPTION (MEDIUM, id 2) and APP_RESTARTED (MEDIUM, id 3)
    ids = [p.app_data[:2] for p in h.tm_of(5, 3)]
    assert b"\x00\x02" in ids and b"\x00\x03" in ids


def test_an_app_that_keeps_raising_is_disabled_and_its_commands_refused() -> None:
    h = SilHarness(
        extra_apps=[spec(CrashingApp, "bad"), spec(CounterApp, "counter", id_base=0x1100)]
    )
    faults = h.exe.bus.create_pipe("test.faults", 32)
    h.exe.bus.subscribe(msgids.APP_FAULT, faults)
    h.run(10)
    bad = h.exe.app("bad")
    assert bad.stats.disabled
    assert bad.stats.restarts == h.exe.config.max_restarts
    assert bad.stats.exceptions == h.exe.config.max_restarts + 1
    assert any(m.payload.kind == "disabled" for m in faults.drain())
    runs = bad.stats.runs
    h.run(5)
    assert bad.stats.runs == runs  # no longer scheduled
    assert h.exe.app("counter").stats.runs == 15
    assert len(h.tm_of(5, 4)) == 1  # APP_DISABLED is HIGH severity
    # re-enable by command: it restarts (and will fail again, but the path works)
    rid = h.send("executive.enable_app", {"app": bad.index})
    h.run(2)
    assert [v.subservice for v in h.verifications(rid)][:3] == [1, 3, 7]


def test_uplink_queue_is_bounded_and_counts_drops() -> None:
    h = SilHarness()
    depth = h.exe.config.uplink_depth
    results = [h.send_pus(17, 1) for _ in range(depth + 10)]
    assert len(results) == depth + 10
    assert h.exe.dispatcher.uplink_dropped == 10
    h.run(10)
    assert len(h.tm_of(17, 2)) == depth
    # the ten refused at the door were reported, each with QUEUE_FULL
    for rid in results[depth:]:
        assert [(v.subservice, v.failure_code) for v in h.verifications(rid)] == [(2, 11)]
    assert h.exe.dispatcher.room() == depth


def test_tm_queue_is_bounded_and_counts_drops() -> None:
    h = SilHarness()
    tm = h.exe.tm
    tm.flush()  # what the apps reported at load (FDIR's boot event) goes out first
    for _ in range(tm.depth + 7):
        tm.send(17, 2, b"")
    assert tm.dropped == 7 and len(tm.queue) == tm.depth


def test_command_pipe_full_gives_queue_full_failure() -> None:
    h = SilHarness(extra_apps=[spec(CounterApp, "counter", pipe_depth=2)])
    rids = [h.send("counter.set_level", {"level": 1}) for _ in range(4)]
    h.exe.dispatcher.process()
    codes = [[v.failure_code for v in h.verifications(r)] for r in rids]
    h.exe.tm.flush()
    codes = [[v.failure_code for v in h.verifications(r)] for r in rids]
    assert codes[0] == [None] and codes[1] == [None]
    assert codes[2] == [11] and codes[3] == [11]  # FailureCode.QUEUE_FULL


def test_a_watchdog_that_does_not_answer_is_counted_not_fatal() -> None:
    from flightsw.base.errors import FlightswError

    class DeafWatchdog:
        timeout_ns = 5_000_000_000

        def kick(self) -> None:
            raise FlightswError("no response")

    h = SilHarness()
    h.hal.watchdog = DeafWatchdog()
    h.run(3)
    assert h.exe.watchdog_kick_failures == 3 and h.exe.watchdog_kicks == 0


def test_commands_waiting_for_an_app_that_gets_disabled_fail_with_a_report() -> None:
    h = SilHarness(extra_apps=[spec(CounterApp, "counter", pipe_depth=8)])
    rids = [h.send("counter.set_level", {"level": 1}) for _ in range(3)]
    h.exe.dispatcher.process()  # accepted: waiting on the app's pipe
    h.exe.disable_app(h.exe.app("counter"))
    h.run(1)
    for rid in rids:
        assert [(v.subservice, v.failure_code) for v in h.verifications(rid)] == [
            (1, None),
            (4, 12),  # start failed: APP_UNAVAILABLE
        ]
    late = h.send("counter.set_level", {"level": 1})
    assert h.failure_code(late) == 12  # refused at acceptance from now on
