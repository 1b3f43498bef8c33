"""Devices that publish over MQTT like real ones; speaks only the documented wire format."""

from simulators.city import City, District, SimDevice, SimProtected, SimSubject, generate_city
from simulators.devices import (
    Outage,
    Sent,
    SimulationReport,
    device_fix,
    event_payload,
    fix_payload,
    simulate_city,
)
from simulators.month import Month, Plant, Planted
from simulators.scenarios import (
    DEMO_SCENARIOS,
    EXPECTED_ALERTS,
    LEAVE_ENDS_S,
    Kind,
    Plan,
    Scenario,
    ScenarioError,
    load_plan,
    parse_scenario,
)

__all__ = [
    "DEMO_SCENARIOS",
    "EXPECTED_ALERTS",
    "LEAVE_ENDS_S",
    "City",
    "District",
    "Kind",
    "Month",
    "Outage",
    "Plan",
    "Plant",
    "Planted",
    "Scenario",
    "ScenarioError",
    "Sent",
    "SimDevice",
    "SimProtected",
    "SimSubject",
    "SimulationReport",
    "device_fix",
    "event_payload",
    "fix_payload",
    "generate_city",
    "load_plan",
    "parse_scenario",
    "simulate_city",
]
