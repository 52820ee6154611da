"""Event reporting (PUS service 5).

A mission names it as
``flightsw.services.events:EventService``;
the service is in ``app``."""

from flightsw.services.events.app import EventService

__all__ = ["EventService"]
