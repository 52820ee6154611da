"""A Dask scheduler and one worker as separate processes (``dask scheduler`` and
``dask worker``), for tests that must show a run gives the same result there as in
process. Shared by the campaign and cluster tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def separate_scheduler_and_worker(tmp_path: Path) -> Iterator[str]:
    """Start them; yields the scheduler's address; stops both on the way out.

    Skips the test when the ``dask`` command is not installed beside this Python."""
    dask = str(Path(sys.executable).parent / "dask")
    if not Path(dask).exists():
        pytest.skip("dask command not installed")
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = [dask, "scheduler", "--scheduler-file", str(sched_file), "--port", "0"]
    procs = [subprocess.Popen([*scheduler, "--no-dashboard"], **quiet)]  # type: ignore[call-overload]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = str(json.loads(sched_file.read_text())["address"])
        worker = [dask, "worker", address, "--nworkers", "1", "--nthreads", "1"]
        procs.append(subprocess.Popen([*worker, "--no-dashboard"], **quiet))  # type: ignore[call-overload]
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
