"""The README's app example runs as written (a README that lies is a defect)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_app_example_runs() -> None:
    text = README.read_text()
    section = text.split("## Writing an app", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(code.group(1), "README.md", "exec"), namespace)
    assert "Beacon" in namespace


def test_the_first_two_commands_are_the_install_and_test_commands() -> None:
    lines = [ln for ln in README.read_text().splitlines() if ln.startswith("python3 -m venv")]
    assert lines[0].endswith(".venv/bin/flightsw sim")
    ci = (README.parent / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert lines[1] == ci
