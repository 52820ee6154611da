"""A procedure against a cluster node by name, through the link model: a node with no
pass and no GEO relay is pinged and runs a job through its neighbour's pass; a node
that cannot be reached fails the procedure honestly (timeout), and names are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from flightsw.apps.payload.handover import ClusterJob, encode_jobs
from flightsw.base.errors import FlightswError
from flightsw.ground.backend_console import run_lines
from flightsw.ground.procedure import Procedure
from flightsw.ground.procedure_runner import run_procedure
from flightsw.sil.cluster import ClusterOptions
from flightsw.sil.cluster_procedure import ClusterBackend, cluster_console, node_index
from sim_hw.isl import LinkOutage, geo_relays
from tests.sil.test_cluster import _pass_for_one_only

NO_GEO = tuple(LinkOutage(f"geo:{r.name}", 0.0, 1e6) for r in geo_relays(172.0))


def _ping_and_a_job(p: Procedure) -> None:
    rid = p.send("test.ping")
    p.await_verification(rid, "accepted", timeout=40)
    p.assert_completed(rid, timeout=40)
    hours = 0.004  # 14 s of one board
    rid = p.send("payload.run_cluster_jobs", app_data=encode_jobs([ClusterJob(5, hours, 1, 0, 5)]))
    p.assert_completed(rid, timeout=40)
    p.await_event("payload.JOB_DONE", timeout=90)


def _backend(
    tmp: Path, node: str, t0: float, outages: tuple[LinkOutage, ...] = NO_GEO
) -> ClusterBackend:
    opts = ClusterOptions(
        nodes=2,
        boards=4,
        spacing_deg=20.0,
        window_s=1.0,
        start_s=t0,
        out_dir=tmp,
        archive=False,
        plots=False,
        outages=outages,
    )
    return ClusterBackend(opts, node, horizon_s=600.0)


@pytest.mark.slow  # two nodes for ~2 min of simulated time in 1 s windows: ~30-60 s
def test_a_procedure_pings_and_runs_a_job_on_a_node_without_a_pass_through_its_neighbour(
    tmp_path: Path,
) -> None:
    t_pass, y = _pass_for_one_only(20.0, 240.0)
    x = 1 - y
    backend = _backend(tmp_path, f"node-{x}", t_pass - 5.0)
    try:
        report = run_procedure(_ping_and_a_job, backend, "ping_and_job")
        summary = backend.summary()
    finally:
        backend.close()
    assert report["passed"], report
    # Every TC went to the neighbour with the pass (no GEO, no pass of x's own) and x's
    # reports came down the same way: through y's pass.
    assert summary["uplink"]["by_route"] == {"pass": 0, "geo": 0, "neighbour": 2}
    assert summary["uplink"]["completed"] == 2
    assert summary["ground_relayed"]["by_route"] == {"ground": summary["ground_relayed"]["packets"]}
    assert summary["ground_relayed"]["by_origin"][f"{0x100 + x:#05x}"] >= 4


@pytest.mark.slow
def test_a_node_cut_off_from_every_route_fails_the_procedure_by_timeout(tmp_path: Path) -> None:
    """The same node with its ISL down too: the TC waits on the ground, the procedure
    fails on its timeout (it does not pass on a report that never came down)."""
    t_pass, y = _pass_for_one_only(20.0, 240.0)
    x = 1 - y
    cut = (*NO_GEO, LinkOutage("isl:0-1", 0.0, 1e6))
    backend = _backend(tmp_path, f"node{x:02d}", t_pass - 5.0, outages=cut)
    try:
        report = run_procedure(_ping_and_a_job, backend, "ping_and_job")
        summary = backend.summary()
    finally:
        backend.close()
    assert not report["passed"] and "accepted" in str(report["error"])
    assert summary["uplink"]["sent"] == 0 and summary["uplink"]["windows_waited"] > 0


def test_nodes_are_addressed_by_name_or_index_and_others_are_refused() -> None:
    assert [node_index(n, 3) for n in ("node00", "node-1", "NODE_2", "1")] == [0, 1, 2, 1]
    for bad in ("node3", "nodex", "", "-1", "node-"):
        with pytest.raises(FlightswError, match="not a node"):
            node_index(bad, 3)


@pytest.mark.slow  # builds two nodes: ~15-40 s loaded
def test_the_command_runs_a_shipped_procedure_against_a_named_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import sqlite3

    from flightsw.cli.main import main

    archive = tmp_path / "a.sqlite"
    argv = ["ground", "run", "ping", "--cluster", "2", "--node", "node01", "--boards", "4"]
    assert main([*argv, "--archive", str(archive)]) == 0
    report = json.loads((tmp_path / "procedure-ping.json").read_text())
    assert report["passed"] and report["backend"] == "cluster"
    db = sqlite3.connect(archive)
    try:  # the node's TM that reached the ground is in the ground's archive
        assert db.execute("SELECT COUNT(*) FROM verification").fetchone()[0] >= 2
    finally:
        db.close()
    assert main([*argv[:5], "--node", "node02", "--archive", str(archive)]) != 0
    assert "not a node" in capsys.readouterr().err


def test_an_unknown_node_is_refused_naming_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flightsw.cli.main import main

    with pytest.raises(FlightswError, match=r"node07.*node00, node01, node02\)"):
        node_index("node07", 3)
    argv = ["ground", "--cluster", "3", "--node", "node07", "--archive", str(tmp_path / "a")]
    assert main(argv) != 0  # refused before a node is built
    assert "node00, node01, node02" in capsys.readouterr().err
    assert main(["ground", "--archive", str(tmp_path / "a")]) != 0
    assert "--cluster N --node NAME" in capsys.readouterr().err


@pytest.mark.slow  # builds three nodes: ~20 s loaded
def test_the_console_pings_a_node_without_a_pass_by_name_and_shows_its_tm(
    tmp_path: Path,
) -> None:
    """Three nodes in a string of pearls, no GEO relay: node00 has no pass at 845 s
    (node01 and node02 have) until 869 s. A ping typed to node00 goes up through a
    neighbour, its PUS-1 reports come down by relay before node00's own pass; then over
    the pass come its HK as named values, and the store's playback marked PLAYBACK
    (its copy of the ping's reports adds no stage)."""
    opts = ClusterOptions(
        nodes=3,
        boards=4,
        window_s=1.0,
        start_s=845.0,
        out_dir=tmp_path,
        archive=False,
        plots=False,
        outages=NO_GEO,
    )
    backend = ClusterBackend(opts, "node00", horizon_s=120.0)
    lines: list[str] = []
    console = cluster_console(backend, out=lambda s: lines.append(f"{backend.now_s():.0f} {s}"))
    try:
        failures = run_lines(console, enumerate(["test.ping", "wait 12"], 1), lines.append)
        before_pass = list(lines)
        failures += run_lines(console, enumerate(["wait 20", "history"], 3), lines.append)
        summary = backend.summary()
    finally:
        backend.close()
    assert failures == 0
    assert any(x.endswith(" VERIFY test.ping completed") for x in before_pass), before_pass
    assert summary["uplink"]["by_route"] == {"pass": 0, "geo": 0, "neighbour": 1}
    assert summary["uplink"]["completed"] == 1
    assert not any(" HK " in x for x in before_pass)  # HK comes over the node's pass only
    volts = console.model.live.values["power.battery_voltage_v"]
    assert volts.unit == "V" and volts.time_ns >= 869 * 10**9
    assert any(" PLAYBACK VERIFY test.ping completed" in x for x in lines)
    assert lines[-1].split()[1:] == ["test.ping", "accepted", ">", "started", ">", "completed"]
