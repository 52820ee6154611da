"""The executive's own app: its housekeeping, its events and its commands.

A mission names it as
``flightsw.services.executive_app:ExecutiveApp``;
the service is in ``app``."""

from flightsw.services.executive_app.app import ExecutiveApp

__all__ = ["ExecutiveApp"]
