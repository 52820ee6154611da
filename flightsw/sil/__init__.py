"""Software in the loop: the flight build run against the simulated spacecraft.

The runners (``simulate``, the in-process ``harness``, the cluster of nodes), the
operator's simulated workload, fault scenarios, their scoring from the simulated world's
truth, campaigns on Dask and run reports. The SIL stands above the ground software
(``flightsw.ground``) and the flight side and imports them; neither imports it.
"""
