"""The vocabulary of alerts: what happened, how bad, where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.texts import Text


class AlertKind(StrEnum):
    ZONE_EXIT = "zone_exit"  # left an inclusion zone
    ZONE_ENTRY = "zone_entry"  # entered an exclusion zone
    CURFEW = "curfew"  # away from home during a curfew window (宵禁)
    SEPARATION = "separation"  # phone and wristband apart (人机分离)
    DEVICE_SILENT = "device_silent"  # one device silent past its level's limit
    SUBJECT_SILENT = "subject_silent"  # every device of the subject silent (失联)
    TAMPER = "tamper"  # wristband strap opened or cut
    DEVICE_REMOVED = "device_removed"  # wristband off the wrist
    POWER_OFF = "power_off"
    LOW_BATTERY = "low_battery"  # remind the person to charge
    SOS = "sos"
    LEAVE_OVERDUE = "leave_overdue"  # not back in the district when the leave ended
    ORDER_ENDING = "order_ending"  # the monitoring order ends within days: review it
    CHECK_IN_MISSED = "check_in_missed"  # a check-in request went unanswered
    PROTECTED_PERSON_PROXIMITY = "protected_person_proximity"  # near a protected person
    PROHIBITED_CONTACT = "prohibited_contact"  # met a subject the order forbids meeting
    APPROACHING = "approaching"  # heading for an exclusion zone or a protected person
    NIGHT_AWAY = "night_away"  # away from the residence for much of the night (夜不归宿)
    SUSPECT_LOCATION = "suspect_location"  # the fixes look faked, or the phone handed on (虚拟定位)


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"


SEVERITY: dict[AlertKind, Severity] = {
    AlertKind.ZONE_EXIT: Severity.HIGH,
    AlertKind.ZONE_ENTRY: Severity.CRITICAL,
    AlertKind.CURFEW: Severity.HIGH,
    AlertKind.SEPARATION: Severity.HIGH,
    AlertKind.DEVICE_SILENT: Severity.HIGH,
    AlertKind.SUBJECT_SILENT: Severity.CRITICAL,
    AlertKind.TAMPER: Severity.CRITICAL,
    AlertKind.DEVICE_REMOVED: Severity.CRITICAL,
    AlertKind.POWER_OFF: Severity.HIGH,
    AlertKind.LOW_BATTERY: Severity.NORMAL,
    AlertKind.SOS: Severity.CRITICAL,
    AlertKind.LEAVE_OVERDUE: Severity.HIGH,
    AlertKind.ORDER_ENDING: Severity.NORMAL,
    AlertKind.CHECK_IN_MISSED: Severity.HIGH,
    AlertKind.PROTECTED_PERSON_PROXIMITY: Severity.CRITICAL,
    AlertKind.PROHIBITED_CONTACT: Severity.HIGH,
    AlertKind.APPROACHING: Severity.NORMAL,
    AlertKind.NIGHT_AWAY: Severity.HIGH,
    AlertKind.SUSPECT_LOCATION: Severity.HIGH,
}


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"  # a false alarm


class AlertCondition(StrEnum):
    """Whether what the alert is about still holds, apart from where the alert stands."""

    ACTIVE = "active"
    CLEARED = "cleared"  # ended by itself (back inside); the alert still needs an officer


class AlertAction(StrEnum):
    """What one alert event (the append-only history of an alert) records."""

    OPENED = "opened"
    REPEATED = "repeated"  # the condition arose again while the alert was live
    CLEARED = "cleared"
    ESCALATED = "escalated"  # critical and unacknowledged for too long
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    NOTED = "noted"


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found: a condition arising (`cleared` False) or ending by itself.

    An arising condition opens an alert, or counts as a repeat on the one already live for
    the same (subject, kind, assignment, device); an ending one is recorded on the live alert,
    which still needs an officer. `time` is the epoch second of the fix or event that decided
    it (or the moment a timer decided it); the position is the one that decided it, if any.
    """

    kind: AlertKind
    subject_id: int
    time: float
    message: str | Text  # Text: in the reader's language where it is shown
    assignment_id: int | None = None
    device_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    cleared: bool = False
    order_id: int | None = None  # the order a reminder is about
    prohibition_id: int | None = None  # the pair a prohibition order keeps apart

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]


@dataclass(frozen=True, slots=True)
class RunState:
    """How far one condition (a zone violation, a separation) has got, per key.

    `active` is the confirmed condition; the trailing run is `run` consecutive decisive
    observations that all show the condition (`run_active`) or all do not, the first at
    `run_start`; `last_time` is the newest decisive observation: anything not newer is late
    and changes nothing. Kept in the store so a restart resumes instead of starting over.
    """

    active: bool = False
    run: int = 0
    run_active: bool = False
    run_start: float = float("-inf")
    last_time: float = float("-inf")


@dataclass(frozen=True, slots=True)
class LastFix:
    """A device's newest fix, as a rule remembers it between batches."""

    time: float
    lon: float
    lat: float
    accuracy: float


@dataclass(frozen=True, slots=True)
class SeparationState:
    """Per subject: the separation condition and each device kind's newest fix."""

    run: RunState = RunState()
    phone: LastFix | None = None
    wristband: LastFix | None = None


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One alert event written: alert `alert_id` (of `kind` and `severity`, about the
    subject) was `action` (opened, repeated, cleared, ...)."""

    alert_id: int
    action: AlertAction
    event_id: int
    kind: AlertKind
    severity: Severity
    subject_id: int


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """An alert event with the alert as it stands right after it: what goes out about it
    (webhooks, text messages)."""

    event_id: int
    action: AlertAction
    actor: str
    note: str | None
    at: datetime
    alert_id: int
    kind: AlertKind
    severity: Severity
    state: AlertState
    condition: AlertCondition
    count: int
    subject_id: int
    subject_name: str
    office_id: int
    zone_name: str | None
    device_code: str | None
    fix_time: datetime
    last_time: datetime
    lon: float | None
    lat: float | None
    message: str
    opened_at: datetime
