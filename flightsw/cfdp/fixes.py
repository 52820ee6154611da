"""Corrections to cfdp-py 0.7: two applied once when :mod:`flightsw.cfdp` loads, one
(:func:`bounded_nak_requests`) applied by the entity to each NAK PDU it takes.

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

A class 2 sender answers a NAK by sending again, segment by segment, every range it
asks for: cfdp-py checks that a range starts within what was sent, not where it ends, nor
whether ranges overlap. One NAK whose end offset lies far past the file (a CRC-less PDU
with a flipped bit says 2**32) had the sender build and queue a file data PDU per
segment of the whole range: millions of them, minutes of CPU in one call (a node's
executive stalled; a test of corrupted PDUs ran 10 minutes under load).
:func:`bounded_nak_requests` cuts each range at what was sent and merges overlaps, so a
NAK costs at most one resend of the file.
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


def bounded_nak_requests(requests: list[tuple[int, int]], sent: int) -> list[tuple[int, int]]:
    """A NAK's segment requests as a sender should serve them: each range cut at ``sent``
    (the octets sent so far), overlaps merged, in order of offset. The Metadata request
    ``(0, 0)`` is kept (once); a range that cfdp-py refuses (end before start, or start
    past what was sent) is kept as it is, so that it is refused as before."""
    metadata = (0, 0) in requests
    refused = [(s, e) for s, e in requests if e < s or s > sent]
    merged: list[tuple[int, int]] = []
    for start, end in sorted((s, min(e, sent)) for s, e in requests if s <= e and s <= sent):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [(0, 0)] * metadata + merged + refused


def install() -> None:
    """Apply the corrections (idempotent)."""
    LostSegmentTracker.remove_lost_segment = remove_received
    _AckedModeParams.__init__ = _fresh_tracker


install()
