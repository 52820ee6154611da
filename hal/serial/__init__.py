"""The serial HAL backend: bench devices over pyserial for hardware-in-the-loop runs.

The wire protocol is in :mod:`hal.serial.protocol` (documented in
docs/serial-protocol.md), request/response timing in :mod:`hal.serial.link`, the
hal.interfaces devices in :mod:`hal.serial.devices`, and :func:`build_serial_hal` in
:mod:`hal.serial.backend`. tools/fake_bench_device.py emulates a bench.
"""

from __future__ import annotations

from hal.serial.link import DeviceError, DeviceNak, DeviceTimeout, SerialLink

__all__ = ["DeviceError", "DeviceNak", "DeviceTimeout", "SerialLink"]
