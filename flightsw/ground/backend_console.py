"""The ground console's line mode over a procedure backend: commands by name, the TM that
reached the ground through the console model, simulated time advanced on request.

:class:`flightsw.ground.console.GroundConsole` talks UDP to a live build, whose clock
runs on its own. A simulated build (one node of an in-process cluster SIL,
:class:`flightsw.sil.cluster_procedure.ClusterBackend`, or any
:class:`flightsw.ground.procedure.Backend`) runs only when the ground lets it: here it
runs ``listen_s`` of simulated time after each command, and as long as a ``wait
SECONDS`` (or ``run SECONDS``) line asks, so a session piped in is the same session
byte for byte on any host.

Lines: ``name key=value ...`` sends a command (parsed and encoded as the UDP console
does, with its PUS source id, so the PUS-1 reports addressed to it are put to the
command); ``wait S`` / ``run S`` lets S seconds pass; ``values`` prints the named values
with units and limit state; ``history`` prints the commands with their PUS-1 stages.
What comes down is printed as the console model words it (``HK``, ``VERIFY``,
``EVENT``, ``TM(s,ss)``). A bad line is reported with its number and the session goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flightsw.base.errors import FlightswError
from flightsw.ground.console import CONSOLE_SOURCE_ID, parse_command
from flightsw.ground.console_model import ConsoleModel
from flightsw.ground.procedure import Backend
from flightsw.packets import tc_request_id_from_bytes

MAX_WAIT_S = 86_400.0  # one ``wait`` line lets at most a day pass
MAX_STEPS = 10_000_000  # steps of one ``wait``, whatever the backend's step is
WAIT_WORDS = ("wait", "run")


class BackendConsole:
    """Line-mode console over ``backend``; see the module docstring."""

    def __init__(
        self,
        backend: Backend,
        out: Callable[[str], None] = print,
        listen_s: float = 5.0,
        source_id: int = CONSOLE_SOURCE_ID,
    ) -> None:
        self.backend = backend
        self.out = out
        self.listen_s = listen_s
        self.source_id = source_id
        self.model = ConsoleModel(backend.dictionary, source_id=source_id)
        self.tm_packets = 0

    def send(self, text: str) -> int:
        """One command (``name key=value ...``) on its way; returns its request id."""
        name, args = parse_command(text)
        raw = self.backend.encoder.encode(name, args or None, source_id=self.source_id)
        rid = tc_request_id_from_bytes(raw)
        self.model.sent(rid, name)
        self.backend.send(raw)
        return rid

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` of the build's time pass; print what came down meanwhile."""
        if not 0 <= seconds <= MAX_WAIT_S:
            raise FlightswError(f"wait {seconds}: seconds must be in 0..{MAX_WAIT_S:g}")
        end = self.backend.now_s() + seconds
        for _ in range(MAX_STEPS):
            now = self.backend.now_s()
            if now >= end:
                return
            for pkt in self.backend.step():
                self.ingest(pkt)
            if self.backend.now_s() <= now:
                raise FlightswError(f"the {self.backend.kind} backend's time did not advance")
        raise FlightswError(f"wait {seconds}: more than {MAX_STEPS} steps")

    def ingest(self, pkt: bytes, playback: bool = False) -> None:
        """One TM packet that reached the ground (``playback``: of the packet store)."""
        self.tm_packets += 1
        for line in self.model.ingest(pkt, playback):
            self.out(line)

    def handle(self, line: str) -> None:
        """One input line: a directive, or a command followed by ``listen_s`` of time."""
        words = line.split()
        if not words:
            return
        if words[0] in WAIT_WORDS:
            if len(words) != 2:
                raise FlightswError(f"{words[0]} takes one argument: SECONDS")
            try:
                seconds = float(words[1])
            except ValueError:
                raise FlightswError(f"{words[0]} {words[1]!r}: not a number") from None
            self.wait(seconds)
        elif words == ["values"]:
            for row in self.model.value_rows():
                self.out(row)
        elif words == ["history"]:
            for row in self.model.command_rows():
                self.out(row)
        else:
            self.send(line)
            self.wait(self.listen_s)

    def summary(self) -> str:
        return f"{self.tm_packets} TM packets at t={self.backend.now_s():.1f} s"


def run_lines(
    console: BackendConsole,
    lines: Iterable[tuple[int, str | FlightswError]],
    error: Callable[[str], None],
) -> int:
    """Every line in turn (``(number, text or its error)``, as
    :func:`flightsw.cli.packet.text_lines` reads them); the number of lines refused."""
    failures = 0
    for lineno, line in lines:
        try:
            if isinstance(line, FlightswError):
                raise line
            console.handle(line.strip())
        except FlightswError as exc:
            failures += 1
            error(f"line {lineno}: {exc}")
    return failures
