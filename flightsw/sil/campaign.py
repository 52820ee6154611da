"""Fault-injection campaigns: many seeded scenario runs on Dask, scored and plotted.

``dask.distributed`` spreads the runs: a local cluster of worker processes by default,
or an existing scheduler by address (``dask scheduler`` + ``dask worker`` started from
the same installation). Each run is independent and deterministic from its (scenario,
seed), so a campaign gives the same numbers wherever it runs.

``campaign.json`` holds every run's score, the totals per fault kind (injected, not
effective and why, detected, recovered, isolated, censored, left to the ground,
detection latency and recovery time percentiles), per scenario the spread across seeds
(distinct fault draws, outcome ranges, latency and recovery percentiles, failed checks),
false alarms, nominal orbits flown, lost work and lost telemetry; PNG plots beside it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from flightsw.base.errors import FlightswError
from flightsw.sil.progress import Progress
from flightsw.sil.scenario import run_scenario, scenario_names


def _percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    a = np.asarray(values, dtype=float)
    return {
        "min": float(a.min()),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "max": float(a.max()),
    }


def _kinds(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per fault kind: every outcome summed, latency and recovery-time distributions."""
    kinds: dict[str, dict[str, Any]] = {}
    for r in results:
        for kind, k in r["kinds"].items():
            t = kinds.setdefault(
                kind,
                {
                    "injected": 0,
                    "effective": 0,
                    "detected": 0,
                    "recovered": 0,
                    "isolated": 0,
                    "censored": 0,
                    "left_to_ground": 0,
                    "not_effective": {},
                    "latency_s": [],
                    "recovery_s": [],
                },
            )
            for key in ("injected", "effective", "detected", "recovered", "isolated"):
                t[key] += k[key]
            for key in ("censored", "left_to_ground"):
                t[key] += k.get(key, 0)
            for reason, n in k.get("not_effective", {}).items():
                t["not_effective"][reason] = t["not_effective"].get(reason, 0) + n
            t["latency_s"] += k["latency_s"]
            t["recovery_s"] += k["recovery_s"]
    out = {}
    for kind, t in sorted(kinds.items()):
        scored = t["effective"] - t["left_to_ground"]
        out[kind] = {
            **{k: v for k, v in t.items() if k not in ("latency_s", "recovery_s")},
            "detected_fraction": t["detected"] / scored if scored else None,
            "recovered_fraction": (t["recovered"] + t["isolated"] + t["censored"]) / scored
            if scored
            else None,
            "latency_s": _percentiles(t["latency_s"]),
            "recovery_s": _percentiles(t["recovery_s"]),
        }
    return out


def _spread(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One scenario across its seeds: how much the draws and the outcomes varied."""
    draws = {json.dumps(r.get("faults_drawn", []), sort_keys=True) for r in runs}
    struck = [x for r in runs for x in r.get("struck", [])]
    lost = [r.get("lost", {}) for r in runs]
    return {
        "runs": len(runs),
        "passed": sum(int(r["passed"]) for r in runs),
        "distinct_fault_draws": len(draws),
        # across seeds: the units the scheduled faults struck, and the states they met
        "distinct_targets": len({json.dumps([x["kind"], x["target"]]) for x in struck}),
        "states_struck": sorted({x["state"] for x in struck if x["state"]}),
        "failed_checks": {
            c: sum(1 for r in runs if not r["checks"].get(c, True))
            for c in sorted({c for r in runs for c in r["checks"]})
            if any(not r["checks"].get(c, True) for r in runs)
        },
        "kinds": {
            kind: {
                "effective": [min(e), max(e)],
                "latency_s": _percentiles(lat),
                "recovery_s": _percentiles(rec),
            }
            for kind in sorted({k for r in runs for k in r["kinds"]})
            for e, lat, rec in [
                (
                    [r["kinds"].get(kind, {}).get("effective", 0) for r in runs],
                    [v for r in runs for v in r["kinds"].get(kind, {}).get("latency_s", [])],
                    [v for r in runs for v in r["kinds"].get(kind, {}).get("recovery_s", [])],
                )
            ]
        },
        "false_alarms": sum(r["false_alarms"] for r in runs),
        "work_redone_s": _percentiles([x.get("work_redone_s", 0.0) for x in lost]),
        "lost_jobs": sum(x.get("lost_jobs", 0) for x in lost),
        "orbits": round(sum(r.get("orbits", 0.0) for r in runs), 3),
    }


def aggregate(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over runs: per kind counts and distributions, per scenario the spread across
    seeds, false alarms, lost work, failures."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_name.setdefault(r["scenario"], []).append(r)
    nominal = by_name.get("nominal", [])
    return {
        "runs": len(results),
        "passed": sum(int(r["passed"]) for r in results),
        "by_scenario": {name: _spread(runs) for name, runs in sorted(by_name.items())},
        "kinds": _kinds(results),
        "false_alarms": sum(r["false_alarms"] for r in results),
        "false_alarms_nominal": sum(r["false_alarms"] for r in nominal),
        "nominal_orbits": round(sum(r.get("orbits", 0.0) for r in nominal), 3),
        "tm_dropped": sum(r["tm_dropped"] for r in results),
        "lost_jobs": sum(r.get("lost", {}).get("lost_jobs", 0) for r in results),
        "work_redone_s": round(
            sum(r.get("lost", {}).get("work_redone_s", 0.0) for r in results), 1
        ),
        "silent_escapes": sum(r.get("silent_escapes", 0) for r in results),
        "failures": [
            {
                "scenario": r["scenario"],
                "seed": r["seed"],
                "failed": [c for c, ok in r["checks"].items() if not ok],
                "why": r.get("failures", [])[:5]
                + [
                    f"false alarm {a['event']} {a['args']} at {a['t_s']}"
                    for a in r.get("false_alarm_events", [])[:3]
                ],
            }
            for r in results
            if not r["passed"]
        ][:100],
    }


def crashed_run(scenario: str, seed: int, exc: BaseException) -> dict[str, Any]:
    """The score of a run that raised instead of finishing: failed (check ``ran``), with
    the error, shaped like any other so the totals count it."""
    return {
        "scenario": scenario,
        "seed": seed,
        "passed": False,
        "checks": {"ran": False},
        "kinds": {},
        "failures": [f"run raised {type(exc).__name__}: {exc}"[:300]],
        "false_alarms": 0,
        "false_alarm_events": [],
        "tm_dropped": 0,
        "orbits": 0.0,
    }


def cluster_run_as_scored(score: dict[str, Any], orbits: float) -> dict[str, Any]:
    """A cluster scenario's score (``cluster_scenarios.score``) in the shape of a node
    scenario's, so one campaign counts both: its checks are the run's checks, a failed
    one is a failure, a silence the ground or a neighbour declared for a node that was
    alive is a false alarm, and a job the cluster lost is a lost job."""
    checks = dict(score["checks"])
    jobs = score.get("jobs", {})
    measured = score.get("measured", {})
    return {
        "scenario": score["scenario"],
        "seed": score["seed"],
        "passed": bool(checks) and all(checks.values()),
        "checks": checks,
        "kinds": {},
        "failures": [f"check {c} failed" for c, ok in checks.items() if not ok],
        "false_alarms": 0 if checks.get("no_false_silence", True) else 1,
        "false_alarm_events": [],
        "tm_dropped": 0,
        "orbits": orbits,
        "lost": {
            "lost_jobs": int(jobs.get("lost", 0)),
            "work_redone_s": float(measured.get("work_redone_s", 0.0)),
        },
        # what the seed drew: the node struck, the time, the failed link
        "faults_drawn": [{k: measured.get(k) for k in ("node", "at_s", "target")}],
        "measured": measured,
        "jobs": jobs,
    }


def run_cluster_run(name: str, seed: int) -> dict[str, Any]:
    """One cluster scenario in this worker (its nodes one after the other: a campaign
    already spreads runs over the workers), scored from the cluster's truth."""
    from flightsw.runtime.mission import load_mission
    from flightsw.sil.cluster_scenarios import load_cluster_scenario, run_cluster_scenario
    from flightsw.sil.simulate import orbit_period_s

    scenario = load_cluster_scenario(name)
    orbits = scenario.duration_s / orbit_period_s(load_mission(None, seed=seed))
    with tempfile.TemporaryDirectory(prefix="flightsw-cluster-run-") as tmp:
        score = run_cluster_scenario(
            name, seed, Path(tmp), scheduler="inline", plots=False, progress=False
        )
    return cluster_run_as_scored(score, round(orbits, 4))


def run_any(name: str, seed: int) -> dict[str, Any]:
    """A node scenario (the shipped library or a file) or a cluster scenario by name."""
    from flightsw.sil.cluster_scenarios import LIBRARY

    return run_cluster_run(name, seed) if name in LIBRARY else run_scenario(name, seed)


def campaign_names(requested: list[str] | None) -> list[str]:
    """The runs' scenario names: every node scenario when none are named; ``cluster``
    stands for every cluster scenario (they are minutes each, so never by default)."""
    from flightsw.sil.cluster_scenarios import LIBRARY

    shipped = scenario_names()
    names: list[str] = []
    for name in requested or shipped:
        names += sorted(LIBRARY) if name == "cluster" else [name]
    unknown = [
        n for n in names if n not in shipped and n not in LIBRARY and not n.endswith(".toml")
    ]
    if unknown:
        raise FlightswError(
            f"unknown scenario {unknown[0]!r}; shipped: {shipped}, "
            f"cluster: {sorted(LIBRARY)} (or 'cluster' for all of them)"
        )
    return names


def _client(scheduler: str | None, workers: int) -> Any:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise FlightswError(
            "campaigns need dask.distributed: pip install -e '.[campaign]'"
        ) from None
    if scheduler:
        try:
            return Client(scheduler, timeout=30)
        except OSError as exc:
            raise FlightswError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    return Client(cluster)


def run_campaign(
    scenarios: list[str] | None,
    seeds: int,
    out_dir: Path,
    first_seed: int = 1,
    scheduler: str | None = None,
    workers: int = 2,
    progress: bool | None = None,
    runner: Callable[..., dict[str, Any]] = run_any,
) -> dict[str, Any]:
    """Run every scenario with ``seeds`` seeds; writes campaign.json and plots.

    Runs are submitted seed by seed (every scenario of a seed before the next seed), and
    each score is appended to ``runs.jsonl`` as it arrives, so a campaign cut short
    leaves the runs it finished, spread over the whole library."""
    names = campaign_names(scenarios)
    if seeds < 1:
        raise FlightswError("--seeds must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    client = _client(scheduler, workers)
    try:
        from dask.distributed import as_completed

        futures = {
            client.submit(runner, name, seed, pure=False): (name, seed)
            for seed in range(first_seed, first_seed + seeds)
            for name in names
        }
        bar = Progress(len(futures), "campaign", progress)
        results: list[dict[str, Any]] = []
        with (out_dir / "runs.jsonl").open("w") as log:
            for fut in as_completed(futures):
                try:
                    results.append(fut.result())
                except Exception as exc:  # one broken run fails itself, not the campaign
                    results.append(crashed_run(*futures[fut], exc))
                log.write(json.dumps(results[-1]) + "\n")
                log.flush()
                bar.update(len(results))
        bar.close()
        where = scheduler or f"local cluster ({workers} workers)"
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None and scheduler is None:
            cluster.close()
    results.sort(key=lambda r: (r["scenario"], r["seed"]))
    totals = aggregate(results)
    report: dict[str, Any] = {"cluster": where, "totals": totals, "runs": results}
    (out_dir / "campaign.json").write_text(json.dumps(report, indent=1) + "\n")
    report["plots"] = plot(totals, results, out_dir)
    return report


def plot(totals: dict[str, Any], results: list[dict[str, Any]], out_dir: Path) -> list[str]:
    """Outcome bars per fault kind and latency/recovery-time histograms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(totals["kinds"])
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(kinds))
    for i, key in enumerate(("effective", "detected", "recovered")):
        ax.bar(x + (i - 1) * 0.27, [totals["kinds"][k][key] for k in kinds], 0.27, label=key)
    ax.set_xticks(x, kinds)
    ax.set_ylabel("faults")
    ax.set_title(
        f"{totals['runs']} runs, {totals['passed']} passed, {totals['false_alarms']} false alarms"
    )
    if kinds:  # a campaign of cluster scenarios only has no fault kinds to bar
        ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "campaign_outcomes.png", dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in (
        (axes[0], "latency_s", "detection latency"),
        (axes[1], "recovery_s", "recovery time"),
    ):
        for kind in kinds:
            values = [v for r in results for v in r["kinds"].get(kind, {}).get(key, [])]
            if values:
                ax.hist(values, bins=20, alpha=0.6, label=kind)
        ax.set_title(title)
        ax.set_xlabel("s after injection")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "campaign_times.png", dpi=110)
    plt.close(fig)
    return ["campaign_outcomes.png", "campaign_times.png"]
