"""Commanding by name: a mistake is refused before anything is built, with what the
dictionary has instead (close names, the apps, the allowed arguments)."""

import pytest

from flightsw.base.errors import EncodeError
from flightsw.ground.commanding import CommandEncoder
from flightsw.runtime.dictionary import build_dictionary
from flightsw.runtime.mission import load_mission

ENCODER = CommandEncoder(build_dictionary(load_mission()))


@pytest.mark.parametrize(
    ("name", "args", "says"),
    [
        ("test.pong", {}, "unknown command 'test.pong'; did you mean test.ping"),
        ("zzz", {}, "unknown command 'zzz'; apps: "),
        (
            "payload.submit_job",
            {"prio": 1},
            "unknown arguments ['prio']; allowed: board_hours, priority, deadline_s",
        ),
        ("test.ping", {"x": 1}, "unknown arguments ['x']; allowed: none"),
    ],
)
def test_a_mistake_says_what_there_is_instead(name: str, args: dict[str, int], says: str) -> None:
    before = ENCODER.seq_count
    with pytest.raises(EncodeError) as caught:
        ENCODER.encode(name, args)
    assert says in str(caught.value)
    assert ENCODER.seq_count == before  # nothing built, no sequence count used
