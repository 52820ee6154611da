"""One node of the cluster SIL: a complete flight build stepped window by window.

A node is what ``flightsw sim`` runs (its own executive and apps over its own simulated
spacecraft, the ground's workload, an in-process ground station on its RF link, the
truth recorder and the utilization meter: the building blocks of
:mod:`flightsw.sil.simulate`), with two differences: it advances only to the end of the
current lockstep window, and its HAL has a crosslink terminal
(:class:`hal.crosslink.CrosslinkMailbox`) whose frames the cluster's link model carries
between windows. Frames that arrived are put into the terminal at their arrival time
(never before the window they were delivered in), in the order (arrival, sender,
sender's sequence): the same order on any worker.

A node's memory is its executive, apps, HAL and simulated spacecraft (boards as numpy
arrays), the archive's write batch, and the truth recorder's samples. What would grow
with the simulated time is kept off the heap or compact, so a day of 15 orbits fits at
4,096 nodes: the world's per-step truth series (one row a physics step, ~1.8 MB an
orbit as Python tuples) goes to ``truth_series.f64`` at the end of every window (the
node's ``summary.json`` names the file and its rows instead of listing them), and the
10 s samples of the truth recorder and the utilization meter are packed float64
(:class:`FlatRows`, ~4x smaller than tuples of floats). ``Shard.build`` reports the
Python heap a node allocated while it was built (tracemalloc), measured in
``tools/bench_cluster.py``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from flightsw.apps.payload.handover import decode_jobs
from flightsw.base.errors import MissionError
from flightsw.framework.tm_funnel import CH_REALTIME
from flightsw.ground.archive import TmArchive
from flightsw.link.onboard import VC_PLAYBACK
from flightsw.packets import PusTc, PusTm
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.executive import NS_PER_S, AppLoadError, Executive
from flightsw.runtime.mission import Mission, parse_mission, resolve_mission
from flightsw.sil.sim_report import TruthRecorder
from flightsw.sil.simulate import (
    GroundLinkMonitor,
    ground_workload,
    make_summary,
    payload_summary,
    utilization_meter,
    with_boards,
)
from hal.clocks import SimClock
from hal.crosslink import CrosslinkMailbox
from hal.factory import build_hal
from hal.interfaces import CrosslinkStatus

# The relay service every cluster node runs (flightsw.services.relay.app).
RELAY_APP = {
    "name": "relay",
    "class": "flightsw.services.relay:RelayService",
    "rate_hz": 10,
    "id_base": 0x2600,
}
SCID_BASE = 0x100  # node i flies as spacecraft id SCID_BASE + i


def handed_back_tags(pkt: bytes) -> list[int]:
    """The tags a TM(130,4) ``jobs_handed_back`` packet carries ([] for anything else)."""
    if len(pkt) < 9 or pkt[0] & 0x10 or pkt[7] != 130 or pkt[8] != 4:
        return []
    return [j.tag for j in decode_jobs(PusTm.decode(pkt).app_data)]


def node_seed(cluster_seed: int, index: int) -> int:
    """A node's own seed, drawn from the cluster's seed and its index (nodes differ)."""
    return int(np.random.SeedSequence([cluster_seed, index]).generate_state(1)[0]) & 0x7FFFFFFF


@dataclass(frozen=True)
class NodeSpec:
    """Everything a worker needs to build a node (small and picklable)."""

    index: int
    name: str
    mission: str | None  # a mission file or shipped name; None: the default
    seed: int
    phase_deg: float
    scid: int
    out_dir: str
    boards: int | None = None
    relay: bool = True
    workload: bool = True
    archive: bool = True
    plots: bool = True
    tc_script: tuple[tuple[float, bytes], ...] = ()  # the ground's TCs over the node's pass
    ack_timeout_s: float = 30.0  # the relay's resend timer: above two windows
    start_ns: int | None = None  # None: the mission's [executive] start_ns
    ground_beat_s: float = 0.0  # the relay's heartbeat to the ground (0: none)
    status_s: float = 0.0  # the payload's TM(130,6) cluster_status period (0: none)


def node_mission(spec: NodeSpec) -> Mission:
    """The mission file with this node's seed, place in the formation, SCID and relay."""
    path = resolve_mission(spec.mission)
    doc: dict[str, Any] = tomllib.loads(path.read_text())
    doc.setdefault("mission", {})["seed"] = spec.seed
    doc["orbit"] = {**doc.get("orbit", {}), "phase_deg": spec.phase_deg}
    if spec.start_ns is not None:
        doc.setdefault("executive", {})["start_ns"] = spec.start_ns
    apps = doc.setdefault("apps", [])
    for entry in apps:
        if entry.get("name") == "comms":
            entry.setdefault("options", {})["scid"] = spec.scid
        if entry.get("name") == "payload" and spec.status_s > 0:
            entry.setdefault("params", {})["cluster_report_s"] = spec.status_s
    if spec.relay and not any(a.get("name") == "relay" for a in apps):
        relay: dict[str, Any] = dict(RELAY_APP)
        # PUS-1, PUS-5, the payload's cluster-job reports (130) and the heartbeat to the
        # ground (131) go down by relay out of contact.
        # The payload's job reports (130) go by relay in contact too, with custody: a
        # result or a checkpoint the real-time downlink loses to a bit error is lost.
        relay["options"] = {
            "scid": spec.scid,
            "capture_services": [1, 5, 130, 131],
            "custody_services": [130],
        }
        relay["params"] = {"ack_timeout_s": spec.ack_timeout_s}
        if spec.ground_beat_s > 0:
            relay["params"]["ground_beat_s"] = spec.ground_beat_s
        apps.append(relay)
    mission = parse_mission(doc, str(path))
    if spec.boards is not None:
        with_boards(mission, spec.boards)
    return mission


TRUTH_SERIES_FILE = "truth_series.f64"  # little-endian float64 rows, columns series_names


class FlatRows(array):  # type: ignore[type-arg]
    """Rows of floats packed in one float64 array: ``append(row)`` adds a row's values,
    ``np.array(rows).reshape(-1, width)`` reads them back (what the recorders do with
    their lists of tuples), at 8 octets a value instead of ~32."""

    def __new__(cls) -> FlatRows:
        return super().__new__(cls, "d")  # type: ignore[return-value]

    def append(self, row: Any) -> None:
        self.extend(row)


class _NoArchive:
    """Stands in for the archive when a run keeps only tm.bin (benches)."""

    errors = 0
    events_by_severity: dict[str, int] = {}

    def ingest(self, pkt: bytes) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class NodeCounters:
    """What the node's side of the exchange saw (deterministic)."""

    frames_out: int = 0
    frames_in: int = 0
    window_frames_out: list[int] = field(default_factory=list)


class ClusterNode:
    """A flight build advanced window by window; see the module docstring."""

    def __init__(self, spec: NodeSpec) -> None:
        self.spec = spec
        self.mission = mission = node_mission(spec)
        self.out = out = Path(spec.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.dictionary = dictionary = build_dictionary(mission)
        (out / "dictionary.json").write_text(json.dumps(dictionary, indent=1))
        self.archive: TmArchive | _NoArchive
        if spec.archive:
            path = out / "archive.sqlite"
            if path.exists():
                path.unlink()
            self.archive = TmArchive(path, dictionary)
        else:
            self.archive = _NoArchive()
        self.start_ns = mission.executive.start_ns
        clock = SimClock(self.start_ns)
        self.hal = hal = build_hal(mission.hal_config(), mission.seed, clock)
        self.crosslink = CrosslinkMailbox(clock.now_ns)
        hal.devices["crosslink"] = self.crosslink
        try:
            self.exe = exe = Executive(mission.executive, mission.specs, hal)
        except AppLoadError as exc:
            raise MissionError(mission.path, mission.key_of(exc.app), exc.reason) from None
        self.spacecraft = hal.harness.get("sim")
        self.recorder = TruthRecorder(self.spacecraft) if self.spacecraft is not None else None
        if self.recorder is not None:
            self.recorder.rows = FlatRows()  # type: ignore[assignment]
        self.truth_file = (out / TRUTH_SERIES_FILE).open("wb")
        self.truth_rows = 0  # rows of the world's truth series written to truth_file
        self.ground = GroundLinkMonitor.for_mission(mission, hal.harness.get("ground_link"))
        self.workload = ground_workload(mission, exe, dictionary) if spec.workload else None
        self.meter = (
            utilization_meter(mission, exe, self.spacecraft)
            if self.spacecraft is not None
            else None
        )
        if self.meter is not None:
            self.meter.series = FlatRows()  # type: ignore[assignment]
        self.tm_file = (out / "tm.bin").open("wb")
        self.tm_hash = hashlib.sha256()
        self.tm_bytes = 0
        self.inbox: list[tuple[int, int, int, bytes]] = []  # (arrive ns, sender, seq, frame)
        self.counters = NodeCounters()
        self.script = sorted(spec.tc_script, key=lambda item: item[0])
        self.uplink: list[tuple[int, bytes]] = []  # the ground's TCs due (time, TC)
        self.uplink_waits = 0  # frames a due TC waited for room in the dispatcher
        self.next_tc = 0
        fid = next(
            (
                c["function_id"]
                for c in dictionary["commands"]
                if c["name"] == "payload.run_cluster_jobs"
            ),
            None,
        )
        self._run_cluster_jobs = b"" if fid is None else int(fid).to_bytes(2, "big")
        self.halted = False  # a node that died (a cluster fault): it runs no more
        # What the ground station heard over this node's own pass this window: the
        # last time it heard anything, and the node's PUS-1 reports.
        self.rx_last_ns: int | None = None
        self.rx_reports: list[tuple[int, bytes]] = []
        self.keep_rx = False  # True: keep every packet heard over the pass (procedures)
        # With keep_rx: the packet store's playback (VC1) heard over the pass, apart from
        # real time (what happened before, seen again: the console marks it PLAYBACK).
        self.rx_playback: list[tuple[int, bytes]] = []
        exe.tm.sinks.append(self._sink)

    def _sink(self, pkt: bytes, channel: int) -> None:
        self.tm_bytes += len(pkt)
        self.tm_file.write(pkt)
        self.tm_hash.update(pkt)
        if channel == CH_REALTIME:
            self.archive.ingest(pkt)

    @property
    def now_ns(self) -> int:
        return self.exe.now_ns

    def run_window(
        self,
        end_ns: int,
        status: CrosslinkStatus,
        inbound: list[tuple[int, int, int, bytes]],
        tcs: list[tuple[int, bytes]] | None = None,
    ) -> list[tuple[int, int, bytes]]:
        """Advance to ``end_ns`` with the links as ``status`` says, the frames that
        arrived and the ground's TCs (time, TC: the cluster's jobs); returns what the
        node sent (sent at ns, next hop, frame)."""
        exe = self.exe
        if tcs:
            self.uplink.extend(tcs)
            self.uplink.sort(key=lambda item: item[0])
        up, dispatcher = self.uplink, exe.dispatcher
        self.crosslink.current = status
        self.inbox.extend(inbound)
        self.inbox.sort(key=lambda f: (f[0], f[1], f[2]))
        script, workload, box = self.script, self.workload, self.inbox
        while exe.now_ns < end_ns:
            now = exe.now_ns
            while box and box[0][0] <= now:
                self.crosslink.deliver(box.pop(0)[3])
                self.counters.frames_in += 1
            while self.next_tc < len(script) and script[self.next_tc][0] * NS_PER_S <= now:
                exe.submit_tc(script[self.next_tc][1])
                self.next_tc += 1
            if workload is not None:
                for tc in workload.poll(now):
                    if not exe.submit_tc(tc):
                        workload.refused(tc)
            while up and up[0][0] <= now:  # in order, as the dispatcher has room
                if len(dispatcher.uplink) >= dispatcher.uplink_depth:
                    self.uplink_waits += 1
                    break
                exe.submit_tc(up.pop(0)[1])
            exe.run_minor_frame()
            if self.recorder is not None:
                self.recorder.maybe_sample(exe.now_ns)
            if self.meter is not None:
                self.meter.update()
            if self.ground is not None:
                self._poll_ground(exe.now_ns)
        self._spill_truth()
        sent = self.crosslink.drain_tx()
        self.counters.frames_out += len(sent)
        return sent

    def _spill_truth(self) -> None:
        """Move the world's per-step truth rows of this window to ``truth_series.f64``
        (they would otherwise stay on the heap for the whole run)."""
        rows = getattr(self.spacecraft, "truth_rows", None)
        if not rows:
            return
        np.asarray(rows, dtype="<f8").tofile(self.truth_file)
        self.truth_rows += len(rows)
        rows.clear()

    def _poll_ground(self, now_ns: int) -> None:
        """The in-process ground station (GroundLinkMonitor.poll), keeping what the
        cluster's ground needs: when it last heard the node and its PUS-1 reports."""
        g = self.ground
        assert g is not None
        for chunk in g.link.receive():
            packets = g.station.receive_by_channel(chunk)
            g.tm_packets += len(packets)
            if packets:
                self.rx_last_ns = now_ns
            for vcid, pkt in packets:
                # (job reports come by relay, in custody)
                if len(pkt) <= 8:
                    continue
                if self.keep_rx and vcid == VC_PLAYBACK:
                    self.rx_playback.append((now_ns, pkt))
                elif pkt[7] == 1 or self.keep_rx:
                    self.rx_reports.append((now_ns, pkt))
        for cltu in g.station.tick(now_ns / NS_PER_S):
            g.link.send(cltu)

    def take_ground_rx(self) -> tuple[int | None, list[tuple[int, bytes]]]:
        """(last heard ns, PUS-1 reports) over the node's own pass since the last call."""
        out = (self.rx_last_ns, self.rx_reports)
        self.rx_last_ns, self.rx_reports = None, []
        return out

    def job_truth(self) -> dict[str, list[Any]]:
        """For scoring: the cluster jobs queued or running here (tag, progress s), and
        those on their way (TCs the ground sent not yet taken by the dispatcher,
        hand-backs still held by the relay). Of a node that died, only the jobs it had
        when it died and the work each had done (``dead``: its memory, frozen then)."""
        if not any(a.spec.name == "payload" for a in self.exe.apps):
            return {"live": [], "in_transit": []}
        payload: Any = self.exe.app("payload").instance
        if self.halted:
            dead = [(j.tag, payload.job(j.job_id).progress) for j in payload.book.live() if j.tag]
            return {"live": [], "in_transit": [], "dead": sorted(dead)}
        live = [(j.tag, payload.job(j.job_id).progress) for j in payload.book.live() if j.tag]
        transit: list[int] = []
        for _t, tc in self.uplink:
            data = PusTc.decode(tc).app_data
            if data[:2] == self._run_cluster_jobs:
                transit.extend(j.tag for j in decode_jobs(data[2:]))
        if any(a.spec.name == "relay" for a in self.exe.apps):
            relay: Any = self.exe.app("relay").instance
            held = [f for q in relay.queues for f in q] + [f for _, _, f in relay.unacked.values()]
            for f in held:
                transit.extend(handed_back_tags(f.packet))
        return {"live": sorted(live), "in_transit": sorted(set(transit))}

    def view(self) -> tuple[int, int]:
        """(jobs queued and running, boards the admission policy lets run): what the
        payload's housekeeping tells the ground (0, 0 without a payload)."""
        if not any(a.spec.name == "payload" for a in self.exe.apps):
            return 0, 0
        t = self.exe.app("payload").instance.tlm
        return int(t["jobs_queued"]) + int(t["jobs_running"]), int(t["boards_target"])

    def finish(self, wall_s: float) -> dict[str, Any]:
        """Close the outputs; the node's summary.json (like ``flightsw sim``'s)."""
        self.tm_file.close()
        self._spill_truth()
        self.truth_file.close()
        self.archive.close()
        exe, mission = self.exe, self.mission
        sim_s = (exe.now_ns - self.start_ns) / NS_PER_S
        summary = make_summary(mission, exe, sim_s, wall_s, self.archive, self.tm_bytes)  # type: ignore[arg-type]
        summary["node"] = self.spec.name
        summary["scid"] = self.spec.scid
        summary["tm_sha256"] = self.tm_hash.hexdigest()
        if self.spacecraft is not None:
            truth = self.spacecraft.truth()
            del truth["series"]  # spilled: in truth_series.f64, read by truth_series()
            truth.update(series_file=TRUTH_SERIES_FILE, series_rows=self.truth_rows)
            summary["truth"] = truth
        if self.recorder is not None:
            summary.update(self.recorder.summary())
            summary["plots"] = self.recorder.plot(self.out) if self.spec.plots else []
        summary.update(payload_summary(exe))
        if self.meter is not None:
            summary.update(self.meter.summary())
            if self.spec.plots:
                summary["plots"] = [*summary.get("plots", []), *self.meter.plot(self.out)]
        if self.workload is not None:
            summary["workload"] = self.workload.summary()
        if self.ground is not None:
            summary["link"] = self.ground.summary()
        rf_link = self.hal.harness.get("rf_link")
        if rf_link is not None:
            t0_s = self.start_ns / NS_PER_S
            summary["contacts"] = rf_link.contact_summary(t0_s, t0_s + sim_s)
            summary.setdefault("link", {}).update(rf_link.stats())
        x = self.crosslink
        summary["cluster_uplink"] = {"pending": len(self.uplink), "waits": self.uplink_waits}
        summary["crosslink"] = {
            "frames_sent": x.sent,
            "frames_received": x.received,
            "tx_refused": x.tx_refused,
            "rx_dropped": x.rx_dropped,
        }
        if any(a.spec.name == "relay" for a in exe.apps):
            summary["relay"] = dict(exe.app("relay").instance.tlm)
        summary["host_profile"] = summary.pop("host_profile")
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary


def truth_series(node_dir: Path) -> np.ndarray[Any, Any]:
    """A cluster node's truth series (rows by ``summary.json``'s ``truth.series_names``)
    from its run directory."""
    truth = json.loads((node_dir / "summary.json").read_text())["truth"]
    data = np.fromfile(node_dir / truth["series_file"], dtype="<f8")
    return data.reshape(-1, len(truth["series_names"]))


def _rss_bytes() -> int:
    """This process's resident set now (Linux /proc; 0 where there is none)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


class Shard:
    """The nodes one Dask worker holds (a Dask actor): built once, advanced each window.

    The nodes are built by ``build`` (an actor's methods run on one thread of its
    worker, its constructor may not: the archive's SQLite connection must stay on one).
    ``wall`` measures host time for the host profile only (never in outputs that must
    be deterministic)."""

    def __init__(self, specs: list[NodeSpec], wall: Callable[[], float] | None = None) -> None:
        import time

        self._wall = wall or time.perf_counter
        self.specs = list(specs)
        self.nodes: dict[int, ClusterNode] = {}
        self.busy_s = 0.0
        self.rss_before = 0
        self.heap_before = -1

    def build(self) -> float:
        """Build the nodes; returns the Python heap one node took (tracemalloc, octets).

        Unless the caller traces already, only the shard's last node is built under
        tracemalloc (the others were built first, so it is a node's steady cost, not the
        worker's first imports): tracing every build made building 64 nodes ~3x slower.
        Tracing stops after the build unless the caller had started it."""
        import tracemalloc

        self.rss_before = _rss_bytes()
        was_tracing = tracemalloc.is_tracing()
        specs = self.specs
        untraced = [] if was_tracing else specs[:-1]
        self.nodes = {s.index: ClusterNode(s) for s in untraced}
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        traced = specs[len(untraced) :]
        self.nodes.update({s.index: ClusterNode(s) for s in traced})
        used = tracemalloc.get_traced_memory()[0] - before
        if was_tracing:
            self.heap_before = before
        else:
            tracemalloc.stop()
        return used / len(traced) if traced else 0.0

    def memory(self) -> dict[str, int]:
        """What this shard's nodes hold now (host measure, for the host profile and
        progress.log): its process's resident set before the build, now and at its peak,
        and the Python heap grown since the build began when tracemalloc still traces
        (-1 otherwise)."""
        import os
        import resource
        import tracemalloc

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        now = _rss_bytes()
        heap = -1
        if self.heap_before >= 0 and tracemalloc.is_tracing():
            heap = tracemalloc.get_traced_memory()[0] - self.heap_before
        return {
            "pid": os.getpid(),
            "nodes": len(self.nodes),
            "rss_before": self.rss_before,
            "rss": now,
            "peak_rss": max(peak, now),
            "heap": heap,
        }

    def run_window(
        self,
        end_ns: int,
        status: dict[int, CrosslinkStatus],
        inbound: dict[int, list[tuple[int, int, int, bytes]]],
        tcs: dict[int, list[tuple[int, bytes]]] | None = None,
        halted: frozenset[int] = frozenset(),
    ) -> dict[
        int,
        tuple[
            list[tuple[int, int, bytes]],
            tuple[int, int],
            tuple[int | None, list[tuple[int, bytes]]],
        ],
    ]:
        """Each node to ``end_ns``: what it sent, its payload's view and what the ground
        heard over its own pass, by node index. A node in ``halted`` died: it stops
        where it is and sends nothing more."""
        t0 = self._wall()
        tcs = tcs or {}
        out: dict[int, Any] = {}
        for i, node in sorted(self.nodes.items()):
            if i in halted or node.halted:
                node.halted = True
                out[i] = ([], node.view(), (None, []))
                continue
            sent = node.run_window(end_ns, status[i], inbound.get(i, []), tcs.get(i))
            out[i] = (sent, node.view(), node.take_ground_rx())
        self.busy_s += self._wall() - t0
        return out

    def finish(self) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for i, node in sorted(self.nodes.items()):
            summary = node.finish(self.busy_s)
            summary["jobs_truth"] = node.job_truth()  # for scoring, not in summary.json
            summary["halted"] = node.halted
            out[i] = summary
        return out
