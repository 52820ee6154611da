"""Skipping idle steps (``App.nothing_due``, ``App.next_due_ns``): the executive asks an app
whether (or until when) its step would change nothing and skips it when not; skipping must
change no TM byte.

The truth is the same node run twice, once skipping and once running every slot: the
TM (bytes) and what the recorder app saw must be equal, whatever the ground commands.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from flightsw.framework import msgids
from flightsw.framework.app import App, command
from flightsw.services.scheduling.app import INSERT
from hal.interfaces import RadioStatus
from tests.support.apps import spec
from tests.support.light_node import FRAME_NS, LightNode

SKIPPING_SERVICES = ("time", "event_action", "scheduler", "sequencer", "storage", "housekeeping")


class SleepyApp(App):
    """Idle unless ``due`` is set; counts the steps it really ran."""

    DEFAULT_RATE_HZ = 10.0

    def init(self) -> None:
        self.due = False
        self.steps = 0
        self.raise_in_check = False

    def nothing_due(self, now_ns: int) -> bool:
        if self.raise_in_check:
            raise RuntimeError("nothing_due broken")
        return not self.due

    def step(self, now_ns: int) -> None:
        self.steps += 1
        self.due = False

    @command(function_id=1)
    def cmd_poke(self) -> None:
        """A command: the step after it must run even though the app says nothing is due."""


def _node_with(app: type[App]) -> LightNode:
    return LightNode(extra=[spec(app, "sleepy", id_base=0x3000, rate_hz=10.0)])


def test_an_idle_app_is_skipped_but_its_slots_are_counted() -> None:
    n = _node_with(SleepyApp)
    sleepy = n.exe.app("sleepy")
    n.frames(20)
    assert sleepy.instance.steps == 0  # type: ignore[attr-defined]
    assert sleepy.stats.runs == 20  # every slot served (the summary's runs do not change)
    sleepy.instance.due = True  # type: ignore[attr-defined]
    n.frames(1)
    assert sleepy.instance.steps == 1  # type: ignore[attr-defined]
    n.frames(5)
    assert sleepy.instance.steps == 1  # type: ignore[attr-defined]


def test_a_waiting_command_runs_the_step_even_when_the_app_says_nothing_is_due() -> None:
    n = _node_with(SleepyApp)
    sleepy = n.exe.app("sleepy")
    n.frames(3)
    n.exe.submit_tc(n.encoder.encode("sleepy.poke"))
    n.frames(2)
    assert sleepy.stats.commands == 1
    assert sleepy.instance.steps == 1  # type: ignore[attr-defined]


def test_a_due_test_that_raises_runs_the_step_and_never_stops_the_executive() -> None:
    n = _node_with(SleepyApp)
    sleepy = n.exe.app("sleepy")
    sleepy.instance.raise_in_check = True  # type: ignore[attr-defined]
    n.frames(4)
    assert sleepy.instance.steps == 4  # type: ignore[attr-defined]
    assert sleepy.stats.exceptions == 0


def test_the_core_services_say_when_nothing_is_due() -> None:
    n = LightNode()
    assert {a.spec.name for a in n.exe.apps if a.may_skip} >= set(SKIPPING_SERVICES)


@dataclass
class _SafeMode:
    active: bool


def _drive(seed: int, skip: bool, frames: int) -> tuple[list[bytes], list[tuple[int, int]]]:
    """The light node under a seeded stream of ground commands and bus messages."""
    n = LightNode()
    n.exe.skip_idle_steps = skip
    raw: list[bytes] = []
    n.exe.tm.sinks.append(lambda pkt, _ch: raw.append(pkt))
    rng = random.Random(seed)
    sids = [h["sid"] for h in n.dictionary["housekeeping"]]
    index = {a.spec.name: a.index for a in n.exe.apps}
    tag = 0

    def ground(kind: int) -> None:
        nonlocal tag
        enc = n.encoder.encode
        if kind == 0:  # a time-tagged TC some frames ahead (or in the past)
            tag += 1
            at = n.exe.now_ns + rng.randrange(-5, 60) * FRAME_NS + rng.randrange(FRAME_NS)
            body = INSERT.build({"activities": [{"release_time": max(at, 0), "tc": n.mark(tag)}]})
            n.exe.submit_tc(enc("scheduler.insert", app_data=body))
        elif kind == 1:
            n.exe.submit_tc(enc("housekeeping.report_hk_once", {"sids": [rng.choice(sids)]}))
        elif kind == 2:
            name = rng.choice(("housekeeping.disable_hk", "housekeeping.enable_hk"))
            n.exe.submit_tc(enc(name, {"sids": rng.sample(sids, 2)}))
        elif kind == 3:
            ms = rng.choice((100, 300, 1000, 2500))
            change = {"sid": rng.choice(sids), "interval_ms": ms}
            n.exe.submit_tc(enc("housekeeping.set_hk_interval", {"changes": [change]}))
        elif kind == 4:
            n.exe.submit_tc(enc("time.set_time_rate", {"exponent": rng.randrange(0, 4)}))
        elif kind == 5:
            name = rng.choice(("storage.start_dump", "storage.suspend_dump"))
            n.exe.submit_tc(enc(name))
        elif kind == 6:
            n.exe.submit_tc(enc("storage.report_store_status"))
        elif kind == 7:
            app = rng.choice(SKIPPING_SERVICES)
            n.exe.submit_tc(enc("executive.restart_app", {"app": index[app]}))
        elif kind == 8:
            n.exe.bus.publish(msgids.SAFE_MODE, _SafeMode(rng.random() < 0.5))
        elif kind == 9:
            n.exe.bus.publish(msgids.LINK_CONTACT, rng.random() < 0.5)
        elif kind == 10:
            name = rng.choice(("scheduler.disable_release", "scheduler.enable_release"))
            n.exe.submit_tc(enc(name) if rng.random() < 0.5 else n.mark(999))
        elif kind == 11:  # a parameter set (wakes every sleeping app; see test_executive_wakes)
            app, name, value = rng.choice(
                (
                    ("time", "rate_exponent", rng.randrange(0, 3)),
                    ("housekeeping", "safe_mode_factor", rng.randrange(1, 4)),
                )
            )
            n.exe.app(app).ctx.params.set(name, value)

    for _ in range(frames):
        if rng.random() < 0.15:
            ground(rng.randrange(12))
        n.frames(1)
    return raw, list(n.ran)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_skipping_idle_steps_changes_no_tm_byte(seed: int) -> None:
    skipped = _drive(seed, True, 400)
    every_slot = _drive(seed, False, 400)
    assert skipped[0] == every_slot[0]
    assert skipped[1] == every_slot[1]
    assert len(skipped[0]) > 50


class _SwitchedRadio:
    """A radio whose contact the test switches (files reads only its status)."""

    def __init__(self) -> None:
        self.contact = False

    def status(self) -> RadioStatus:
        return RadioStatus(self.contact, 2e6, 64e3, 0, 0)


def _drive_files(seed: int, skip: bool, frames: int) -> list[bytes]:
    """Files on the light node: contacts come and go, files are made and sent down by
    CFDP (class 1 and 2: the unanswered class 2 keeps its timers on link time)."""
    rng = random.Random(seed)
    bps = rng.choice((8e3, 64e3, 1e6))  # slow shares make the budget's clock matter
    n = LightNode({"files": {"cfdp_downlink_bps": bps}})
    n.exe.skip_idle_steps = skip
    radio = _SwitchedRadio()
    files = n.exe.app("files").instance
    files.radio = radio  # type: ignore[attr-defined]
    raw: list[bytes] = []
    n.exe.tm.sinks.append(lambda pkt, _ch: raw.append(pkt))
    enc = n.encoder.encode
    made = 0
    for _ in range(frames):
        r = rng.random()
        if r < 0.03:
            radio.contact = not radio.contact
            if radio.contact and made and rng.random() < 0.5:  # a request as contact starts
                name = f"f{rng.randrange(1, made + 1)}"
                down = {"name": name, "dest": "again", "acknowledged": 0}
                n.exe.submit_tc(enc("files.downlink_file", down))
        elif r < 0.05:
            made += 1
            name = f"f{made}"
            content = rng.randbytes(rng.randrange(1, 3000))
            args = {"name": name, "size": len(content), "crc": zlib.crc32(content)}
            n.exe.submit_tc(enc("files.create_file", args))
            n.exe.submit_tc(enc("files.write_file", {"name": name, "offset": 0, "chunk": content}))
            ack = int(rng.random() < 0.5)
            down = {"name": name, "dest": f"g{made}", "acknowledged": ack}
            n.exe.submit_tc(enc("files.downlink_file", down))
        elif r < 0.06:
            n.exe.submit_tc(enc("executive.restart_app", {"app": n.exe.app("files").index}))
            n.frames(1)
            n.exe.app("files").instance.radio = radio  # type: ignore[attr-defined]
            continue
        n.frames(1)
    return raw


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_skipping_idle_file_steps_changes_no_tm_byte(seed: int) -> None:
    skipped = _drive_files(seed, True, 500)
    assert skipped == _drive_files(seed, False, 500)
    assert any(p[7:9] == bytes([23, 129]) for p in skipped)  # CFDP PDUs went down
