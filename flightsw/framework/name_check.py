"""Load-time check that every name an app's code uses is one it declared.

An app names its events, parameters, telemetry points, reports and bus messages by
string or id in calls (``self.emit("BOOT")``, ``self.param("scrub_period_s")``,
``self.tlm["soc"] = ...``, ``self.listen(SAFE_MODE)``). A misspelt one used to be a
``KeyError`` in flight, and an app restart. The executive now reads the source of the
app's class (and of its bases: mixins such as ``DeviceGuard``) with :mod:`ast` at load and
refuses the mission when a name is not declared, naming app, name, file and line.

Why a scan and not declared-name objects: the names stay the strings the ground sees in
the dictionary, the apps' step bodies do not change (nor their speed: nothing is added
per call), and the check covers every call site at once, not only the ones a test runs.

What it reads, per call site:

* ``self.emit(N, ...)``, and any method the app lists in ``EVENT_SENDERS`` (FDIR queues
  its events with ``self.report(N, ...)``): N must be a declared event;
* ``self.param(N)``: a declared parameter; ``self.send_report(N, ...)``: a declared report;
* ``self.tlm[N]``, ``self.tlm.get(N)``, ``self.tlm.update(N=..., ...)`` (also through a
  local ``t = self.tlm``): a declared telemetry point;
* ``self.listen(M, ...)``: an id in ``SUBSCRIBES``; ``self.ctx.bus.publish(M, ...)``
  (also through ``bus = self.ctx.bus``): an id in ``PUBLISHES``.

N may be a literal, a module constant, a module-level mapping or sequence of names
(every value is checked: ``self.emit(_EVENT_OF[state])``) or an f-string (some declared
name must match its pattern: ``self.param(f"shed{level}_soc")``). Anything else (a
variable, a call) cannot be checked before it runs: :func:`scan` lists such sites as
``unchecked``, and the shipped apps' list is kept empty by a test.
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

NAME_CALLS = {"emit": "event", "param": "parameter", "send_report": "report"}


@dataclass(frozen=True)
class Use:
    """One use of a name in an app's code."""

    kind: str  # event, parameter, report, telemetry, subscription, publication
    name: object  # the resolved name (a str, an int msg id) or a regex for an f-string
    where: str  # file:line
    call: str  # how the code used it, for the message


@dataclass
class ScanResult:
    uses: list[Use] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # file:line what


def _is_self_attr(node: ast.AST, attr: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attr
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _is_self_ctx_bus(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute) and node.attr == "bus" and _is_self_attr(node.value, "ctx")
    )


def _lookup(node: ast.AST, env: Mapping[str, Any]) -> tuple[bool, Any]:
    """The module-level value a Name or dotted Attribute refers to."""
    if isinstance(node, ast.Name):
        return (node.id in env, env.get(node.id))
    if isinstance(node, ast.Attribute):
        ok, base = _lookup(node.value, env)
        if ok and hasattr(base, node.attr):
            return True, getattr(base, node.attr)
    return False, None


def _values(
    node: ast.AST, env: Mapping[str, Any], local: Mapping[str, list[object]] | None = None
) -> list[object] | None:
    """The names an argument can stand for, or None when it cannot be known at load
    (``local``: loop variables bound to a literal sequence in the function)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int):
        return [node.value]
    if isinstance(node, ast.Name) and local and node.id in local:
        return local[node.id]
    if isinstance(node, ast.IfExp):
        a, b = _values(node.body, env, local), _values(node.orelse, env, local)
        return None if a is None or b is None else a + b
    if isinstance(node, ast.JoinedStr):
        parts = [
            re.escape(str(v.value)) if isinstance(v, ast.Constant) else ".+" for v in node.values
        ]
        return [re.compile("".join(parts))]
    if isinstance(node, ast.Subscript):
        ok, table = _lookup(node.value, env)
        if ok and isinstance(table, Mapping):
            return list(table.values())
        return None
    ok, value = _lookup(node, env)
    if not ok:
        return None
    if isinstance(value, str | int):
        return [value]
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, tuple | list | set | frozenset):
        return list(value)
    return None


class _Visitor(ast.NodeVisitor):
    def __init__(
        self, env: Mapping[str, Any], file: str, first_line: int, event_senders: set[str]
    ) -> None:
        self.env = env
        self.file = file
        self.offset = first_line - 1
        self.calls = {**NAME_CALLS, **{m: "event" for m in event_senders}}
        self.result = ScanResult()
        self.tlm_alias: set[str] = set()
        self.bus_alias: set[str] = set()
        self.loop_values: dict[str, list[object]] = {}

    def _where(self, node: ast.AST) -> str:
        return f"{self.file}:{getattr(node, 'lineno', 0) + self.offset}"

    def _use(self, kind: str, arg: ast.AST, call: str) -> None:
        values = _values(arg, self.env, self.loop_values)
        if values is None:
            self.result.unchecked.append(f"{self._where(arg)} {call}({ast.unparse(arg)})")
            return
        for v in values:
            self.result.uses.append(Use(kind, v, self._where(arg), call))

    def _is_tlm(self, node: ast.AST) -> bool:
        return _is_self_attr(node, "tlm") or (
            isinstance(node, ast.Name) and node.id in self.tlm_alias
        )

    def _is_bus(self, node: ast.AST) -> bool:
        return _is_self_ctx_bus(node) or (isinstance(node, ast.Name) and node.id in self.bus_alias)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        saved = (self.tlm_alias, self.bus_alias, self.loop_values)
        self.tlm_alias, self.bus_alias, self.loop_values = set(), set(), {}
        self.generic_visit(node)
        self.tlm_alias, self.bus_alias, self.loop_values = saved

    def visit_For(self, node: ast.For) -> None:
        """``for name, x in (("A", ..), ("B", ..)):``: ``name`` stands for "A" and "B"."""
        items = node.iter.elts if isinstance(node.iter, ast.Tuple | ast.List) else None
        targets = node.target.elts if isinstance(node.target, ast.Tuple) else [node.target]
        if items is not None:
            for pos, target in enumerate(targets):
                if not isinstance(target, ast.Name):
                    continue
                found: list[object] = []
                for item in items:
                    parts = item.elts if isinstance(item, ast.Tuple) else [item]
                    got = _values(parts[pos], self.env) if pos < len(parts) else None
                    if got is None:
                        break
                    found += got
                else:
                    self.loop_values[target.id] = found
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                if _is_self_attr(node.value, "tlm"):
                    self.tlm_alias.add(target.id)
                elif _is_self_ctx_bus(node.value):
                    self.bus_alias.add(target.id)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self._is_tlm(node.value):
            self._use("telemetry", node.slice, "tlm[]")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value
            if isinstance(owner, ast.Name) and owner.id == "self" and func.attr in self.calls:
                if node.args:
                    self._use(self.calls[func.attr], node.args[0], func.attr)
            elif _is_self_attr(func, "listen") and node.args:
                self._use("subscription", node.args[0], "listen")
            elif self._is_tlm(owner) and func.attr == "get" and node.args:
                self._use("telemetry", node.args[0], "tlm.get")
            elif self._is_tlm(owner) and func.attr == "update":
                for kw in node.keywords:
                    if kw.arg is None and isinstance(kw.value, ast.DictComp):
                        self._use("telemetry", kw.value.key, "tlm.update")
                    elif kw.arg is None:
                        self.result.unchecked.append(f"{self._where(node)} tlm.update(**...)")
                    else:
                        self.result.uses.append(
                            Use("telemetry", kw.arg, self._where(kw), "tlm.update")
                        )
                for arg in node.args:
                    if isinstance(arg, ast.Dict):
                        for key in arg.keys:
                            if key is not None:
                                self._use("telemetry", key, "tlm.update")
                    else:
                        self.result.unchecked.append(f"{self._where(node)} tlm.update(...)")
            elif self._is_bus(owner) and func.attr == "publish" and node.args:
                self._use("publication", node.args[0], "publish")
        self.generic_visit(node)


def _classes(cls: type) -> Iterator[type]:
    """The app class and the bases it wrote itself (not the framework's App, not object)."""
    for klass in cls.__mro__:
        if klass is object or klass.__module__ == "flightsw.framework.app":
            continue
        yield klass


@functools.cache
def scan(cls: type) -> ScanResult:
    """Every name the code of ``cls`` (and its own bases) uses, with where."""
    out = ScanResult()
    senders = set(getattr(cls, "EVENT_SENDERS", ()))
    for klass in _classes(cls):
        found = _class_node(klass)
        if found is None:
            out.unchecked.append(f"{klass.__qualname__}: no source to read")
            continue
        file, node = found
        module = sys.modules.get(klass.__module__)
        env = vars(module) if module is not None else {}
        visitor = _Visitor(env, _short(file), 1, senders)
        visitor.visit(node)
        out.uses.extend(visitor.result.uses)
        out.unchecked.extend(visitor.result.unchecked)
    return out


# Parsed module sources, by file: the text each tree was parsed from, so a file whose
# text changed is parsed again (a cache that can only miss, never be stale).
_TREES: dict[str, tuple[str, ast.Module]] = {}


def _module_tree(file: str) -> ast.Module | None:
    """The parsed text of ``file`` as ``inspect`` reads it (linecache), parsed once per
    process for all the classes in it."""
    linecache.checkcache(file)
    source = "".join(linecache.getlines(file))
    if not source:
        return None
    cached = _TREES.get(file)
    if cached is not None and cached[0] == source:
        return cached[1]
    tree = ast.parse(source)
    _TREES[file] = (source, tree)
    return tree


class _ClassFinder(ast.NodeVisitor):
    """The first class definition whose qualified name is ``qualname`` (the search
    ``inspect.findsource`` makes, in the same order)."""

    def __init__(self, qualname: str) -> None:
        self.stack: list[str] = []
        self.qualname = qualname
        self.found: ast.ClassDef | None = None

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if self.found is None:
            self.stack += [node.name, "<locals>"]
            self.generic_visit(node)
            del self.stack[-2:]

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self.found is None:
            self.stack.append(node.name)
            if ".".join(self.stack) == self.qualname:
                self.found = node
            else:
                self.generic_visit(node)
            self.stack.pop()


def _class_node(klass: type) -> tuple[str, ast.ClassDef] | None:
    """The file and class definition of ``klass``, or None when its source cannot be
    read. Visiting this node finds what parsing ``inspect.getsourcelines(klass)`` would,
    at the same lines, without the tokenizing and second parse that call costs per class
    (it was a quarter of a short ``flightsw sim`` run)."""
    try:
        file = inspect.getsourcefile(klass)
    except TypeError:
        return None
    if not file:
        return None
    tree = _module_tree(file)
    if tree is None:
        return None
    finder = _ClassFinder(klass.__qualname__)
    finder.visit(tree)
    return None if finder.found is None else (file, finder.found)


def _short(path: str) -> str:
    for top in ("flightsw/", "fdir/", "hal/", "tests/", "tools/"):
        at = path.rfind("/" + top)
        if at >= 0:
            return path[at + 1 :]
    return path


def undeclared(cls: type, declared: Mapping[str, set[object]]) -> list[str]:
    """Each use in ``cls``'s code of a name it did not declare, as a message:
    ``where: emit('NAME'): no event 'NAME' declared``."""
    problems: list[str] = []
    for use in scan(cls).uses:
        names = declared.get(use.kind, set())
        if isinstance(use.name, re.Pattern):
            if not any(isinstance(n, str) and use.name.fullmatch(n) for n in names):
                problems.append(
                    f"{use.where}: {use.call}(f'{use.name.pattern}'): "
                    f"no {use.kind} declared matches"
                )
        elif use.name not in names:
            shown = f"{use.name:#06x}" if isinstance(use.name, int) else repr(use.name)
            problems.append(f"{use.where}: {use.call}({shown}): no {use.kind} {shown} declared")
    return problems
