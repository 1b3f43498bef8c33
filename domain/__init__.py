"""The supervision vocabulary as plain typed data; imports nothing of ours."""

from domain.alerts import AlertKind, AlertState, NewAlert, Severity
from domain.events import DeviceEvent
from domain.fixes import (
    Codes,
    EpochSeconds,
    FixBatch,
    FixSource,
    Ids,
    Lat,
    Lon,
    Metres,
    ZoneStatus,
)
from domain.subjects import Device, DeviceKind, SupervisionLevel
from domain.zones import (
    ALWAYS,
    Assignment,
    OneOffWindow,
    Schedule,
    WeeklyWindow,
    Zone,
    ZoneRole,
)

__all__ = [
    "ALWAYS",
    "AlertKind",
    "AlertState",
    "Assignment",
    "Codes",
    "Device",
    "DeviceEvent",
    "DeviceKind",
    "EpochSeconds",
    "FixBatch",
    "FixSource",
    "Ids",
    "Lat",
    "Lon",
    "Metres",
    "NewAlert",
    "OneOffWindow",
    "Schedule",
    "Severity",
    "SupervisionLevel",
    "WeeklyWindow",
    "Zone",
    "ZoneRole",
    "ZoneStatus",
]
