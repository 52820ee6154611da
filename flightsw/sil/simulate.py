"""``flightsw sim``: run a mission under the simulated clock and keep what it sent.

The run directory gets the raw TM stream (``tm.bin``, concatenated space packets), the
decoded archive (``archive.sqlite``), the dictionary the archive was decoded with
(``dictionary.json``), ``summary.json``, and PNG plots of power, state of charge,
temperatures, the payload and its utilization over the run (from the simulated
spacecraft's truth).

The mission's ``[workload]`` stands for the ground's jobs (``flightsw.sil.workload``):
a backlog and arrivals uplinked as job TCs, so the node runs at its budget.
``utilization`` and the work done per orbit are measured on the simulated boards, with
the payload's own view beside them.

Everything in ``summary.json`` except its ``host_profile`` is deterministic: the same
mission and seed give the same values on any machine under any load. ``host_profile``
holds what was measured on the host (wall time, real-time factor, CPU per app).
"""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flightsw.base.errors import FlightswError, MissionError
from flightsw.framework.tm_funnel import CH_REALTIME
from flightsw.ground.archive import TmArchive
from flightsw.ground.commanding import CommandEncoder
from flightsw.ground.station import GroundStation
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.executive import NS_PER_S, AppLoadError, Executive
from flightsw.runtime.mission import Mission
from flightsw.sil.fault_port import FaultPort
from flightsw.sil.progress import Progress
from flightsw.sil.sim_report import TruthRecorder, UtilizationMeter
from flightsw.sil.workload import GroundWorkload, WorkloadConfig
from hal.clocks import SimClock, WallClock
from hal.factory import build_hal, is_real_time
from hal.interfaces import Clock
from sim_hw.faults import ScheduledFault
from sim_hw.orbit import circular_period_s
from sim_hw.spacecraft import SpacecraftConfig

# What a node's design scales with its board count (``with_boards``): the plant that
# makes and stores power and rejects heat, and the power app's knowledge of it.
SCALED_CRAFT_KEYS = (
    "array_area_m2",
    "battery_capacity_wh",
    "max_charge_w",
    "max_discharge_w",
    "radiator_area_m2",
    "loop_conductance_w_k",
    # The battery's own heat (I^2 R: current x N, resistance / N) grows with N: its
    # radiator, its heater (sized for that radiator) and its mass grow with it, so the
    # cells keep the temperatures of the mission's node through an eclipse (without
    # them a 4096-board battery passed 55 C in its first eclipse: safe mode). The cold
    # plate and the radiator gain mass with the boards and the area.
    "battery_radiator_area_m2",
    "battery_heater_w",
    "battery_heat_capacity_j_k",
    "coldplate_heat_capacity_j_k",
    "radiator_heat_capacity_j_k",
)
SCALED_POWER_PARAMS = ("capacity_wh", "max_discharge_w", "charge_reserve_w", "margin_w")
# ... and what scales inversely (more cells in parallel: less resistance).
INVERSE_CRAFT_KEYS = ("battery_resistance_ohm",)
INVERSE_POWER_PARAMS = ("internal_resistance_ohm",)


@dataclass
class SimOptions:
    """What ``flightsw sim`` was asked to do."""

    duration_s: float | None = None
    orbits: float | None = None
    out_dir: Path = Path("runs/default")
    progress: bool | None = None
    tc_script: list[tuple[float, bytes]] | None = None
    plots: bool = True
    faults: list[ScheduledFault] | None = None  # scheduled into the simulated spacecraft
    realtime: bool = False  # pace frames by the wall clock even on simulated hardware
    workload: bool = True  # uplink the mission's [workload] (the ground's jobs)
    fault_port: tuple[str, int] | None = None  # test equipment: faults by datagram (paced only)
    cpu_meter: Callable[[], int] = time.perf_counter_ns  # the host's CPU meter (tests swap it)


def with_boards(mission: Mission, boards: int, scale_node: bool = True) -> Mission:
    """The mission with ``boards`` accelerator boards (changed in place and returned).

    With ``scale_node`` the node is designed for them: its array, battery, radiator and
    cooling loop (``SCALED_CRAFT_KEYS``) and the power app's matching parameters
    (``SCALED_POWER_PARAMS``, clipped to their declared ranges) scale with the board
    count, the battery's resistance inversely (``INVERSE_*``), so that ``--boards 4096``
    means a node that can keep 4096 boards busy.
    """
    craft = dict(mission.hal.get("spacecraft", {}))
    defaults = SpacecraftConfig()
    factor = boards / int(craft.get("boards", defaults.boards))
    craft["boards"] = boards
    if scale_node and factor != 1.0:
        scale = {**dict.fromkeys(SCALED_CRAFT_KEYS, factor)}
        scale.update(dict.fromkeys(INVERSE_CRAFT_KEYS, 1.0 / factor))
        for key, f in scale.items():
            if hasattr(defaults, key):
                craft[key] = float(craft.get(key, getattr(defaults, key))) * f
        pscale = {**dict.fromkeys(SCALED_POWER_PARAMS, factor)}
        pscale.update(dict.fromkeys(INVERSE_POWER_PARAMS, 1.0 / factor))
        for spec in mission.apps:
            declared = {p.name: p for p in spec.cls.declarations().parameters}
            if not all(k in declared for k in pscale):
                continue
            params = dict(spec.params)
            for key, f in pscale.items():
                p = declared[key]
                value = float(params.get(key, p.default)) * f
                lo = -math.inf if p.min is None else float(p.min)
                hi = math.inf if p.max is None else float(p.max)
                params[key] = min(max(value, lo), hi)
            spec.params = params
    mission.hal = {**mission.hal, "spacecraft": craft}
    return mission


def orbit_period_s(mission: Mission) -> float:
    return circular_period_s(float(mission.orbit.get("altitude_km", 750.0)))


@contextmanager
def _set_up_heap_frozen() -> Iterator[None]:
    """What set-up built lives for the whole run: the cyclic garbage collector need not
    walk it again at each full collection (``gc.freeze``; ~2 % of a run's CPU time). The
    heap is unfrozen after, so repeated runs in one process collect as before. (Memory
    only: no value, event or byte of telemetry depends on when the collector runs.)"""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def sim_duration_s(mission: Mission, opts: SimOptions) -> float:
    if opts.duration_s is not None:
        return opts.duration_s
    return (opts.orbits if opts.orbits is not None else 1.0) * orbit_period_s(mission)


def run_sim(
    mission: Mission, opts: SimOptions, wall: Callable[[], float] = time.perf_counter
) -> dict[str, Any]:
    """Run the mission; returns the summary (also written to summary.json)."""
    out = opts.out_dir
    out.mkdir(parents=True, exist_ok=True)
    dictionary = build_dictionary(mission)
    (out / "dictionary.json").write_text(json.dumps(dictionary, indent=1))
    archive_path = out / "archive.sqlite"
    if archive_path.exists():
        archive_path.unlink()
    archive = TmArchive(archive_path, dictionary)
    config = mission.hal_config()
    start = mission.executive.start_ns
    paced = is_real_time(config) or opts.realtime
    clock: Clock = WallClock(start) if paced else SimClock(start)
    hal = build_hal(config, mission.seed, clock)
    try:
        exe = Executive(mission.executive, mission.specs, hal, opts.cpu_meter)
    except AppLoadError as exc:  # an app that cannot start: the mission cannot run
        raise MissionError(mission.path, mission.key_of(exc.app), exc.reason) from None
    spacecraft = hal.harness.get("sim")
    if opts.faults:
        if spacecraft is None:
            raise FlightswError("faults can only be injected into the simulated spacecraft")
        spacecraft.faults.extend(opts.faults)
    port: FaultPort | None = None
    if opts.fault_port is not None:
        if spacecraft is None or not paced:
            raise FlightswError(
                "--fault-port needs the simulated spacecraft on a paced clock (--realtime)"
            )
        port = FaultPort(opts.fault_port)
    recorder = TruthRecorder(spacecraft) if spacecraft is not None else None
    ground = GroundLinkMonitor.for_mission(mission, hal.harness.get("ground_link"))
    workload = ground_workload(mission, exe, dictionary) if opts.workload else None
    meter = utilization_meter(mission, exe, spacecraft) if spacecraft is not None else None
    duration = sim_duration_s(mission, opts)
    frames = round(duration * NS_PER_S / exe.minor_frame_ns)
    script = sorted(opts.tc_script or [], key=lambda item: item[0])
    tm_bytes = 0
    with (out / "tm.bin").open("wb") as tm_file:
        write = tm_file.write

        def sink(pkt: bytes, channel: int) -> None:
            nonlocal tm_bytes
            tm_bytes += len(pkt)
            write(pkt)
            if channel == CH_REALTIME:  # playback repeats packets the archive already has
                archive.ingest(pkt)

        exe.tm.sinks.append(sink)
        bar = Progress(frames, f"sim {mission.name}", opts.progress)
        next_tc = 0
        chunk = max(1, frames // 200)
        done = 0
        with _set_up_heap_frozen():
            if isinstance(clock, WallClock):
                clock.reset(exe.now_ns)  # set-up is over: the first frame is due now
            t0 = wall()
            while done < frames:
                n = min(chunk, frames - done)
                for _ in range(n):
                    while next_tc < len(script) and script[next_tc][0] * NS_PER_S <= exe.now_ns:
                        exe.submit_tc(script[next_tc][1])
                        next_tc += 1
                    if workload is not None:
                        for tc in workload.poll(exe.now_ns):
                            if not exe.submit_tc(tc):
                                workload.refused(tc)  # the uplink queue was full: sent again
                    exe.run_minor_frame()
                    now = exe.now_ns
                    if recorder is not None and now >= recorder.next_ns:  # a row every 10 s
                        recorder.maybe_sample(now)
                    if meter is not None and meter.sc.t_s > meter.last_t:  # physics stepped
                        meter.update()
                    if ground is not None:
                        ground.poll(now)
                    if port is not None:
                        port.poll(spacecraft)
                done += n
                bar.update(done)
        wall_s = wall() - t0
        bar.close()
    archive.close()
    if port is not None:
        port.close()
    sim_s = frames * exe.minor_frame_ns / NS_PER_S
    summary = make_summary(mission, exe, sim_s, wall_s, archive, tm_bytes)
    if spacecraft is not None:
        summary["truth"] = spacecraft.truth()
    if recorder is not None:
        summary.update(recorder.summary())
        summary["plots"] = recorder.plot(out) if opts.plots else []
    summary.update(payload_summary(exe))
    if meter is not None:
        summary.update(meter.summary())
        if opts.plots:
            summary["plots"] = [*summary.get("plots", []), *meter.plot(out)]
    if workload is not None:
        summary["workload"] = workload.summary()
    if ground is not None:
        summary["link"] = ground.summary()
    rf_link = hal.harness.get("rf_link")
    if rf_link is not None:
        t0_s = start / NS_PER_S
        summary["contacts"] = rf_link.contact_summary(t0_s, t0_s + sim_s)
        summary.setdefault("link", {}).update(rf_link.stats())
    summary["host_profile"] = summary.pop("host_profile")  # last, apart from the rest
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def ground_workload(
    mission: Mission, exe: Executive, dictionary: dict[str, Any]
) -> GroundWorkload | None:
    """The mission's ``[workload]`` for its payload app (None without either)."""
    if not mission.workload:
        return None
    cfg = WorkloadConfig.from_table(mission.workload, mission.path)
    try:
        payload = exe.app("payload")
    except KeyError:
        return None
    if not cfg.enabled:
        return None

    def onboard_jobs() -> int:  # what the payload's housekeeping reports
        tlm = payload.instance.tlm
        return int(tlm.get("jobs_queued", 0)) + int(tlm.get("jobs_running", 0))

    boards = int(getattr(payload.instance, "n", 0))
    return GroundWorkload(cfg, boards, mission.seed, CommandEncoder(dictionary), onboard_jobs)


def utilization_meter(mission: Mission, exe: Executive, spacecraft: Any) -> UtilizationMeter:
    """Utilization from the simulated boards, with FDIR's isolated boards taken out of
    the available ones and the payload's own counters beside."""
    from fdir.ladder import BoardState

    apps = {a.spec.name: a for a in exe.apps}
    fdir = apps.get("fdir")
    isolated_code = int(BoardState.ISOLATED)

    def isolated() -> NDArray[np.bool_] | None:
        ladder = getattr(fdir.instance, "ladder", None) if fdir is not None else None
        state = getattr(ladder, "state", None)
        return state == isolated_code if isinstance(state, np.ndarray) else None

    def payload() -> tuple[float, float, float, int] | None:
        app = apps.get("payload")
        if app is None:
            return None
        t = app.instance.tlm
        return (
            float(t.get("busy_board_hours", 0.0)),
            float(t.get("available_board_hours", 0.0)),
            float(t.get("work_board_hours", 0.0)),
            int(t.get("boards_busy", 0)),
        )

    return UtilizationMeter(spacecraft, orbit_period_s(mission), isolated, payload)


class GroundLinkMonitor:
    """An in-process ground station on the simulated RF link: what reached the ground."""

    def __init__(self, station: GroundStation, link: Any) -> None:
        self.station = station
        self.link = link
        self.tm_packets = 0

    @classmethod
    def for_mission(cls, mission: Mission, link: Any) -> GroundLinkMonitor | None:
        station = GroundStation.for_mission(mission) if link is not None else None
        if station is None:
            return None
        station.initiate()
        return cls(station, link)

    def poll(self, now_ns: int) -> None:
        for chunk in self.link.receive():
            self.tm_packets += len(self.station.receive(chunk))
        for cltu in self.station.tick(now_ns / NS_PER_S):
            self.link.send(cltu)

    def summary(self) -> dict[str, Any]:
        ex = self.station.extractor
        return {
            "ground_tm_packets": self.tm_packets,
            "frames": ex.frames,
            "frames_bad": ex.frames_bad,
            "frames_lost": ex.frames_lost,
            "idle_frames": ex.idle_frames,
            "clcws": self.station.clcws,
        }


def payload_summary(exe: Executive) -> dict[str, Any]:
    """Job counts and goodput from the payload app, when the mission runs one."""
    try:
        payload = exe.app("payload").instance
    except KeyError:
        return {}
    tlm = payload.tlm
    return {
        "boards": int(getattr(payload, "n", 0)),
        "jobs_submitted": int(tlm.get("jobs_submitted", 0)),
        "jobs_completed": int(tlm.get("jobs_done", 0)),
        "jobs_failed": int(tlm.get("jobs_failed", 0)),
        "jobs_queued": int(tlm.get("jobs_queued", 0)),
        "jobs_running": int(tlm.get("jobs_running", 0)),
        "job_rollbacks": int(tlm.get("rollbacks", 0)),
        "integrity_reruns": int(tlm.get("integrity_reruns", 0)),
        "lost_board_hours": round(float(tlm.get("lost_board_hours", 0.0)), 4),
        "goodput": round(float(tlm.get("goodput", 1.0)), 5),
    }


def host_profile(exe: Executive, sim_s: float, wall_s: float) -> dict[str, Any]:
    """What this host measured: never deterministic, kept apart from everything else."""
    return {
        "wall_seconds": round(wall_s, 3),
        "realtime_factor": round(sim_s / wall_s, 1) if wall_s > 0 else None,
        "apps": exe.host_profile(),
    }


def deterministic_part(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without its host profile: equal for equal mission and seed."""
    return {k: v for k, v in summary.items() if k != "host_profile"}


def make_summary(
    mission: Mission, exe: Executive, sim_s: float, wall_s: float, archive: TmArchive, tm_bytes: int
) -> dict[str, Any]:
    apps = {}
    for a in exe.apps:
        s = a.stats
        apps[a.spec.name] = {
            "runs": s.runs,
            "overruns": s.overruns,
            "exceptions": s.exceptions,
            "restarts": s.restarts,
            "disabled": s.disabled,
        }
    sim_hw = exe.hal.stepper
    return {
        "mission": mission.name,
        "seed": mission.seed,
        "sim_seconds": sim_s,
        "minor_frames": exe.frame,
        "tm_packets": exe.tm.sent,
        "tm_bytes": tm_bytes,
        "tm_dropped": exe.tm.dropped,
        "tm_decode_errors": archive.errors,
        "events_by_severity": archive.events_by_severity,
        "events_onboard": {s.name: n for s, n in exe.events.by_severity.items()},
        "overruns": {name: a["overruns"] for name, a in apps.items()},
        "apps": apps,
        "tc_received": exe.dispatcher.received,
        "tc_accepted": exe.dispatcher.accepted,
        "tc_rejected": sum(exe.dispatcher.rejected_by_code.values()),
        "uplink_dropped": exe.dispatcher.uplink_dropped,
        "bus_dropped": exe.bus.dropped_total(),
        "cycle_slips": exe.cycle_slips,
        "watchdog_kicks": exe.watchdog_kicks,
        "watchdog_kick_failures": exe.watchdog_kick_failures,
        "watchdog_expiries": getattr(sim_hw, "watchdog_expiries", None),
        "host_profile": host_profile(exe, sim_s, wall_s),
    }
