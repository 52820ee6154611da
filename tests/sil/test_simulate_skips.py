"""The whole default node, skipping idle steps (``App.nothing_due``) or running every
slot: the same telemetry, byte for byte.

The window starts shortly before a ground contact so that it holds the link's quiet
frames (out of contact), the contact's start, the downlink and, in the slow variant,
the contact's end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flightsw.runtime.executive import Executive
from flightsw.runtime.mission import load_mission
from flightsw.sil.simulate import SimOptions, run_sim, with_boards

CONTACT_START_S = 870  # the default mission's first pass (seed 3), from its start


def _tm(
    tmp: Path, skip: bool, start_s: float, duration_s: float, boards: int
) -> tuple[bytes, dict[str, Any], dict[str, dict[str, Any]]]:
    """The run's TM, its summary and every app's telemetry points at the end (points no
    HK report carries must match too: a ground query or a monitor reads them)."""
    mission = with_boards(load_mission(), boards)
    mission.executive.start_ns += int(start_s * 1e9)
    original = Executive.run_minor_frame
    seen: list[Executive] = []

    def frame(self: Executive) -> None:
        self.skip_idle_steps = skip
        if not seen:
            seen.append(self)
        original(self)

    out = tmp / ("skip" if skip else "every")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Executive, "run_minor_frame", frame)
        opts = SimOptions(duration_s=duration_s, out_dir=out, progress=False, plots=False)
        summary = run_sim(mission, opts)
    points = {a.spec.name: dict(a.instance.tlm) for a in seen[0].apps}
    return (out / "tm.bin").read_bytes(), summary, points


def test_skipping_idle_steps_leaves_the_nodes_tm_unchanged_across_a_contact_start(
    tmp_path: Path,
) -> None:
    skipped, summary, points = _tm(tmp_path, True, CONTACT_START_S - 20, 50, 16)
    every = _tm(tmp_path, False, CONTACT_START_S - 20, 50, 16)
    assert skipped == every[0]
    assert points == every[2]
    assert summary["link"]["ground_tm_packets"] > 20  # the pass began inside the window
    assert points["files"]["cfdp_link_ms"] > 20_000  # link time counted in the pass


@pytest.mark.slow
def test_skipping_idle_steps_leaves_the_nodes_tm_unchanged_over_a_whole_pass(
    tmp_path: Path,
) -> None:
    skipped, summary, points = _tm(tmp_path, True, CONTACT_START_S - 100, 1000, 64)
    every = _tm(tmp_path, False, CONTACT_START_S - 100, 1000, 64)
    assert (skipped, points) == (every[0], every[2])
    assert summary["link"]["ground_tm_packets"] > 500  # a whole pass of downlink
