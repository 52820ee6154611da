"""docs/serial-protocol.md's message tables are what the declarations say (a protocol
document that lies to a firmware author is a defect)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import serial_protocol_doc as doc

from hal.serial import protocol as p


def test_document_is_generated_from_the_declarations() -> None:
    text = doc.DOC.read_text()
    assert doc.current(text) == doc.generate(), "run: python tools/serial_protocol_doc.py --write"


def test_every_message_and_nak_code_is_documented() -> None:
    out = doc.generate()
    for t, cls in p.REQUESTS.items():
        assert f"| 0x{t:02X} | {p.MsgType(t).name} | {doc.layout(cls)} |" in out
        assert f"### 0x{t:02X} {p.MsgType(t).name} ({cls.__name__})" in out
    for cls in {*p.RESPONSES.values(), p.Nak}:
        assert f"### {cls.__name__} (" in out
    for code in p.NakCode:
        assert f"| {code.value} | {code.name} |" in out


def test_layout_follows_a_changed_declaration() -> None:
    """The document is derived, not copied: a field's type and limit show as declared."""
    assert doc.layout(p.SetUtilization) == (
        "count u16 (≤ 682), indices u16[count], values f32[count] (finite)"
    )
    assert doc.layout(p.ReadBoards) == "start u16, count u16 (≤ 120)"
    assert doc.layout(p.KickWatchdog) == "empty"
