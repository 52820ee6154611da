"""The executive and what it runs a flight build from.

A mission file (``mission``, its ``[workload]`` table in ``workload_schema``) names the
apps; the executive (``executive``) loads them over the core services, computes the frame
schedule (``schedule``), routes TCs (``dispatcher``) and runs the frames. The dictionary
(``dictionary``) is generated from the loaded declarations for the ground."""
