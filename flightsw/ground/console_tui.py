"""The ground console full screen (``flightsw ground --udp HOST:PORT --tui``).

Panes, refreshed as TM arrives: the real-time values (name, value, unit, limit state,
time), the real-time events with severity, the command history with each command's PUS-1
stages, and, apart, what the packet store played back (marked PLAYBACK: its packet
count, values and events). A command line at the bottom sends ``name key=value ...`` with
completion (Tab) of command and argument names from the dictionary; a bad command is
refused there with its reason, nothing sent. Ctrl-C or Ctrl-Q leaves.

At start the console asks the spacecraft for its PUS-12 monitoring definitions
(``monitoring.report_monitoring_definitions``) so values get their limit state.

prompt_toolkit (the ``console`` extra) draws it; the line mode (the same console without
``--tui``) needs nothing more and works in a pipe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from prompt_toolkit.application import Application
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import FormattedTextControl, HSplit, Layout, VSplit, Window
from prompt_toolkit.widgets import Frame, TextArea

from flightsw.base.errors import FlightswError
from flightsw.ground.console import GroundConsole
from flightsw.ground.console_model import ConsoleModel

LIMITS_REQUEST = "monitoring.report_monitoring_definitions pmon_ids=[]"


class DictionaryCompleter(Completer):
    """Command names, then the command's argument names, from the dictionary."""

    def __init__(self, model: ConsoleModel) -> None:
        self.model = model

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        last = text.split(" ")[-1]
        for c in self.model.complete(text):
            yield Completion(c, start_position=-len(last))


def _tail(lines: Iterable[str], n: int = 200) -> str:
    return "\n".join(deque(lines, maxlen=n))


def build_app(console: GroundConsole, log: deque[str], refresh_s: float = 0.2) -> Application[int]:
    """The full-screen application over ``console`` (whose output lines go to ``log``)."""
    model = console.model
    status = ["Tab completes; Enter sends; Ctrl-Q quits"]

    def values() -> str:
        return "\n".join(model.value_rows()) or "(no housekeeping yet)"

    def events() -> str:
        return "\n".join(reversed(model.live.events)) or "(no events yet)"

    def commands() -> str:
        return _tail(model.command_rows(), 50) or "(no commands sent)"

    def playback() -> str:
        head = f"PLAYBACK packets: {model.playback_packets}"
        rows = [f"PLAYBACK {r}" for r in model.value_rows(playback=True)]
        rows += [f"PLAYBACK {e}" for e in reversed(model.playback.events)]
        return "\n".join([head, *rows])

    def pane(title: str, text: object, **kw: object) -> Frame:
        return Frame(Window(FormattedTextControl(text), wrap_lines=False), title=title, **kw)  # type: ignore[arg-type]

    entry = TextArea(
        height=1,
        prompt="> ",
        multiline=False,
        completer=DictionaryCompleter(model),
        complete_while_typing=False,  # Tab completes (a menu while typing hides the panes)
    )

    def accept(buffer: object) -> bool:
        text = entry.text.strip()
        if text:
            try:
                console.send(text)
                status[0] = f"sent: {text}"
            except FlightswError as exc:
                status[0] = f"not sent: {exc}"
        return False  # clear the line

    entry.accept_handler = accept
    keys = KeyBindings()

    @keys.add("tab")
    def _complete(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state:
            buffer.complete_next()
        else:
            buffer.start_completion(insert_common_part=True)

    @keys.add("c-c")
    @keys.add("c-q")
    def _quit(event: KeyPressEvent) -> None:
        event.app.exit(result=0)

    root = HSplit(
        [
            VSplit([pane("Values (real time)", values), pane("Events (real time)", events)]),
            VSplit([pane("Commands: PUS-1 stages", commands), pane("Packet store", playback)]),
            Frame(Window(FormattedTextControl(lambda: _tail(log, 3)), height=3), title="Log"),
            Window(FormattedTextControl(lambda: status[0]), height=1),
            entry,
        ]
    )
    app: Application[int] = Application(
        layout=Layout(root, focused_element=entry),
        key_bindings=keys,
        full_screen=True,
        refresh_interval=refresh_s,
    )

    async def pump() -> None:
        while True:
            console.poll(0.0)
            app.invalidate()
            await asyncio.sleep(refresh_s)

    def start() -> None:
        app.create_background_task(pump())

    app.pre_run_callables.append(start)
    return app


def run_tui(console: GroundConsole, log: deque[str], request_limits: bool = True) -> int:
    """Run the full-screen view until the user quits; returns the exit status."""
    if request_limits:
        console.send(LIMITS_REQUEST)
    result = build_app(console, log).run()
    return int(result or 0)
