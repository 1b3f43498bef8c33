"""The supervision vocabulary as plain typed data; imports nothing of ours."""

from domain.alerts import (
    SEVERITY,
    AlertAction,
    AlertCondition,
    AlertKind,
    AlertState,
    Finding,
    LastFix,
    RunState,
    SeparationState,
    Severity,
)
from domain.commands import PURSUIT_KINDS, CommandKind, CommandState
from domain.events import DeviceEvent, EventReport
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
from domain.levels import DEFAULT_LEVELS, LevelPolicy
from domain.orders import (
    ORDER_MAX_MONTHS,
    Leave,
    LeaveState,
    MonitoringOrder,
    OrderError,
    add_months,
    check_period,
)
from domain.rejections import Rejected
from domain.subjects import Device, DeviceKind, SupervisionLevel
from domain.users import Role
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
    "DEFAULT_LEVELS",
    "ORDER_MAX_MONTHS",
    "PURSUIT_KINDS",
    "SEVERITY",
    "AlertAction",
    "AlertCondition",
    "AlertKind",
    "AlertState",
    "Assignment",
    "Codes",
    "CommandKind",
    "CommandState",
    "Device",
    "DeviceEvent",
    "DeviceKind",
    "EpochSeconds",
    "EventReport",
    "Finding",
    "FixBatch",
    "FixSource",
    "Ids",
    "LastFix",
    "Lat",
    "Leave",
    "LeaveState",
    "LevelPolicy",
    "Lon",
    "Metres",
    "MonitoringOrder",
    "OneOffWindow",
    "OrderError",
    "Rejected",
    "Role",
    "RunState",
    "Schedule",
    "SeparationState",
    "Severity",
    "SupervisionLevel",
    "WeeklyWindow",
    "Zone",
    "ZoneRole",
    "ZoneStatus",
    "add_months",
    "check_period",
]
