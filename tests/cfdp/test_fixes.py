"""The correction to cfdp-py's lost-segment list (flightsw.cfdp.fixes)."""

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
