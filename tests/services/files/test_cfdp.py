"""CFDP over the real link path in SIL: PDUs in PUS packets, in TC frames (BCH CLTUs,
SDLS, bypass frames) up and TM frames (CADUs) down, through the node's comms service,
with frames lost between the ground station and the simulated radio, and TC frames and
the downlinked packets reordered."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest

from flightsw.ground.file_transfer import GroundConfig, GroundFiles
from flightsw.ground.station import GroundStation
from flightsw.link.sdls_config import link_security
from flightsw.runtime.mission import load_mission
from flightsw.services.comms.app import link_config
from flightsw.sil.harness import SilHarness
from flightsw.store.files import read_complete_file


class LossyPass:
    """Ground station <-> simulated radio, frames dropped and reordered by a seeded
    channel, and a switch for loss of signal (the simulated link's contact)."""

    def __init__(self, h: SilHarness, root: Path, loss: float, seed: int) -> None:
        self.h = h
        opts = next(s.options for s in h.mission.apps if s.name == "comms")
        self.gs = GroundStation.with_security(link_config(opts), link_security(opts))
        self.gs.initiate()
        self.link = h.hal.harness["ground_link"]
        self.rf = self.link._link
        self.contact = True
        self.rf.in_contact = lambda t_s=None: self.contact  # the pass plan of this test
        self.loss = loss
        self.rng = random.Random(seed)
        self.files = GroundFiles(
            GroundConfig(apid=h.mission.executive.apid, root=root),
            self.gs.send_bypass,
            self.gs.send_packet,
        )
        self.frames_lost = 0

    def _lose(self, frames: list[bytes]) -> list[bytes]:
        kept = [f for f in frames if self.rng.random() >= self.loss]
        self.frames_lost += len(frames) - len(kept)
        return kept

    def _reorder(self, items: list[bytes]) -> list[bytes]:
        if self.loss:
            self.rng.shuffle(items)
        return items

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds * 10)):
            self.h.exe.run_minor_frame()
            now_ns = self.h.exe.now_ns
            # Up: each TC frame carries one packet; frames lost and reordered.
            for cltu in self._reorder(self._lose(self.gs.tick(now_ns / 1e9))):
                self.link.send(cltu)
            # Down: frames lost; the packets out of them reordered (the ground network's
            # delivery: frames of one physical channel arrive in order, and a packet split
            # over two frames that were swapped would only be one more loss).
            packets: list[bytes] = []
            for cadu in self._lose(self.link.receive()):
                packets += self.gs.receive(cadu)
            for pkt in self._reorder(packets):
                self.files.feed(pkt)
            self.files.step(now_ns, self.contact)

    def until_done(self, limit_s: float) -> list:  # type: ignore[type-arg]
        done: list = []  # type: ignore[type-arg]
        for _ in range(int(limit_s)):
            self.run(1.0)
            done += self.files.finished()
            if done and self.files.idle and self.node_files.entity_idle():
                return done
        return done

    @property
    def node_files(self):  # type: ignore[no-untyped-def]
        return _NodeView(self.h)


class _NodeView:
    def __init__(self, h: SilHarness) -> None:
        self.app = h.exe.app("files").instance

    def entity_idle(self) -> bool:
        return bool(self.app.cfdp.idle)


def _node() -> SilHarness:
    m = load_mission()
    m.hal = {**m.hal, "radio": {"always_in_contact": True}, "spacecraft": {"boards": 8}}
    return SilHarness(m)


def _events(h: SilHarness, name: str) -> list:  # type: ignore[type-arg]
    eid = h.dictionary["events_by_name"][name]["id"] if "events_by_name" in h.dictionary else None
    if eid is None:
        ev = next(e for e in h.dictionary["events"] if e["name"] == name)
        eid = ev["id"]
    return [p for p in h.tm if p.service == 5 and int.from_bytes(p.app_data[:2], "big") == eid]


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_class2_uplink_and_downlink_with_10pct_frame_loss_and_reordering(
    tmp_path: Path, seed: int
) -> None:
    h = _node()
    p = LossyPass(h, tmp_path, loss=0.10, seed=seed)
    rng = random.Random(seed)
    up = rng.randbytes(6000 + rng.randrange(4000))
    (tmp_path / "table.bin").write_bytes(up)
    p.files.put("table.bin", "tbl1", acknowledged=True)
    done = p.until_done(120)
    assert [(t.sending, t.condition, t.delivered) for t in done] == [(True, 0, True)]
    got = read_complete_file(h.hal.nv, "tbl1")
    assert got is not None and zlib.crc32(got) == zlib.crc32(up) and got == up
    assert _events(h, "files.CFDP_RECEIVED")
    # Downlink: a payload result on board comes to the ground, through the same loss.
    down = rng.randbytes(150_000 + rng.randrange(50_000))
    store = h.exe.app("files").instance.store
    store.create("result.bin")
    store.write_at("result.bin", 0, down)
    store.mark_complete("result.bin")
    p.files.get("result.bin", "result.bin", acknowledged=True)
    done = p.until_done(120)
    assert [(t.sending, t.condition, t.delivered) for t in done] == [(False, 0, True)]
    assert (tmp_path / "result.bin").read_bytes() == down
    assert p.frames_lost > 20  # the channel really lost frames
    assert _events(h, "files.CFDP_SENT")


def test_class1_over_a_clean_link(tmp_path: Path) -> None:
    h = _node()
    p = LossyPass(h, tmp_path, loss=0.0, seed=0)
    seq = b"# a sequence file\n" * 300
    (tmp_path / "s.txt").write_bytes(seq)
    p.files.put("s.txt", "seq7", acknowledged=False)
    done = p.until_done(30)
    assert [(t.sending, t.acknowledged, t.delivered) for t in done] == [(True, False, True)]
    p.run(2.0)
    assert read_complete_file(h.hal.nv, "seq7") == seq
    data = bytes(range(256)) * 200
    store = h.exe.app("files").instance.store
    store.create("log.txt")
    store.write_at("log.txt", 0, data)
    store.mark_complete("log.txt")
    p.files.get("log.txt", "log.txt", acknowledged=False)
    done = p.until_done(30)
    assert [(t.sending, t.delivered) for t in done] == [(False, True)]
    assert (tmp_path / "log.txt").read_bytes() == data


def test_a_transfer_cut_by_loss_of_signal_resumes_at_the_next_contact(tmp_path: Path) -> None:
    h = _node()
    p = LossyPass(h, tmp_path, loss=0.05, seed=3)
    data = random.Random(3).randbytes(150_000)
    store = h.exe.app("files").instance.store
    store.create("big.bin")
    store.write_at("big.bin", 0, data)
    store.mark_complete("big.bin")
    p.files.get("big.bin", "big.bin", acknowledged=True)
    node = h.exe.app("files").instance
    for _ in range(100):
        p.run(0.1)
        if node.cfdp.progress()[0]:
            break
    assert 0 < node.cfdp.progress()[0] < len(data)  # under way
    p.contact = False  # loss of signal: 2 minutes, past every ACK (4 x 10 s) and NAK limit
    p.run(120.0)
    assert not p.files.finished() and node.cfdp.sending  # nothing gave up
    p.contact = True
    done = p.until_done(120)
    assert [(t.condition, t.delivered) for t in done] == [(0, True)]
    assert (tmp_path / "big.bin").read_bytes() == data


def test_bad_pdus_get_a_pus1_failure_and_the_node_carries_on(tmp_path: Path) -> None:
    h = _node()
    rng = random.Random(5)
    for i in range(40):
        junk = rng.randbytes(rng.randrange(0, 60))
        rid = h.send_pus(23, 128, junk)
        assert h.failure_code(rid) == 7, i  # BAD_APP_DATA
    # A well-formed PDU between other entities is refused the same way.
    from spacepackets.cfdp import PduConfig, TransmissionMode
    from spacepackets.cfdp.pdu import PromptPdu
    from spacepackets.cfdp.pdu.prompt import ResponseRequired
    from spacepackets.util import ByteFieldU16

    conf = PduConfig(
        source_entity_id=ByteFieldU16(7),
        dest_entity_id=ByteFieldU16(9),
        transaction_seq_num=ByteFieldU16(1),
        trans_mode=TransmissionMode.ACKNOWLEDGED,
    )
    rid = h.send_pus(23, 128, PromptPdu(conf, ResponseRequired.NAK).pack())
    assert h.failure_code(rid) == 7
    h.run(1.0)
    stats = h.exe.app("files").stats
    assert stats.exceptions == 0 and stats.restarts == 0
    rid = h.send_pus(17, 1, b"")  # the build still answers
    h.await_completion(rid)
    assert h.exe.app("files").instance.cfdp.idle
