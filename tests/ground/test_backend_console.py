"""The console's line mode over a simulated build: a command by name gets its PUS-1
stages, HK comes as named values with units, ``wait`` lets simulated time pass (and only
it), and a bad line is reported by number without ending the session."""

from __future__ import annotations

import random

from flightsw.ground.backend_console import BackendConsole, run_lines
from flightsw.runtime.mission import load_mission
from flightsw.sil.procedure_backend import in_contact_backend


def test_a_piped_session_commands_by_name_and_waits_in_simulated_time() -> None:
    m = load_mission(seed=random.randrange(1000))
    m.hal = {**m.hal, "spacecraft": {"boards": 4}}
    backend = in_contact_backend(m)
    lines: list[str] = []
    errors: list[str] = []
    console = BackendConsole(backend, out=lines.append, listen_s=2.0)
    t0 = backend.now_s()
    session = ["test.ping", "", "nosuch.command", "wait 10", "wait x", "wait -1", "run 1 2"]
    session += ["wait 1e9", "values", "history"]
    failures = run_lines(console, enumerate(session, start=1), errors.append)
    assert failures == 5 and [e.split(":")[0] for e in errors] == [
        f"line {n}" for n in (3, 5, 6, 7, 8)
    ]
    assert "not a number" in errors[1] and "0..86400" in errors[2] and "one argument" in errors[3]
    assert backend.now_s() - t0 == 12.0  # 2 s after the command, 10 s waited; none on errors
    assert "VERIFY test.ping completed" in lines
    assert [c.stages for c in console.model.history.values()] == [
        ["accepted", "started", "completed"]
    ]
    assert console.model.live.values["power.battery_voltage_v"].unit == "V"
    assert any(x.startswith("HK power.power ") and "battery_voltage_v=" in x for x in lines)
    assert any(x.startswith("power.battery_voltage_v ") for x in lines)  # values
    assert lines[-1].split() == ["test.ping", "accepted", ">", "started", ">", "completed"]
