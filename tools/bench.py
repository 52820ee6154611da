"""All benchmarks in one run, reported as rates and as ratios against baselines measured
in the same run (the machines are shared and noisy; absolute numbers drift, ratios
drift less).

    python tools/bench.py            # full budget
    python tools/bench.py --quick    # a few seconds per group
    python tools/bench.py --json out.json
    python tools/bench.py --only bench_sil    # one group

A target missed prints MISS and makes the exit status 1.

Each group lives in a ``tools/bench_*.py`` module with ``run(quick) -> dict``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

GROUPS = [
    "bench_core",
    "bench_packets",
    "bench_link_uplink",
    "bench_link_downlink",
    "bench_link_path",
    "bench_cop1",
    "bench_sim_hw",
    "bench_sil",
    "bench_ground",
    "bench_archive",
    "bench_uplink_flood",
    "bench_scheduling",
    "bench_monitoring",
    "bench_cluster",
    "bench_cfdp",
]

# (metric, target, description) — a target > 0 means "at least", < 0 means "at most |t|".
TARGETS: list[tuple[str, float, str]] = [
    ("bus_msgs_per_s", 1_000_000, "bus publish->deliver, one subscriber"),
    ("core_sil_realtime_factor", 1000, "flightsw sim, core mission"),
    ("pus_tc_decode_vs_spacepackets", 2.0, "PUS TC decode vs spacepackets unpack"),
    ("pus_tm_decode_vs_spacepackets", 2.0, "PUS TM decode vs spacepackets unpack"),
    ("crc16_vs_binascii", 0.8, "CRC-16 throughput vs binascii.crc_hqx"),
    ("tm_path_flight_mbit_s", 100, "packets -> AOS frames -> CADUs, one core (mixed sizes)"),
    ("tm_path_ground_mbit_s", 100, "CADUs -> frames -> packets, one core (mixed sizes)"),
    ("board_step_ratio_10000_vs_64", -4.0, "sim_hw board step, 10,000 vs 64 boards"),
    (
        "sil_realtime_factor_1024_busy",
        1000,
        "flightsw sim, 1024 busy boards, archive and ground station (loop CPU time)",
    ),
    ("sil_cost_4096_vs_256_busy", -2.0, "flightsw sim cost, 4096 vs 256 busy boards"),
    ("sil_utilization_min", 0.9, "boards the workload kept busy (truth), worst size"),
    ("archive_ingest_packets_per_s", 5000, "TM decoded into the SQLite archive"),
    ("archive_batch_ingest_packets_per_s", 100_000, "batched archive ingest, one core (CPU s)"),
    ("archive_batch_ingest_points_per_s", 1_000_000, "decoded points into the archive (CPU s)"),
    ("archive_ingest_vs_raw_sqlite", 0.5, "batched ingest vs SQLite inserting the same rows"),
    ("frame_time_udp_flood_vs_quiet", -4.0, "whole-node minor frame under a UDP flood vs quiet"),
    ("framer_sdls_vs_plain", 0.3, "authenticated TM framer vs plain (HK packets)"),
    ("extractor_sdls_vs_plain", 0.2, "authenticated TM extractor vs plain (HK packets)"),
    ("sched_10k_waiting_vs_none", -1.10, "minor frame with 10,000 PUS-11 TCs scheduled vs none"),
    ("sched_10k_releasing_vs_few", -1.10, "same, releasing one a frame, vs a few hundred"),
    ("monitor_frame_cost_1000_vs_none", -1.10, "whole-node minor frame, 1,000 PUS-12 monitors"),
    ("cluster_lockstep_vs_independent_4", -1.20, "cluster SIL CPU, 4 nodes lockstep vs alone"),
    ("cluster_lockstep_vs_independent_16", -1.20, "cluster SIL CPU, 16 nodes lockstep vs alone"),
    ("cluster_lockstep_vs_independent_64", -1.20, "cluster SIL CPU, 64 nodes lockstep vs alone"),
    ("cluster_link_cost_64_vs_4", -8.0, "cluster link model per window, 64 vs 4 nodes (16x)"),
    ("cluster_dask_wall_vs_busy", -1.20, "cluster on Dask: runner wall vs worker busy time"),
    ("cfdp_down_vs_link", 0.5, "CFDP class 2 file octets down per s over the radio's rate"),
    ("cfdp_up_vs_link", 0.5, "CFDP class 2 file octets up per s over the radio's rate"),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", help="also write results to this file")
    ap.add_argument("--only", nargs="*", help="groups to run (default all available)")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    for name in args.only or GROUPS:
        if not (HERE / f"{name}.py").exists():
            continue
        mod = importlib.import_module(name)
        print(f"== {name}", flush=True)
        group = mod.run(args.quick)
        for k, v in group.items():
            print(f"  {k:50s} {v:16,.3f}", flush=True)
        results[name] = group
    flat = {k: v for g in results.values() for k, v in g.items()}
    print("== targets")
    missed = []
    for metric, target, desc in TARGETS:
        if metric in flat:
            ok = flat[metric] >= target if target > 0 else flat[metric] <= -target
            print(
                f"  {'PASS' if ok else 'MISS'} {metric} = {flat[metric]:,.2f} "
                f"(target {'>=' if target > 0 else '<='} {abs(target):,}) {desc}"
            )
            if not ok:
                missed.append(metric)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if missed:
        print(f"MISS: {len(missed)} target(s) missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
