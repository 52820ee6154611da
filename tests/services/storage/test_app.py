import struct

from flightsw.framework.app import FailureCode
from flightsw.framework.tm_funnel import CH_REALTIME
from flightsw.packets import PusTm
from flightsw.runtime.executive import Executive
from flightsw.sil.harness import SilHarness


def test_realtime_tm_is_recorded_and_dumped_unchanged(sil: SilHarness) -> None:
    sil.run(30)
    recorded = list(sil.raw_tm)
    sil.send_and_assert_command("storage.start_dump")
    sil.run(5)
    # every packet sent before the dump command comes back, byte for byte, in order
    assert sil.playback[: len(recorded)] == recorded
    assert all(PusTm.decode(p) for p in sil.playback)
    assert any(p.service == 5 and p.app_data[:2] == b"\x06\x02" for p in sil.tm)  # COMPLETED


def test_status_report_and_disable_recording(sil: SilHarness) -> None:
    sil.send_and_assert_command("storage.disable_recording")
    n = sil.exe.app("storage").instance.store.packet_count  # type: ignore[attr-defined]
    sil.run(20)
    assert sil.exe.app("storage").instance.store.packet_count == n  # type: ignore[attr-defined]
    sil.send_and_assert_command("storage.report_store_status")
    stored, segs, _dumped, dropped, rec, dumping = struct.unpack(
        ">IHIIBB", sil.tm_of(15, 13)[-1].app_data
    )
    assert (stored, rec, dumping, dropped) == (n, 0, 0, 0) and segs >= 1
    rid = sil.send("storage.suspend_dump")
    assert sil.failure_code(rid) == FailureCode.INVALID_STATE


def test_dump_resumes_from_confirmed_position_after_a_restart(sil: SilHarness) -> None:
    sil.run(20)
    sil.send_and_assert_command("storage.start_dump")
    sil.run(3)
    sil.send_and_assert_command("storage.confirm_dump")
    confirmed = len(sil.playback)
    sil.run(20)
    # warm restart: a new executive on the same HAL (the non-volatile store survives)
    exe = Executive(sil.mission.executive, sil.mission.specs, sil.hal)
    replay: list[bytes] = []
    exe.tm.sinks.append(lambda p, ch: replay.append(p) if ch != CH_REALTIME else None)
    store = exe.app("storage").instance.store  # type: ignore[attr-defined]
    everything = store.packets()
    assert everything[:confirmed] == sil.playback[:confirmed]
    sil2 = sil
    sil2.exe = exe
    exe.submit_tc(sil.encoder.encode("storage.start_dump"))
    exe.run_for(10)
    # the dump after restart starts right after the confirmed packets: nothing lost
    assert replay[: len(everything) - confirmed] == everything[confirmed:]


def test_recovery_counters_reach_telemetry_once() -> None:
    """A bad record found at open is reported, and not again after the next reboot."""
    from flightsw.runtime.mission import load_mission

    m = load_mission()
    m.hal = {**m.hal, "spacecraft": {"boards": 8}}
    sil = SilHarness(m)
    sil.run(5)
    nv = sil.hal.nv
    store = sil.exe.app("storage").instance.store  # type: ignore[attr-defined]
    seg = store._seg(store.segments[0])
    nv.files[seg][40] ^= 0x01  # bit rot inside the first record
    nv.files[seg] += b"\xc0\x01\x02"  # and a torn write at the end
    counts = []
    for _ in range(2):  # two reboots on the same medium
        exe = Executive(sil.mission.executive, sil.mission.specs, sil.hal)
        exe.run_for(2)
        tlm = exe.app("storage").instance.tlm
        counts.append((tlm["corrupt_records"], tlm["torn_bytes"]))
    assert counts == [(1, 3), (0, 0)]


def test_a_dump_interrupted_by_a_restart_of_the_service_goes_on(sil: SilHarness) -> None:
    """An exception in the storage service mid-dump: the fresh instance carries on from
    the last packet it sent (nothing lost, nothing twice) instead of waiting for the
    next contact or TC, and the dump counter is not reset."""
    sil.run(60)
    everything = sil.exe.app("storage").instance.store.packets()  # type: ignore[attr-defined]
    sil.exe.params.set("storage", "dump_per_step", 2)
    sil.send_and_assert_command("storage.start_dump")
    sil.run(0.5)
    storage = sil.exe.app("storage")
    sent = len(sil.playback)
    assert 0 < sent < len(everything)

    def broken(now_ns: int) -> None:
        raise RuntimeError("a bug in storage")

    storage.instance.step = broken  # type: ignore[method-assign]
    sil.run(0.1)
    assert storage.stats.restarts == 1 and not storage.stats.disabled
    sil.run(len(everything) / 20 + 2)
    assert sil.playback[: len(everything)] == everything
    assert storage.instance.tlm["dumped"] >= len(everything)
