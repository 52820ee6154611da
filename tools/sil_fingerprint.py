"""Fingerprints of SIL runs, to prove that a speed change leaves every output byte alone.

A change meant to be pure memoisation (an exact gate, a cache, a fast path) must give the
same ``tm.bin``, the same archive rows, the same truth record and the same deterministic
part of ``summary.json`` for every seed, board count and fault scenario. This tool runs a
fixed set of runs and prints one sha256 per output per run as JSON; ``compare`` names the
runs and outputs that differ.

    python tools/sil_fingerprint.py record before.json            # on the old code
    python tools/sil_fingerprint.py record after.json             # on the new code
    python tools/sil_fingerprint.py compare before.json after.json   # exit 1 on a difference

``--quick`` runs fewer configurations (a few minutes on a quiet 2-core machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.runtime.mission import load_mission
from flightsw.sil.scenario import prepare_scenario, scenario_names
from flightsw.sil.simulate import SimOptions, deterministic_part, run_sim, with_boards


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def archive_digest(path: Path) -> str:
    """Every row of every table of an archive, in rowid order."""
    h = hashlib.sha256()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        for t in tables:
            h.update(t.encode())
            for row in con.execute(f'SELECT * FROM "{t}" ORDER BY rowid'):
                h.update(repr(row).encode())
    finally:
        con.close()
    return h.hexdigest()[:16]


def outputs(summary: dict[str, Any], out: Path) -> dict[str, str]:
    det = deterministic_part(summary)
    truth = det.pop("truth", None)
    return {
        "tm": _sha((out / "tm.bin").read_bytes()),
        "archive": archive_digest(out / "archive.sqlite"),
        "summary": _sha(json.dumps(det, sort_keys=True, default=str).encode()),
        "truth": _sha(json.dumps(truth, sort_keys=True, default=str).encode()),
    }


def nominal(seed: int, boards: int, duration_s: float) -> dict[str, str]:
    mission = with_boards(load_mission(seed=seed), boards)
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as tmp:
        opts = SimOptions(duration_s=duration_s, out_dir=Path(tmp), progress=False, plots=False)
        return outputs(run_sim(mission, opts), Path(tmp))


def scenario(name: str, seed: int) -> dict[str, str]:
    """One fault scenario, built as ``flightsw campaign`` builds it (without scoring)."""
    run = prepare_scenario(name, seed)
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as tmp:
        return outputs(run_sim(run.mission, run.options(Path(tmp), plots=False)), Path(tmp))


def runs(quick: bool) -> list[tuple[str, Any]]:
    todo: list[tuple[str, Any]] = []
    seeds = (3,) if quick else (1, 3, 42)
    for seed in seeds:
        for boards in (256, 1024, 4096):
            todo.append(
                (f"nominal s{seed} b{boards}", lambda s=seed, b=boards: nominal(s, b, 600.0))
            )
    for name in scenario_names():
        for seed in (21,) if quick else (21, 22):
            todo.append((f"scenario {name} s{seed}", lambda n=name, s=seed: scenario(n, s)))
    return todo


def record(path: Path, quick: bool, only: str | None) -> None:
    result: dict[str, dict[str, str]] = {}
    for label, fn in runs(quick):
        if only and only not in label:
            continue
        t0 = time.perf_counter()
        result[label] = fn()
        print(f"{label}: {result[label]} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


def compare(a: Path, b: Path) -> int:
    old, new = json.loads(a.read_text()), json.loads(b.read_text())
    bad = 0
    for label in sorted(set(old) | set(new)):
        if label not in old or label not in new:
            print(f"{label}: only in {'new' if label in new else 'old'}")
            continue
        diff = [k for k in old[label] if old[label][k] != new[label].get(k)]
        if diff:
            bad += 1
            print(f"{label}: DIFFERS in {', '.join(diff)}")
    print(f"{len(set(old) & set(new))} runs compared, {bad} differ")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--quick", action="store_true")
    rec.add_argument("--only", help="only runs whose label contains this text")
    cmp = sub.add_parser("compare")
    cmp.add_argument("old", type=Path)
    cmp.add_argument("new", type=Path)
    args = ap.parse_args()
    if args.cmd == "record":
        record(args.out, args.quick, args.only)
        return 0
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
