"""The simulated HAL backend: binds hal interfaces to sim_hw models."""
