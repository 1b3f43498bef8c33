"""The supervision vocabulary as plain typed data; imports nothing of ours."""

from domain.alerts import (
    SEVERITY,
    AlertAction,
    AlertChange,
    AlertCondition,
    AlertKind,
    AlertNotice,
    AlertState,
    Finding,
    LastFix,
    RunState,
    SeparationState,
    Severity,
)
from domain.commands import (
    LIVE_COMMAND_STATES,
    PURSUIT_KINDS,
    CommandKind,
    CommandState,
    after_result,
)
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
from domain.names import KIND_NAMES, LEVEL_NAMES, SEVERITY_NAMES, name_of, names
from domain.order import by_key_then_time
from domain.orders import (
    ORDER_MAX_MONTHS,
    Leave,
    LeaveState,
    MonitoringOrder,
    OrderError,
    add_months,
    check_period,
)
from domain.prohibitions import Party, Prohibition
from domain.rejections import Rejected
from domain.runs import Positions, RunStates, SeparationStates, Times
from domain.subjects import Device, DeviceKind, SupervisionLevel
from domain.texts import Language, Text, language_of
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
    "KIND_NAMES",
    "LEVEL_NAMES",
    "LIVE_COMMAND_STATES",
    "ORDER_MAX_MONTHS",
    "PURSUIT_KINDS",
    "SEVERITY",
    "SEVERITY_NAMES",
    "AlertAction",
    "AlertChange",
    "AlertCondition",
    "AlertKind",
    "AlertNotice",
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
    "Language",
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
    "Party",
    "Positions",
    "Prohibition",
    "Rejected",
    "Role",
    "RunState",
    "RunStates",
    "Schedule",
    "SeparationState",
    "SeparationStates",
    "Severity",
    "SupervisionLevel",
    "Text",
    "Times",
    "WeeklyWindow",
    "Zone",
    "ZoneRole",
    "ZoneStatus",
    "add_months",
    "after_result",
    "by_key_then_time",
    "check_period",
    "language_of",
    "name_of",
    "names",
]
