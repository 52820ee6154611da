"""CI's short fuzz budget: every decoder gets a few thousand mutated inputs per run, and
the mission loader, the scenario loader and the command line a few hundred generated
ones (a few missions built and run)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import fuzz


def test_short_fuzz_budget_finds_nothing() -> None:
    targets = fuzz.builtin_targets() + fuzz.extra_targets()
    assert len(targets) >= 9
    found = fuzz.fuzz(targets, seconds=3.0, seed=20261127, min_execs=200)
    assert found == 0, [f for t in targets for f in t.findings]
    assert all(t.execs >= 200 for t in targets)


def test_fuzzer_reports_a_decoder_that_raises_the_wrong_error() -> None:
    def bad(data: bytes) -> None:
        if len(data) > 3 and data[0] == 0x18:
            raise IndexError("boom")

    t = fuzz.Target("bad", bad, [b"\x18\x00\x00\x00\x00"])
    assert fuzz.fuzz([t], seconds=0.2, seed=1) > 0
    assert t.findings[0].startswith("IndexError: boom <- ")


def test_short_fuzz_of_mission_loader_and_cli_finds_nothing(tmp_path: Path) -> None:
    targets = fuzz.input_targets(tmp_path)
    assert {t.name for t in targets} == {"mission-loader", "scenario-loader", "cli"}
    found = fuzz.fuzz(targets, seconds=3.0, seed=20261127, min_execs=20)
    assert found == 0, [f[:2000] for t in targets for f in t.findings]
    assert all(t.execs >= 20 for t in targets), {t.name: t.execs for t in targets}


def test_input_fuzzers_report_what_breaks_their_contract(tmp_path: Path) -> None:
    """A check that cannot fail is a defect: each oracle fires on a known-bad outcome."""
    import fuzz_inputs

    mission = fuzz_inputs.MissionTarget(tmp_path)
    path = str(tmp_path / "fuzz-mission.toml")
    bad = fuzz_inputs.Finding
    try:
        fuzz_inputs._one_line_naming(ValueError("no file named"), path)
    except bad:
        pass
    else:
        raise AssertionError("an error without the file name passed")
    mission.run(b"[mission]\nseed = 'x'\n")  # a MissionError naming the file: fine
    cli = fuzz_inputs.CliTarget(tmp_path)
    case = b'{"argv": ["packet", "decode", "pus-tc", "00"], "stdin": ""}'
    cli.run(case)  # one error line, exit 1: fine
    from flightsw.cli import packet as packet_cli

    real = packet_cli.decode_one
    packet_cli.decode_one = lambda *a: 1 / 0  # type: ignore[assignment]
    try:
        cli.run(case)
    except bad as exc:
        assert "internal error" in str(exc)
    else:
        raise AssertionError("an internal error passed")
    finally:
        packet_cli.decode_one = real  # type: ignore[assignment]


def test_cli_stubs_offer_every_console_method_the_cli_calls(tmp_path: Path) -> None:
    """The CLI fuzzer stubs the ground console; a method the CLI starts to call that the
    stub lacks would be reported as a flightsw bug (it was, twice), so keep them equal."""
    import re

    import fuzz_inputs

    import flightsw.ground.console as console

    cli_text = (Path(__file__).resolve().parents[2] / "flightsw" / "cli" / "main.py").read_text()
    called = set(re.findall(r"\bconsole\.([a-z]\w*)\(", cli_text))
    assert called, "the CLI calls the console"
    with fuzz_inputs.stubs(tmp_path):
        stub = console.GroundConsole
    missing = {name for name in called if not hasattr(stub, name)}
    assert not missing, missing
