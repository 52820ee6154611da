"""Cluster fault scenarios scored from the simulated world's truth: ``flightsw cluster --scenario``.

Each scenario is a small cluster with one job stream (``--cluster-jobs``, short jobs so
that many finish inside the run) and one fault whose node and time the seed draws:

- ``cluster_safe`` (cheap: 2 nodes of 4 boards, 120 s, shorter jobs; in the default
  test suite) and
  ``cluster_safe_long``: a node forced into safe mode hands its jobs back from their
  checkpoints; the ground places them on other nodes.
- ``cluster_silent``: a node dies (no heartbeat over any route): its neighbours and the
  ground must notice, the ground moves its jobs.
- ``cluster_geo``: the GEO data relay the cluster uses fails for a while: TM and a TC
  sent by GEO go by another relay (or another route).
- ``cluster_isl``: the optical link between two neighbours fails for a while: a TC
  relayed over it by two ISL hops (each node's terminals reach only its next
  neighbours: ``neighbours`` 1) gets over the first hop, waits at the middle node and
  is forwarded once the link is back (store and forward), and the two do not call each
  other silent.

The checks (``score``) read the world, never the software's view of itself: where each
job really is at the end (the nodes' own job tables and relay queues, not the ground's
ledger), the boards' own work counters (work done twice), the results that reached the
ground against the result computed from each job's record, the packets that really
reached the ground and when, the fault as the runner applied it, the boards powered at
the end. Every check can fail: ``tests/ground/test_cluster_scenarios.py`` breaks each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flightsw.base.errors import FlightswError

NS_PER_S = 1_000_000_000
# Short jobs (54-216 board-seconds, checkpoints every 20 s): many finish in a short run.
SHORT_JOBS: dict[str, Any] = {
    "mean_board_hours": 0.03,
    "min_board_hours": 0.015,
    "max_board_hours": 0.06,
    "checkpoint_s": 20.0,
    "load": 0.9,
}


@dataclass(frozen=True)
class ClusterScenario:
    name: str
    doc: str
    fault: str  # "safe_mode" | "halt" | "geo_outage" | "isl_outage"
    nodes: int = 3
    boards: int = 8
    duration_s: float = 400.0
    at_s: tuple[float, float] = (60.0, 150.0)  # the fault's time, drawn from the seed
    outage_s: float = 150.0
    slow: bool = True
    jobs: tuple[tuple[str, float], ...] = ()  # over SHORT_JOBS
    neighbours: int = 2  # ISL terminals per side along the string


LIBRARY: dict[str, ClusterScenario] = {
    s.name: s
    for s in (
        ClusterScenario(
            "cluster_safe",
            "a node forced into safe mode hands its jobs over (short)",
            "safe_mode",
            nodes=2,
            boards=4,
            duration_s=120.0,
            at_s=(30.0, 60.0),
            slow=False,
            jobs=(("mean_board_hours", 0.012), ("min_board_hours", 0.005), ("checkpoint_s", 10.0)),
        ),
        ClusterScenario(
            "cluster_safe_long",
            "a node of four forced into safe mode, 15 min",
            "safe_mode",
            nodes=4,
            boards=16,
            duration_s=900.0,
            at_s=(100.0, 400.0),
        ),
        ClusterScenario("cluster_silent", "a node dies: silent on every route", "halt"),
        ClusterScenario("cluster_geo", "the GEO relay in use fails", "geo_outage"),
        ClusterScenario(
            "cluster_isl",
            "the second ISL hop of a relayed TC fails",
            "isl_outage",
            4,
            neighbours=1,
        ),
    )
}


@dataclass(frozen=True)
class Plan:
    """What a scenario and a seed resolve to: the fault and its target."""

    scenario: ClusterScenario
    seed: int
    node: int
    at_s: float
    target: str = ""  # the failed link ("geo:NAME", "isl:A-B")
    tc_node: int = -1  # where the scenario's TC goes (-1: none)
    tc_request_id: int = 0


def load_cluster_scenario(name: str) -> ClusterScenario:
    s = LIBRARY.get(name)
    if s is None:
        raise FlightswError(f"no cluster scenario {name!r} (known: {', '.join(sorted(LIBRARY))})")
    return s


def plan_and_options(
    scenario: ClusterScenario, seed: int, out_dir: Path, **overrides: Any
) -> tuple[Plan, Any]:
    """The seeded plan and the ClusterOptions that run it."""
    from flightsw.ground.commanding import CommandEncoder
    from flightsw.packets import PusTc
    from flightsw.runtime.dictionary import build_dictionary
    from flightsw.runtime.mission import load_mission
    from flightsw.sil.cluster import ClusterOptions
    from flightsw.sil.cluster_node import SCID_BASE, NodeSpec, node_mission
    from hal.sim.backend import ground_stations, spacecraft_config
    from sim_hw.environment import contact_windows
    from sim_hw.isl import ClusterLinks, LinkOutage, formation, geo_relays
    from sim_hw.orbit import CircularOrbit

    rng = np.random.default_rng([seed & 0xFFFFFFFF, 0xC1A5])
    n = scenario.nodes
    at = round(float(rng.uniform(*scenario.at_s)), 1)
    # isl_outage: the link (node, node + 1) fails, the TC goes node - 1 -> node -> node + 1.
    node = int(rng.integers(*((1, n - 1) if scenario.fault == "isl_outage" else (0, n))))
    kw: dict[str, Any] = {
        "nodes": n,
        "boards": scenario.boards,
        "duration_s": scenario.duration_s,
        "seed": seed,
        "out_dir": out_dir,
        "cluster_jobs": True,
        "workload_overrides": {**SHORT_JOBS, **dict(scenario.jobs)},
        "neighbours": scenario.neighbours,
    }
    base = load_mission(None, seed=seed)
    start_s = base.executive.start_ns / NS_PER_S
    enc = CommandEncoder(
        # The dictionary of node 0 (node_mission writes nothing: out_dir is the run's).
        build_dictionary(
            node_mission(NodeSpec(0, "node00", None, seed, 0.0, SCID_BASE, str(out_dir)))
        )
    )
    plan = Plan(scenario, seed, node, at)
    if scenario.fault == "safe_mode":
        kw["safe_modes"] = ((node, at),)
    elif scenario.fault == "halt":
        kw["halts"] = ((node, at),)
    elif scenario.fault == "geo_outage":
        cfg = spacecraft_config(base.hal_config())
        plane = CircularOrbit(cfg.altitude_km, ltan_h=cfg.ltan_h, day_of_year=cfg.day_of_year)
        orbits = formation(plane, n, 2.0)
        links = ClusterLinks(orbits, geo_relays(cfg.day_of_year))
        stations = ground_stations(base.hal.get("ground_stations"))
        t0 = start_s + at
        passes = [
            (w.start_s, w.end_s)
            for o in orbits
            for w in contact_windows(o, stations, t0, t0 + 86_400.0 + scenario.outage_s)
        ]
        t_fault, k = _relay_with_a_spare(links, node, n, t0, scenario.outage_s, passes)
        start_s = t_fault - at  # the run starts so that the fault falls there
        kw["start_s"] = start_s
        target = f"geo:{links.relays[k].name}"
        kw["outages"] = (LinkOutage(target, t_fault, scenario.outage_s),)
        tc = enc.encode("test.ping")
        kw["geo_tc_script"] = ((t_fault + 15.0, node, tc),)
        plan = Plan(scenario, seed, node, at, target, node, PusTc.decode(tc).request_id)
    elif scenario.fault == "isl_outage":
        target = f"isl:{node}-{node + 1}"
        kw["outages"] = (LinkOutage(target, start_s + at, scenario.outage_s),)
        ping = enc.encode("test.ping")
        fwd = enc.encode("relay.forward", {"dest": SCID_BASE + node + 1, "packet": ping})
        kw["geo_tc_script"] = ((start_s + at + 25.0, node - 1, fwd),)  # two hops away
        plan = Plan(scenario, seed, node, at, target, node + 1, PusTc.decode(ping).request_id)
    else:
        raise FlightswError(f"{scenario.name}: unknown fault {scenario.fault!r}")
    kw.update(overrides)
    return plan, ClusterOptions(**kw)


def _relay_with_a_spare(
    links: Any,
    node: int,
    nodes: int,
    t0: float,
    outage_s: float,
    passes: list[tuple[float, float]],
) -> tuple[float, int]:
    """The first time from ``t0`` (by the minute, within a day) when ``node``'s best GEO
    relay could fail with every node still seeing another relay for the whole outage and
    no node in a ground pass (the TM must go by the other relay): (time, relay). A relay
    outage where no other relay sees the cluster tests nothing but store and forward
    (``cluster_isl`` and the relay tests do that)."""
    for t in np.arange(t0, t0 + 86_400.0, 60.0):
        if any(a < t + outage_s + 30.0 and b > t - 30.0 for a, b in passes):
            continue
        k = links.best_geo(node, float(t))
        if k is None:
            continue
        spans = np.arange(float(t), float(t) + outage_s + 30.0, 30.0)
        if all(
            any(links.geo(i, j, float(u)).up for j in range(len(links.relays)) if j != k)
            for i in range(nodes)
            for u in spans
        ):
            return float(t), k
    raise FlightswError(f"no GEO relay with a spare for node {node} within a day")


def score(plan: Plan, summary: dict[str, Any], nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The checks of one run: each True or False, with what was measured."""
    s = plan.scenario
    truth = summary["job_truth"]
    ledger = summary["cluster_jobs"]["ledger"]
    events = summary["ground_fdir"]["events"]
    halted = {h["node"]: h["t_s"] for h in summary["cluster_faults"]["halted"]}
    window, beat = summary["window_s"], summary["ground_beat_s"]
    silent_after = summary["ground_fdir"]["silent_after_s"]
    checks: dict[str, bool] = {}
    measured: dict[str, Any] = {"node": plan.node, "at_s": plan.at_s, "target": plan.target}
    checks["no_job_lost"] = truth["lost"] == 0
    checks["results_correct"] = (
        ledger["results_wrong"] == 0 and ledger["duplicate_results_differing"] == 0
    )
    checks["jobs_delivered"] = truth["delivered"] > 0
    # Work done twice (boards' own counters against work delivered and in progress): a
    # job's last 1 s step, 2 s a node for rounding, and all a dead node did.
    # A node that died gave nothing back: each job it was running resumes elsewhere from
    # the last checkpoint its TM(130,6) brought to the ground, so it may redo at most a
    # checkpoint interval, a report period and the way down (two windows). The jobs
    # running at its death are the dead node's own state (its payload when it stopped).
    ckpt_s = float({**SHORT_JOBS, **dict(s.jobs)}["checkpoint_s"])
    per_job = ckpt_s + float(summary.get("status_report_s", 0.0)) + 2.0 * window
    running = sum(int(nodes[f"node{i:02d}"].get("jobs_running", 0)) for i in halted)
    dead_s = running * per_job
    measured["jobs_running_at_death"] = running
    allowed = 1.5 * truth["placed"] + 2.0 * s.nodes + dead_s
    measured["work_redone_s"], measured["work_redone_allowed_s"] = truth["work_redone_s"], allowed
    checks["resumed_from_checkpoints"] = truth["work_redone_s"] <= allowed
    false = [e for e in events if e["event"] == "NODE_SILENT" and e["node"] not in halted]
    checks["no_false_silence"] = not false
    if s.fault == "safe_mode":
        name = f"node{plan.node:02d}"
        checks["safe_mode_took_effect"] = (
            summary["cluster_faults"]["safe_mode"] == [{"node": plan.node, "t_s": plan.at_s}]
            and nodes[name]["truth"]["powered_at_end"] == []
        )
        checks["jobs_handed_over"] = (
            ledger["jobs_handed_back"] > 0
            and ledger["resumed_from_checkpoint"] > 0
            and ledger["moved_and_delivered"] > 0
        )
        measured["jobs_moved"] = ledger["jobs_handed_back"]
    if s.fault == "halt":
        found = [e for e in events if e["event"] == "NODE_SILENT" and e["node"] == plan.node]
        latency = found[0]["t_s"] - halted[plan.node] if found else None
        bound = silent_after + beat + 2.0 * window
        measured["detection_latency_s"], measured["detection_bound_s"] = latency, bound
        checks["silent_node_detected"] = latency is not None and 0 <= latency <= bound
        checks["jobs_moved_off_silent_node"] = (
            bool(found) and found[0].get("jobs_moved", 0) > 0 and ledger["moved_and_delivered"] > 0
        )
        measured["jobs_moved"] = found[0].get("jobs_moved") if found else 0
        # Each job the dead node was running resumed elsewhere from a checkpoint that
        # reached the ground: at most ``per_job`` behind the work it had done when it died
        # (the dead node's memory); from its start it would be its whole progress.
        behind = truth.get("dead_node_jobs_resumed_behind_s", {}).get("max")
        measured["resumed_behind_max_s"], measured["resumed_behind_bound_s"] = behind, per_job
        checks["resumed_from_reported_checkpoints"] = (
            truth.get("dead_node_jobs_moved", 0) > 0 and behind is not None and behind <= per_job
        )
        linked = [j for j in (plan.node - 1, plan.node + 1) if 0 <= j < s.nodes]
        checks["neighbours_detected"] = all(
            int(nodes[f"node{j:02d}"]["relay"].get("silences", 0)) >= 1 for j in linked
        )
    if s.fault in ("geo_outage", "isl_outage"):
        t0, t1 = plan.at_s, plan.at_s + s.outage_s
        gaps = {
            n: [g for g in spans if g[0] < t1 and g[1] > t0]
            for n, spans in summary["ground_unheard"].items()
            if int(n) not in halted
        }
        measured["unheard_during_outage"] = {n: g for n, g in gaps.items() if g}
        checks["ground_heard_every_node_through_the_outage"] = not any(gaps.values())
        done = [
            t
            for n, rid, t in summary["tc_completed"]
            if n == plan.tc_node and rid == f"{plan.tc_request_id:08x}"
        ]
        measured["tc_completed_s"] = done[0] if done else None
        if s.fault == "geo_outage":  # by another relay: while the failed one is still down
            checks["tc_delivered_by_another_relay"] = bool(done) and done[0] < t1
        else:  # an ISL: by another hop, or stored and forwarded when the link is back
            checks["relayed_tc_delivered"] = bool(done)
    if s.fault == "isl_outage":
        pair = (plan.node, plan.node + 1)
        # Over two hops: the middle node (the failed link's near end) carried it on.
        middle = nodes[f"node{plan.node:02d}"]["relay"]
        target = nodes[f"node{plan.node + 1:02d}"]["relay"]
        measured["middle_relayed"] = int(middle.get("relayed_for_others", 0))
        checks["relayed_over_two_hops"] = (
            measured["middle_relayed"] >= 1 and int(target.get("tc_delivered", 0)) >= 1
        )
        checks["no_silence_on_board_for_a_link_down"] = all(
            int(nodes[f"node{j:02d}"]["relay"].get("silences", 0)) == 0 for j in pair
        )
    return {
        "scenario": s.name,
        "seed": plan.seed,
        "passed": all(checks.values()),
        "checks": checks,
        "measured": measured,
        "jobs": {k: truth[k] for k in ("placed", "delivered", "lost", "goodput")},
    }


def run_cluster_scenario(name: str, seed: int, out_dir: Path, **overrides: Any) -> dict[str, Any]:
    """Run one scenario for one seed; the score (also written to ``score.json``)."""
    import json

    from flightsw.sil.cluster import run_cluster

    plan, opts = plan_and_options(load_cluster_scenario(name), seed, out_dir, **overrides)
    summary = run_cluster(opts)
    nodes = {
        f"node{i:02d}": json.loads(
            (out_dir / "nodes" / f"node{i:02d}" / "summary.json").read_text()
        )
        for i in range(opts.nodes)
    }
    result = score(plan, summary, nodes)
    (out_dir / "score.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
