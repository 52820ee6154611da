"""Parameters (PUS service 20): one store for every app's tunables, set with validation.

A mission names it as
``flightsw.services.parameters:ParameterService``;
the service is in ``app``."""

from flightsw.services.parameters.app import ParameterService

__all__ = ["ParameterService"]
