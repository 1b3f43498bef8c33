"""Devices that publish over MQTT like real ones; speaks only the documented wire format."""

from simulators.city import City, District, SimDevice, SimSubject, generate_city
from simulators.devices import (
    Outage,
    SimulationReport,
    device_fix,
    fix_payload,
    simulate_city,
    status_payload,
)

__all__ = [
    "City",
    "District",
    "Outage",
    "SimDevice",
    "SimSubject",
    "SimulationReport",
    "device_fix",
    "fix_payload",
    "generate_city",
    "simulate_city",
    "status_payload",
]
