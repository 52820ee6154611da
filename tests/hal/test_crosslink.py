"""The crosslink mailbox: bounded both ways, counted, and what the link model sees."""

from hal.crosslink import NO_LINKS, CrosslinkMailbox
from hal.interfaces import HOP_GEO, Crosslink


def test_mailbox_is_a_bounded_crosslink_that_counts_what_it_refused() -> None:
    now = [5]
    box = CrosslinkMailbox(lambda: now[0], tx_depth=2, rx_depth=1)
    assert isinstance(box, Crosslink) and box.status() == NO_LINKS
    assert box.send(0x101, b"a") and box.send(HOP_GEO, b"b")
    assert not box.send(0x101, b"c") and box.tx_refused == 1
    now[0] = 9
    assert box.drain_tx() == [(5, 0x101, b"a"), (5, HOP_GEO, b"b")]
    assert box.drain_tx() == [] and box.send(0x101, b"d")
    assert box.deliver(b"x") and not box.deliver(b"y") and box.rx_dropped == 1
    assert box.receive() == [b"x"] and box.receive() == []
