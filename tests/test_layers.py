"""The layers of ../shared/DESIGN.md: imports only point down, checked on every run.

tools -> flightsw CLI, ground side and SIL runners -> fdir -> flightsw/apps -> flightsw
framework -> hal -> sim_hw. Two stated exceptions: hal uses the project's error types,
CRC and configuration declarations (``flightsw.errors``, ``flightsw.crc``,
``flightsw.schema``: leaf modules that import no other flightsw module but the errors),
so bench decode errors and [hal] table errors are the same types as every other; and
only hal's sim backend may import sim_hw.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNERS = {
    "flightsw/cli.py",
    "flightsw/simulate.py",
    "flightsw/testing.py",
    "flightsw/packet_cli.py",
}
LEAVES = {"flightsw.errors", "flightsw.crc", "flightsw.schema"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def _violations(pkg: str, forbidden: tuple[str, ...], allowed: set[str] = frozenset()) -> list[str]:
    bad = []
    for path in sorted((ROOT / pkg).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in RUNNERS or rel.startswith("flightsw/ground/"):
            continue
        for mod in _imports(path):
            top = mod.split(".")[0]
            if mod in allowed:
                continue
            if any(mod == f or mod.startswith(f + ".") or top == f for f in forbidden):
                bad.append(f"{rel} imports {mod}")
    return bad


def test_sim_hw_knows_nothing_of_flight_software() -> None:
    assert _violations("sim_hw", ("flightsw", "hal", "fdir")) == []


def test_leaves_are_leaves() -> None:
    for leaf in LEAVES:
        path = ROOT / (leaf.replace(".", "/") + ".py")
        inner = {m for m in _imports(path) if m.split(".")[0] in ("flightsw", "hal", "fdir")}
        assert inner <= {"flightsw.errors"}, (leaf, inner)


def test_hal_does_not_reach_up() -> None:
    bad = _violations("hal", ("flightsw", "fdir"), allowed=LEAVES)
    assert bad == []
    sim_users = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "hal").rglob("*.py")
        if any(m.startswith("sim_hw") for m in _imports(p))
    ]
    assert all(p.startswith("hal/sim/") for p in sim_users), sim_users


def test_the_framework_never_imports_fdir_apps_or_the_simulator() -> None:
    bad = [
        v for v in _violations("flightsw", ("fdir", "sim_hw")) if not v.startswith("flightsw/apps/")
    ]
    assert bad == []
    framework = [
        v for v in _violations("flightsw", ("flightsw.apps",)) if not v.startswith("flightsw/apps/")
    ]
    assert framework == []


def test_apps_and_fdir_use_devices_only_through_hal() -> None:
    assert _violations("flightsw/apps", ("fdir", "sim_hw")) == []
    assert _violations("fdir", ("sim_hw",)) == []
