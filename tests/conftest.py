"""Shared fixtures: a SIL harness on the default mission plus the test apps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flightsw.testing import SilHarness
from tests.support.apps import CounterApp, spec


@pytest.fixture
def sil() -> Iterator[SilHarness]:
    """The default mission with a CounterApp named ``counter`` at id base 0x1000."""
    yield SilHarness(extra_apps=[spec(CounterApp, "counter")])
