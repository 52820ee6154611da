"""The power app and its parts: the app (``app``: state of charge, budget, shedding,
switches) and the retry-then-isolate ladder of a tripped switch (``switch_ladder``)."""

from flightsw.apps.power.app import PowerApp

__all__ = ["PowerApp"]
