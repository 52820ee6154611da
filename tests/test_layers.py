"""The layers of ../shared/DESIGN.md: imports only point down, checked on every run.

    tools
    flightsw/cli: the flightsw command (main, packet)
    flightsw/sil: software in the loop (runners, harness, scenarios, scoring, campaigns,
        the cluster of nodes, the simulated operator's workload, run reports)
    flightsw/ground: the ground software (archive, station, console, commanding,
        procedures and the shipped ones in data/procedures/, XTCE, file transfer, passes)
    fdir
    flightsw/apps
    flightsw framework
    hal
    flightsw.base (errors, crc, schema, stream)      sim_hw

Every module of a layer may import its own layer and any layer below it, and nothing
above. No exceptions: the error types, CRC, configuration schema and stream buffer that
hal and flightsw both use live in ``flightsw.base``, the bottom layer, which imports
nothing of the project. ``sim_hw`` is a bottom layer too (it knows nothing of flight
software), and among the layers above it only hal's sim backend, the SIL and the CLI may
import it: apps see devices only through hal, and the ground software sees the
spacecraft only through its link. The ground software also skips two layers below it:
it imports no flight app and nothing of fdir (it works from the framework's formats and
the dictionary), so it stands beside the flight build, not on it.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = ("tools", "flightsw", "hal", "fdir", "sim_hw")
# top to bottom; flightsw.base and sim_hw are both at the bottom and ignore each other
LAYERS = ("tools", "cli", "sil", "ground", "fdir", "apps", "framework", "hal", "bottom")


def _layer(module: str) -> str:
    top = module.split(".")[0]
    if top == "sim_hw" or module == "flightsw.base" or module.startswith("flightsw.base."):
        return "bottom"
    if top in ("tools", "fdir", "hal"):
        return top
    if module == "flightsw.cli" or module.startswith("flightsw.cli."):
        return "cli"
    if module == "flightsw.sil" or module.startswith("flightsw.sil."):
        return "sil"
    if module.startswith(("flightsw.ground", "flightsw.data.procedures")):
        return "ground"
    if module == "flightsw.apps" or module.startswith("flightsw.apps."):
        return "apps"
    return "framework"


def _root(module: str) -> str:
    """Which bottom package a module is in (``flightsw.base`` or ``sim_hw``), else its top."""
    return "flightsw.base" if module.startswith("flightsw.base") else module.split(".")[0]


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return {m for m in out if m.split(".")[0] in TOP}


def _sources() -> list[Path]:
    return sorted(p for top in TOP for p in (ROOT / top).rglob("*.py") if ".venv" not in p.parts)


def test_imports_only_point_down() -> None:
    bad = []
    for path in _sources():
        me = _module(path)
        mine = LAYERS.index(_layer(me))
        for mod in _imports(path):
            theirs = _layer(mod)
            if LAYERS.index(theirs) < mine:
                bad.append(f"{me} ({_layer(me)}) imports {mod} ({theirs})")
            elif theirs == "bottom" == _layer(me) and _root(mod) != _root(me):
                bad.append(f"{me} imports {mod}: flightsw.base and sim_hw ignore each other")
    assert bad == []


def test_only_hals_sim_backend_imports_the_simulator() -> None:
    users = [
        _module(p)
        for p in _sources()
        if not _module(p).startswith("sim_hw") and any(m.startswith("sim_hw") for m in _imports(p))
    ]
    above = ("tools", "cli", "sil")
    # below the SIL, only hal's sim backend; the ground software not at all
    assert [u for u in users if _layer(u) not in above and not u.startswith("hal.sim")] == []


def test_the_ground_imports_no_flight_app_nor_fdir() -> None:
    bad = [
        f"{_module(p)} imports {mod}"
        for p in _sources()
        if _layer(_module(p)) == "ground"
        for mod in _imports(p)
        if _layer(mod) in ("fdir", "apps")
    ]
    assert bad == []


def test_the_checker_sees_an_upward_import() -> None:
    """A check that cannot fail is a defect: an upward import is found."""
    assert LAYERS.index(_layer("flightsw.framework.app")) < LAYERS.index(_layer("hal.backend"))
    assert _layer("flightsw.framework.app") == "framework"
    assert _layer("flightsw.base.errors") == "bottom"
    assert LAYERS.index(_layer("fdir.app")) < LAYERS.index(_layer("flightsw.apps.power"))
    assert LAYERS.index(_layer("flightsw.sil.scoring")) < LAYERS.index(
        _layer("flightsw.ground.xtce")
    )
    assert _layer("flightsw.data.procedures.ping") == "ground"
    assert _layer("flightsw.cli.main") == _layer("flightsw.cli") == "cli"
