"""Job submissions: the binary list of a TC and the CSV job-list file."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.apps.payload.job_list import (
    check_ranges,
    encode_binary,
    parse_binary,
    parse_csv,
)
from flightsw.base.errors import CommandError
from flightsw.framework.app import FailureCode

jobs_st = st.lists(
    st.tuples(
        st.floats(0.0625, 8192.0, width=32),
        st.integers(0, 255),
        st.integers(0, 2**32 - 1),
        st.floats(1.0, 65_536.0, width=32),
    ),
    max_size=80,
)


@settings(max_examples=100, deadline=None)
@given(jobs_st)
def test_binary_job_lists_round_trip(jobs: list[tuple[float, int, int, float]]) -> None:
    assert parse_binary(encode_binary(jobs)) == jobs
    check_ranges(jobs, [str(i) for i in range(len(jobs))])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_is_refused_with_our_error_or_parses_exactly(data: bytes) -> None:
    try:
        jobs = parse_binary(data)
    except CommandError as exc:
        assert exc.code == FailureCode.BAD_LENGTH
    else:
        assert len(data) == 2 + 13 * struct.unpack_from(">H", data)[0] == 2 + 13 * len(jobs)


def test_csv_lines_name_where_they_fail() -> None:
    jobs, where = parse_csv("f", b"# c\n1.5, 2, 0, 60\n\n0.1,0,10,30 # x\n")
    assert jobs == [(1.5, 2, 0, 60.0), (0.1, 0, 10, 30.0)] and where == ["f line 2", "f line 4"]
    with pytest.raises(CommandError) as bad:
        parse_csv("f", b"1,1,0,60\n1,1,0\n")
    assert bad.value.code == FailureCode.BAD_APP_DATA and "line 2" in bad.value.reason
    with pytest.raises(CommandError) as out:
        check_ranges([(1.0, 1, 0, 60.0), (float("nan"), 1, 0, 60.0)], ["a", "b"])
    assert out.value.code == FailureCode.ARG_OUT_OF_RANGE and "b" in out.value.reason
