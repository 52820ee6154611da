"""Relay: forwards TCs and TM addressed to other spacecraft over the crosslink terminals.

A mission names it as
``flightsw.services.relay:RelayService``;
the service is in ``app``."""

from flightsw.services.relay.app import RelayService

__all__ = ["RelayService"]
