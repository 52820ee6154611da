"""The services of the flight build, a folder each (``<name>/app.py``, its class named by
the folder's ``__init__``): the PUS core services the executive always loads
(``flightsw.runtime.mission.CORE_SERVICES``), and comms and relay, which a mission names."""
