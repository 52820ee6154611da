"""The cluster SIL: deterministic per node for a seed, the same on any Dask cluster, and
relay traffic that gets through a link outage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import PusTc, PusTm
from flightsw.runtime.dictionary import build_dictionary
from flightsw.sil.cluster import ClusterOptions, run_cluster
from flightsw.sil.cluster_node import SCID_BASE, NodeSpec, node_mission
from sim_hw.environment import DEFAULT_STATIONS, contact_windows
from sim_hw.isl import LinkOutage, formation, geo_relays
from sim_hw.orbit import CircularOrbit
from sim_hw.spacecraft import TRUTH_SERIES
from tests.support.dask_cluster import separate_scheduler_and_worker


def _tiny(tmp: Path, seed: int = 1, **kw: object) -> ClusterOptions:
    base = {
        "nodes": 2,
        "duration_s": 20.0,
        "window_s": 10.0,
        "seed": seed,
        "boards": 8,
        "out_dir": tmp,
        "plots": False,
        "archive": False,
        "progress": False,
        "scheduler": "inline",
    }
    base.update(kw)
    return ClusterOptions(**base)  # type: ignore[arg-type]


def _tm(out: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(out.glob("nodes/*/tm.bin"))}


def _hashes(summary: dict) -> dict[str, str]:
    return {n: v["tm_sha256"] for n, v in summary["per_node"].items()}


def test_tm_per_node_is_byte_identical_for_a_seed_and_differs_for_another(tmp_path: Path) -> None:
    a = run_cluster(_tiny(tmp_path / "a"))
    b = run_cluster(_tiny(tmp_path / "b", workers=2))  # spread over two shards this time
    run_cluster(_tiny(tmp_path / "c", seed=2))
    tm_a, tm_b, tm_c = _tm(tmp_path / "a"), _tm(tmp_path / "b"), _tm(tmp_path / "c")
    assert len(tm_a) == 2 and all(len(v) > 300 for v in tm_a.values())
    assert tm_a == tm_b
    assert tm_a["node00"] != tm_a["node01"]  # nodes are not copies of each other
    assert all(tm_a[n] != tm_c[n] for n in tm_a)
    strip = ("host_profile", "plots")
    sa = {k: v for k, v in a.items() if k not in strip}
    sb = {k: v for k, v in b.items() if k not in strip}
    assert sa == sb
    saved = json.loads((tmp_path / "a" / "cluster_summary.json").read_text())
    assert saved["per_node"]["node00"]["tm_sha256"] == a["per_node"]["node00"]["tm_sha256"]
    node = json.loads((tmp_path / "a" / "nodes" / "node01" / "summary.json").read_text())
    assert node["scid"] == SCID_BASE + 1 and node["sim_seconds"] == 20.0
    assert a["boards"] == 16 and a["windows"] == 2
    progress = (tmp_path / "a" / "progress.log").read_text().splitlines()
    assert [line.split()[:2] for line in progress[1:]] == [["2", "20.0"]]  # the last window
    assert len(progress[0].split()) == len(progress[1].split()) == 6  # rss_mb_per_node last
    assert a["host_profile"]["heap_bytes_per_node_end"] is None  # nobody traced the run
    for name in ("node00", "node01"):  # the truth series, spilled to a file per node
        truth_a = (tmp_path / "a" / "nodes" / name / "truth_series.f64").read_bytes()
        assert truth_a == (tmp_path / "b" / "nodes" / name / "truth_series.f64").read_bytes()
        assert len(truth_a) >= 19 * len(TRUTH_SERIES) * 8
    assert "series" not in a["per_node"]["node00"] and "series" not in node["truth"]


@pytest.mark.slow  # two Dask clusters start: ~30-70 s on a loaded 2-core machine
def test_same_result_on_a_local_dask_cluster_and_on_a_separate_scheduler_and_worker(
    tmp_path: Path,
) -> None:
    pytest.importorskip("distributed")
    inline = run_cluster(_tiny(tmp_path / "inline"))
    local = run_cluster(_tiny(tmp_path / "local", scheduler=None, workers=2))
    assert "local cluster" in local["host_profile"]["cluster"]
    assert _hashes(local) == _hashes(inline)
    with separate_scheduler_and_worker(tmp_path) as address:
        remote = run_cluster(_tiny(tmp_path / "remote", scheduler=address))
    assert remote["host_profile"]["cluster"] == address
    assert _hashes(remote) == _hashes(inline)
    assert _tm(tmp_path / "remote") == _tm(tmp_path / "inline")


def _pass_for_one_only(spacing: float, span_s: float) -> tuple[float, int]:
    """A time at which one node of two has a pass for ``span_s`` and the other has none:
    (start, index of the node with the pass)."""
    orbits = formation(CircularOrbit(day_of_year=172.0), 2, spacing)
    wins = [contact_windows(o, DEFAULT_STATIONS, 0.0, 86_400.0) for o in orbits]

    def free(i: int, t0: float, t1: float) -> bool:
        return all(w.end_s <= t0 or w.start_s >= t1 for w in wins[i])

    for i in (0, 1):
        for w in wins[i]:
            for t0 in np.arange(w.start_s + 5.0, w.end_s - span_s, 10.0):
                if free(1 - i, float(t0) - 30.0, float(t0) + span_s):
                    return float(t0), i
    raise AssertionError("no pass seen by one node only")


def test_tc_through_a_neighbour_with_a_pass_survives_an_isl_outage(tmp_path: Path) -> None:
    """Node X has no pass and no GEO relay (all relays cut); its neighbour Y has a pass.
    The ground sends Y relay.forward(X, ping); the ISL drops right after. X executes the
    ping once (PUS-1 acceptance and completion) and its reports come back through Y."""
    window, span = 5.0, 240.0
    t_pass, y = _pass_for_one_only(20.0, span)
    x = 1 - y
    t0 = t_pass - 10.0  # the run starts just before
    spec = NodeSpec(y, "y", None, 1, 0.0, SCID_BASE + y, str(tmp_path / "dict"))
    enc = CommandEncoder(build_dictionary(node_mission(spec)))
    ping = enc.encode("test.ping")
    tc = enc.encode("relay.forward", {"dest": SCID_BASE + x, "packet": ping})
    t_tc = t_pass + 2.0
    outages = [LinkOutage(f"geo:{r.name}", 0.0, 1e6) for r in geo_relays(172.0)]
    # The TC reaches Y at the end of its window (t_pass + 5 s), Y forwards it at once;
    # the ISL drops half a second later, mid-window, with frames in flight.
    outages.append(LinkOutage(f"isl:{min(x, y)}-{max(x, y)}", t_tc + 3.5, 25.0))
    out = run_cluster(
        _tiny(
            tmp_path / "run",
            spacing_deg=20.0,
            window_s=window,
            start_s=t0,
            duration_s=span,
            workload=False,
            outages=tuple(outages),
            tc_script=((t_tc, y, tc),),
        )
    )
    links, relay = out["links"], out["relay_service"]
    assert links["isl"]["lost_link_down"] >= 1  # the outage hit frames in flight
    assert relay["retransmits"] >= 1 and relay["tc_forwarded"] == 1
    # Y got relay.forward from the ground's uplink over its pass, X the ping: each once,
    # however many times it was sent.
    assert relay["tc_delivered"] == 2
    assert out["ground_uplink"]["by_route"]["pass"] == 1
    assert out["ground_uplink"]["completed"] == 1  # verified by Y's PUS-1 over its pass
    assert links["geo"]["offered"] == 0  # GEO relays were down: nothing tried that way
    # What reached the ground from X, through Y's pass.
    reports = _reports((tmp_path / "run" / "ground_relayed.bin").read_bytes())
    assert (1, 1, ping[:4]) in reports and (1, 7, ping[:4]) in reports
    # (Y's own reports from before its first link status went down by relay too.)
    assert out["ground_relayed"]["by_origin"][f"{SCID_BASE + x:#05x}"] >= 2
    assert out["ground_relayed"]["by_route"] == {"ground": len(reports)}
    assert out["ground_relayed"]["duplicates"] == 0
    node_x = json.loads((tmp_path / "run" / "nodes" / f"node{x:02d}" / "summary.json").read_text())
    assert node_x["relay"]["tc_delivered"] == 1
    assert node_x["relay"]["queued_p0"] == 0 and node_x["relay"]["unacked"] == 0
    assert sum(node_x["relay"][f"dropped_p{p}"] for p in range(3)) == 0
    assert node_x["relay"]["via_neighbour"] >= 2 and node_x["relay"]["ground_route"] == 3


def _reports(raw: bytes) -> list[tuple[int, int, bytes]]:
    out = []
    while raw:
        n = 7 + int.from_bytes(raw[4:6], "big")
        tm = PusTm.decode(raw[:n])
        raw = raw[n:]
        out.append((tm.service, tm.subservice, tm.app_data[:4]))
    return out


def test_tc_through_a_geo_relay_to_a_node_without_a_pass(tmp_path: Path) -> None:
    """The ground sends a ping through a GEO relay to a node out of contact; it runs,
    and its PUS-1 reports come back through a GEO relay (~0.25 s each way, both legs)."""
    orbit = CircularOrbit(day_of_year=172.0)
    wins = contact_windows(orbit, DEFAULT_STATIONS, 0.0, 20_000.0)
    t0 = next(
        float(t)
        for t in np.arange(100.0, 20_000.0, 50.0)
        if all(w.end_s <= t - 10.0 or w.start_s >= t + 60.0 for w in wins)
    )
    spec = NodeSpec(0, "n", None, 1, 0.0, SCID_BASE, str(tmp_path / "dict"))
    ping = CommandEncoder(build_dictionary(node_mission(spec))).encode("test.ping")
    out = run_cluster(
        _tiny(
            tmp_path / "run",
            nodes=1,
            window_s=5.0,
            start_s=t0,
            duration_s=40.0,
            workload=False,
            geo_tc_script=((t0 + 3.0, 0, ping),),
        )
    )
    up = out["ground_uplink"]
    assert up["sent"] == 1 and up["waiting"] == 0 and up["by_route"]["geo"] == 1
    assert up["completed"] == 1 and up["resent"] == 0 and up["lost"] == 0
    assert 0.23 < up["delay_s"][0] < 0.30
    assert out["relay_service"]["tc_delivered"] == 1
    reports = _reports((tmp_path / "run" / "ground_relayed.bin").read_bytes())
    assert (1, 1, ping[:4]) in reports and (1, 7, ping[:4]) in reports
    assert set(out["ground_relayed"]["by_route"]) == {"geo"}
    geo = out["links"]["geo"]
    assert geo["delivered"] == geo["offered"] > 0 and 0.23 < geo["latency_s"]["max"] < 0.30


@pytest.mark.slow  # plots: matplotlib renders eight figures
def test_the_command_writes_the_run_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flightsw.cli.main import main

    out = tmp_path / "c"
    argv = ["cluster", "--nodes", "1", "--duration", "10", "--boards", "4", "--window", "5"]
    assert main([*argv, "--scheduler", "inline", "--out", str(out), "--quiet"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["nodes"] == 1 and shown["sim_seconds"] == 10.0
    assert (out / "cluster.png").stat().st_size > 1000
    assert (out / "nodes" / "node00" / "power.png").exists()
    assert (out / "nodes" / "node00" / "archive.sqlite").exists()
    assert main([*argv, "--scheduler", "nowhere", "--out", str(out)]) != 0
    lean = tmp_path / "lean"
    opts = ["--scheduler", "inline", "--quiet", "--cluster-plots-only", "--no-archive"]
    assert main([*argv, *opts, "--out", str(lean)]) == 0
    assert (lean / "cluster.png").stat().st_size > 1000
    assert not list((lean / "nodes" / "node00").glob("*.png"))
    assert not (lean / "nodes" / "node00" / "archive.sqlite").exists()


@pytest.mark.slow  # tracemalloc traces a node's build and run: ~20-40 s loaded
def test_progress_log_and_memory_per_node_of_a_run(tmp_path: Path) -> None:
    """A long run can be watched (progress.log, host time only) and says what its nodes
    hold after the run: resident set per node, and the heap when the caller traces it."""
    import tracemalloc

    tracemalloc.start()
    try:
        s = run_cluster(_tiny(tmp_path / "a", nodes=1, duration_s=30.0, progress_every=2))
    finally:
        tracemalloc.stop()
    lines = (tmp_path / "a" / "progress.log").read_text().splitlines()
    assert lines[0].split() == [
        "window",
        "sim_s",
        "host_s",
        "exchange_s",
        "left_s_estimate",
        "rss_mb_per_node",
    ]
    assert [line.split()[:2] for line in lines[1:]] == [["2", "20.0"], ["3", "30.0"]]
    assert all(float(line.split()[5]) >= 0.0 for line in lines[1:])  # MB per node, now
    hp = s["host_profile"]
    assert hp["rss_bytes_per_node"] >= 0
    assert hp["heap_bytes_per_node_end"] > hp["heap_bytes_per_node"] / 10 > 0


def _pass_for_one_end_only(nodes: int, spacing: float, span_s: float) -> tuple[float, int]:
    """A time at which an end node of the string has a pass for ``span_s`` and no other
    node has one: (start, index of the end node with the pass)."""
    orbits = formation(CircularOrbit(day_of_year=172.0), nodes, spacing)
    wins = [contact_windows(o, DEFAULT_STATIONS, 0.0, 86_400.0) for o in orbits]

    def free(i: int, t0: float, t1: float) -> bool:
        return all(w.end_s <= t0 or w.start_s >= t1 for w in wins[i])

    for z in (0, nodes - 1):
        for w in wins[z]:
            for t0 in np.arange(w.start_s + 5.0, w.end_s - span_s, 10.0):
                others = [i for i in range(nodes) if i != z]
                if all(free(i, float(t0) - 30.0, float(t0) + span_s) for i in others):
                    return float(t0), z
    raise AssertionError("no pass seen by an end node only")


@pytest.mark.slow  # three nodes for 150 s: ~20-40 s loaded
def test_a_ground_tc_reaches_a_node_through_two_neighbours_and_an_isl_drop_loses_nothing(
    tmp_path: Path,
) -> None:
    """Three nodes 20 degrees apart (the two ends out of each other's ISL range), every
    GEO relay down, only end node Z in a pass. The ground's uplink sends a ping for the
    other end X to Z (two ISL hops away); Z hands it to the middle node, the middle node
    to X; the ISL between the middle node and X drops mid-transfer. X runs the ping once
    and its PUS-1 completion comes down the same two hops and Z's pass."""
    window, span = 5.0, 150.0
    t_pass, z = _pass_for_one_end_only(3, 20.0, span)
    x, mid = 2 - z, 1
    spec = NodeSpec(x, "x", None, 1, 0.0, SCID_BASE + x, str(tmp_path / "dict"))
    ping = CommandEncoder(build_dictionary(node_mission(spec))).encode("test.ping")
    t_tc = t_pass + 2.0  # reaches Z at +5 s, the middle node at +10 s, X at +15 s
    outages = [LinkOutage(f"geo:{r.name}", 0.0, 1e6) for r in geo_relays(172.0)]
    outages.append(LinkOutage(f"isl:{min(x, mid)}-{max(x, mid)}", t_tc + 8.5, 20.0))
    out = run_cluster(
        _tiny(
            tmp_path / "run",
            nodes=3,
            spacing_deg=20.0,
            window_s=window,
            start_s=t_pass - 10.0,
            duration_s=span,
            workload=False,
            outages=tuple(outages),
            tc_script=((t_tc, x, ping),),
        )
    )
    up = out["ground_uplink"]
    assert up["by_route"] == {"pass": 0, "geo": 0, "neighbour": 1} and up["completed"] == 1
    assert up["resent"] == 0 and up["lost"] == 0  # custody carried it, not the ground
    done = [
        n for n, rid, _t in out["tc_completed"] if rid == f"{PusTc.decode(ping).request_id:08x}"
    ]
    assert done == [x]
    assert out["links"]["isl"]["lost_link_down"] >= 1 and out["relay_service"]["retransmits"] >= 1
    nodes = {
        i: json.loads((tmp_path / "run" / "nodes" / f"node{i:02d}" / "summary.json").read_text())
        for i in range(3)
    }
    assert nodes[x]["relay"]["tc_delivered"] == 1  # once, however many times it came
    assert nodes[mid]["relay"]["relayed_for_others"] >= 2  # the ping up, its reports down
    assert nodes[z]["relay"]["relayed_for_others"] >= 2
    for n in nodes.values():
        r = n["relay"]
        assert sum(r[f"dropped_p{p}"] for p in range(3)) == 0
        assert r["queued_p0"] == 0  # (a frame of the last window may await its ack)
    assert out["ground_relayed"]["by_origin"][f"{SCID_BASE + x:#05x}"] >= 2


def test_the_relays_resend_timer_follows_the_window_unless_fixed(tmp_path: Path) -> None:
    from flightsw.base.errors import FlightswError
    from flightsw.sil.cluster import _ack_timeout_s

    assert _ack_timeout_s(_tiny(tmp_path, window_s=10.0)) == 30.0
    assert _ack_timeout_s(_tiny(tmp_path, window_s=60.0)) == 130.0
    # a bench runs the same nodes alone in one long window: the same timer, fixed
    assert _ack_timeout_s(_tiny(tmp_path, window_s=60.0, ack_timeout_s=30.0)) == 30.0
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(FlightswError, match="ack timeout"):
            run_cluster(_tiny(tmp_path, ack_timeout_s=bad))


def test_a_workers_profiler_is_stopped_and_what_it_kept_dropped() -> None:
    from collections import deque
    from types import SimpleNamespace

    from flightsw.sil.cluster import stop_worker_profiler

    class Callback:
        running = True

        def stop(self) -> None:
            self.running = False

    callbacks = {"profile": Callback(), "profile-cycle": Callback(), "heartbeat": Callback()}
    worker = SimpleNamespace(
        periodic_callbacks=callbacks,
        profile_history=deque([(1.0, {"count": 3})], maxlen=1000),
        profile_keys_history=deque([(1.0, {})], maxlen=1000),
        profile_keys={"Shard": {"count": 3}},
    )
    assert stop_worker_profiler(worker)
    assert not callbacks["profile"].running and not callbacks["profile-cycle"].running
    assert callbacks["heartbeat"].running  # the worker's own life goes on
    assert not worker.profile_history and not worker.profile_keys_history
    assert not worker.profile_keys
    assert stop_worker_profiler(SimpleNamespace(periodic_callbacks={}))  # profiling was off
