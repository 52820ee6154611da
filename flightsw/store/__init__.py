"""On-board storage built on the HAL's non-volatile store."""
