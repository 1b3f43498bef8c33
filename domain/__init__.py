"""The supervision vocabulary as plain typed data; imports nothing of ours."""

from domain.alerts import (
    LIVE_STATES,
    SEVERITY,
    AlertKind,
    AlertState,
    Finding,
    LastFix,
    RunState,
    SeparationState,
    Severity,
)
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
from domain.levels import LevelPolicy
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
    "LIVE_STATES",
    "SEVERITY",
    "AlertKind",
    "AlertState",
    "Assignment",
    "Codes",
    "Device",
    "DeviceEvent",
    "DeviceKind",
    "EpochSeconds",
    "Finding",
    "FixBatch",
    "FixSource",
    "Ids",
    "LastFix",
    "Lat",
    "LevelPolicy",
    "Lon",
    "Metres",
    "OneOffWindow",
    "RunState",
    "Schedule",
    "SeparationState",
    "Severity",
    "SupervisionLevel",
    "WeeklyWindow",
    "Zone",
    "ZoneRole",
    "ZoneStatus",
]
