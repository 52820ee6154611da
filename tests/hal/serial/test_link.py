"""SerialLink over an in-memory port on simulated time: timeouts, retries, stale answers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hal.clocks import SimClock
from hal.serial import protocol as p
from hal.serial.link import DeviceError, DeviceNak, DeviceTimeout, SerialLink
from tools.fake_bench_device import FakeBenchDevice

MS = 1_000_000

# A responder sees each complete request frame and returns (delay_ns, octets) answers.
Responder = Callable[[p.Frame], list[tuple[int, bytes]]]


class FakePort:
    """A pyserial-like port whose reads 'block' by advancing a simulated clock."""

    def __init__(self, clock: SimClock, responder: Responder) -> None:
        self.clock = clock
        self.responder = responder
        self.timeout: float | None = None
        self._decoder = p.FrameDecoder()
        self._pending: list[tuple[int, bytes]] = []
        self._rx = bytearray()
        self.written: list[p.Frame] = []
        self.max_block_ns = 0

    def _arrive(self) -> None:
        now = self.clock.now_ns()
        due = [d for d in self._pending if d[0] <= now]
        self._pending = [d for d in self._pending if d[0] > now]
        for _, data in sorted(due, key=lambda d: d[0]):
            self._rx += data

    @property
    def in_waiting(self) -> int:
        self._arrive()
        return len(self._rx)

    def read(self, size: int = 1) -> bytes:
        self._arrive()
        if not self._rx and self.timeout:
            start = self.clock.now_ns()
            target = start + int(self.timeout * 1e9)
            if self._pending:
                target = min(target, min(d[0] for d in self._pending))
            self.clock.wait_until(target)
            self.max_block_ns = max(self.max_block_ns, target - start)
            self._arrive()
        out = bytes(self._rx[:size])
        del self._rx[:size]
        return out

    def write(self, data: bytes, /) -> int:
        now = self.clock.now_ns()
        for frame in self._decoder.feed(data):
            self.written.append(frame)
            for delay, raw in self.responder(frame):
                self._pending.append((now + delay, raw))
        return len(data)


def device_responder(dev: FakeBenchDevice, delay_ns: int = 100_000) -> Responder:
    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        return [(delay_ns, dev.respond(frame))]

    return respond


def make(responder: Responder, **kw: int | float) -> tuple[SerialLink, FakePort, SimClock]:
    clock = SimClock()
    port = FakePort(clock, responder)
    opts: dict[str, int | float] = {"timeout_ns": 20 * MS, "retries": 2, "budget_ns": 100 * MS}
    opts.update(kw)
    link = SerialLink(port, clock, **opts)  # type: ignore[arg-type]
    return link, port, clock


def answer(frame: p.Frame, msg: p.Message, seq: int | None = None) -> bytes:
    return p.encode_frame(
        p.response_type(frame.type), frame.seq if seq is None else seq, msg.encode()
    )


def test_normal_traffic_against_the_emulator() -> None:
    dev = FakeBenchDevice(4, seed=1, now_s=lambda: 0.0)
    link, port, _ = make(device_responder(dev))
    reply = link.request(p.Ping(77), p.PingReply)
    assert reply.nonce == 77 and reply.n_boards == 4
    names = link.request(p.ListNames(p.NameKind.HEATERS), p.NameList)
    assert names.names == ("heater_battery", "heater_coldplate")
    link.request(p.SetBoardPower(True, np.arange(4)), p.Ack)
    page = link.request(p.ReadBoards(0, 4), p.BoardPage)
    assert page.powered.tolist() == [True] * 4
    assert [f.seq for f in port.written] == [1, 2, 3, 4]
    assert link.counters()["requests"] == link.counters()["responses"] == 4
    assert link.timeouts == link.retries == link.stale == link.errors == 0
    assert port.timeout == link.poll_s


def test_garbage_before_a_response_is_skipped_and_counted() -> None:
    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        return [(1 * MS, b"\x00\xa5\xff\x5a\xa5" + answer(frame, p.Ack()))]

    link, _, _ = make(respond)
    assert link.request(p.KickWatchdog(), p.Ack) == p.Ack()
    assert link.decoder.garbage_octets == 5
    assert link.retries == 0


def test_a_dropped_octet_costs_one_retry() -> None:
    calls = []

    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        raw = answer(frame, p.BatteryReading(28.0, 1.0, 20.0))
        calls.append(frame.seq)
        if len(calls) == 1:
            raw = raw[:7] + raw[8:]  # lose one payload octet
        return [(1 * MS, raw)]

    link, port, clock = make(respond)
    b = link.request(p.ReadBattery(), p.BatteryReading)
    assert b == p.BatteryReading(28.0, 1.0, 20.0)
    assert link.retries == 1 and link.timeouts == 0
    assert [f.seq for f in port.written] == [1, 2]
    assert clock.now_ns() >= 20 * MS  # the first attempt ran to its timeout


def test_late_response_times_out_then_is_discarded_as_stale() -> None:
    slow = {"on": True}

    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        return [
            (
                50 * MS if slow["on"] else 1 * MS,
                answer(frame, p.PingReply(p.Ping.decode(frame.payload).nonce, 1, 0, 0, 0, 0, 1000)),
            )
        ]

    link, _, clock = make(respond, retries=0, timeout_ns=20 * MS)
    with pytest.raises(DeviceTimeout):
        link.request(p.Ping(1), p.PingReply)
    assert link.timeouts == 1
    assert clock.now_ns() <= 20 * MS + int(link.poll_s * 1e9)
    clock.advance(40 * MS)  # the late answer has arrived by now
    slow["on"] = False
    reply = link.request(p.Ping(2), p.PingReply)
    assert reply.nonce == 2
    assert link.stale == 1
    assert link.responses == 1


def test_answer_to_an_earlier_attempt_is_accepted_and_its_duplicate_is_stale() -> None:
    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        return [(25 * MS, answer(frame, p.Ack()))]  # every attempt answered, 5 ms late

    link, port, _ = make(respond, timeout_ns=20 * MS, retries=3)
    link.request(p.ResetTrip(0), p.Ack)
    assert link.retries == 1 and link.responses == 1
    assert len(port.written) == 2
    link.request(p.ResetTrip(0), p.Ack)  # first drains the duplicate answer to attempt 2
    assert link.stale >= 1


def test_nak_is_counted_and_raised_with_its_code() -> None:
    dev = FakeBenchDevice(2, now_s=lambda: 0.0)
    link, _, _ = make(device_responder(dev))
    with pytest.raises(DeviceNak) as exc:
        link.request(p.ResetBoards(np.array([5])), p.Ack)
    assert exc.value.code == p.NakCode.BAD_INDEX
    assert exc.value.request_type == p.MsgType.RESET_BOARDS
    assert link.naks == 1 and link.errors == 1 and link.retries == 0


def test_busy_is_retried() -> None:
    answers = iter([p.NakCode.BUSY, p.NakCode.BUSY, None])

    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        code = next(answers)
        if code is None:
            return [(MS, answer(frame, p.Ack()))]
        return [(MS, p.encode_frame(p.NAK_TYPE, frame.seq, p.Nak(frame.type, code).encode()))]

    link, _, _ = make(respond, retries=2)
    link.request(p.KickWatchdog(), p.Ack)
    assert link.naks == 2 and link.retries == 2 and link.responses == 1


def test_always_busy_ends_in_a_busy_nak() -> None:
    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        return [(MS, p.encode_frame(p.NAK_TYPE, frame.seq, p.Nak(frame.type, 3).encode()))]

    link, _, _ = make(respond, retries=1)
    with pytest.raises(DeviceNak) as exc:
        link.request(p.KickWatchdog(), p.Ack)
    assert exc.value.code == p.NakCode.BUSY and link.errors == 1


def test_silent_device_never_exceeds_the_budget() -> None:
    link, port, clock = make(lambda f: [], retries=10, timeout_ns=20 * MS, budget_ns=50 * MS)
    with pytest.raises(DeviceTimeout):
        link.request(p.ReadHeaters(), p.HeaterStates)
    assert clock.now_ns() <= 50 * MS + int(link.poll_s * 1e9)
    assert port.max_block_ns <= int(link.poll_s * 1e9)
    assert len(port.written) == 3  # 0, 20, 40 ms; the budget ends the fourth
    assert link.timeouts == 1 and link.retries == 2


def test_caller_deadline_shortens_the_call() -> None:
    link, _, clock = make(lambda f: [], retries=5)
    with pytest.raises(DeviceTimeout):
        link.request(p.ReadHeaters(), p.HeaterStates, deadline_ns=5 * MS)
    assert clock.now_ns() <= 5 * MS + int(link.poll_s * 1e9)


class FrozenPort:
    """A port on a clock that never moves: reads return ``fill`` at once."""

    def __init__(self, fill: bytes) -> None:
        self.timeout: float | None = None
        self.fill = fill
        self.reads = 0

    @property
    def in_waiting(self) -> int:
        return len(self.fill)

    def read(self, size: int = 1) -> bytes:
        self.reads += 1
        return self.fill[:size]

    def write(self, data: bytes, /) -> int:
        return len(data)


@pytest.mark.parametrize("fill", [b"", b"\x00" * 512, p.encode_frame(0x99, 0, b"x") * 20])
def test_a_frozen_clock_cannot_hang_the_link(fill: bytes) -> None:
    port = FrozenPort(fill)
    link = SerialLink(port, SimClock(), timeout_ns=20 * MS, retries=1)
    with pytest.raises(DeviceTimeout):
        link.request(p.Ping(), p.PingReply)
    assert port.reads < 10_000


def test_corrupted_length_is_resynced_at_the_attempt_timeout() -> None:
    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        false_header = b"\xa5\x5a\x0b\xb8\x03\x03"  # claims 3000 payload octets
        return [(MS, false_header + answer(frame, p.Ack()))]

    link, port, _ = make(respond, retries=0)
    link.request(p.KickWatchdog(), p.Ack)
    assert link.responses == 1 and link.decoder.abandoned >= 1
    assert len(port.written) == 1


def test_undecodable_matching_response_is_a_device_error() -> None:
    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        return [(MS, p.encode_frame(p.response_type(frame.type), frame.seq, b"\x07"))]

    link, _, _ = make(respond)
    with pytest.raises(DeviceError) as exc:
        link.request(p.ReadBattery(), p.BatteryReading)
    assert not isinstance(exc.value, DeviceTimeout)
    assert link.errors == 1 and link.responses == 0


def test_wrong_type_with_our_seq_is_ignored() -> None:
    def respond(frame: p.Frame) -> list[tuple[int, bytes]]:
        wrong = p.encode_frame(p.response_type(p.MsgType.PING), frame.seq, b"")
        return [(MS, wrong), (2 * MS, answer(frame, p.Ack()))]

    link, _, _ = make(respond)
    link.request(p.KickWatchdog(), p.Ack)
    assert link.stale == 1 and link.responses == 1


class BrokenPort(FrozenPort):
    def write(self, data: bytes, /) -> int:
        raise OSError("device unplugged")


def test_io_errors_become_counted_device_errors() -> None:
    link = SerialLink(BrokenPort(b""), SimClock())
    with pytest.raises(DeviceError, match="unplugged"):
        link.request(p.Ping(), p.PingReply)
    assert link.errors == 1


def test_sequence_numbers_wrap_at_256() -> None:
    dev = FakeBenchDevice(0, now_s=lambda: 0.0)
    link, port, _ = make(device_responder(dev))
    for _ in range(300):
        link.request(p.KickWatchdog(), p.Ack)
    assert port.written[254].seq == 255 and port.written[255].seq == 0
    assert link.responses == 300


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 2**16),
    st.floats(0, 0.5),
    st.floats(0, 0.5),
    st.floats(0, 0.5),
    st.floats(0, 0.3),
)
def test_faulty_device_gives_only_device_errors_and_consistent_counters(
    seed: int, garbage: float, corrupt: float, drop: float, busy: float
) -> None:
    dev = FakeBenchDevice(
        3,
        seed,
        garbage_rate=garbage,
        corrupt_rate=corrupt,
        drop_rate=drop,
        busy_rate=busy,
        now_s=lambda: 0.0,
    )
    link, _, _ = make(device_responder(dev, 2 * MS), retries=2)
    ok = 0
    for i in range(20):
        try:
            if i % 2:
                link.request(p.ReadTemperatures(), p.Temperatures)
            else:
                link.request(p.SetHeater(i % 2, True), p.Ack)
            ok += 1
        except DeviceError:
            pass
    c = link.counters()
    assert c["requests"] == 20
    assert c["responses"] == ok
    assert c["requests"] == c["responses"] + c["timeouts"] + c["errors"]
    if garbage == corrupt == drop == busy == 0:
        assert ok == 20
