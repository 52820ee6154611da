"""Kill a writer process at random instants; nothing it acknowledged may be lost."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flightsw.store.packet_store import PacketStore
from hal.nvstore import FileNvStore

WRITER = r"""
import struct, sys
from flightsw.store.packet_store import PacketStore
from hal.nvstore import FileNvStore
store = PacketStore(FileNvStore(sys.argv[1]), segment_bytes=int(sys.argv[3]),
                    max_segments=100000)
start = int(sys.argv[2])
i = start
while True:
    store.append(struct.pack(">I", i) + bytes(i % 200))
    sys.stdout.write(f"{i}\n")
    sys.stdout.flush()
    i += 1
"""


def _kill_cycles(tmp_path: Path, cycles: int, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "nv"
    acked: list[int] = []
    next_seq = 0
    for _ in range(cycles):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), str(next_seq), "4096"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        assert proc.stdout is not None
        target = rng.randrange(1, 60)
        deadline = time.monotonic() + 30
        lines: list[str] = []
        while len(lines) < target and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        time.sleep(rng.random() * 0.003)  # land the kill at a random point of a write
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        acked += [int(x) for x in lines + rest.split()]
        reader = PacketStore(FileNvStore(root), segment_bytes=4096, max_segments=100000)
        stored = [int.from_bytes(p[:4], "big") for p in reader.packets()]
        # everything acknowledged is there, in order, exactly once; at most one more
        assert stored[: len(acked)] == acked
        assert len(stored) - len(acked) in (0, 1)
        for extra in stored[len(acked) :]:
            acked.append(extra)
        next_seq = (acked[-1] + 1) if acked else 0
    assert len(acked) > cycles


def test_killed_writer_loses_nothing_acknowledged(tmp_path: Path) -> None:
    _kill_cycles(tmp_path, cycles=15, seed=1)


@pytest.mark.slow
def test_killed_writer_many_times(tmp_path: Path) -> None:
    _kill_cycles(tmp_path, cycles=300, seed=2)
