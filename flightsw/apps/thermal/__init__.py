"""The thermal app (``app``: zone heaters, board throttling, limit violations); its zones'
temperatures are voted by :mod:`flightsw.apps.shared.sensor_vote`, which FDIR shares."""

from flightsw.apps.thermal.app import ThermalApp

__all__ = ["ThermalApp"]
