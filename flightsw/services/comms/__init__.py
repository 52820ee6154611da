"""Communications: the space link between the radio and the executive.

A mission names it as
``flightsw.services.comms:CommsService``;
the service is in ``app``."""

from flightsw.services.comms.app import CommsService

__all__ = ["CommsService"]
