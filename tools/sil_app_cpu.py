"""CPU per simulated second of each app and of the whole run loop, and an A/B against
another tree, for speed work on apps where whole-run wall time is too noisy.

One run (``flightsw sim`` semantics, ``--boards N``): the loop's CPU time
(``time.process_time``) and each app's own CPU time (the executive's CPU meter set to
``time.thread_time_ns``: what the app's steps cost, whatever else loads the machine),
in microseconds per simulated second::

    python tools/sil_app_cpu.py --boards 1024 --duration 600

A/B: ``--pairs N --base DIR`` runs N interleaved pairs (base first on odd pairs, this
tree first on even ones) in fresh processes, DIR being another checkout (e.g.
``git archive c55e360 | tar -x -C /tmp/base``), and prints per quantity the median of
the pair differences (base - this tree: > 0 is a saving) and both medians::

    python tools/sil_app_cpu.py --pairs 8 --base /tmp/base

Host CPU never reaches telemetry (the meter feeds only the host profile), so the runs
stay what they are without the measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
APPS = ("power", "thermal", "payload", "fdir")


def measure(tree: Path, boards: int, duration_s: float, seed: int) -> dict[str, float]:
    """One run of ``tree``'s code: loop and per-app CPU in us per simulated second."""
    sys.path.insert(0, str(tree))
    import flightsw

    if not Path(flightsw.__file__).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"flightsw comes from {flightsw.__file__}, not from {tree}")
    from flightsw.runtime.mission import load_mission
    from flightsw.sil.simulate import SimOptions, run_sim, with_boards

    mission = with_boards(load_mission(seed=seed), boards)
    with tempfile.TemporaryDirectory(prefix="sil-app-cpu-") as tmp:
        opts = SimOptions(
            duration_s=duration_s,
            out_dir=Path(tmp),
            progress=False,
            plots=False,
            cpu_meter=time.thread_time_ns,
        )
        summary = run_sim(mission, opts, wall=time.process_time)
    host = summary["host_profile"]
    out = {"loop": float(host["wall_seconds"]) / duration_s * 1e6}
    for name, st in host["apps"].items():
        if name in APPS:
            out[name] = float(st["cpu_total_ms"]) / duration_s * 1e3
    out["apps3"] = sum(out.get(a, 0.0) for a in ("power", "thermal", "payload"))
    return out


def _one(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--tree", str(tree), "--json", "--seed", str(args.seed)]
    cmd += ["--boards", str(args.boards), "--duration", str(args.duration)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def ab(args: argparse.Namespace) -> None:
    base, this = Path(args.base).resolve(), HERE
    rows: list[tuple[dict[str, float], dict[str, float]]] = []
    for i in range(args.pairs):
        if i % 2 == 0:
            b = _one(base, args)
            t = _one(this, args)
        else:
            t = _one(this, args)
            b = _one(base, args)
        rows.append((b, t))
        print(f"pair {i + 1}: base {b['loop']:.0f} this {t['loop']:.0f} us/sim-s", flush=True)
    for key in ("loop", "apps3", *APPS):
        diffs = [b[key] - t[key] for b, t in rows if key in b and key in t]
        if not diffs:
            continue
        mb = statistics.median(b[key] for b, _ in rows)
        mt = statistics.median(t[key] for _, t in rows)
        print(
            f"{key:8s} saved (median of pair differences) {statistics.median(diffs):8.1f} us/sim-s"
            f"   base {mb:8.1f}  this {mt:8.1f}"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--boards", type=int, default=1024)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--tree", default=str(HERE), help="checkout whose code runs (default: this)")
    p.add_argument("--json", action="store_true", help="one JSON line")
    p.add_argument("--pairs", type=int, default=0, help="A/B: interleaved pairs against --base")
    p.add_argument("--base", help="A/B: the other checkout")
    args = p.parse_args()
    if args.pairs:
        if not args.base:
            p.error("--pairs needs --base")
        ab(args)
        return
    out: dict[str, Any] = measure(Path(args.tree), args.boards, args.duration, args.seed)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:8s} {v:9.1f} us/sim-s")


if __name__ == "__main__":
    main()
