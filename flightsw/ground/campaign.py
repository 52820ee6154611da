"""Fault-injection campaigns: many seeded scenario runs on Dask, scored and plotted.

``dask.distributed`` spreads the runs: a local cluster of worker processes by default,
or an existing scheduler by address (``dask scheduler`` + ``dask worker`` started from
the same installation). Each run is independent and deterministic from its (scenario,
seed), so a campaign gives the same numbers wherever it runs.

``campaign.json`` holds every run's score and the totals per fault kind (injected,
detected, recovered, detection latency and recovery time percentiles), false alarms,
lost work and lost telemetry; PNG plots of the same sit beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from flightsw.errors import FlightswError
from flightsw.ground.scenario import run_scenario, scenario_names
from flightsw.progress import Progress


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


def aggregate(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals over runs: per kind counts and distributions, alarms, losses, failures."""
    kinds: dict[str, dict[str, Any]] = {}
    for r in results:
        for kind, k in r["kinds"].items():
            t = kinds.setdefault(
                kind,
                {"injected": 0, "detected": 0, "recovered": 0, "latency_s": [], "recovery_s": []},
            )
            for key in ("injected", "detected", "recovered"):
                t[key] += k[key]
            t["latency_s"] += k["latency_s"]
            t["recovery_s"] += k["recovery_s"]
    per_kind = {
        kind: {
            "injected": t["injected"],
            "detected": t["detected"],
            "recovered": t["recovered"],
            "detected_fraction": t["detected"] / t["injected"] if t["injected"] else None,
            "recovered_fraction": t["recovered"] / t["injected"] if t["injected"] else None,
            "latency_s": _percentiles(t["latency_s"]),
            "recovery_s": _percentiles(t["recovery_s"]),
        }
        for kind, t in sorted(kinds.items())
    }
    by_scenario: dict[str, dict[str, int]] = {}
    for r in results:
        s = by_scenario.setdefault(r["scenario"], {"runs": 0, "passed": 0})
        s["runs"] += 1
        s["passed"] += int(r["passed"])
    nominal = [r for r in results if r["scenario"] == "nominal"]
    return {
        "runs": len(results),
        "passed": sum(int(r["passed"]) for r in results),
        "by_scenario": by_scenario,
        "kinds": per_kind,
        "false_alarms": sum(r["false_alarms"] for r in results),
        "false_alarms_nominal": sum(r["false_alarms"] for r in nominal),
        "tm_dropped": sum(r["tm_dropped"] for r in results),
        "lost_board_hours": round(sum(r["lost_board_hours"] for r in results), 4),
        "job_rollbacks": sum(r["job_rollbacks"] for r in results),
        "integrity_reruns": sum(r.get("integrity_reruns", 0) for r in results),
        "silent_escapes": sum(r.get("silent_escapes", 0) for r in results),
        "failures": [
            {
                "scenario": r["scenario"],
                "seed": r["seed"],
                "failed": [c for c, ok in r["checks"].items() if not ok],
            }
            for r in results
            if not r["passed"]
        ][:100],
    }


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
    runner: Callable[..., dict[str, Any]] = run_scenario,
) -> dict[str, Any]:
    """Run every scenario with ``seeds`` seeds; writes campaign.json and plots."""
    names = scenarios or scenario_names()
    unknown = [n for n in names if n not in scenario_names() and not n.endswith(".toml")]
    if unknown:
        raise FlightswError(f"unknown scenario {unknown[0]!r}; shipped: {scenario_names()}")
    if seeds < 1:
        raise FlightswError("--seeds must be at least 1")
    out_dir.mkdir(parents=True, exist_ok=True)
    client = _client(scheduler, workers)
    try:
        from dask.distributed import as_completed

        futures = [
            client.submit(runner, name, seed, pure=False)
            for name in names
            for seed in range(first_seed, first_seed + seeds)
        ]
        bar = Progress(len(futures), "campaign", progress)
        results: list[dict[str, Any]] = []
        for fut in as_completed(futures):
            results.append(fut.result())
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
    for i, key in enumerate(("injected", "detected", "recovered")):
        ax.bar(x + (i - 1) * 0.27, [totals["kinds"][k][key] for k in kinds], 0.27, label=key)
    ax.set_xticks(x, kinds)
    ax.set_ylabel("faults")
    ax.set_title(
        f"{totals['runs']} runs, {totals['passed']} passed, {totals['false_alarms']} false alarms"
    )
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
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "campaign_times.png", dpi=110)
    plt.close(fig)
    return ["campaign_outcomes.png", "campaign_times.png"]
