"""Link security of the comms service in SIL: anti-replay across resets, ARSN recovery,
published keys, authenticated TM. The ground is a GroundStation on the simulated RF link;
what counts is what reached the dispatcher (the flight software's input), not what the
link layer believes it did."""

from __future__ import annotations

from pathlib import Path

import pytest

from flightsw.ground.sdls_state_file import GroundStateError, GroundStateFile
from flightsw.ground.station import GroundStation
from flightsw.link.fop import Directive, FopState
from flightsw.link.sdls_config import link_security
from flightsw.packets import PusTc, PusTm
from flightsw.runtime.executive import AppLoadError
from flightsw.runtime.mission import load_mission
from flightsw.services.comms.app import link_config
from flightsw.sil.harness import SilHarness
from tests.support.ground_link import exchange

COMMS = 0x1F00


def _node(**comms_options: object) -> SilHarness:
    m = load_mission()
    m.hal = {**m.hal, "radio": {"always_in_contact": True, "ber_up": 0.0, "ber_down": 0.0}}
    m.hal["spacecraft"] = {"boards": 8}
    comms = next(s for s in m.apps if s.name == "comms")
    comms.options.update(comms_options)
    return SilHarness(m)


def _ground(h: SilHarness, state: GroundStateFile | None = None) -> GroundStation:
    gs = GroundStation.for_mission(h.mission, state)
    assert gs is not None
    gs.initiate()
    return gs


def _pings(h: SilHarness, gs: GroundStation, n: int, bypass: bool = False) -> None:
    for i in range(n):
        tc = PusTc(h.mission.executive.apid, 17, 1, seq_count=i).encode()
        (gs.send_bypass if bypass else gs.send_packet)(tc)


def _resync_fop(h: SilHarness, gs: GroundStation) -> None:
    """What a ground operator does after the spacecraft's FARM restarted: Set V(R)."""
    gs.fop.directive(Directive.TERMINATE_AD)
    gs.fop.directive(Directive.INITIATE_AD_WITH_SET_VR, 0)
    for _ in range(10):
        exchange(h, gs, 1.0)
        if gs.fop.state is FopState.ACTIVE:
            return
    raise AssertionError("FOP-1 did not become active")


def _events(h: SilHarness, local_id: int, subservice: int) -> list[PusTm]:
    eid = (COMMS + local_id).to_bytes(2, "big")
    return [p for p in h.tm_of(5, subservice) if p.app_data[:2] == eid]


def _sdls_counters(h: SilHarness) -> dict[str, int]:
    sdls = h.exe.app("comms").instance.uplink.sdls
    assert sdls is not None
    return sdls.counters


@pytest.mark.parametrize("reset", ["watchdog", "command"])
def test_recorded_frames_replayed_after_a_reset_are_all_refused(reset: str) -> None:
    h = _node()
    gs = _ground(h)
    recorded: list[bytes] = []
    _pings(h, gs, 20)
    for _ in range(20):
        exchange(h, gs, 1.0, recorded)
        if gs.outstanding == 0:
            break
    exchange(h, gs, 2.0, recorded)  # copies FOP sent before the acknowledgement land too
    assert h.exe.dispatcher.accepted == 20 and gs.outstanding == 0
    if reset == "watchdog":
        assert h.hang(10.0)  # no kicks: the watchdog resets the computer
    else:
        h.reboot("command")
    assert h.exe.dispatcher.received == 0  # a fresh executive
    link = h.hal.harness["ground_link"]
    for cltu in recorded:  # an attacker replays everything it recorded
        link.send(cltu)
    exchange(h, None, 3.0)
    assert h.exe.dispatcher.received == 0
    assert _sdls_counters(h)["replay"] == len(recorded) >= 20
    assert _events(h, 20, 1), "SDLS_STATE_RESTORED reported at boot"
    _resync_fop(h, gs)  # the genuine ground carries on above what it sent before
    _pings(h, gs, 5)
    tm = exchange(h, gs, 5.0)
    assert h.exe.dispatcher.accepted == 5
    assert len([p for p in tm if (p.service, p.subservice) == (17, 2)]) == 5


def test_a_far_ahead_arsn_no_longer_closes_the_uplink_for_good() -> None:
    h = _node()
    gs = _ground(h)
    recorded: list[bytes] = []
    _pings(h, gs, 3)
    exchange(h, gs, 4.0, recorded)
    rogue = _ground(h)  # a ground tool with the key but not the counter: far ahead
    assert rogue.sdls is not None
    rogue.sdls.skip_send_to(1, 2**32 - 3)
    _pings(h, rogue, 1, bypass=True)
    exchange(h, rogue, 3.0)
    assert h.exe.dispatcher.accepted == 4
    assert h.exe.app("comms").instance.tlm["sdls_arsn"] == 2**32 - 2
    _pings(h, gs, 2, bypass=True)
    exchange(h, gs, 3.0)
    assert h.exe.dispatcher.accepted == 4  # refused as replays: the uplink is closed ...
    assert h.hang(10.0)
    _pings(h, gs, 1, bypass=True)
    exchange(h, gs, 3.0)
    assert h.exe.dispatcher.received == 0  # ... and stays closed across a reset
    value = gs.set_arsn()  # the ground's own counter: above all it ever sent
    _resync_fop(h, gs)
    _pings(h, gs, 4)
    exchange(h, gs, 6.0)
    assert h.exe.dispatcher.accepted == 4
    assert h.exe.app("comms").instance.tlm["sdls_arsn"] > value
    assert _events(h, 19, 3), "SDLS_KEY_COMMAND reported"
    link = h.hal.harness["ground_link"]
    for cltu in recorded:
        link.send(cltu)
    exchange(h, None, 2.0)
    assert h.exe.dispatcher.accepted == 4  # nothing the ground sent before came back


def test_a_second_ground_session_carries_on(tmp_path: Path) -> None:
    h = _node()
    for session in range(3):
        state = GroundStateFile(tmp_path / "ground-sdls.json")
        gs = _ground(h, state)
        if session:
            _resync_fop(h, gs)
        _pings(h, gs, 5)
        exchange(h, gs, 5.0)
        gs.close()
        state.close()
        assert h.exe.dispatcher.accepted == 5 * (session + 1)
    assert _sdls_counters(h)["replay"] == 0


def test_a_ground_that_lost_its_state_file_keeps_key_management(tmp_path: Path) -> None:
    """The README's recovery for a lost state file (--skip-arsn with what the spacecraft
    reports) must bring back key management too: a key-management SA's ARSN cannot be
    set, so a ground restarting it at 1 would have every Set ARSN refused as a replay."""
    h = _node()
    state = GroundStateFile(tmp_path / "lost.json")
    gs = _ground(h, state)
    _pings(h, gs, 3)
    exchange(h, gs, 3.0)
    gs.set_arsn()  # key management used once: its SA's ARSN is above 0 on board
    exchange(h, gs, 2.0)
    gs.close()
    state.close()
    (tmp_path / "lost.json").unlink()
    state = GroundStateFile(tmp_path / "new.json")
    gs = _ground(h, state)
    comms = h.exe.app("comms").instance
    assert comms.tlm["sdls_km_arsn"] >= 1
    gs.skip_arsn(max(comms.tlm["sdls_arsn"], comms.tlm["sdls_km_arsn"]))
    _resync_fop(h, gs)
    commands = _sdls_counters(h)["key_commands"]
    gs.set_arsn()
    _pings(h, gs, 2)
    exchange(h, gs, 4.0)
    assert _sdls_counters(h)["key_commands"] == commands + 1  # applied, not a replay
    assert _sdls_counters(h)["replay"] == 0
    assert h.exe.dispatcher.accepted == 5


def test_two_ground_sessions_cannot_share_a_state_file(tmp_path: Path) -> None:
    first = GroundStateFile(tmp_path / "g.json")
    with pytest.raises(GroundStateError, match="in use"):
        GroundStateFile(tmp_path / "g.json")
    first.close()
    GroundStateFile(tmp_path / "g.json").close()


def test_published_keys_and_no_sdls_are_reported_at_start() -> None:
    h = _node()
    h.run(1.0)
    (event,) = _events(h, 16, 3)
    assert event.app_data[2] == 4  # TC, key management, TM and master key
    off = _node(sdls="none")
    off.run(1.0)
    assert _events(off, 17, 3) and not _events(off, 16, 3)
    assert off.exe.app("comms").instance.uplink.sdls is None


def test_a_published_key_does_not_go_on_a_real_radio_unless_allowed() -> None:
    m = load_mission()
    m.hal = {**m.hal, "radio": {"kind": "udp", "bind": "127.0.0.1:0"}, "spacecraft": {"boards": 8}}
    # An app that cannot start is a load error: the build does not run at all.
    with pytest.raises(AppLoadError, match="published test key"):
        SilHarness(m)


def test_unreadable_sdls_state_is_reported_high() -> None:
    h = _node()
    gs = _ground(h)
    _pings(h, gs, 1)
    exchange(h, gs, 2.0)
    _lose_sdls_state(h, "corrupt")
    h.reboot("command")
    h.run(1.0)
    (event,) = _events(h, 18, 4)
    assert event.app_data[2] == 1  # the TC function


def test_telemetry_under_the_wrong_tm_key_is_refused_and_counted() -> None:
    h = _node()
    opts = next(s.options for s in h.mission.apps if s.name == "comms")
    sec = link_security(opts)
    assert sec.tm is not None
    wrong = GroundStation(link_config(opts), sec.tc, km=sec.km, tm=sec.tc)  # TC key, TM SPI 1
    wrong.initiate()
    right = _ground(h)
    link = h.hal.harness["ground_link"]
    got_wrong = got_right = 0
    for _ in range(30):
        h.exe.run_minor_frame()
        for chunk in link.receive():
            got_wrong += len(wrong.receive(chunk))
            got_right += len(right.receive(chunk))
    assert got_wrong == 0 and wrong.extractor.frames_unauthenticated > 0
    assert got_right > 0 and right.extractor.frames_unauthenticated == 0
    comms = h.exe.app("comms").instance
    assert right.tm_sdls is not None and comms.tm_sdls is not None
    assert comms.tm_sdls.arsn_sent(3) == comms.downlink.frames_sent  # every frame, idle too
    assert right.tm_sdls.arsn_received(3) == right.extractor.frames  # (one may be in flight)


def test_with_an_nv_directory_a_new_process_still_refuses_old_frames(tmp_path: Path) -> None:
    def node() -> SilHarness:
        m = load_mission()
        m.hal = {
            **m.hal,
            "radio": {"always_in_contact": True, "ber_up": 0.0, "ber_down": 0.0},
            "spacecraft": {"boards": 8},
            "nv_dir": str(tmp_path / "nv"),
        }
        return SilHarness(m)

    h = node()
    gs = _ground(h)
    recorded: list[bytes] = []
    _pings(h, gs, 3, bypass=True)
    exchange(h, gs, 4.0, recorded)
    assert h.exe.dispatcher.accepted == 3
    fresh = node()  # another process: nothing shared but the directory
    link = fresh.hal.harness["ground_link"]
    for cltu in recorded:
        link.send(cltu)
    exchange(fresh, None, 3.0)
    assert fresh.exe.dispatcher.received == 0
    assert _sdls_counters(fresh)["replay"] == len(recorded) == 3


def _lose_sdls_state(h: SilHarness, how: str) -> None:
    """What radiation or a bad write can leave of the voted TC state: three bad copies,
    or (``how == "deleted"``) no copy at all."""
    nv = h.hal.nv
    assert nv is not None
    for i in range(3):
        if how == "deleted":
            nv.delete(f"sdls_tc.{i}")
        else:
            nv.write(f"sdls_tc.{i}", bytes([0x5A + i]) * 40)


@pytest.mark.parametrize("how", ["corrupt", "deleted"])
def test_lost_state_refuses_every_recorded_frame_until_the_ground_resyncs(how: str) -> None:
    """The state that lets a reset refuse recorded frames is itself lost: the uplink must
    fail closed (no recorded frame reaches the dispatcher), and the genuine ground must get
    back in by answering the challenge, while recorded frames stay refused after."""
    h = _node()
    gs = _ground(h)
    if how == "deleted":  # a flight build whose state must exist: its first start is
        # locked too, and the ground's first act is the resync (that is the provisioning)
        comms = next(s for s in h.mission.specs if s.name == "comms")
        comms.options["sdls"] = {**comms.options["sdls"], "require_state": True}
        h.reboot("command")
        exchange(h, gs, 1.0)
        gs.resync(h.exe.app("comms").instance.tlm["sdls_challenge"])
        exchange(h, gs, 1.0)
        _resync_fop(h, gs)
    recorded: list[bytes] = []
    _pings(h, gs, 10)
    exchange(h, gs, 10.0, recorded)
    assert h.exe.dispatcher.accepted == 10
    recorded_km: list[bytes] = []
    gs.set_arsn()
    exchange(h, gs, 2.0, recorded_km)  # a key command an attacker recorded too
    _lose_sdls_state(h, how)
    h.reboot("watchdog")
    link = h.hal.harness["ground_link"]
    for cltu in recorded + recorded_km:
        link.send(cltu)
    exchange(h, None, 3.0)
    assert h.exe.dispatcher.received == 0
    assert _sdls_counters(h)["locked"] >= 10
    locked = _events(h, 21, 4)
    assert len(locked) == (2 if how == "deleted" else 1), "SDLS_LOCKED reported at each lock"
    challenges = [int.from_bytes(e.app_data[2:10], "big") for e in locked]
    assert len(set(challenges)) == len(challenges)  # each lock draws its own
    challenge = challenges[-1]
    comms = h.exe.app("comms").instance
    assert comms.tlm["sdls_locked"] == 1 and comms.tlm["sdls_challenge"] == challenge
    gs.resync(challenge)
    _resync_fop(h, gs)
    _pings(h, gs, 3)
    exchange(h, gs, 5.0)
    assert h.exe.dispatcher.accepted == 3 and comms.tlm["sdls_locked"] == 0
    for cltu in recorded + recorded_km:
        link.send(cltu)
    exchange(h, None, 3.0)
    assert h.exe.dispatcher.accepted == 3  # nothing recorded before came back
    h.reboot("command")  # the resync was saved: the next start is not locked
    assert not h.exe.app("comms").instance.uplink.sdls.locked


def test_without_provisioning_a_deleted_state_is_a_first_start() -> None:
    """The default (``require_state = false``): absent state cannot be told from a first
    start, so it is reported as fresh; corrupt state still locks. README says which."""
    h = _node()
    _lose_sdls_state(h, "deleted")
    h.reboot("command")
    sdls = h.exe.app("comms").instance.uplink.sdls
    assert sdls.state_status == "fresh" and not sdls.locked
