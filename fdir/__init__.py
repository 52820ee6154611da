"""Fault detection, isolation and recovery for a radiation-exposed compute node.

Building blocks (monitors, persistence filters, recovery ladders, the FDIR table) and
the FDIR app that uses them on the accelerator boards, the sensors and the platform.
"""
