"""What the API returns: its contract, written here rather than inferred from the store's
rows, with the supervision vocabulary as enums so the OpenAPI names every value. A row from
the store is validated into one of these on its way out; a field the contract does not name
(an alert's position, say) is never sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain import (
    AlertAction,
    AlertCondition,
    AlertKind,
    AlertState,
    CommandKind,
    CommandState,
    DeviceEvent,
    DeviceKind,
    FixSource,
    Language,
    LeaveState,
    Role,
    Severity,
    SupervisionLevel,
    Text,
    ZoneRole,
)
from domain.texts import CATALOGUE

if TYPE_CHECKING:
    from collections.abc import Iterable

    import store


class _Out(BaseModel):
    # built from the store's rows (dataclasses) as well as from dicts
    model_config = ConfigDict(from_attributes=True)


class Error(_Out):
    """Every refusal (4xx) has this one shape."""

    detail: str = Field(description="what is wrong, in words a person can act on")


_M = TypeVar("_M", bound=_Out)
_R = TypeVar("_R", bound="store.alerts.AlertRow")


def localised(row: _R, language: Language) -> _R:
    """An alert's row with its message in `language` (the catalogue's, where the rule gave
    a key; else the English it was stored with)."""
    if row.message_key is None or row.message_key not in CATALOGUE:
        return row
    text = Text(row.message_key, row.message_params or {})
    return replace(row, message=text.render(language))


def each(model: type[_M], rows: Iterable[object]) -> list[_M]:
    """Rows from the store as the contract's `model`."""
    return [model.model_validate(row) for row in rows]


# Alerts ---------------------------------------------------------------------------------


class Alert(_Out):
    """An alert without its position: where it happened is a location, read through
    `GET /alerts/{id}/location` with a purpose, on the record."""

    id: int
    kind: AlertKind
    severity: Severity
    state: AlertState
    condition: AlertCondition = Field(description="cleared: the condition ended by itself")
    subject_id: int
    subject_name: str
    assignment_id: int | None
    zone_name: str | None
    device_code: str | None
    prohibition_id: int | None = Field(description="the pair a prohibition order keeps apart")
    protected_person_id: int | None = Field(
        description="the pair's protected person (their position: GET /protected-persons/"
        "{id}/positions, for those granted)"
    )
    fix_time: datetime = Field(description="the fix or event that opened it")
    last_time: datetime = Field(description="the newest fix or event that repeated it")
    count: int = Field(description="times the condition arose while the alert was live")
    message: str = Field(description="in the reader's language (Accept-Language: zh or en)")
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    escalated_at: datetime | None


class AlertEvent(_Out):
    """One step in an alert's append-only history."""

    id: int
    alert_id: int
    at: datetime
    action: AlertAction
    actor: str
    note: str | None


# People and places ----------------------------------------------------------------------


class Office(_Out):
    id: int
    name: str
    parent_id: int | None


class User(_Out):
    id: int
    username: str
    role: Role
    office_id: int | None = Field(description="none: county-wide")


class UserAccount(User):
    phone: str | None = Field(description="where text messages about alerts go")
    on_duty: bool = Field(description="texted new high and critical alerts of the office")
    created_at: datetime
    disabled_at: datetime | None


class Subject(_Out):
    id: int
    name: str
    level: SupervisionLevel
    office_id: int
    office: str
    residence_zone_id: int | None = Field(
        description="the zone of the registered residence (居住地), if one is set"
    )


class Device(_Out):
    id: int
    code: str = Field(description="the device's identifier on the wire (MQTT topics)")
    kind: DeviceKind
    office_id: int | None
    subject_id: int | None
    protected_person_id: int | None = Field(description="a protected person's phone: theirs")
    active: bool
    owntracks_topic: str | None
    has_mqtt_account: bool
    has_owntracks_key: bool
    has_http_password: bool
    last_fix_at: datetime | None
    last_received_at: datetime | None
    battery: int | None


class Binding(_Out):
    """A device bound to a subject, and when it was unbound."""

    device_code: str
    subject_id: int
    bound_at: datetime
    bound_by: str
    unbound_at: datetime | None
    unbound_by: str | None


class Assignment(_Out):
    id: int
    subject_id: int
    zone_id: int
    zone_name: str
    role: ZoneRole
    schedule: dict[str, Any] | None = Field(description="none: at all times")
    leave_id: int | None = Field(description="the leave whose destination this is")
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None


# Orders and leaves ----------------------------------------------------------------------


class Extension(_Out):
    id: int
    approved_by: str
    reason: str
    previous_end: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime


class Order(_Out):
    """A monitoring order (Art. 29): at most 3 months a period, extended after review."""

    id: int
    subject_id: int
    approved_by: str
    reason: str
    starts_at: datetime
    first_end: datetime = Field(description="the end the order was issued with")
    ends_at: datetime = Field(description="the end with every extension")
    created_by: str
    created_at: datetime
    extensions: list[Extension]


class ProtectedPerson(_Out):
    """A victim or witness a prohibition order protects: the alerts name them by `code`
    only; their phone's positions are shown only to the users a grant names."""

    id: int
    office_id: int
    code: str
    name: str
    phone: str | None
    sms_opt_in: bool
    language: Language
    pursuit_consent: bool
    created_at: datetime


class ProtectedGrant(_Out):
    """The users of `role` whose own office is `office_id` may see the protected person's
    position (each look recorded); nobody else may."""

    id: int
    protected_person_id: int
    office_id: int
    role: str
    granted_by: str
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None


class ReadableProtectedPerson(_Out):
    """A protected person whose position the caller may look at (no position here)."""

    id: int
    office_id: int
    code: str


class ProtectedFix(_Out):
    time: datetime
    lon: float = Field(description="WGS-84")
    lat: float = Field(description="WGS-84")
    accuracy: float = Field(description="metres")
    source: str
    received_at: datetime


class Prohibition(_Out):
    """A pair a prohibition order (禁止令) keeps apart: the subject and a protected person,
    or the subject and another subject (a co-defendant)."""

    id: int
    subject_id: int
    protected_person_id: int | None
    protected_person_code: str | None
    other_subject_id: int | None
    distance_m: float
    for_s: float = Field(description="two subjects: how long near counts as meeting")
    warn_s: float = Field(description="a protected person: warn this long ahead (0: never)")
    active: bool
    created_at: datetime
    created_by: str


class Leave(_Out):
    id: int
    subject_id: int
    destination_zone_id: int
    destination: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    state: LeaveState
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


# What devices said ----------------------------------------------------------------------


class Fix(_Out):
    time: datetime
    device_code: str
    device_kind: DeviceKind
    lon: float = Field(description="WGS-84")
    lat: float
    accuracy: float = Field(description="metres")
    source: FixSource
    battery: int | None
    seq: int | None
    received_at: datetime


class Event(_Out):
    """A device event: what a device said about itself."""

    time: datetime
    device_code: str
    event: DeviceEvent
    battery: int | None
    seq: int | None
    received_at: datetime


class Command(_Out):
    id: UUID
    device_id: int
    device_code: str
    subject_id: int | None
    kind: CommandKind
    params: dict[str, Any]
    state: CommandState
    issued_by: str = Field(description="a user, or 'pursuit' for the automatic ones")
    issued_at: datetime
    expires_at: datetime
    alert_id: int | None = Field(description="the alert whose pursuit issued it")
    sent_at: datetime | None
    delivered_at: datetime | None
    answered_at: datetime | None
    answer: dict[str, Any] | None
    error: str | None


# Delivery -------------------------------------------------------------------------------


class Subscription(_Out):
    id: int
    office_id: int | None
    url: str
    kinds: list[AlertKind] | None = Field(description="none: every kind")
    min_severity: Severity
    active: bool
    created_by: str
    created_at: datetime


class Delivery(_Out):
    id: int
    event_id: int
    channel: Literal["webhook", "sms"]
    subscription_id: int | None
    url: str | None
    phone: str | None
    state: Literal["pending", "delivered", "dead", "suppressed"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


# The record (全程留痕) ---------------------------------------------------------------------


class LocationRead(_Out):
    id: int
    at: datetime
    username: str
    subject_id: int | None
    what: str
    from_time: datetime | None
    to_time: datetime | None
    purpose: str
    fixes: int = Field(description="positions shown")
    offices: list[int] | None
    protected_person_id: int | None = Field(description="a read of a protected person's")
    case_ref: str | None = Field(description="the case a whereabouts query was asked for")


class Change(_Out):
    id: int
    at: datetime
    username: str
    action: str
    target: str
    target_id: int | None
    office_id: int | None
    detail: dict[str, Any]


class Purge(_Out):
    id: int
    order_id: int
    subject_id: int
    period_start: datetime
    period_end: datetime
    purged_at: datetime
    fixes_deleted: int


class ApiTokenInfo(_Out):
    id: int
    name: str
    username: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


# The daily report (日报告) ----------------------------------------------------------------


class AlertCount(_Out):
    kind: AlertKind
    state: AlertState
    count: int


class HourCount(_Out):
    hour: int
    kind: AlertKind
    count: int


class SilentSubject(_Out):
    subject_id: int
    name: str
    level: SupervisionLevel
    last_report: datetime | None
    limit_s: float


class OldAlert(_Out):
    id: int
    kind: AlertKind
    severity: Severity
    state: AlertState
    subject_id: int
    subject_name: str
    opened_at: datetime


class DailyReport(_Out):
    subjects_monitored: int
    devices_bound: int
    devices_reporting: int
    alerts: list[AlertCount]
    alerts_by_hour: list[HourCount]
    silent: list[SilentSubject]
    open_over_a_day: list[OldAlert]
