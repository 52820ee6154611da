"""The project's own exception types.

Every error that bad input can cause is one of these, so callers (the executive, the
CLI, ground tools) can catch exactly what the project raises and nothing else.
"""

from __future__ import annotations


class FlightswError(Exception):
    """Base of every error flightsw raises on purpose."""


class DecodeError(FlightswError, ValueError):
    """Bytes that do not decode as the expected format.

    Names the field and the byte offset where decoding failed, so a test engineer
    can find the bad octet in a hex dump.
    """

    def __init__(self, field: str, offset: int, reason: str) -> None:
        self.field = field
        self.offset = offset
        self.reason = reason
        super().__init__(f"{field} at byte {offset}: {reason}")


class EncodeError(FlightswError, ValueError):
    """Field values that cannot be encoded (out of range, wrong type, missing)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class MissionError(FlightswError, ValueError):
    """A mission file that cannot be loaded; names the file, the key and the problem."""

    def __init__(self, path: str, key: str, reason: str) -> None:
        self.path = path
        self.key = key
        self.reason = reason
        super().__init__(f"{path}: {key}: {reason}")


class DeclarationError(FlightswError):
    """An app's declarations conflict (duplicate ids or names) or are malformed."""


class CommandError(FlightswError):
    """A command that fails; carries the PUS-1 failure code reported to the ground."""

    def __init__(self, code: int, reason: str, data: bytes = b"") -> None:
        self.code = code
        self.reason = reason
        self.data = data
        super().__init__(f"failure code {code}: {reason}")


class QueueFullError(FlightswError):
    """A bounded queue with reject-newest policy refused a message."""
