"""Monitoring orders (Art. 29: approved, at most 3 months a period, renewable) and leaves
(Art. 27: 请假, leaving the county with approval)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

ORDER_MAX_MONTHS = 3


class OrderError(ValueError):
    """An order or extension the law does not allow; the message says why."""


def add_months(start: datetime, months: int) -> datetime:
    """The same day `months` later, or that month's last day (as PostgreSQL adds intervals)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def check_period(start: datetime, end: datetime) -> None:
    """Raise OrderError unless `start` < `end` <= `start` + 3 months (both with an offset)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise OrderError("order times need a UTC offset")
    if end <= start:
        raise OrderError(f"the period ends ({end.isoformat()}) before it starts")
    limit = add_months(start, ORDER_MAX_MONTHS)
    if end > limit:
        raise OrderError(
            f"a period runs at most {ORDER_MAX_MONTHS} months: from {start.isoformat()}"
            f" it must end by {limit.isoformat()}, not {end.isoformat()}"
        )


@dataclass(frozen=True, slots=True)
class MonitoringOrder:
    """An approved period of electronic monitoring; `ends` is after every extension."""

    id: int
    subject_id: int
    starts: float  # epoch seconds
    ends: float


class LeaveState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Leave:
    """A leave: while approved and running, `destination` applies instead of the subject's
    other inclusion zones; the subject must be back when it ends."""

    id: int
    subject_id: int
    destination: int  # zone id
    starts: float
    ends: float
    state: LeaveState
