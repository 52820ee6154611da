"""The load-time name scan reads each module once: the same uses, at the same lines, as
reading each class's own source with ``inspect`` (what it did before), and a file whose
text changed is read again."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from flightsw.framework import name_check
from flightsw.framework.name_check import ScanResult, _classes, _module_tree, _short, _Visitor
from flightsw.runtime.mission import load_mission


def inspect_scan(cls: type) -> ScanResult:
    """The scan as it was: each class's source by ``inspect.getsourcelines``, dedented
    and parsed on its own (slow: tokenizes every class)."""
    out = ScanResult()
    senders = set(getattr(cls, "EVENT_SENDERS", ()))
    for klass in _classes(cls):
        try:
            lines, first = inspect.getsourcelines(klass)
            file = inspect.getsourcefile(klass) or "?"
        except (OSError, TypeError):
            out.unchecked.append(f"{klass.__qualname__}: no source to read")
            continue
        env = vars(sys.modules[klass.__module__])
        visitor = _Visitor(env, _short(file), first, senders)
        visitor.visit(ast.parse(textwrap.dedent("".join(lines))))
        out.uses.extend(visitor.result.uses)
        out.unchecked.extend(visitor.result.unchecked)
    return out


def _plain(result: ScanResult) -> tuple[list[tuple[Any, ...]], list[str]]:
    def name(n: object) -> object:
        return ("regex", n.pattern) if isinstance(n, re.Pattern) else n

    return [(u.kind, name(u.name), u.where, u.call) for u in result.uses], result.unchecked


def test_every_shipped_app_scans_as_reading_its_own_source_did() -> None:
    specs = load_mission().apps
    assert len(specs) > 10
    for spec in specs:
        cls: type = spec.cls
        assert _plain(name_check.scan(cls)) == _plain(inspect_scan(cls)), spec.name


def test_nested_decorated_and_same_named_classes_are_found_where_inspect_finds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two classes named ``Probe`` (one at module level, one inside a function) and a
    decorated one: each use is found at the line ``inspect`` gives it."""
    source = textwrap.dedent(
        """
        import dataclasses
        from flightsw.framework.app import App

        def make():
            class Probe(App):
                def step(self, now_ns):
                    self.emit("INNER")
            return Probe

        class Probe(App):
            def step(self, now_ns):
                self.emit("OUTER")

        class Holder:
            @dataclasses.dataclass
            class Probe(App):
                def step(self, now_ns):
                    self.param(f"p{now_ns}")
                    self.tlm[X] = 1

        X = "x"
        """
    )
    (tmp_path / "scan_probe_mod.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("scan_probe_mod")
    try:
        for cls in (mod.make(), mod.Probe, mod.Holder.Probe):
            got = _plain(name_check.scan(cls))
            assert got == _plain(inspect_scan(cls))
            assert got[0], cls.__qualname__
        inner = name_check.scan(mod.make()).uses[0]
        assert (inner.name, inner.where) == ("INNER", f"{tmp_path}/scan_probe_mod.py:8")
    finally:
        sys.modules.pop("scan_probe_mod", None)


def test_a_file_whose_text_changed_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "changing.py"
    path.write_text("class A:\n    pass\n")
    first = _module_tree(str(path))
    assert _module_tree(str(path)) is first  # unchanged text: the one parse
    path.write_text("class A:\n    pass\n\n\nclass B:\n    pass\n")
    second = _module_tree(str(path))
    assert second is not first
    assert second is not None
    assert [n.name for n in second.body if isinstance(n, ast.ClassDef)] == ["A", "B"]
