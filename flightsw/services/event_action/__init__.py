"""Event-action (PUS service 19): an event starts a TC or a stored sequence.

A mission names it as
``flightsw.services.event_action:EventActionService``;
the service is in ``app``."""

from flightsw.services.event_action.app import EventActionService

__all__ = ["EventActionService"]
