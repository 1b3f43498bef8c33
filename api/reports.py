"""The daily report (日报告) of an office for one day, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

import store
from api import schemas
from api.auth import CurrentUser
from api.deps import Conn, services
from domain import LevelPolicy, SupervisionLevel

router = APIRouter(prefix="/reports", tags=["reports"])


def _limits(levels: Mapping[SupervisionLevel, LevelPolicy]) -> dict[str, float]:
    """Seconds without any report after which a subject counts as silent, per level."""
    return {
        level.value: max(p.phone_interval_s, p.wristband_interval_s) + p.silence_grace_s
        for level, p in levels.items()
    }


@router.get(
    "/daily",
    response_model=schemas.DailyReport,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
)
async def daily_report(
    conn: Conn,
    user: CurrentUser,
    request: Request,
    day: date,
    office_id: Annotated[int | None, Query(description="default: the caller's office")] = None,
    format: Literal["json", "csv"] = "json",
) -> store.reports.DailyReport | Response:
    """For the office and the offices below it, on `day` (in the configured time zone):
    subjects monitored, their devices and how many reported, alerts opened by kind and state
    and per hour;
    at the day's end (or now, for today): subjects silent beyond their level's limit and
    alerts open for more than a day."""
    office = office_id if office_id is not None else user.office_id
    if office is None:
        offices = await store.offices.all_offices(conn)
    else:
        offices = await store.offices.offices_under(conn, office_id=office)
        if not offices or (user.offices is not None and office not in user.offices):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no office {office}")
    zone = ZoneInfo(services(request.app).report_timezone)
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    now = datetime.now(UTC)
    if start > now:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{day} has not begun yet")
    report = await store.reports.daily_report(
        conn,
        offices=offices,
        start=start,
        end=end,
        at=min(end, now),
        limits=_limits(services(request.app).levels),
    )
    if format == "csv":
        return Response(_csv(report), media_type="text/csv; charset=utf-8")
    return report


def _csv(report: store.reports.DailyReport) -> str:
    """One row per figure: section, item, value."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "item", "value"])
    w.writerow(["subjects", "monitored", report.subjects_monitored])
    w.writerow(["devices", "bound", report.devices_bound])
    w.writerow(["devices", "reporting", report.devices_reporting])
    for a in report.alerts:
        w.writerow(["alerts opened", f"{a.kind} {a.state}", a.count])
    for h in report.alerts_by_hour:
        w.writerow(["alerts opened per hour", f"{h.hour:02d}:00 {h.kind}", h.count])
    for s in report.silent:
        heard = "never" if s.last_report is None else s.last_report.isoformat()
        w.writerow(["silent subject", f"{s.subject_id} {s.name}", heard])
    for o in report.open_over_a_day:
        w.writerow(
            ["open over a day", f"{o.id} {o.kind} {o.subject_name}", o.opened_at.isoformat()]
        )
    return out.getvalue()
