"""The CFDP entity on its own: two entities joined by a seeded lossy, reordering pipe."""

from __future__ import annotations

import contextlib
import copy
import random
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from spacepackets.cfdp import ConditionCode

from flightsw.cfdp.entity import ABANDONED, CfdpEntity, CfdpError, EntityConfig, directive_name
from flightsw.cfdp.filestores import DirFilestore, NvFilestore
from flightsw.store.files import OnboardFiles, read_complete_file
from hal.nvstore import MemoryNvStore

STEP_NS = 100_000_000


class Pair:
    def __init__(self, root: Path, quota: int = 1 << 24, seed: int = 0, **cfg: float) -> None:
        self.nv = MemoryNvStore()
        self.store = OnboardFiles(self.nv, quota, 16)
        self.node = CfdpEntity(EntityConfig(2, 1, pdu_len=900, **cfg), NvFilestore(self.store))  # type: ignore[arg-type]
        self.ground = CfdpEntity(EntityConfig(1, 2, pdu_len=500, **cfg), DirFilestore(root))  # type: ignore[arg-type]
        self.rng = random.Random(seed)
        self.t = 0
        self.up = True
        self.loss = 0.0
        self.to_node = True  # False: everything towards the node is lost
        self.to_ground = True
        self.drop_finished = False  # every Finished PDU towards the ground is lost
        self.refused = 0

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.t += STEP_NS
            for e in (self.node, self.ground):
                e.tick(self.t, self.up)
            up = self.ground.poll(8000)
            down = self.node.poll(25000)
            if not self.up:
                continue
            down = down if self.to_ground else []
            if self.drop_finished:
                down = [d for d in down if directive_name(self.ground.decode(d)) != "finished_pdu"]
            for pdus, dst in ((up if self.to_node else [], self.node), (down, self.ground)):
                kept = [p for p in pdus if self.rng.random() >= self.loss]
                if self.loss:
                    self.rng.shuffle(kept)
                for p in kept:
                    try:
                        dst.receive(dst.decode(p))
                    except CfdpError:
                        self.refused += 1

    def node_file(self, name: str, data: bytes) -> None:
        self.store.create(name)
        self.store.write_at(name, 0, data)
        self.store.mark_complete(name)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_class2_both_ways_through_20pct_loss_and_reordering(tmp_path: Path, seed: int) -> None:
    p = Pair(tmp_path, seed=seed)
    p.loss = 0.2
    rng = random.Random(seed)
    up, down = rng.randbytes(rng.randrange(1, 120_000)), rng.randbytes(rng.randrange(1, 120_000))
    (tmp_path / "up").write_bytes(up)
    p.node_file("down", down)
    p.ground.put("up", "up", acknowledged=True)
    p.node.put("down", "down", acknowledged=True)
    p.run(3000)
    assert read_complete_file(p.nv, "up") == up
    assert (tmp_path / "down").read_bytes() == down
    ends = sorted((t.sending, t.condition, t.delivered) for t in p.ground.finished)
    assert ends == [(False, 0, True), (True, 0, True)]


def test_timers_run_on_link_time_only(tmp_path: Path) -> None:
    """With every PDU to the node lost, the ground's EOF is never acknowledged: it gives
    up after ack_limit x ack_interval of link time (not of the host's clock), and never
    while the link is down."""
    p = Pair(tmp_path, ack_interval_s=10.0, ack_limit=3)
    (tmp_path / "f").write_bytes(b"x" * 3000)
    p.to_node = False
    p.ground.put("f", "f", acknowledged=True)
    p.run(20)  # metadata, data and EOF sent; the EOF ACK timer runs
    p.up = False
    p.run(10 * 3600)  # ten hours without a contact: nothing expires
    assert not p.ground.finished and p.ground.sending
    p.up = True
    before = p.ground.link_ms
    while not p.ground.finished and p.ground.link_ms - before < 300_000:
        p.run(1)
    [t] = p.ground.finished
    assert not t.delivered and t.condition in (ConditionCode.POSITIVE_ACK_LIMIT_REACHED, ABANDONED)
    assert 25_000 <= p.ground.link_ms - before <= 200_000  # 3 x 10 s, then its cancellation


def test_a_file_over_the_quota_is_refused_and_never_readable(tmp_path: Path) -> None:
    p = Pair(tmp_path, quota=10_000)
    (tmp_path / "big").write_bytes(bytes(20_000))
    p.ground.put("big", "big", acknowledged=True)
    p.run(300)
    ends = [(t.sending, t.condition, t.delivered) for t in p.ground.finished]
    assert ends == [(True, ConditionCode.FILESTORE_REJECTION, False)]
    assert read_complete_file(p.nv, "big") is None
    assert p.store.usage()[1] <= 10_000


def test_a_class1_receiver_whose_eof_was_lost_frees_itself(tmp_path: Path) -> None:
    p = Pair(tmp_path, inactivity_s=30.0)
    (tmp_path / "f").write_bytes(b"y" * 50_000)
    p.ground.put("f", "f", acknowledged=False)
    p.run(1)  # metadata and part of the data; then the pass ends for the node's receiver
    p.to_node = False
    p.run(400)
    assert [t.condition for t in p.node.finished if not t.sending] == [ABANDONED]
    assert not p.node.receiving and read_complete_file(p.nv, "f") is None
    p.to_node = True  # and the next transfer goes through
    p.ground.put("f", "f2", acknowledged=False)
    p.run(50)
    assert read_complete_file(p.nv, "f2") == b"y" * 50_000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_is_our_error(data: bytes) -> None:
    e = CfdpEntity(EntityConfig(2, 1), NvFilestore(OnboardFiles(MemoryNvStore(), 1 << 20, 8)))
    try:
        pdu = e.decode(data)
    except CfdpError:
        return
    e.receive(pdu)  # whatever decoded is taken without raising


def _pdus_made(e: CfdpEntity) -> int:
    return len(e.out) + e.counters.out_dropped + e.counters.pdus_out


@pytest.mark.parametrize(
    "requests",
    [
        [(0, 5_000_000)],  # an end far past the file (a flipped bit of a CRC-less NAK)
        [(0, 4000), (1000, 5120), (2000, 3000)] * 20,  # the whole file, many times over
        [(0, 0), (4096, 2**32 - 1)],  # the Metadata, and the file's tail to 4 GiB
    ],
)
def test_a_nak_costs_at_most_one_resend_of_the_file(
    tmp_path: Path, requests: list[tuple[int, int]]
) -> None:
    """A class 2 sender answers a NAK with the segments asked for, cut at what it sent:
    cfdp-py sent a PDU per segment of any range (2**32 octets: 8 million PDUs, minutes
    of CPU in one call), and each range again however they overlapped."""
    from spacepackets.cfdp.defs import Direction
    from spacepackets.cfdp.pdu import NakPdu

    p = Pair(tmp_path)
    (tmp_path / "a").write_bytes(bytes(range(256)) * 20)  # 5120 octets, 11 segments of 480
    p.ground.put("a", "a", acknowledged=True)
    p.to_node = False  # nothing reaches the node: the ground sends all, then waits
    p.t += STEP_NS
    p.ground.tick(p.t, True)
    sent = [p.ground.decode(raw) for raw in p.ground.poll(1 << 20)]
    assert sum(1 for pdu in sent if directive_name(pdu) == "file_data") == 11
    conf = copy.copy(sent[0].pdu_header.pdu_conf)
    conf.direction = Direction.TOWARDS_SENDER
    nak = NakPdu(conf, start_of_scope=0, end_of_scope=5120, segment_requests=requests)
    before = _pdus_made(p.ground)
    p.ground.receive(p.ground.decode(bytes(nak.pack())))
    resent = [p.ground.decode(raw) for raw in p.ground.out]
    assert _pdus_made(p.ground) - before <= 11 + 1  # the file once, and the Metadata
    assert sum(len(pdu.file_data) for pdu in resent if directive_name(pdu) == "file_data") <= 5120
    assert p.ground.sending  # the transfer goes on
    p.to_node = True
    p.run(300)
    assert read_complete_file(p.nv, "a") == bytes(range(256)) * 20


@settings(max_examples=10, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    st.integers(0, 2**32),
)
@example(flips=[(97, 128)], seed=1)  # a Metadata file name not ASCII: the sender waited for good
@example(flips=[(1999, 186), (97, 216), (97, 216)], seed=1980)  # a name decoded lazily raised
@example(flips=[(4245, 141), (6517, 205)], seed=383313934)  # a NAK to 2**32: 51 CPU s
def test_corrupted_pdus_never_stop_a_transfer_from_completing(
    flips: list[tuple[int, int]], seed: int
) -> None:
    """PDUs with bytes changed (that still decode, so a CRC-less PDU can lie) are taken or
    refused with our error; the entity keeps running and a later transfer completes."""
    import tempfile

    rnd = random.Random(seed)
    root = Path(tempfile.mkdtemp())
    p = Pair(root)
    (root / "a").write_bytes(bytes(range(256)) * 20)
    p.ground.put("a", "a", acknowledged=True)
    for _ in range(30):
        p.t += STEP_NS
        p.ground.tick(p.t, True)
        for raw in p.ground.poll(8000):
            buf = bytearray(raw)
            for pos, val in flips:
                if rnd.random() < 0.3:
                    buf[pos % len(buf)] = val
            with contextlib.suppress(CfdpError):
                p.node.receive(p.node.decode(bytes(buf)))
        p.node.tick(p.t, True)
        p.node.poll(25000)
    p.run(2000)  # whatever became of "a", the entity is idle again and takes the next one
    (root / "b").write_bytes(b"b" * 4000)
    p.ground.put("b", "b", acknowledged=True)
    p.run(600)
    assert read_complete_file(p.nv, "b") == b"b" * 4000


def test_a_receiver_keeps_its_transfer_through_a_long_loss_of_signal(tmp_path: Path) -> None:
    """Ten hours out of contact in the middle of a transfer: the receiver's inactivity
    limit (120 s) counts link time, so the transfer goes on at the next contact."""
    p = Pair(tmp_path)
    data = random.Random(4).randbytes(100_000)
    (tmp_path / "f").write_bytes(data)
    p.ground.put("f", "f", acknowledged=True)
    p.run(3)
    assert p.node.receiving
    p.up = False
    p.run(10 * 3600)
    p.up = True
    p.run(600)
    assert read_complete_file(p.nv, "f") == data
    assert [t.condition for t in p.node.finished] == [0]


def test_a_sender_waiting_for_a_finished_pdu_that_never_comes_gives_up(tmp_path: Path) -> None:
    """cfdp-py has no timer while a class 2 sender waits for the Finished PDU: the entity
    gives the transfer up after ``inactivity_s`` of link time and takes the next one."""
    p = Pair(tmp_path, inactivity_s=60.0)
    (tmp_path / "f").write_bytes(b"z" * 20_000)
    (tmp_path / "g").write_bytes(b"g" * 3_000)
    p.ground.put("f", "f", acknowledged=True)
    p.drop_finished = True
    p.run(100 * 10)
    ends = [(t.name, t.condition, t.delivered) for t in p.ground.finished]
    assert ends == [("f", ABANDONED, False)] and not p.ground.sending
    p.drop_finished = False
    p.ground.put("g", "g", acknowledged=True)
    p.run(100)
    ends = [(t.name, t.condition, t.delivered) for t in p.ground.finished]
    assert ("g", 0, True) in ends and read_complete_file(p.nv, "g") == b"g" * 3_000
