"""Devices that publish over MQTT like real ones; speaks only the documented wire format."""

from simulators.city import City, District, SimDevice, SimSubject, generate_city
from simulators.devices import (
    SimulationReport,
    city_round,
    fix_payload,
    power_on,
    simulate_city,
    status_payload,
)

__all__ = [
    "City",
    "District",
    "SimDevice",
    "SimSubject",
    "SimulationReport",
    "city_round",
    "fix_payload",
    "generate_city",
    "power_on",
    "simulate_city",
    "status_payload",
]
