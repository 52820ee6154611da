"""``flightsw sim`` is deterministic: same mission and seed, same bytes, on a loaded host."""

from __future__ import annotations

import gc
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from flightsw.ground.commanding import CommandEncoder
from flightsw.packets import PusTc
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import Mission, load_mission
from flightsw.sil import simulate
from flightsw.sil.simulate import SimOptions, deterministic_part, run_sim
from sim_hw.faults import FaultKind, ScheduledFault

DURATION_S = 200.0


@contextmanager
def busy_cpu() -> Iterator[None]:
    """A process that keeps one core busy for as long as the block runs."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def _mission(seed: int) -> Mission:
    m = load_mission(seed=seed)
    m.hal = {**m.hal, "radio": {"always_in_contact": True}}  # the link runs all along
    return m


def _script(m: Mission) -> list[tuple[float, bytes]]:
    enc = CommandEncoder(build_dictionary(m))
    job = {"board_hours": 0.01, "priority": 1, "deadline_s": 0, "checkpoint_s": 600}
    thermal = [s.name for s in m.specs].index("thermal")
    return [
        (1.0, PusTc(m.executive.apid, 17, 1, seq_count=1).encode()),
        (2.0, enc.encode("payload.submit_job", job)),
        (3.0, enc.encode("executive.restart_app", {"app": thermal})),
    ]


def _run(
    tmp: Path, seed: int, name: str, cpu_meter: Callable[[], int] = time.perf_counter_ns
) -> tuple[bytes, list[Any], dict[str, Any]]:
    m = _mission(seed)
    out = tmp / name
    faults = [  # FDIR has work to do: a latch-up and a hung board, at seed-dependent times
        ScheduledFault(10.0 + seed % 7, FaultKind.SEL, 3 + seed % 5),
        ScheduledFault(30.0 + seed % 11, FaultKind.SEFI, 20 + seed % 9),
    ]
    opts = SimOptions(
        duration_s=DURATION_S,
        out_dir=out,
        progress=False,
        plots=False,
        tc_script=_script(m),
        faults=faults,
        cpu_meter=cpu_meter,
    )
    run_sim(m, opts)
    db = sqlite3.connect(out / "archive.sqlite")
    rows: list[Any] = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
        rows.append((table, db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()))
    db.close()
    summary = json.loads((out / "summary.json").read_text())
    return (out / "tm.bin").read_bytes(), rows, summary


def test_same_seed_gives_identical_tm_archive_and_summary_on_a_loaded_host(tmp_path: Path) -> None:
    def crawling_host() -> int:  # a host 10,000 times slower: every step "overruns"
        return time.perf_counter_ns() * 10_000

    with busy_cpu():
        tm1, rows1, s1 = _run(tmp_path, 5, "a")
        tm2, rows2, s2 = _run(tmp_path, 5, "b", crawling_host)
    assert len(tm1) > 2_000
    assert tm1 == tm2
    assert rows1 == rows2
    assert deterministic_part(s1) == deterministic_part(s2)
    assert s1["link"]["ground_tm_packets"] > 0  # the downlink carried TM to the ground
    assert s1["events_by_severity"]  # events, FDIR included, went down
    assert s1["host_profile"]["apps"] != s2["host_profile"]["apps"]  # host data differs
    assert all(n == 0 for n in s1["overruns"].values())
    tm3, rows3, s3 = _run(tmp_path, 6, "c")
    assert tm3 != tm1 and rows3 != rows1
    assert deterministic_part(s3) != deterministic_part(s1)


def test_a_run_freezes_its_set_up_for_the_collector_and_unfreezes_it_after(
    tmp_path: Path,
) -> None:
    """The run loop keeps the collector off set-up's objects (``gc.freeze``), and hands
    the process back as it found it, also when the run fails."""
    seen: list[int] = []
    original = simulate.Executive.run_minor_frame

    def frame(self: Any) -> None:
        if not seen:
            seen.append(gc.get_freeze_count())
        original(self)

    mission = load_mission()
    mission.hal["spacecraft"] = {"boards": 8}
    opts = SimOptions(duration_s=2, out_dir=tmp_path / "a", progress=False, plots=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(simulate.Executive, "run_minor_frame", frame)
        run_sim(mission, opts)
    assert seen[0] > 1000  # set-up's objects were frozen during the loop
    assert gc.get_freeze_count() == 0

    def broken(self: Any) -> None:
        raise RuntimeError("a frame that fails")

    opts = SimOptions(duration_s=2, out_dir=tmp_path / "b", progress=False, plots=False)
    with pytest.MonkeyPatch.context() as mp, pytest.raises(RuntimeError):
        mp.setattr(simulate.Executive, "run_minor_frame", broken)
        run_sim(mission, opts)
    assert gc.get_freeze_count() == 0
