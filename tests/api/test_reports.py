"""The daily report (日报告) against the real PostgreSQL, as JSON and CSV, scoped to offices."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

import alerts
import store
from api import create_app, hash_password
from domain import AlertKind, DeviceKind, Finding, SupervisionLevel
from tests.helpers import bearer, sign_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime.now(SHANGHAI).date() - timedelta(days=2)


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Signed:
    """The API, signed in as an officer of office A; office B is beside it."""

    http: httpx.AsyncClient
    office_b: int


@pytest.fixture
async def signed(pool: AsyncConnectionPool[Any]) -> AsyncIterator[Signed]:
    """Office A (a strict subject who reported on DAY, a normal one never heard from, with
    an exit open since two days before) and office B beside it; an officer of each."""
    async with pool.connection() as conn:
        bureau = await store.offices.create_office(conn, name="Report Bureau")
        office_a = await store.offices.create_office(conn, name="Report A", parent_id=bureau)
        office_b = await store.offices.create_office(conn, name="Report B", parent_id=bureau)
        subjects = []
        for office, name, level in (
            (office_a, "reported", SupervisionLevel.STRICT),
            (office_a, "silent", SupervisionLevel.NORMAL),
            (office_b, "elsewhere", SupervisionLevel.STRICT),
        ):
            subject = await store.subjects.create_subject(
                conn, office_id=office, name=name, level=level
            )
            await store.devices.create_device(
                conn,
                actor="test",
                code=f"rep-{name}-{bureau}",
                kind=DeviceKind.PHONE,
                subject_id=subject,
            )
            await store.orders.create_order(
                conn,
                subject_id=subject,
                approved_by="bureau head",
                reason="test",
                starts_at=local(DAY, 0) - timedelta(days=10),
                ends_at=local(DAY, 0) + timedelta(days=60),
                actor="test",
            )
            subjects.append(subject)
        reported, silent, elsewhere = subjects
        for at in (local(DAY, 10), local(DAY, 23, 59, 30), local(DAY + timedelta(days=1), 9)):
            await conn.execute(
                "INSERT INTO fixes (time, subject_id, device_id, lon, lat, accuracy, source,"
                " received_at) SELECT %s, subject_id, id, 104.0, 30.6, 10, 'gnss', now()"
                " FROM devices WHERE subject_id = %s",
                (at, reported),
            )
        changes = await alerts.notices.record_findings(
            conn,
            [
                Finding(AlertKind.TAMPER, reported, time.time(), "strap cut"),
                Finding(AlertKind.ZONE_EXIT, silent, time.time(), "outside"),
                Finding(AlertKind.TAMPER, elsewhere, time.time(), "strap cut"),
            ],
            actor="test",
        )
        opened = (local(DAY, 12), local(DAY, 12) - timedelta(days=2), local(DAY, 13))
        for change, at in zip(changes, opened, strict=True):
            await conn.execute(
                "UPDATE alerts SET opened_at = %s WHERE id = %s", (at, change.alert_id)
            )
        for name, office in (("rep-officer-a", office_a), ("rep-officer-b", office_b)):
            await store.users.create_user(
                conn,
                username=f"{name}-{bureau}",
                password_hash=hash_password("pw-report"),
                role="officer",
                office_id=office,
            )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(pool)), base_url="http://ccmon"
    ) as c:
        token = await sign_in(c, f"rep-officer-a-{bureau}", "pw-report")
        c.headers.update(bearer(token))
        yield Signed(c, office_b)


async def test_the_daily_report_of_an_office(signed: Signed) -> None:
    response = await signed.http.get("/api/v1/reports/daily", params={"day": DAY.isoformat()})
    assert response.status_code == 200
    report = response.json()
    assert (report["subjects_monitored"], report["devices_bound"], report["devices_reporting"]) == (
        2,
        2,
        1,
    )
    assert report["alerts"] == [{"kind": "tamper", "state": "open", "count": 1}]
    # opened at 12:00 local time (04:00 UTC): counted in the local hour
    assert report["alerts_by_hour"] == [{"hour": 12, "kind": "tamper", "count": 1}]
    (silent,) = report["silent"]
    assert (silent["name"], silent["last_report"], silent["limit_s"]) == ("silent", None, 600.0)
    (old,) = report["open_over_a_day"]
    assert (old["kind"], old["subject_name"]) == ("zone_exit", "silent")


async def test_the_daily_report_as_csv(signed: Signed) -> None:
    response = await signed.http.get(
        "/api/v1/reports/daily", params={"day": DAY.isoformat(), "format": "csv"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "item", "value"]
    assert ["subjects", "monitored", "2"] in rows
    assert ["devices", "reporting", "1"] in rows
    assert ["alerts opened", "tamper open", "1"] in rows
    assert any(r[0] == "silent subject" and r[2] == "never" for r in rows)


async def test_another_office_and_a_future_day_are_refused(signed: Signed) -> None:
    client = signed.http
    theirs = await client.get(
        "/api/v1/reports/daily", params={"day": DAY.isoformat(), "office_id": signed.office_b}
    )
    nowhere = await client.get(
        "/api/v1/reports/daily", params={"day": DAY.isoformat(), "office_id": 99999999}
    )
    assert theirs.status_code == nowhere.status_code == 404
    tomorrow = (datetime.now(SHANGHAI).date() + timedelta(days=2)).isoformat()
    future = await client.get("/api/v1/reports/daily", params={"day": tomorrow})
    assert future.status_code == 422
    assert "has not begun" in future.json()["detail"]
