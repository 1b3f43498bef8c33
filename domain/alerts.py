"""The vocabulary of alerts: what happened, how bad, where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    ZONE_EXIT = "zone_exit"  # left an inclusion zone
    ZONE_ENTRY = "zone_entry"  # entered an exclusion zone


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert a rule decided to open, before the store gives it an id.

    `fix_time` is the epoch second of the fix that confirmed it; `assignment_id` ties a zone
    alert to the assignment it breaks, so one excursion opens one alert.
    """

    kind: AlertKind
    severity: Severity
    subject_id: int
    assignment_id: int | None
    fix_time: float
    lon: float
    lat: float
    message: str
