"""The project's own exception types, as the flight side imports them.

They are defined in :mod:`flightsw.base.errors`, the bottom layer, so hal raises the
very same types without importing up into flightsw; these are those classes (not
copies): ``flightsw.errors.DecodeError is flightsw.base.errors.DecodeError``.
"""

from __future__ import annotations

from flightsw.base.errors import (
    CommandError,
    DeclarationError,
    DecodeError,
    EncodeError,
    FlightswError,
    MissionError,
    QueueFullError,
)

__all__ = [
    "CommandError",
    "DeclarationError",
    "DecodeError",
    "EncodeError",
    "FlightswError",
    "MissionError",
    "QueueFullError",
]
