"""The ``flightsw`` command: run a simulation, encode/decode packets, export the dictionary.

Every subcommand turns the project's own errors into one ``error:`` line on stderr and
exit status 1; a traceback means a bug in flightsw.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from flightsw.errors import FlightswError
from hal.factory import HalError, parse_host_port


def _cmd_scenario(args: argparse.Namespace) -> int:
    from flightsw.ground.scenario import run_scenario

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
                    "false_alarms",
                    "isolated",
                )
            },
            indent=2,
        )
    )
    print(f"run directory: {out}", file=sys.stderr)
    return 0 if result["passed"] else 1


def _cmd_campaign(args: argparse.Namespace) -> int:
    from flightsw.ground.campaign import run_campaign

    scenarios = args.scenarios if args.scenarios and args.scenarios != ["all"] else None
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
                    "tm_dropped",
                    "lost_board_hours",
                )
            },
            indent=2,
        )
    )
    print(f"campaign directory: {args.out} ({report['cluster']})", file=sys.stderr)
    return 0 if t["passed"] == t["runs"] else 1


def _cmd_sim(args: argparse.Namespace) -> int:
    from flightsw.mission import load_mission
    from flightsw.simulate import SimOptions, run_sim, with_boards

    if args.scenario is not None:
        return _cmd_scenario(args)

    if args.duration is not None and args.orbits is not None:
        raise FlightswError("give --duration or --orbits, not both")
    for name in ("duration", "orbits"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise FlightswError(f"--{name} must be positive")
    mission = load_mission(args.mission, seed=args.seed)
    if args.hal is not None:
        mission.hal = {**mission.hal, "backend": args.hal}
    if args.radio is not None:
        kind, _, bind = args.radio.partition(":")
        if kind not in ("udp", "tcp") or not bind:
            raise FlightswError("--radio takes udp:HOST:PORT or tcp:HOST:PORT")
        parse_host_port(bind, "--radio")
        mission.hal = {**mission.hal, "radio": {"kind": kind, "bind": bind}}
    if args.boards is not None:
        if not 1 <= args.boards <= 100_000:
            raise FlightswError("--boards must be 1..100000")
        with_boards(mission, args.boards)
    out = Path(args.out) if args.out else Path("runs") / f"{mission.name}-seed{mission.seed}"
    progress = False if args.quiet else None
    opts = SimOptions(
        args.duration, args.orbits, out, progress, plots=not args.no_plots, realtime=args.realtime
    )
    summary = run_sim(mission, opts)
    print(
        json.dumps(
            {
                k: summary[k]
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
                if k in summary
            },
            indent=2,
        )
    )
    print(f"run directory: {out}", file=sys.stderr)
    return 0


def _cmd_ground(args: argparse.Namespace) -> int:
    from flightsw.ground.console import GroundConsole
    from flightsw.mission import load_mission

    mission = load_mission(args.mission)
    address = parse_host_port(args.udp, "--udp")
    console = GroundConsole(
        mission, address, Path(args.archive), out=lambda s: print(s, flush=True)
    )
    try:
        for text in args.send or []:
            console.send(text)
        console.run_for(args.listen)
        if args.stdin:
            for line in sys.stdin:
                if line.strip():
                    try:
                        console.send(line.strip())
                    except FlightswError as exc:
                        print(f"error: {exc}", file=sys.stderr)
                    console.run_for(args.listen)
    finally:
        console.close()
    print(f"{console.tm_packets} TM packets; archive: {args.archive}", file=sys.stderr)
    return 0


def _cmd_dict_export(args: argparse.Namespace) -> int:
    from flightsw.dictionary import build_dictionary
    from flightsw.mission import load_mission

    dictionary = build_dictionary(load_mission(args.mission))
    if args.format == "xtce":
        from flightsw.ground.xtce import build_xtce

        text = build_xtce(dictionary)
    elif args.format == "json":
        text = json.dumps(dictionary, indent=2) + "\n"
    else:
        raise FlightswError(f"unsupported format {args.format!r}")
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flightsw", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="run a mission in software-in-the-loop simulation")
    sim.add_argument(
        "--mission",
        help="mission TOML file or shipped mission name (default: the built-in default mission)",
    )
    sim.add_argument("--orbits", type=float, help="how many orbits to simulate (default 1)")
    sim.add_argument("--duration", type=float, help="simulated seconds (instead of --orbits)")
    sim.add_argument("--seed", type=int, help="random seed (default: the mission's)")
    sim.add_argument("--out", help="run directory (default runs/MISSION-seedN)")
    sim.add_argument(
        "--hal",
        help="HAL backend: sim (default) or serial:PORT for a bench (runs in wall-clock time)",
    )
    sim.add_argument(
        "--radio", help="udp:HOST:PORT or tcp:HOST:PORT: a real radio link for a ground system"
    )
    sim.add_argument(
        "--realtime", action="store_true", help="pace frames by the wall clock (for --radio)"
    )
    sim.add_argument(
        "--boards",
        type=int,
        help="accelerator boards (default: the mission's); the node's array, battery and "
        "radiator scale with them",
    )
    sim.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.add_argument(
        "--scenario",
        help="run a fault scenario (shipped name or .toml) and score it; exit 1 if it fails",
    )
    sim.set_defaults(func=_cmd_sim)

    gnd = sub.add_parser("ground", help="command a running flight build over UDP, watch TM")
    gnd.add_argument("--udp", required=True, help="HOST:PORT of the flight build's radio")
    gnd.add_argument("--mission", help="the flight build's mission (for its dictionary)")
    gnd.add_argument("--send", action="append", help="a command: 'name key=value ...' (repeatable)")
    gnd.add_argument("--listen", type=float, default=5.0, help="seconds to listen (default 5)")
    gnd.add_argument("--stdin", action="store_true", help="then read commands, one a line")
    gnd.add_argument("--archive", default="ground-archive.sqlite", help="SQLite TM archive")
    gnd.set_defaults(func=_cmd_ground)

    camp = sub.add_parser("campaign", help="many seeded scenario runs on Dask, scored")
    camp.add_argument("--scenarios", nargs="*", help="scenario names (default: all shipped)")
    camp.add_argument("--seeds", type=int, default=10, help="seeds per scenario (default 10)")
    camp.add_argument("--first-seed", type=int, default=1)
    camp.add_argument("--scheduler", help="address of a running Dask scheduler (default: local)")
    camp.add_argument("--workers", type=int, default=2, help="local cluster worker processes")
    camp.add_argument("--out", default="runs/campaign", help="directory for campaign.json/plots")
    camp.add_argument("--quiet", action="store_true", help="no progress bar")
    camp.set_defaults(func=_cmd_campaign)

    dct = sub.add_parser("dict", help="the command/telemetry dictionary")
    dsub = dct.add_subparsers(dest="dict_command", required=True)
    exp = dsub.add_parser("export", help="write the dictionary generated from declarations")
    exp.add_argument("--format", default="json", choices=["json", "xtce"])
    exp.add_argument("--mission", help="mission TOML file or shipped mission name")
    exp.add_argument("-o", "--output", help="file to write (default stdout)")
    exp.set_defaults(func=_cmd_dict_export)

    from flightsw import packet_cli

    packet_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    raise SystemExit(main())
