import pytest

from flightsw.framework.bus import BusError, Overflow, SoftwareBus


def test_publish_reaches_every_subscriber_in_order() -> None:
    bus = SoftwareBus()
    a = bus.create_pipe("a", 8)
    b = bus.create_pipe("b", 8)
    bus.subscribe(5, a)
    bus.subscribe(5, b)
    for i in range(3):
        assert bus.publish(5, i) == 0
    assert [m.payload for m in a.drain()] == [0, 1, 2]
    assert [m.payload for m in b.drain()] == [0, 1, 2]
    assert len(a) == 0


def test_reject_newest_counts_and_reports_refusals() -> None:
    bus = SoftwareBus()
    p = bus.create_pipe("cmd", 2)
    bus.subscribe(1, p)
    assert [bus.publish(1, i) for i in range(5)] == [0, 0, 1, 1, 1]
    assert [m.payload for m in p.drain()] == [0, 1]
    assert p.dropped == 3 and bus.rejected == 3 and bus.dropped_total() == 3


def test_drop_oldest_keeps_newest_and_counts() -> None:
    bus = SoftwareBus()
    p = bus.create_pipe("tlm", 3, Overflow.DROP_OLDEST)
    bus.subscribe(1, p)
    for i in range(10):
        assert bus.publish(1, i) == 0
    assert [m.payload for m in p.drain()] == [7, 8, 9]
    assert p.dropped == 7
    assert p.high_water == 3


def test_unsubscribed_ids_are_counted_not_lost_silently() -> None:
    bus = SoftwareBus()
    bus.publish(99, "x")
    assert bus.undeliverable == 1


def test_drain_limit_and_bad_pipes() -> None:
    bus = SoftwareBus()
    p = bus.create_pipe("p", 10)
    bus.subscribe(1, p)
    for i in range(5):
        bus.publish(1, i)
    assert [m.payload for m in p.drain(2)] == [0, 1]
    assert len(p) == 3
    with pytest.raises(BusError):
        bus.create_pipe("p", 1)
    with pytest.raises(BusError):
        bus.create_pipe("q", 0)
    bus.unsubscribe(1, p)
    bus.publish(1, 9)
    assert len(p) == 3


def test_a_pipe_is_true_even_when_empty_and_a_missing_pipe_is_none() -> None:
    bus = SoftwareBus()
    pipe = bus.create_pipe("p", 2)
    assert len(pipe) == 0 and bool(pipe) is True  # a handle, not a container to test
    assert bus.pipe("p") is pipe and bus.pipe("nope") is None
