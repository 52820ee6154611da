"""The reference flight build's apps: power management, thermal control, compute payload."""
