"""A pytest fixture for procedures: ``procedure``, a Procedure on an in-process SIL.

Use it from a conftest (``pytest_plugins = ["flightsw.sil.pytest_fixtures"]``); a
test overrides ``procedure_harness`` to choose the build (mission, boards, apps). The
procedure's report is written to the test's ``tmp_path`` as ``procedure-report.json``.
The fixture is a thin layer: the same :class:`~flightsw.ground.procedure.Procedure`
works in a plain script or in ``flightsw ground run``.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from flightsw.ground.procedure import Procedure
from flightsw.sil.harness import SilHarness
from flightsw.sil.procedure_backend import SilBackend

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Remember whether the test's body failed (for the procedure's report)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed


@pytest.fixture
def procedure_harness() -> SilHarness:
    """The build a ``procedure`` drives: the default mission (override to choose)."""
    return SilHarness()


@pytest.fixture
def procedure(
    procedure_harness: SilHarness, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Procedure]:
    """A Procedure on ``procedure_harness``; its report lands in ``tmp_path``."""
    p = Procedure(SilBackend(procedure_harness), request.node.name)
    yield p
    if p.passed is None:
        failed = request.node.stash.get(_CALL_FAILED, True)
        p.finish(not failed, "the test failed" if failed else None)
    (tmp_path / "procedure-report.json").write_text(json.dumps(p.report(), indent=1, default=str))
