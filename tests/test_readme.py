"""The README's app example runs as written (a README that lies is a defect), and the
app written from it is refused at load when it names a device or an event that does not
exist (the ports and names of the README are checked, not only shown)."""

import importlib
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flightsw.base.errors import DeclarationError

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> str:
    section = README.read_text().split("## Writing an app", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    return code.group(1)


@pytest.fixture
def write_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, str], Any]]:
    """Writes a module and imports it (runs it): the name check reads the app's source,
    so the example is a real file, as an app of a mission is."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names: list[str] = []

    def write(name: str, source: str) -> Any:
        (tmp_path / f"{name}.py").write_text(source)
        names.append(name)
        return importlib.import_module(name)

    yield write
    for name in names:
        sys.modules.pop(name, None)


def test_the_app_example_runs(write_app: Callable[[str, str], Any]) -> None:
    module = write_app("readme_beacon", _example())
    assert module.Beacon.declarations().devices[0].name == "battery"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # a device the HAL does not have
        (
            ("battery = Device(Battery)", 'battery = Device(Battery, "batery")'),
            "app 'beacon': device 'batery' (Battery) is not in this HAL",
        ),
        # an event that was never declared
        (
            ('self.emit("LEVEL_SET", level=level)', 'self.emit("LEVEL_SETT", level=level)'),
            "emit('LEVEL_SETT'): no event 'LEVEL_SETT' declared",
        ),
    ],
)
def test_the_app_fails_at_load_naming_a_device_or_event_that_does_not_exist(
    write_app: Callable[[str, str], Any],
    change: tuple[str, str],
    message: str,
) -> None:
    source = _example()
    assert change[0] in source
    with pytest.raises(DeclarationError) as err:
        write_app("readme_beacon_typo", source.replace(change[0], change[1]))
    assert message in str(err.value)
    assert "app 'beacon'" in str(err.value)


def test_the_first_two_commands_are_the_install_and_test_commands() -> None:
    lines = [ln for ln in README.read_text().splitlines() if ln.startswith("python3 -m venv")]
    assert lines[0].endswith(".venv/bin/flightsw sim")
    ci = (README.parent / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert lines[1] == ci
