"""Stored command sequences run on board (PUS service 18 style: on-board procedures).

A mission names it as
``flightsw.services.sequencer:SequencerService``;
the service is in ``app``."""

from flightsw.services.sequencer.app import SequencerService

__all__ = ["SequencerService"]
