"""Shared fixtures: a SIL harness on the default mission plus the test apps."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from flightsw.sil.harness import SilHarness
from tests.support.apps import CounterApp, spec

# ``procedure``: the procedure API on an in-process SIL (flightsw.sil.pytest_fixtures).
pytest_plugins = ["flightsw.sil.pytest_fixtures"]

# Shared, noisy machines: no per-example deadlines. FLIGHTSW_FUZZ_EXAMPLES=N raises the
# example budget of every property test that does not set its own (a longer fuzz run).
settings.register_profile("default", deadline=None)
_FUZZ = os.environ.get("FLIGHTSW_FUZZ_EXAMPLES", "")
if _FUZZ:
    settings.register_profile(
        "fuzz",
        deadline=None,
        max_examples=max(1, int(_FUZZ)),
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile("fuzz" if _FUZZ else "default")


@pytest.fixture
def sil() -> Iterator[SilHarness]:
    """The default mission with a CounterApp named ``counter`` at id base 0x1000."""
    yield SilHarness(extra_apps=[spec(CounterApp, "counter")])
