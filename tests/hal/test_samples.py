"""The HAL's rule for non-finite numbers, on its own (hal.samples)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flightsw.base.errors import FlightswError
from hal.samples import InvalidSample, SampleCounter

NON_FINITE = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("bad", NON_FINITE)
def test_a_scalar_reading_with_a_non_finite_field_is_refused_and_counted(bad: float) -> None:
    c = SampleCounter()
    c.scalars("battery", voltage_v=28.0, current_a=1.0)
    with pytest.raises(InvalidSample) as err:
        c.scalars("battery", voltage_v=28.0, current_a=bad)
    assert isinstance(err.value, FlightswError)  # apps take it like a device error
    assert "battery.current_a" in str(err.value)
    assert c.by_kind["battery"] == 1 and c.total == 1


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=20))
def test_unit_values_keep_finite_ones_and_blank_the_rest_to_nan(values: list[float]) -> None:
    c = SampleCounter()
    out = c.units("temperatures", values)
    arr = c.unit_array("boards", np.array(values, dtype=np.float64))
    bad = sum(1 for v in values if not math.isfinite(v))
    assert c.by_kind == {**c.by_kind, "temperatures": bad, "boards": bad}
    for v, o, a in zip(values, out, arr.tolist(), strict=True):
        if math.isfinite(v):
            assert o == v and a == v
        else:
            assert math.isnan(o) and math.isnan(a)  # never an infinity


def test_an_all_finite_array_is_passed_on_without_a_copy() -> None:
    values = np.arange(5, dtype=np.float64)
    assert SampleCounter().unit_array("boards", values) is values
