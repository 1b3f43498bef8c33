"""Office scoping against the real PostgreSQL: an officer of office A sees nothing of office
B (asking for B's subject or alert answers 404, as for one that does not exist); a county
user sees the county; an auditor reads but does not act."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import alerts
import store
from api import create_app, hash_password
from domain import AlertKind, Finding, SupervisionLevel
from tests.helpers import bearer, sign_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True)
class County:
    subject_a: int
    subject_b: int
    alert_a: int
    alert_b: int
    suffix: str  # of its users' names (each test's county has its own users)


@pytest.fixture
async def county(pool: AsyncConnectionPool[Any]) -> County:
    async with pool.connection() as conn:
        bureau = await store.offices.create_office(conn, name="Scoping County Bureau")
        office_a = await store.offices.create_office(
            conn, name="Scoping Office A", parent_id=bureau
        )
        office_b = await store.offices.create_office(
            conn, name="Scoping Office B", parent_id=bureau
        )
        subjects = [
            await store.subjects.create_subject(
                conn, office_id=office, name=f"subject of {office}", level=SupervisionLevel.STRICT
            )
            for office in (office_a, office_b)
        ]
        users = [
            ("officer-a", "officer", office_a),
            ("officer-b", "officer", office_b),
            ("county-supervisor", "supervisor", bureau),
            ("auditor-a", "auditor", office_a),
        ]
        for name, role, office in users:
            await store.users.create_user(
                conn,
                username=f"{name}-{bureau}",
                password_hash=hash_password(f"{name}-pw"),
                role=role,
                office_id=office,
            )
        changes = await alerts.notices.record_findings(
            conn,
            [Finding(AlertKind.TAMPER, s, time.time(), "strap cut") for s in subjects],
            actor="test",
        )
    return County(subjects[0], subjects[1], changes[0].alert_id, changes[1].alert_id, f"-{bureau}")


@pytest.fixture
async def client(pool: AsyncConnectionPool[Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(pool)), base_url="http://ccmon"
    ) as c:
        yield c


async def signed_in(client: httpx.AsyncClient, county: County, user: str) -> dict[str, str]:
    return bearer(await sign_in(client, user + county.suffix, f"{user}-pw"))


async def test_an_officer_sees_nothing_of_another_office(
    client: httpx.AsyncClient, county: County
) -> None:
    a = await signed_in(client, county, "officer-a")
    subjects = (await client.get("/api/v1/subjects", headers=a)).json()
    assert [s["id"] for s in subjects] == [county.subject_a]
    alerts = (await client.get("/api/v1/alerts", headers=a)).json()
    assert [x["id"] for x in alerts] == [county.alert_a]
    why = {
        "purpose": "checking an alert",
        "since": "2026-11-01T00:00:00Z",
        "until": "2026-11-02T00:00:00Z",
    }
    mine = await client.get(f"/api/v1/subjects/{county.subject_a}/fixes", params=why, headers=a)
    assert mine.is_success
    # Office B's subject and alert answer exactly as ones that do not exist.
    for path, nowhere in (
        (f"/api/v1/subjects/{county.subject_b}/fixes", "/api/v1/subjects/99999999/fixes"),
        (f"/api/v1/subjects/{county.subject_b}/events", "/api/v1/subjects/99999999/events"),
        (f"/api/v1/subjects/{county.subject_b}/places", "/api/v1/subjects/99999999/places"),
        (f"/api/v1/alerts/{county.alert_b}", "/api/v1/alerts/99999999"),
        (f"/api/v1/alerts/{county.alert_b}/events", "/api/v1/alerts/99999999/events"),
    ):
        theirs = await client.get(path, params=why, headers=a)
        missing = await client.get(nowhere, params=why, headers=a)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["detail"].split()[:2] == missing.json()["detail"].split()[:2]
    step = await client.post(f"/api/v1/alerts/{county.alert_b}/acknowledge", headers=a)
    assert step.status_code == 404
    listed = await client.get("/api/v1/alerts", params={"subject_id": county.subject_b}, headers=a)
    assert listed.json() == []
    b = await signed_in(client, county, "officer-b")
    b_alert = (await client.get(f"/api/v1/alerts/{county.alert_b}", headers=b)).json()
    assert b_alert["state"] == "open"  # officer A's attempt changed nothing


async def test_a_county_user_sees_the_county(client: httpx.AsyncClient, county: County) -> None:
    supervisor = await signed_in(client, county, "county-supervisor")
    subjects = {s["id"] for s in (await client.get("/api/v1/subjects", headers=supervisor)).json()}
    assert subjects == {county.subject_a, county.subject_b}
    alerts = {x["id"] for x in (await client.get("/api/v1/alerts", headers=supervisor)).json()}
    assert {county.alert_a, county.alert_b} <= alerts
    step = await client.post(f"/api/v1/alerts/{county.alert_b}/acknowledge", headers=supervisor)
    assert step.status_code == 200


async def test_an_auditor_reads_but_does_not_act(client: httpx.AsyncClient, county: County) -> None:
    auditor = await signed_in(client, county, "auditor-a")
    assert (await client.get(f"/api/v1/alerts/{county.alert_a}", headers=auditor)).is_success
    step = await client.post(f"/api/v1/alerts/{county.alert_a}/acknowledge", headers=auditor)
    assert step.status_code == 403
    assert step.json() == {"detail": "an auditor reads; acting is for officers"}
    # Scoped like anyone of office A.
    assert (
        await client.get(f"/api/v1/alerts/{county.alert_b}", headers=auditor)
    ).status_code == 404
