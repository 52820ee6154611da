"""The ``flightsw`` command: run a simulation, encode/decode packets, export the dictionary.

Every input gives one ``error:`` line on stderr and exit status 1: the project's own
errors, files that cannot be read or written, refused arguments and usage. Every
number an argument takes is range-checked by its declaration below (``_int``,
``_number``), text must be UTF-8, and the message is kept on one line whatever it
quotes. Anything else is a bug in flightsw: it is reported on one line too, as an
internal error with exit status 70, and ``FLIGHTSW_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import sys
from collections import deque
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from flightsw.base.errors import FlightswError
from hal.factory import BACKENDS, HalError, parse_host_port

EXIT_INTERNAL = 70  # EX_SOFTWARE
MAX_SEED = 2**63 - 1
MAX_DURATION_S = 1e8  # about three years of simulated time
MAX_MESSAGE = 2000


def one_line(text: str) -> str:
    """``text`` with every unprintable character escaped, so it stays one line."""
    out = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return out if len(out) <= MAX_MESSAGE else out[: MAX_MESSAGE - 3] + "..."


def print_error(message: str) -> None:
    print(f"error: {one_line(message)}", file=sys.stderr, flush=True)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one ``error:`` line (exit status 1)."""

    def error(self, message: str) -> NoReturn:
        print_error(f"{self.prog}: {message} (see {self.prog} --help)")
        raise SystemExit(1)


def _int(lo: int, hi: int) -> Callable[[str], int]:
    """An argument type: an integer in lo..hi."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10) if len(text) <= 30 else None
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(
                f"{one_line(text[:40])!r} is not an integer in {lo}..{hi}"
            )
        return value

    parse.__name__ = "integer"
    return parse


def _number(lo: float, hi: float, above: bool = False) -> Callable[[str], float]:
    """An argument type: a finite number in lo..hi (``above``: greater than lo)."""

    def parse(text: str) -> float:
        try:
            value = float(text) if len(text) <= 40 else math.nan
        except ValueError:
            value = math.nan
        ok = math.isfinite(value) and (value > lo if above else value >= lo) and value <= hi
        if not ok:
            where = f"> {lo:g} and <= {hi:g}" if above else f"in {lo:g}..{hi:g}"
            raise argparse.ArgumentTypeError(f"{one_line(text[:40])!r} is not a number {where}")
        return value

    parse.__name__ = "number"
    return parse


def _text(text: str) -> str:
    """An argument type: UTF-8 text (Python hands undecodable octets over as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError("not UTF-8 text") from None
    if "\0" in text:
        raise argparse.ArgumentTypeError("a NUL character")
    return text


def _cmd_scenario(args: argparse.Namespace) -> int:
    from flightsw.sil.scenario import run_scenario

    for name in ("duration", "orbits", "boards", "hal"):
        if getattr(args, name) is not None:
            raise FlightswError(
                f"--{name} cannot be combined with --scenario (the scenario sets it)"
            )
    seed = 1 if args.seed is None else args.seed
    out = (
        Path(args.out)
        if args.out
        else Path("runs") / f"scenario-{Path(args.scenario).stem}-seed{seed}"
    )
    out.mkdir(parents=True, exist_ok=True)
    result = run_scenario(args.scenario, seed, out, args.mission)
    print(
        json.dumps(
            {
                k: result[k]
                for k in (
                    "scenario",
                    "seed",
                    "passed",
                    "checks",
                    "kinds",
                    "failures",
                    "false_alarms",
                    "false_alarm_events",
                    "isolated",
                    "lost",
                )
            },
            indent=2,
        )
    )
    print(f"run directory: {out}", file=sys.stderr)
    return 0 if result["passed"] else 1


def _cmd_campaign(args: argparse.Namespace) -> int:
    from flightsw.sil.campaign import campaign_names, run_campaign
    from flightsw.sil.cluster_scenarios import LIBRARY as CLUSTER_SCENARIOS
    from flightsw.sil.scenario import load_scenario

    scenarios = args.scenarios if args.scenarios and args.scenarios != ["all"] else None
    for name in campaign_names(scenarios):
        if name not in CLUSTER_SCENARIOS:
            load_scenario(name)  # a bad scenario file is refused before a cluster starts
    if args.scheduler is not None:
        address = args.scheduler.partition("://")[2] or args.scheduler
        parse_host_port(address, "--scheduler")
    if args.first_seed + args.seeds - 1 > MAX_SEED:
        raise FlightswError(f"--first-seed + --seeds goes past {MAX_SEED}")
    report = run_campaign(
        scenarios,
        args.seeds,
        Path(args.out),
        first_seed=args.first_seed,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=False if args.quiet else None,
    )
    t = report["totals"]
    print(
        json.dumps(
            {
                k: t[k]
                for k in (
                    "runs",
                    "passed",
                    "kinds",
                    "false_alarms",
                    "false_alarms_nominal",
                    "nominal_orbits",
                    "tm_dropped",
                    "lost_jobs",
                    "work_redone_s",
                )
            }
            | {
                "by_scenario": {
                    name: {k: s[k] for k in ("runs", "passed", "distinct_fault_draws")}
                    for name, s in t["by_scenario"].items()
                }
            },
            indent=2,
        )
    )
    print(f"campaign directory: {args.out} ({report['cluster']})", file=sys.stderr)
    return 0 if t["passed"] == t["runs"] else 1


def _cmd_cluster(args: argparse.Namespace) -> int:
    from flightsw.sil.cluster import ClusterOptions, run_cluster

    if args.scheduler is not None and args.scheduler != "inline":
        parse_host_port(args.scheduler.partition("://")[2] or args.scheduler, "--scheduler")
    if args.scenario is not None:
        from flightsw.sil.cluster_scenarios import run_cluster_scenario

        score = run_cluster_scenario(
            args.scenario, args.seed, Path(args.out), scheduler=args.scheduler,
            workers=args.workers, plots=not args.no_plots, progress=False if args.quiet else None,
        )  # fmt: skip
        print(json.dumps(score, indent=2))
        print(f"cluster directory: {args.out}", file=sys.stderr)
        return 0 if score["passed"] else 1
    opts = ClusterOptions(
        nodes=args.nodes, orbits=args.orbits, duration_s=args.duration, window_s=args.window,
        seed=args.seed, mission=args.mission, boards=args.boards, spacing_deg=args.spacing,
        out_dir=Path(args.out), scheduler=args.scheduler, workers=args.workers,
        plots=not args.no_plots, progress=False if args.quiet else None,
        cluster_jobs=args.cluster_jobs, archive=not args.no_archive,
        node_plots=not args.cluster_plots_only,
    )  # fmt: skip
    summary = run_cluster(opts)
    keys = ("nodes", "boards", "sim_seconds", "payload_w_mean", "utilization", "jobs_completed")
    shown = {k: summary[k] for k in keys} | {"links": summary["links"]}
    print(json.dumps(shown | {"host_profile": summary["host_profile"]}, indent=2))
    print(f"cluster directory: {args.out}", file=sys.stderr)
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    from flightsw.runtime.mission import load_mission
    from flightsw.sil.simulate import SimOptions, run_sim, with_boards

    if args.scenario is not None:
        return _cmd_scenario(args)

    if args.duration is not None and args.orbits is not None:
        raise FlightswError("give --duration or --orbits, not both")
    mission = load_mission(args.mission, seed=args.seed)
    if args.hal is not None:
        if args.hal != "sim" and not (args.hal.startswith("serial:") and len(args.hal) > 7):
            raise FlightswError(f"--hal {args.hal!r} is not one of: {', '.join(BACKENDS)}")
        mission.hal = {**mission.hal, "backend": args.hal}
    if args.radio is not None:
        kind, _, bind = args.radio.partition(":")
        packets, kind = kind.endswith("-packets"), kind.removesuffix("-packets")
        if kind not in ("udp", "tcp") or not bind:
            raise FlightswError(
                "--radio takes udp:HOST:PORT or tcp:HOST:PORT (CLTUs up, CADUs down), or "
                "udp-packets:HOST:PORT or tcp-packets:HOST:PORT (bare space packets)"
            )
        parse_host_port(bind, "--radio")
        radio: dict[str, object] = {"kind": kind, "bind": bind}
        if packets:  # the lab link other tools speak (cFS CI_LAB/TO_LAB, COSMOS, tmtccmd)
            radio["framing"] = "packets"
            print("warning: bare space packets: the uplink is not authenticated", file=sys.stderr)
        if args.radio_peer is not None:
            parse_host_port(args.radio_peer, "--radio-peer")
            radio["peer"] = args.radio_peer
        mission.hal = {**mission.hal, "radio": radio}
    elif args.radio_peer is not None:
        raise FlightswError("--radio-peer goes with --radio")
    out = Path(args.out) if args.out else Path("runs") / f"{mission.name}-seed{mission.seed}"
    nv_dir = _keep_nv_outside_simulation(mission, out)
    _check_link_security(mission, args.allow_published_key)
    if args.boards is not None:
        with_boards(mission, args.boards)
    progress = False if args.quiet else None
    fault_port = None
    if args.fault_port is not None:
        kind, _, where = args.fault_port.partition(":")
        if kind != "udp" or not where:
            raise FlightswError("--fault-port takes udp:HOST:PORT")
        fault_port = parse_host_port(where, "--fault-port")
    opts = SimOptions(
        args.duration,
        args.orbits,
        out,
        progress,
        plots=not args.no_plots,
        realtime=args.realtime,
        fault_port=fault_port,
    )
    summary = run_sim(mission, opts)
    host = summary["host_profile"]
    shown = {**summary, "wall_seconds": host["wall_seconds"]}
    shown["realtime_factor"] = host["realtime_factor"]
    print(
        json.dumps(
            {
                k: shown[k]
                for k in (
                    "mission",
                    "seed",
                    "sim_seconds",
                    "wall_seconds",
                    "realtime_factor",
                    "tm_packets",
                    "events_by_severity",
                    "overruns",
                    "min_soc",
                    "max_board_temp_c",
                    "min_battery_temp_c",
                    "jobs_completed",
                    "jobs_failed",
                    "goodput",
                    "utilization",
                    "work_board_hours_per_orbit",
                    "energy_balance_wh",
                )
                if k in shown
            },
            indent=2,
        )
    )
    print(f"run directory: {out}", file=sys.stderr)
    if nv_dir is not None:  # after the run: a failure to start stays one error: line
        print(f"NV store: {nv_dir} (kept between runs with this --out)", file=sys.stderr)
    return 0


def _keep_nv_outside_simulation(mission: Any, out: Path) -> Path | None:
    """On a bench or a real radio the NV store is a directory (``<out>/nv`` unless the
    mission names one): like a spacecraft's, it outlives a restart of the process. In
    memory, a second run would send TM ARSNs the ground already accepted (refused as
    replays; an IV used again under AES-GCM) and take recorded TCs again."""
    from flightsw.services.comms.app import hal_config_is_simulated

    config = mission.hal_config()
    if hal_config_is_simulated(config) or config.get("nv_dir"):
        return None
    nv_dir = out / "nv"
    mission.hal = {**mission.hal, "nv_dir": str(nv_dir)}
    return nv_dir


def _check_link_security(mission: Any, allow_published_key: bool) -> None:
    """Refuse a published key outside SIL (unless allowed); say what the link's security is."""
    from flightsw.runtime.mission import mission_link_security
    from flightsw.services.comms.app import hal_config_is_simulated

    for app in mission.apps:
        sdls = app.options.get("sdls") if app.name == "comms" else None
        if allow_published_key and isinstance(sdls, dict):
            app.options["sdls"] = {**sdls, "allow_published_key": True}
    security = mission_link_security(mission)
    if security is None:
        return
    config = mission.hal_config()
    simulated = hal_config_is_simulated(config)
    security.check_deployment(simulated)
    for notice in security.notices():
        print(f"warning: {notice}", file=sys.stderr)


def _cmd_ground(args: argparse.Namespace) -> int:
    from flightsw.cli.packet import text_lines
    from flightsw.ground.console import GroundConsole
    from flightsw.runtime.mission import load_mission, mission_link_security

    if args.cluster is not None:
        return _cmd_ground_cluster(args)
    if args.udp is None:
        raise FlightswError("--udp HOST:PORT of a live build, or --cluster N --node NAME")
    mission = load_mission(args.mission)
    address = parse_host_port(args.udp, "--udp")
    bind = parse_host_port(args.bind, "--bind") if args.bind else None
    security = mission_link_security(mission)
    for notice in security.notices() if security is not None else []:
        print(f"warning: {one_line(notice)}", file=sys.stderr)
    state = Path(args.state) if args.state else Path(args.archive).parent / "ground-sdls.json"
    log: deque[str] = deque(maxlen=200)  # the full-screen view shows the lines in a pane
    try:
        console = GroundConsole(
            mission,
            address,
            Path(args.archive),
            out=log.append if args.tui else lambda s: print(s, flush=True),
            state=state,
            bind=bind,
        )
    except sqlite3.Error as exc:
        raise FlightswError(f"--archive {args.archive}: {exc}") from None
    failures = 0
    try:
        if args.skip_arsn is not None:
            print(f"TC ARSNs continue above {console.skip_arsn(args.skip_arsn)}", file=sys.stderr)
        if args.resync is not None:
            floors = console.resync(args.resync)
            print(f"sent: resync, ARSN floors {floors} (key-management SA)", file=sys.stderr)
        if args.set_arsn is not None:
            value = console.set_arsn(None if args.set_arsn < 0 else args.set_arsn)
            print(f"sent: set ARSN to {value} (key-management SA)", file=sys.stderr)
        for text in args.send or []:
            console.send(text)
        if args.tui:
            return _run_tui(console, log)
        console.run_for(args.listen)
        if args.stdin:
            for lineno, line in text_lines(sys.stdin.buffer):
                try:
                    if isinstance(line, FlightswError):
                        raise line
                    if not line.strip():
                        continue
                    console.send(line.strip())
                except FlightswError as exc:
                    failures += 1
                    print_error(f"line {lineno}: {exc}")
                console.run_for(args.listen)
    finally:
        console.close()
    print(f"{console.summary()}; archive: {args.archive}", file=sys.stderr)
    return 1 if failures else 0


def _cmd_ground_cluster(args: argparse.Namespace) -> int:
    """``flightsw ground --cluster N --node NAME``: the console's line mode against a node
    of an in-process cluster SIL, through its links; ``wait S`` lines let time pass."""
    from flightsw.cli.packet import text_lines
    from flightsw.ground.backend_console import run_lines
    from flightsw.sil.cluster_procedure import cli_backend, cluster_console

    if args.udp is not None or args.tui:
        raise FlightswError("--cluster runs an in-process cluster in line mode: no --udp/--tui")
    backend, archive = cli_backend(args, Path(args.archive))
    node_console = cluster_console(
        backend, out=lambda s: print(s, flush=True), listen_s=args.listen
    )
    failures = 0
    try:
        for text in args.send or []:
            node_console.send(text)
        node_console.wait(args.listen)
        if args.stdin:
            failures = run_lines(node_console, text_lines(sys.stdin.buffer), print_error)
    finally:
        backend.close()
        archive.close()
    print(f"{node_console.summary()}; archive: {args.archive}", file=sys.stderr)
    return 1 if failures else 0


def _run_tui(console: Any, log: deque[str]) -> int:
    try:
        from flightsw.ground.console_tui import run_tui
    except ImportError:
        raise FlightswError("--tui needs prompt_toolkit: pip install 'flightsw[console]'") from None
    return run_tui(console, log)


def _cmd_ground_file(args: argparse.Namespace) -> int:
    """``flightsw ground put LOCAL REMOTE`` / ``get REMOTE LOCAL``: one file by CFDP."""
    from flightsw.ground.file_transfer import put_or_get
    from flightsw.runtime.mission import load_mission

    local, remote = (args.first, args.second) if args.verb == "put" else (args.second, args.first)
    mission = load_mission(args.mission)

    def open_backend() -> Any:
        if args.udp is None:
            from flightsw.sil.procedure_backend import in_contact_backend

            return in_contact_backend(mission)
        from flightsw.ground.procedure_backends import UdpBackend

        return UdpBackend(
            mission,
            parse_host_port(args.udp, "--udp"),
            Path(args.archive),
            state=Path(args.state) if args.state else None,
            bind=parse_host_port(args.bind, "--bind") if args.bind else None,
        )

    done = put_or_get(
        args.verb,
        open_backend,
        mission.executive.apid,
        Path(local),
        remote,
        acknowledged=args.cfdp_class == 2,
        timeout_s=args.timeout,
        out=(lambda line: print(line, file=sys.stderr)) if args.verbose else None,
    )
    print(f"{args.verb} {args.first} -> {args.second}: {done.size} octets, class {args.cfdp_class}")
    return 0


def _procedure_path(text: str) -> Path:
    """A procedure file, or the name of a shipped one (``ping``, ``hk_rate``, ...)."""
    path = Path(text)
    if path.is_file():
        return path
    shipped = Path(str(resources.files("flightsw") / "data" / "procedures" / f"{text}.py"))
    if "/" not in text and shipped.is_file():
        return shipped
    names = sorted(p.stem for p in shipped.parent.glob("*.py"))
    raise FlightswError(f"procedure {text!r}: no such file, nor a shipped one ({', '.join(names)})")


def _cmd_ground_run(args: argparse.Namespace) -> int:
    from flightsw.ground.procedure import Backend
    from flightsw.ground.procedure_runner import load_procedure, run_procedure, write_report
    from flightsw.runtime.mission import load_mission

    path = _procedure_path(args.procedure)
    fn = load_procedure(path)  # a malformed file is refused before anything is built or sent
    mission = load_mission(args.mission)
    archive_path = Path(args.archive)
    report_path = (
        Path(args.report) if args.report else archive_path.parent / (f"procedure-{path.stem}.json")
    )
    backend: Backend
    archive = None
    if args.cluster is not None:  # a node of an in-process cluster, by name, via its links
        from flightsw.sil.cluster_procedure import cli_backend

        if args.udp is not None:
            raise FlightswError("--cluster is an in-process cluster SIL: not with --udp")
        backend, archive = cli_backend(args, archive_path)
    elif args.udp is not None:
        from flightsw.ground.procedure_backends import UdpBackend

        if args.boards is not None:
            raise FlightswError("--boards is for the in-process SIL (the live build has its own)")
        address = parse_host_port(args.udp, "--udp")
        bind = parse_host_port(args.bind, "--bind") if args.bind else None
        fault = parse_host_port(args.fault_port, "--fault-port") if args.fault_port else None
        state = Path(args.state) if args.state else archive_path.parent / "ground-sdls.json"
        try:
            backend = UdpBackend(
                mission,
                address,
                archive_path,
                state=state,
                bind=bind,
                fault_port=fault,
                connect_timeout_s=args.connect_timeout,
                out=(lambda line: print(line, flush=True)) if args.verbose else None,
            )
        except sqlite3.Error as exc:
            raise FlightswError(f"--archive {args.archive}: {exc}") from None
    else:
        from flightsw.framework.tm_funnel import CH_REALTIME
        from flightsw.ground.archive import TmArchive
        from flightsw.sil.harness import SilHarness
        from flightsw.sil.procedure_backend import SilBackend

        for name in ("bind", "fault_port", "state"):
            if getattr(args, name) is not None:
                raise FlightswError(f"--{name.replace('_', '-')} goes with --udp")
        if args.boards is not None:
            spacecraft = {**mission.hal.get("spacecraft", {}), "boards": args.boards}
            mission.hal = {**mission.hal, "spacecraft": spacecraft}
        harness = SilHarness(mission)
        try:
            archive = TmArchive(archive_path, harness.dictionary)
        except sqlite3.Error as exc:
            raise FlightswError(f"--archive {args.archive}: {exc}") from None

        def sink(pkt: bytes, channel: int) -> None:
            if channel == CH_REALTIME:
                archive.ingest(pkt)

        harness.exe.tm.sinks.append(sink)
        backend = SilBackend(harness)
    try:
        report = run_procedure(fn, backend, path.stem, path)
    finally:
        backend.close()
        if archive is not None:
            archive.close()
    write_report(report, report_path, archive_path)
    verdict = "PASS" if report["passed"] else "FAIL"
    print(
        f"{verdict} {report['procedure']} ({report['backend']}): {report['commands']} commands, "
        f"{report['verifications']} verifications, {report['events']} events, "
        f"{report['ended_s'] - report['started_s']:.1f} s of build time"
        + (f"; {one_line(str(report['error']))}" if report["error"] else ""),
        flush=True,
    )
    print(f"report: {report_path}; archive: {archive_path}", file=sys.stderr)
    return 0 if report["passed"] else 1


def _archive_reader(args: argparse.Namespace) -> Any:
    from flightsw.ground.archive_query import ArchiveReader

    dictionary = None
    if args.mission is not None:
        from flightsw.runtime.dictionary import build_dictionary
        from flightsw.runtime.mission import load_mission

        dictionary = build_dictionary(load_mission(args.mission))
    return ArchiveReader(_archive_path(args), dictionary)


def _archive_path(args: argparse.Namespace) -> Path:
    """``--archive``, or with ``--node NAME`` that node's archive in the cluster run
    directory ``--archive`` names (``flightsw cluster`` writes ``nodes/<name>/``)."""
    if getattr(args, "node", None) is None:
        path = Path(args.archive)
        given = [p for p in getattr(args, "points", None) or [] if Path(p).is_file()]
        if not path.is_file() and given:  # an archive named where a point goes
            raise FlightswError(
                f"archive {path}: no such file; {given[0]} is a file, not a point: "
                f"give it as --archive {given[0]}"
            )
        return path
    run = Path(args.archive)
    nodes = run / "nodes"
    if not nodes.is_dir():
        raise FlightswError(f"--node: {run} is not a cluster run directory (no nodes/)")
    names = sorted(p.name for p in nodes.iterdir() if (p / "archive.sqlite").is_file())
    if args.node not in names:
        raise FlightswError(
            f"--node {args.node!r}: no such node in {run}; nodes: {', '.join(names) or 'none'}"
        )
    return nodes / str(args.node) / "archive.sqlite"


def _cmd_archive_query(args: argparse.Namespace) -> int:
    from flightsw.ground.archive_query import format_csv, format_table, write_parquet

    with _archive_reader(args) as reader:
        header, rows = reader.query(args.points, args.since, args.until)
    if args.format == "parquet":
        if not args.output:
            raise FlightswError("--format parquet writes a file: give -o FILE")
        write_parquet(header, rows, Path(args.output))
        print(f"{len(rows)} rows: {args.output}", file=sys.stderr)
        return 0
    text = format_csv(header, rows) if args.format == "csv" else format_table(header, rows) + "\n"
    if args.output:
        Path(args.output).write_text(text)
        print(f"{len(rows)} rows: {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_archive_plot(args: argparse.Namespace) -> int:
    from flightsw.ground.archive_query import plot

    with _archive_reader(args) as reader:
        for p in args.points:
            reader.column(p)
        n = plot(reader, args.points, args.since, args.until, Path(args.output))
    print(f"{n} samples: {args.output}", file=sys.stderr)
    return 0


def _cmd_archive_replay(args: argparse.Namespace) -> int:
    from flightsw.ground.archive_query import describe

    with _archive_reader(args) as reader:
        for item in reader.replay(args.since, args.until, args.apid):
            print(describe(item))
    return 0


def _cmd_archive_migrate(args: argparse.Namespace) -> int:
    from flightsw.ground.archive_query import migrate

    copied, lost = migrate(Path(args.old), Path(args.new))
    print(f"{copied} packets copied into {args.new}; {lost} stored without octets", file=sys.stderr)
    return 0


def _cmd_ground_pass(args: argparse.Namespace) -> int:
    from flightsw.ground.pass_automation import QueuedProcedure, run_pass
    from flightsw.ground.procedure_backends import UdpBackend
    from flightsw.ground.procedure_runner import load_procedure
    from flightsw.runtime.mission import load_mission

    queued = []
    for text in args.procedure or []:
        path = _procedure_path(text)
        queued.append(QueuedProcedure(path.stem, load_procedure(path), path))
    mission = load_mission(args.mission)
    archive_path = Path(args.archive)
    address = parse_host_port(args.udp, "--udp")
    state = Path(args.state) if args.state else archive_path.parent / "ground-sdls.json"
    print(f"waiting for AOS ({args.udp}, up to {args.aos_timeout:g} s)", file=sys.stderr)
    try:
        backend = UdpBackend(
            mission,
            address,
            archive_path,
            state=state,
            bind=parse_host_port(args.bind, "--bind") if args.bind else None,
            connect_timeout_s=args.aos_timeout,
        )
    except sqlite3.Error as exc:
        raise FlightswError(f"--archive {args.archive}: {exc}") from None
    report_dir = Path(args.report_dir) if args.report_dir else archive_path.parent
    try:
        report = run_pass(
            backend,
            queued,
            los_after_s=args.los_after,
            max_pass_s=args.max_duration,
            report_dir=report_dir,
            archive=archive_path,
            out=lambda line: print(line, flush=True),
        )
    finally:
        backend.close()
    print(
        f"pass report: {report_dir / 'pass-report.json'}; archive: {archive_path}", file=sys.stderr
    )
    return 0 if report["passed"] else 1


def _cmd_dict_export(args: argparse.Namespace) -> int:
    from flightsw.runtime.dictionary import build_dictionary
    from flightsw.runtime.mission import load_mission

    dictionary = build_dictionary(load_mission(args.mission))
    if args.format == "xtce":
        from flightsw.ground.xtce import build_xtce

        text = build_xtce(dictionary, flat=args.flat)
    elif args.format == "json":
        text = json.dumps(dictionary, indent=2) + "\n"
    else:
        raise FlightswError(f"unsupported format {args.format!r}")
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_seq(args: argparse.Namespace) -> int:
    from flightsw.ground.sequences import compile_text, decompile
    from flightsw.runtime.dictionary import build_dictionary
    from flightsw.runtime.mission import load_mission

    dictionary = build_dictionary(load_mission(args.mission))
    path = Path(args.file)
    if args.seq_command == "compile":
        try:
            text = path.read_text()
        except UnicodeDecodeError as exc:
            raise FlightswError(f"{path}: not text ({exc.reason})") from None
        data, critical = compile_text(text, dictionary, str(path), name=None)
        out = Path(args.output) if args.output else path.with_suffix(".bin")
        out.write_bytes(data)
        for where in critical:
            print(f"critical command: {where}", file=sys.stderr)
        print(f"{out}: {len(data)} octets, crc32 0x{int.from_bytes(data[-4:], 'big'):08x}")
        return 0
    sys.stdout.write(decompile(path.read_bytes(), dictionary))
    return 0


def _ground_link_options(
    p: argparse.ArgumentParser, udp_help: str, udp_required: bool = False
) -> None:
    """The options every ground command shares: the build's radio (``--udp``), its
    dictionary (``--mission``), the TM archive, the SDLS counters and the local address."""
    p.add_argument("--udp", required=udp_required, type=_text, help=udp_help)
    p.add_argument("--mission", type=_text, help="the build's mission (its dictionary)")
    p.add_argument(
        "--archive", type=_text, default="ground-archive.sqlite", help="SQLite TM archive"
    )
    p.add_argument(
        "--state",
        type=_text,
        help="the ground's SDLS counters, kept between sessions (default: ground-sdls.json "
        "next to the archive; with --udp); locked while a session runs",
    )
    p.add_argument(
        "--bind", type=_text, help="HOST:PORT to send from (with --udp; a radio with a fixed peer)"
    )


def _cluster_node_options(p: argparse.ArgumentParser, cluster_help: str) -> None:
    """``--cluster N --node NAME --start S``: a ground tool against one node of an
    in-process cluster SIL (its commands and TM through the cluster's links)."""
    p.add_argument("--cluster", type=_int(1, 64), help=cluster_help)
    p.add_argument("--node", type=_text, default="node00", help="the node (with --cluster)")
    p.add_argument("--start", type=_number(0, 1e9), help="the cluster's start, s of mission time")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="flightsw", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="run a mission in software-in-the-loop simulation")
    sim.add_argument(
        "--mission",
        type=_text,
        help="mission TOML file or shipped mission name (default: the built-in default mission)",
    )
    sim.add_argument(
        "--orbits", type=_number(0, 1e5, above=True), help="how many orbits (default 1)"
    )
    sim.add_argument(
        "--duration",
        type=_number(0, MAX_DURATION_S, above=True),
        help="simulated seconds (instead of --orbits)",
    )
    sim.add_argument("--seed", type=_int(0, MAX_SEED), help="random seed (default: the mission's)")
    sim.add_argument("--out", type=_text, help="run directory (default runs/MISSION-seedN)")
    sim.add_argument(
        "--hal",
        type=_text,
        help="HAL backend: sim (default) or serial:PORT for a bench (runs in wall-clock time)",
    )
    sim.add_argument(
        "--radio",
        type=_text,
        help="udp:HOST:PORT or tcp:HOST:PORT: a real radio link for a ground system (CLTUs "
        "up, CADUs down); udp-packets:HOST:PORT or tcp-packets:HOST:PORT: bare space "
        "packets, as cFS CI_LAB/TO_LAB, COSMOS and tmtccmd speak on a bench",
    )
    sim.add_argument(
        "--radio-peer",
        type=_text,
        help="HOST:PORT of the ground system: the radio hears and answers only it "
        "(tcp: only that host); default: whoever sent last",
    )
    sim.add_argument(
        "--realtime", action="store_true", help="pace frames by the wall clock (for --radio)"
    )
    sim.add_argument(
        "--allow-published-key",
        action="store_true",
        help="run a published test SDLS key on a real radio or bench (the mission's "
        "sdls.allow_published_key): anyone can then command this build",
    )
    sim.add_argument(
        "--boards",
        type=_int(1, 100_000),
        help="accelerator boards (default: the mission's); the node's array, battery and "
        "radiator scale with them",
    )
    sim.add_argument(
        "--fault-port",
        type=_text,
        help="udp:HOST:PORT: test equipment that injects faults into the simulated spacecraft "
        "on request (with --realtime; see flightsw ground run)",
    )
    sim.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.add_argument(
        "--scenario",
        type=_text,
        help="run a fault scenario (shipped name or .toml) and score it; exit 1 if it fails",
    )
    sim.set_defaults(func=_cmd_sim)

    gnd = sub.add_parser("ground", help="command a running flight build over UDP, watch TM")
    _ground_link_options(gnd, "HOST:PORT of the flight build's radio")
    _cluster_node_options(
        gnd,
        "instead of --udp: nodes of an in-process cluster SIL; commands go to --node "
        "through the cluster's links; a 'wait SECONDS' line lets simulated time pass",
    )
    gnd.add_argument("--boards", type=_int(1, 100_000), help="boards per node (with --cluster)")
    gnd.add_argument(
        "--send", action="append", type=_text, help="a command: 'name key=value ...' (repeatable)"
    )
    gnd.add_argument(
        "--listen", type=_number(0, 86_400), default=5.0, help="seconds to listen (default 5)"
    )
    gnd.add_argument("--stdin", action="store_true", help="then read commands, one a line")
    gnd.add_argument(
        "--tui",
        action="store_true",
        help="full-screen live view with completion (needs the 'console' extra)",
    )
    gnd.add_argument(
        "--set-arsn",
        type=_int(-1, 2**64 - 1),
        nargs="?",
        const=-1,
        metavar="N",
        help="send the authenticated 'set ARSN' (key-management SA): the spacecraft then "
        "accepts TC ARSNs above N only (default N: the last this ground sent)",
    )
    gnd.add_argument(
        "--skip-arsn",
        type=_int(0, 2**64 - 1),
        metavar="N",
        help="send TC ARSNs above N from now on, on the data and key-management SAs (after "
        "losing the state file: N is the larger of the spacecraft's comms.sdls_arsn and "
        "comms.sdls_km_arsn)",
    )
    gnd.add_argument(
        "--resync",
        type=_int(1, 2**64 - 1),
        metavar="CHALLENGE",
        help="answer a spacecraft whose SDLS state was lost (event comms.SDLS_LOCKED, "
        "telemetry comms.sdls_challenge): it accepts TCs again above what this ground sent",
    )
    gnd.set_defaults(func=_cmd_ground)

    run = sub.add_parser(
        "ground-run",
        help="run a procedure file against a build: flightsw ground run PROCEDURE.py "
        "(in-process SIL, or a live build with --udp)",
    )
    _ground_link_options(run, "HOST:PORT of a live build's radio (default: in-process SIL)")
    run.add_argument(
        "procedure", type=_text, help="a .py file defining run(p), or a shipped procedure name"
    )
    run.add_argument(
        "--boards", type=_int(1, 100_000), help="accelerator boards of the in-process SIL"
    )
    run.add_argument(
        "--report", type=_text, help="JSON report (default procedure-NAME.json by the archive)"
    )
    run.add_argument(
        "--fault-port",
        type=_text,
        help="HOST:PORT of the live build's fault port (flightsw sim --fault-port)",
    )
    run.add_argument(
        "--connect-timeout",
        type=_number(0, 3600, above=True),
        default=30.0,
        help="seconds to wait for the live build's first TM (default 30)",
    )
    run.add_argument("--verbose", action="store_true", help="print the TM as it comes")
    _cluster_node_options(
        run,
        "nodes of an in-process cluster SIL; the procedure runs against --node through "
        "the cluster's links (pass, GEO relay, neighbours)",
    )
    run.set_defaults(func=_cmd_ground_run)

    for verb, first, second in (("put", "LOCAL", "REMOTE"), ("get", "REMOTE", "LOCAL")):
        fil = sub.add_parser(
            f"ground-{verb}",
            help=f"flightsw ground {verb} {first} {second}: one file by CFDP (in-process SIL, "
            "or a live build with --udp)",
        )
        fil.add_argument("first", type=_text, metavar=first)
        fil.add_argument("second", type=_text, metavar=second)
        fil.add_argument("--class", dest="cfdp_class", type=_int(1, 2), default=2)
        _ground_link_options(fil, "HOST:PORT of a live build's radio (default: in-process SIL)")
        fil.add_argument("--timeout", type=_number(0, 86_400, above=True), default=600.0)
        fil.add_argument("--verbose", action="store_true", help="print the progress")
        fil.set_defaults(func=_cmd_ground_file, verb=verb)

    pas = sub.add_parser(
        "ground-pass",
        help="one automated pass over a live build: flightsw ground pass --udp HOST:PORT "
        "[--procedure P]... (AOS: COP-1, store dump, procedures; LOS: the pass report)",
    )
    _ground_link_options(pas, "HOST:PORT of the build's radio", udp_required=True)
    pas.add_argument(
        "--procedure", action="append", type=_text, help="a procedure to run in the pass"
    )
    pas.add_argument(
        "--report-dir", type=_text, help="where the reports go (default: by the archive)"
    )
    pas.add_argument(
        "--aos-timeout",
        type=_number(0, 86_400, above=True),
        default=600.0,
        help="seconds to wait for AOS (default 600)",
    )
    pas.add_argument(
        "--los-after",
        type=_number(0, 3600, above=True),
        default=10.0,
        help="seconds without a datagram that make LOS (default 10)",
    )
    pas.add_argument(
        "--max-duration",
        type=_number(0, 86_400, above=True),
        default=3600.0,
        help="longest pass in seconds (default 3600)",
    )
    pas.set_defaults(func=_cmd_ground_pass)

    clu = sub.add_parser("cluster", help="N flight builds in lockstep with ISL/GEO relay, on Dask")
    clu.add_argument("--nodes", type=_int(1, 4096), default=4)
    clu.add_argument("--orbits", type=_number(0, 1000, above=True))
    clu.add_argument("--duration", type=_number(0, 1e8, above=True), help="seconds")
    clu.add_argument("--window", type=_number(0.1, 600), default=10.0, help="lockstep window s")
    clu.add_argument("--seed", type=_int(0, MAX_SEED), default=1)
    clu.add_argument("--mission", type=_text, help="mission file or shipped name")
    clu.add_argument("--boards", type=_int(1, 100_000), help="boards per node")
    clu.add_argument("--spacing", type=_number(0.01, 60), default=2.0, help="deg between nodes")
    clu.add_argument("--scheduler", type=_text, help="Dask scheduler address, or 'inline'")
    clu.add_argument("--workers", type=_int(1, 256), default=2, help="local cluster workers")
    clu.add_argument("--out", type=_text, default="runs/cluster")
    clu.add_argument("--no-plots", action="store_true")
    clu.add_argument("--cluster-plots-only", action="store_true", help="no per-node plots")
    clu.add_argument("--no-archive", action="store_true", help="no per-node SQLite archive")
    clu.add_argument(
        "--cluster-jobs", action="store_true", help="one job stream placed on nodes by headroom"
    )
    clu.add_argument("--quiet", action="store_true", help="no progress bar")
    clu.add_argument(
        "--scenario",
        type=_text,
        help="a cluster fault scenario, scored (cluster_safe, cluster_safe_long, cluster_silent,"
        " cluster_geo, cluster_isl; the seed draws the node and time); exit 1 if it fails",
    )
    clu.set_defaults(func=_cmd_cluster)

    camp = sub.add_parser("campaign", help="many seeded scenario runs on Dask, scored")
    camp.add_argument(
        "--scenarios",
        nargs="*",
        type=_text,
        help="scenario names (default: every node scenario); cluster scenarios by name"
        " (cluster_safe, cluster_silent, ...) or 'cluster' for all of them",
    )
    camp.add_argument(
        "--seeds", type=_int(1, 1_000_000), default=10, help="seeds per scenario (default 10)"
    )
    camp.add_argument("--first-seed", type=_int(0, MAX_SEED), default=1)
    camp.add_argument(
        "--scheduler", type=_text, help="address of a running Dask scheduler (default: local)"
    )
    camp.add_argument(
        "--workers", type=_int(1, 256), default=2, help="local cluster worker processes"
    )
    camp.add_argument(
        "--out", type=_text, default="runs/campaign", help="directory for campaign.json/plots"
    )
    camp.add_argument("--quiet", action="store_true", help="no progress bar")
    camp.set_defaults(func=_cmd_campaign)

    arc = sub.add_parser("archive", help="query, plot or replay a TM archive")
    asub = arc.add_subparsers(dest="archive_command", required=True)
    for verb, helptext in (
        ("query", "telemetry points over time: a table, CSV or Parquet"),
        ("plot", "telemetry points over time as a PNG"),
        ("replay", "the stored packets through the decoders again, printed in time order"),
    ):
        a = asub.add_parser(verb, help=helptext)
        if verb != "replay":
            a.add_argument("points", nargs="+", type=_text, help="points, e.g. power.soc")
        a.add_argument(
            "--archive", type=_text, default="ground-archive.sqlite", help="the SQLite archive"
        )
        a.add_argument(
            "--since", type=_number(0, 4.6e9), help="from this build time (s, inclusive)"
        )
        a.add_argument(
            "--until", type=_number(0, 4.6e9), help="up to this build time (s, inclusive)"
        )
        a.add_argument(
            "--mission", type=_text, help="the dictionary's mission (for an archive without one)"
        )
        a.add_argument(
            "--node",
            type=_text,
            help="a node of a cluster run: --archive is then the run directory "
            "(flightsw cluster --out) and this node's archive is read",
        )
        if verb == "query":
            a.add_argument("--format", default="table", choices=["table", "csv", "parquet"])
            a.add_argument("-o", "--output", type=_text, help="file to write (default stdout)")
            a.set_defaults(func=_cmd_archive_query)
        elif verb == "plot":
            a.add_argument(
                "-o", "--output", type=_text, default="archive-plot.png", help="the PNG to write"
            )
            a.set_defaults(func=_cmd_archive_plot)
        else:
            a.add_argument("--apid", type=_int(0, 2047), help="only this APID")
            a.set_defaults(func=_cmd_archive_replay)
    mig = asub.add_parser("migrate", help="copy an archive of the older row layout into a new one")
    mig.add_argument("old", type=_text, help="the archive of the older layout (left unchanged)")
    mig.add_argument("new", type=_text, help="the new archive to write (must not exist)")
    mig.set_defaults(func=_cmd_archive_migrate)

    dct = sub.add_parser("dict", help="the command/telemetry dictionary")
    dsub = dct.add_subparsers(dest="dict_command", required=True)
    exp = dsub.add_parser("export", help="write the dictionary generated from declarations")
    exp.add_argument("--format", default="json", choices=["json", "xtce"])
    exp.add_argument(
        "--flat",
        action="store_true",
        help="XTCE in one SpaceSystem level (names app__name), as space-packet-parser reads",
    )
    exp.add_argument("--mission", type=_text, help="mission TOML file or shipped mission name")
    exp.add_argument("-o", "--output", type=_text, help="file to write (default stdout)")
    exp.set_defaults(func=_cmd_dict_export)

    seq = sub.add_parser("seq", help="stored command sequences: compile and decompile")
    ssub = seq.add_subparsers(dest="seq_command", required=True)
    comp = ssub.add_parser("compile", help="text sequence -> binary checked against the dictionary")
    comp.add_argument("file", type=_text, help="the sequence text file")
    comp.add_argument("-o", "--output", type=_text, help="binary to write (default FILE.bin)")
    comp.add_argument("--mission", type=_text, help="mission TOML file or shipped mission name")
    comp.set_defaults(func=_cmd_seq)
    dec = ssub.add_parser("decompile", help="binary sequence -> text (checks its CRC)")
    dec.add_argument("file", type=_text, help="the sequence binary")
    dec.add_argument("--mission", type=_text, help="mission TOML file or shipped mission name")
    dec.set_defaults(func=_cmd_seq)

    from flightsw.cli import packet as packet_cli

    packet_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``flightsw`` command; every failure is one ``error:`` line."""
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader went away (``| head``): nothing left to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ground"] and argv[1:2] in (["run"], ["pass"], ["put"], ["get"]):
        argv = [f"ground-{argv[1]}", *argv[2:]]
    args, extra = parser.parse_known_args(argv)
    # argparse cannot put an optional positional after an option (``decode KIND --time-len
    # 4 HEX``); take a single leftover word as that positional.
    if extra:
        if getattr(args, "item", "") is None and len(extra) == 1 and not extra[0].startswith("-"):
            args.item = extra[0]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        status: int = args.func(args)
    except (FlightswError, HalError) as exc:
        print_error(str(exc))
        return 1
    except BrokenPipeError:  # the reader went away: main() says nothing more
        raise
    except OSError as exc:  # a file or socket the user named: not there, not allowed, busy
        where = f"{exc.filename}: " if exc.filename else ""
        print_error(f"{where}{exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    except Exception as exc:  # a bug in flightsw: still one line, the traceback on request
        if os.environ.get("FLIGHTSW_DEBUG"):
            raise
        print_error(f"internal error (a bug in flightsw): {type(exc).__name__}: {exc}")
        return EXIT_INTERNAL
    return status


if __name__ == "__main__":
    raise SystemExit(main())
