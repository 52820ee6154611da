"""Two corrections to cfdp-py 0.7, applied once when :mod:`flightsw.cfdp` loads.

Every class 2 receiver in a process shared ONE lost-segment list (a dataclass field whose
default is a single ``LostSegmentTracker()`` instance): with the ground's and the node's
entities in one process (SIL, tests) each took the other's gaps as its own, and a gap
removed by the other's data made a receiver declare complete a file with a hole (the
checksum then failed). :func:`_fresh_tracker` gives each receiver its own list.

The class 2 receiver keeps a list of lost segments; a file segment that arrives late
(reordered, or resent with other boundaries than the gap it fills) may cover only part
of a lost segment, or two of them. cfdp-py's ``LostSegmentTracker.remove_lost_segment``
raises ``ValueError`` on such a partial overlap, which ends the transfer. CFDP asks for
the octets received to be removed from the gaps, whatever the boundaries: that is what
:func:`remove_received` does. (Checked by ``tests/cfdp/test_fixes.py``; report upstream.)
"""

from __future__ import annotations

from typing import Any

from cfdppy.handler.dest import LostSegmentTracker, _AckedModeParams

_ACKED_INIT = _AckedModeParams.__init__


def _fresh_tracker(self: Any, *args: Any, **kwargs: Any) -> None:
    """``_AckedModeParams`` with a lost-segment list of its own unless one is given."""
    _ACKED_INIT(self, *args, **kwargs)
    if not args and "lost_seg_tracker" not in kwargs:
        self.lost_seg_tracker = LostSegmentTracker()


def remove_received(self: LostSegmentTracker, segment_to_remove: tuple[int, int]) -> bool:
    """Take the octets ``[start, end)`` out of every lost segment; True if any were lost."""
    start, end = segment_to_remove
    if end <= start:
        return False
    kept: list[tuple[int, int]] = []
    changed = False
    for s_start, s_end in sorted(self.lost_segments, key=lambda s: s[0]):
        if end <= s_start or start >= s_end:
            kept.append((s_start, s_end))
            continue
        changed = True
        if s_start < start:
            kept.append((s_start, start))
        if end < s_end:
            kept.append((end, s_end))
    self.lost_segments = kept
    return changed


def install() -> None:
    """Apply the corrections (idempotent)."""
    LostSegmentTracker.remove_lost_segment = remove_received
    _AckedModeParams.__init__ = _fresh_tracker


install()
