"""Well-known software-bus message ids.

App command pipes get ids from ``APP_COMMAND_BASE + app index``; the rest are the
framework's own streams that other apps (FDIR, event-action) may subscribe to.
"""

from __future__ import annotations

from typing import Protocol

EVENT = 0x0001  # payload: EventRecord, every event reported, enabled for TM or not
APP_FAULT = 0x0002  # payload: AppFault, an app overran repeatedly, raised, or was disabled
LINK_CONTACT = 0x0003  # payload: bool, the radio is in contact with the ground (on change)
SAFE_MODE = 0x0004  # payload: an object with ``active: bool`` (FDIR's safe mode)
UPLINK_STATUS = 0x0005  # payload: float, seconds since the last good TC frame (comms, 1 Hz)
RADIO_RESET = 0x0006  # payload: str reason; the comms service reinitializes the link
APP_COMMAND_BASE = 0x1000
START_SEQUENCE = 0x0007  # payload: event_action.StartSequence; the sequencer starts it


class SafeModeFlag(Protocol):
    """What a framework service reads of a SAFE_MODE payload (FDIR's ``SafeMode``)."""

    active: bool
