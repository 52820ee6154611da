"""What the flight apps (and FDIR above them) share and no single app owns: the bus
messages they exchange (``messages``), the vote of a zone's redundant temperature sensors
(``sensor_vote``) and the guard that turns a failing HAL call into data (``device_guard``)."""
