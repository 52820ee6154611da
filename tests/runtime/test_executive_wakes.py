"""Wake times (``App.next_due_ns``): an app says when its next step can change anything;
the executive serves its slots before that time with one comparison each, and wakes it
early for what can change it from outside: a command, a message on a pipe it listens to,
a parameter set, a restart. Each of those is tried here mid-sleep, with the slots the
app really ran checked against the ones it had to run.

(Byte-for-byte equality of the services' TM, sleeping or running every slot, is in
``test_executive_skips``: the core services give wake times.)
"""

from __future__ import annotations

from flightsw.framework import msgids
from flightsw.framework.app import WAKE_NEVER, App, Arg, ParameterDef, command
from flightsw.framework.ports import Subscribe
from tests.support.apps import spec
from tests.support.light_node import FRAME_NS, LightNode


class WakeApp(App):
    """Sleeps until ``wake_at`` (set by command), woken early by a contact message;
    records the times its step really ran and how often it was asked."""

    DEFAULT_RATE_HZ = 10.0
    SUBSCRIBES = (Subscribe(msgids.LINK_CONTACT, bool),)
    PARAMETERS = (ParameterDef(1, "gain", "u8", 1, 0, 9),)

    def init(self) -> None:
        self.wake_at = WAKE_NEVER
        self.ran: list[int] = []
        self.asked = 0
        self.broken = False
        self.contact = self.listen(msgids.LINK_CONTACT)

    def next_due_ns(self, now_ns: int) -> int:
        self.asked += 1
        if self.broken:
            raise RuntimeError("next_due_ns broken")
        return now_ns if self.contact.queue else self.wake_at

    def step(self, now_ns: int) -> None:
        self.ran.append(now_ns)
        for _ in self.contact.drain():
            pass
        if now_ns >= self.wake_at:
            self.wake_at = WAKE_NEVER

    @command(function_id=1, args=(Arg("frames", "u16"),))
    def cmd_sleep(self, frames: int) -> None:
        """Run again ``frames`` frames from now."""
        self.wake_at = self.ctx.clock.now_ns() + frames * FRAME_NS


def _node() -> LightNode:
    return LightNode(extra=[spec(WakeApp, "wake", id_base=0x3000, rate_hz=10.0)])


def _wake(n: LightNode) -> WakeApp:
    app = n.exe.app("wake").instance
    assert isinstance(app, WakeApp)
    return app


def test_an_app_sleeps_until_its_wake_time_and_every_slot_is_counted() -> None:
    n = _node()
    a = n.exe.app("wake")
    n.frames(3)
    assert _wake(n).ran == [] and _wake(n).asked == 1  # asked once, then asleep
    n.exe.submit_tc(n.encoder.encode("wake.sleep", {"frames": 5}))
    n.frames(1)  # the command wakes it: the step runs in the command's frame
    t0 = n.exe.now_ns - FRAME_NS
    assert _wake(n).ran == [t0]
    n.frames(10)
    assert _wake(n).ran == [t0, t0 + 5 * FRAME_NS]  # exactly at its wake time, not before
    assert a.stats.runs == 14  # every slot served, run or skipped
    assert _wake(n).asked <= 4  # the slots in between cost no call


def test_a_message_on_a_listened_pipe_wakes_a_sleeping_app() -> None:
    n = _node()
    n.frames(4)
    n.exe.bus.publish(msgids.LINK_CONTACT, True)
    n.frames(1)
    assert _wake(n).ran == [n.exe.now_ns - FRAME_NS]
    n.frames(5)
    assert len(_wake(n).ran) == 1


def test_a_command_for_a_sleeping_app_runs_in_the_next_frame() -> None:
    n = _node()
    n.exe.submit_tc(n.encoder.encode("wake.sleep", {"frames": 1000}))
    n.frames(3)
    assert len(_wake(n).ran) == 1
    n.exe.submit_tc(n.encoder.encode("wake.sleep", {"frames": 2}))  # mid-sleep
    n.frames(1)
    t = n.exe.now_ns - FRAME_NS
    n.frames(4)
    assert _wake(n).ran[1:] == [t, t + 2 * FRAME_NS]


def test_a_parameter_set_or_a_restart_makes_the_executive_ask_again() -> None:
    n = _node()
    n.frames(3)
    asked = _wake(n).asked
    n.exe.app("time").ctx.params.set("rate_exponent", 2)  # any app's parameter
    n.frames(3)
    assert _wake(n).asked == asked + 1
    n.exe.restart_app(n.exe.app("wake"))
    n.frames(3)
    assert _wake(n).asked == 1  # the fresh instance was asked, and only once


def test_a_wake_time_that_raises_runs_the_step_and_never_stops_the_executive() -> None:
    n = _node()
    _wake(n).broken = True
    n.frames(4)
    assert len(_wake(n).ran) == 4
    assert n.exe.app("wake").stats.exceptions == 0


def test_a_disabled_app_is_not_served_while_asleep() -> None:
    n = _node()
    a = n.exe.app("wake")
    n.frames(2)
    runs = a.stats.runs
    n.exe.disable_app(a)
    n.frames(5)
    assert a.stats.runs == runs
    assert n.exe.enable_app(a)
    n.frames(2)
    assert a.stats.runs == runs + 2
