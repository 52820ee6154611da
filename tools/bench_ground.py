"""Ground side: how fast telemetry is decoded into the SQLite archive.

Users of other ground tools report them falling behind at a few hundred packets per
second; this measures ours on the TM of a simulated orbit (HK, events, verification).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flightsw.ground.archive import TmArchive
from flightsw.packets import iter_packets
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import load_mission
from flightsw.sil.simulate import SimOptions, run_sim


def run(quick: bool = False) -> dict[str, float]:
    mission = load_mission()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        run_sim(
            mission,
            SimOptions(
                duration_s=600.0 if quick else 3000.0, out_dir=out, progress=False, plots=False
            ),
        )
        packets = list(iter_packets((out / "tm.bin").read_bytes()))
        archive = TmArchive(Path(tmp) / "bench.sqlite", build_dictionary(mission))
        t0 = time.perf_counter()
        rounds = 3
        for _ in range(rounds):
            for p in packets:
                archive.ingest(p)
        archive.close()
        dt = time.perf_counter() - t0
    return {"archive_ingest_packets_per_s": rounds * len(packets) / dt}


if __name__ == "__main__":
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k:40s} {v:14,.1f}")
