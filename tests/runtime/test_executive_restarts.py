"""Every app of the default mission survives a restart and keeps doing its job.

A restart comes from the executive after an exception or from the ground by TC; either
way the fresh instance must pick up its bus pipes, the link layer and its commands. Each
app is then probed by what it is for (comms: it still takes uplink over the RF link).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import pytest

from flightsw.apps.shared.messages import POWER_BUDGET
from flightsw.ground.station import GroundStation
from flightsw.packets import PusTc, PusTm
from flightsw.runtime.mission import Mission, load_mission
from flightsw.services.event_action.app import DEFINITIONS_TC as EA_DEFINITIONS_TC
from flightsw.services.monitoring.app import DEFINITIONS_TC as MON_DEFINITIONS_TC
from flightsw.services.monitoring.app import TABLE_NAME
from flightsw.services.scheduling.app import INSERT
from flightsw.services.tables.app import NAME_TC
from flightsw.sil.harness import HarnessError, SilHarness
from tests.support.apps import CounterApp, spec

NS_PER_S = 1_000_000_000


class Node:
    """The default node, always in contact, with a ground station on its RF link."""

    def __init__(self, seed: int) -> None:
        m = load_mission(seed=seed)
        m.hal = {**m.hal, "radio": {"always_in_contact": True}, "spacecraft": {"boards": 16}}
        self.h = SilHarness(m)
        gs = GroundStation.for_mission(m)
        assert gs is not None
        gs.initiate()
        self.gs = gs
        self.link = self.h.hal.harness["ground_link"]
        self.ground_tm: list[PusTm] = []
        self.seq = 0

    def run(self, seconds: float) -> None:
        """Frames with the ground station on the link (CLCWs back to its FOP-1)."""
        h = self.h
        for _ in range(round(seconds * 10)):
            h.exe.run_minor_frame()
            for cltu in self.gs.tick(h.exe.now_ns / NS_PER_S):
                self.link.send(cltu)
            for chunk in self.link.receive():
                self.ground_tm.extend(PusTm.decode(p) for p in self.gs.receive(chunk))

    def complete(self, name: str, args: dict[str, object] | None = None, **kw: object) -> None:
        rid = self.h.send(name, args, **kw)  # type: ignore[arg-type]
        self.run(1.0)
        reports = self.h.verifications(rid)
        assert [v.subservice for v in reports][-1:] == [7], (name, reports)

    def ping_over_the_link(self) -> None:
        """A ping the ground sends through FOP-1, SDLS and CLTUs comes back as TM(17,2)."""
        self.seq += 1
        tc = PusTc(self.h.mission.executive.apid, 17, 1, seq_count=0x3000 + self.seq)
        self.gs.send_packet(tc.encode())
        before = len(self.ground_tm)
        self.run(3.0)
        pongs = [p for p in self.ground_tm[before:] if (p.service, p.subservice) == (17, 2)]
        assert pongs, "no pong over the link"
        assert self.gs.outstanding == 0


def _probes(node: Node) -> dict[str, Callable[[], None]]:
    h = node.h

    def hk_keeps_coming() -> None:
        before = len(h.tm_of(3, 25))
        node.run(11.0)
        assert len(h.tm_of(3, 25)) > before

    def power_publishes_its_budget() -> None:
        pipe = h.exe.bus.create_pipe("probe.budget", 4)
        h.exe.bus.subscribe(POWER_BUDGET, pipe)
        node.complete("power.arm_switch", {"switch": 0})
        node.run(2.0)
        assert len(pipe) > 0

    def thermal_reads_its_zones() -> None:
        node.run(2.0)
        assert h.exe.app("thermal").instance.tlm["max_zone_temp_c"] != 0.0

    def payload_takes_jobs() -> None:
        job = {"board_hours": 0.01, "priority": 1, "deadline_s": 0, "checkpoint_s": 600}
        node.complete("payload.submit_job", job)
        assert h.exe.app("payload").instance.tlm["jobs_submitted"] >= 1

    def files_creates() -> None:
        data = bytes([5]) + b"probe" + struct.pack(">II", 4, zlib.crc32(b"abcd"))
        node.complete("files.create_file", app_data=data)

    def scheduler_releases() -> None:
        ping = PusTc(h.mission.executive.apid, 17, 1, seq_count=0x2F00).encode()
        when = h.exe.now_ns + 500_000_000
        body = INSERT.build({"activities": [{"release_time": when, "tc": ping}]})
        before = len(h.tm_of(17, 2))
        node.complete("scheduler.insert", app_data=body)
        node.run(1.0)
        assert len(h.tm_of(17, 2)) == before + 1

    def monitoring_checks() -> None:
        before = len(h.tm_of(12, 12))
        node.complete(
            "monitoring.add_monitoring_definitions", app_data=_soc_below(76, "report_only")
        )
        node.run(2.0)
        assert len(h.tm_of(12, 12)) > before

    def event_action_fires() -> None:
        # monitoring's CHECK_BELOW_LOW for definition 77 starts a ping (TC(17,1)).
        ping = PusTc(h.mission.executive.apid, 17, 1, ack_flags=0).encode()
        ea = EA_DEFINITIONS_TC.build(
            {
                "definitions": [
                    {
                        "ea_id": 1,
                        "event_id": 0x0C01,
                        "match_arg": 1,
                        "arg_value": 77,
                        "enabled": 1,
                        "action": "tc",
                        "tc": ping,
                        "sequence": "",
                    }
                ]
            }
        )
        node.complete("event_action.add_event_actions", app_data=ea)
        before = len(h.tm_of(17, 2))
        node.complete("monitoring.add_monitoring_definitions", app_data=_soc_below(77, "active"))
        node.run(2.0)
        assert len(h.tm_of(17, 2)) == before + 1

    def tables_report() -> None:
        before = len(h.tm_of(140, 8))
        node.complete("tables.report_table", app_data=NAME_TC.build({"table": TABLE_NAME}))
        assert len(h.tm_of(140, 8)) == before + 1

    def fdir_commands() -> None:
        node.complete("fdir.disable_monitor", {"monitor": 3})
        node.complete("fdir.enable_monitor", {"monitor": 3})

    return {
        "executive": lambda: node.complete("executive.noop"),
        "housekeeping": hk_keeps_coming,
        "events": lambda: node.complete("events.report_disabled_events"),
        "time": lambda: node.complete("time.set_time_rate", {"exponent": 5}),
        "test": lambda: node.complete("test.ping"),
        "parameters": lambda: node.complete("parameters.report_parameters", app_data=b"\x00"),
        "storage": lambda: node.complete("storage.report_store_status"),
        "files": files_creates,
        "power": power_publishes_its_budget,
        "thermal": thermal_reads_its_zones,
        "payload": payload_takes_jobs,
        "comms": node.ping_over_the_link,
        "fdir": fdir_commands,
        "scheduler": scheduler_releases,
        "sequencer": lambda: node.complete("sequencer.report"),
        "monitoring": monitoring_checks,
        "event_action": event_action_fires,
        "tables": tables_report,
    }


def _soc_below(pmon_id: int, mode: str) -> bytes:
    """A definition that is violated at once: the state of charge (0..1) below 2."""
    d = {
        "pmon_id": pmon_id,
        "point": "power.soc",
        "check": "limit",
        "persistence": 1,
        "mode": mode,
        "enabled": 1,
        "low": 2.0,
        "high": 3.0,
        "mask": 0,
        "expected": 0,
    }
    return bytes(MON_DEFINITIONS_TC.build({"definitions": [d]}))


def _raise_in_step(node: Node, name: str) -> None:
    """One exception out of the app's step, through the executive's own guarded run."""
    a = node.h.exe.app(name)

    def broken(now_ns: int) -> None:
        raise RuntimeError(f"a bug in {name}")

    a.instance.step = broken  # type: ignore[method-assign]
    node.h.exe._run_app(a, node.h.exe.now_ns)


def _restart_by_tc(node: Node, name: str) -> None:
    node.complete("executive.restart_app", {"app": node.h.exe.app(name).index})


@pytest.mark.parametrize("how", ["exception", "tc"])
def test_every_default_app_keeps_working_after_a_restart(how: str) -> None:
    node = Node(seed=3 if how == "tc" else 4)
    h = node.h
    node.run(2.0)
    node.ping_over_the_link()  # the link is up before anything restarts
    names = [a.spec.name for a in h.exe.apps]
    assert set(names) == set(_probes(node))  # a new app of the default mission needs a probe
    restarted = []
    for name in names:
        if how == "tc" and name == "executive":
            continue  # it cannot restart itself by TC (refused, tested below)
        before = h.exe.app(name).stats.restarts
        (_raise_in_step if how == "exception" else _restart_by_tc)(node, name)
        assert h.exe.app(name).stats.restarts == before + 1
        restarted.append(name)
    node.run(2.0)
    failures = {}
    for name, probe in _probes(node).items():
        a = h.exe.app(name)
        try:
            assert not a.stats.disabled, "disabled"
            probe()
        except (AssertionError, HarnessError) as exc:
            failures[name] = str(exc) or "probe failed"
    assert failures == {}
    exceptions = {a.spec.name: a.stats.exceptions for a in h.exe.apps}
    assert exceptions == {n: (1 if how == "exception" else 0) for n in names}
    assert len(restarted) == len(names) - (how == "tc")


def test_every_default_app_comes_back_after_being_disabled() -> None:
    """Each app fails until the executive disables it, then comes back (FDIR re-enables a
    critical one, the ground the rest by TC) and does its job again. The executive's
    own app is never disabled: its enable_app is the ground's way back for all others."""
    node = Node(seed=8)
    h = node.h
    node.run(2.0)
    limit = h.mission.executive.max_restarts + 1
    for a in h.exe.apps:
        for _ in range(limit):
            _raise_in_step(node, a.spec.name)
        if a.spec.name == "executive":
            assert not a.stats.disabled and a.stats.restarts == limit
            continue
        assert a.stats.disabled, a.spec.name
        node.run(0.5)
        if a.stats.disabled:
            node.complete("executive.enable_app", {"app": a.index})
        assert not a.stats.disabled, a.spec.name
    node.run(2.0)
    failures = {}
    for name, probe in _probes(node).items():
        try:
            probe()
        except (AssertionError, HarnessError) as exc:
            failures[name] = str(exc) or "probe failed"
    assert failures == {}
    assert not any(a.stats.disabled for a in h.exe.apps)


def test_restarting_repeatedly_by_both_paths_is_safe() -> None:
    node = Node(seed=5)
    for _ in range(3):
        _raise_in_step(node, "comms")
        _restart_by_tc(node, "comms")
    assert not node.h.exe.app("comms").stats.disabled
    node.ping_over_the_link()


class FailsOnRestart(CounterApp):
    """Starts once; every later instance fails in init."""

    started = 0

    def init(self) -> None:
        FailsOnRestart.started += 1
        if FailsOnRestart.started > 1:
            raise RuntimeError("cannot start again")
        super().init()


def test_a_restart_tc_that_fails_is_reported_as_failed_not_completed() -> None:
    FailsOnRestart.started = 0
    h = SilHarness(extra_apps=[spec(FailsOnRestart, "fragile")])
    a = h.exe.app("fragile")
    rid = h.send("executive.restart_app", {"app": a.index})
    h.run(1)
    reports = h.verifications(rid)
    assert [v.subservice for v in reports] == [1, 3, 8]
    assert reports[-1].failure_code == 13  # EXECUTION_ERROR
    assert a.stats.disabled
    again = h.send("executive.restart_app", {"app": a.index})
    assert h.failure_code(again) == 14  # INVALID_STATE: a disabled app needs enable_app
    enable = h.send("executive.enable_app", {"app": a.index})
    assert h.failure_code(enable) == 13  # it still does not start: reported as failed
    own = h.send("executive.restart_app", {"app": h.exe.app("executive").index})
    assert h.failure_code(own) == 14


def _live_jobs(h: SilHarness) -> set[int]:
    """Job ids the payload reports as queued or running (TM(130,2), by TC)."""
    before = len(h.tm_of(130, 2))
    h.send_and_assert_command("payload.list_jobs")
    ids: set[int] = set()
    for tm in h.tm_of(130, 2)[before:]:
        (n,) = struct.unpack_from(">H", tm.app_data)
        ids |= {struct.unpack_from(">I", tm.app_data, 2 + 11 * i)[0] for i in range(n)}
    return ids


@pytest.mark.parametrize("how", ["exception", "tc"])
def test_restarting_the_payload_keeps_or_reports_every_job(how: str) -> None:
    h = SilHarness(_mission_without_workload(boards=4))
    job = {"board_hours": 2.0, "priority": 1, "deadline_s": 0, "checkpoint_s": 600}
    for _ in range(10):  # 4 run, 6 wait
        h.send_and_assert_command("payload.submit_job", job)
    h.run(3)
    live = _live_jobs(h)
    assert len(live) == 10
    a = h.exe.app("payload")
    if how == "tc":
        h.send_and_assert_command("executive.restart_app", {"app": a.index})
    else:
        a.instance.step = lambda now_ns: 1 / 0  # type: ignore[method-assign]
        h.run(1)
    assert a.stats.restarts == 1 and not a.stats.disabled
    h.run(3)
    reported = {  # JOB_FAILED (payload event 3): a job the payload says it gave up
        struct.unpack_from(">I", p.app_data, 2)[0]
        for p in h.tm_of(5, 3)
        if p.app_data[:2] == (0x2200 + 3).to_bytes(2, "big")
    }
    assert live <= _live_jobs(h) | reported


def _mission_without_workload(boards: int) -> Mission:
    m = load_mission(seed=6)
    m.hal = {**m.hal, "spacecraft": {"boards": boards}}
    for s in m.apps:
        if s.name == "payload":
            s.options = {k: v for k, v in s.options.items() if k != "workload"}
    return m


def test_a_thermal_restart_keeps_the_sensors_fdir_declared_failed() -> None:
    """FDIR announces a failed sensor once (SENSOR_HEALTH on a change): a restarted
    thermal app used to forget it and drive the heaters from the stuck sensor again."""
    from sim_hw.faults import FaultKind, ScheduledFault

    h = SilHarness(_mission_without_workload(boards=8))
    sensor = h.hal.devices["thermal"].sensor_names()[0]
    h.hal.harness["sim"].faults._schedule.append(
        ScheduledFault(5.0, FaultKind.SENSOR_STUCK, sensor, {"value": 20.0})  # in range
    )
    h.run(120)
    thermal = h.exe.app("thermal")
    assert thermal.instance.tlm["invalid_sensors"] >= 1  # FDIR found it stuck: not used
    h.send_and_assert_command("executive.restart_app", {"app": thermal.index})
    h.run(30)
    assert thermal.instance.tlm["invalid_sensors"] >= 1
