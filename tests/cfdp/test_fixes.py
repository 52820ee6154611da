"""The correction to cfdp-py's lost-segment list (flightsw.cfdp.fixes)."""

import itertools

from cfdppy.handler.dest import LostSegmentTracker, _AckedModeParams
from hypothesis import given
from hypothesis import strategies as st

import flightsw.cfdp.entity  # noqa: F401  (applies the fix)


def test_each_receiver_has_its_own_lost_segment_list() -> None:
    a, b = _AckedModeParams(), _AckedModeParams()
    a.lost_seg_tracker.add_lost_segment((0, 10))
    assert b.lost_seg_tracker.lost_segments == []  # cfdp-py 0.7 shared one list


def test_a_segment_covering_part_of_a_gap_and_the_next_is_taken_out() -> None:
    t = LostSegmentTracker()
    t.lost_segments = [(100, 200), (300, 400)]
    assert t.remove_lost_segment((150, 350)) is True  # cfdp-py 0.7 raised ValueError
    assert t.lost_segments == [(100, 150), (350, 400)]
    assert t.remove_lost_segment((0, 50)) is False


@given(
    st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 100)), max_size=6),
    st.integers(0, 1100),
    st.integers(0, 200),
)
def test_removal_leaves_exactly_the_octets_still_missing(
    gaps: list[tuple[int, int]], start: int, length: int
) -> None:
    t = LostSegmentTracker()
    t.lost_segments = [(s, s + n) for s, n in gaps]
    t.coalesce_lost_segments()
    before = {o for s, e in t.lost_segments for o in range(s, e)}
    t.remove_lost_segment((start, start + length))
    after = {o for s, e in t.lost_segments for o in range(s, e)}
    assert after == before - set(range(start, start + length))


@given(
    st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 2**32)), max_size=12),
    st.integers(0, 2000),
)
def test_nak_requests_are_cut_at_what_was_sent_and_merged(
    requests: list[tuple[int, int]], sent: int
) -> None:
    """Served ranges: the octets asked for that were sent, each once, in order; what
    cfdp-py refuses (start past what was sent, end before start) kept to be refused."""
    from flightsw.cfdp.fixes import bounded_nak_requests

    out = bounded_nak_requests(requests, sent)
    refused = [(s, e) for s, e in requests if e < s or s > sent]
    assert out[len(out) - len(refused) :] == refused
    served = [r for r in out[: len(out) - len(refused)] if r != (0, 0)]
    assert out.count((0, 0)) == (1 if (0, 0) in requests else 0)
    assert all(0 <= s < e <= sent for s, e in served)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(served))  # merged, ordered
    want = {o for s, e in requests if s <= e and s <= sent for o in range(s, min(e, sent))}
    assert {o for s, e in served for o in range(s, e)} == want
