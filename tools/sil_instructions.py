"""The SIL loop's cost in CPU instructions per simulated second, which load does not move.

On a shared or virtual machine the CPU time of a run varies by a quarter from one run to
the next, so a speed change of a few percent cannot be seen in ``bench_sil``'s factors.
The number of instructions a run executes does not depend on the load: this tool runs
``run_sim`` under valgrind's cachegrind (no cache simulation) for a short and a long
duration and prints (I(long) - I(short)) / (long - short), so start-up cancels out.
``PYTHONHASHSEED`` is fixed (string hashing changes dict layouts and so the count), and
so is ``OPENBLAS_NUM_THREADS=1`` (numpy's BLAS threads otherwise add a varying count).

    python tools/sil_instructions.py --boards 1024            # this checkout
    python tools/sil_instructions.py --boards 1024 --tree /tmp/base   # `git archive` of another

Needs ``valgrind`` (Debian package ``valgrind``); about a minute per board count.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = """
import sys
from pathlib import Path
from flightsw.runtime.mission import load_mission
from flightsw.sil.simulate import SimOptions, run_sim, with_boards
mission = with_boards(load_mission(seed=int(sys.argv[3])), int(sys.argv[2]))
run_sim(mission, SimOptions(duration_s=float(sys.argv[1]), out_dir=Path(sys.argv[4]),
                            progress=False, plots=False))
"""


def instructions(tree: Path, duration_s: float, boards: int, seed: int) -> int:
    """Instructions valgrind counted for one whole ``run_sim`` of ``duration_s``."""
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(tree))
    with tempfile.TemporaryDirectory(prefix="sil-instr-") as tmp:
        cmd = [
            "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
            sys.executable, "-c", RUN, str(duration_s), str(boards), str(seed), tmp,
        ]  # fmt: skip
        out = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=True)
    m = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if m is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{out.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--boards", type=int, nargs="+", default=[1024])
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--short", type=float, default=10.0, help="simulated s (start-up run)")
    ap.add_argument("--long", type=float, default=250.0, help="simulated s")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    for n in args.boards:
        short = instructions(args.tree, args.short, n, args.seed)
        long = instructions(args.tree, args.long, n, args.seed)
        per_s = (long - short) / (args.long - args.short)
        print(f"{args.tree} boards {n}: {per_s / 1e6:.3f} M instructions per simulated second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
