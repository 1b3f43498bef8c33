"""Reading locations against the real PostgreSQL: every read states a purpose and leaves an
audit row (who, whose, which range, why); a long trail is downsampled; auditors read the
trail of reads, and nobody can change it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

import alerts
import store
from api import hash_password
from domain import AlertKind, Finding
from tests.helpers import bearer, seed_subject, sign_in

if TYPE_CHECKING:
    import httpx
    from psycopg_pool import AsyncConnectionPool

START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


async def _subject_with_fixes(pool: AsyncConnectionPool[Any], code: str) -> int:
    """A subject with 100 fixes a minute apart from START; accuracy cycles 5, 10, ... 50 m."""
    seeded = await seed_subject(pool, code=code)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO fixes (time, subject_id, device_id, lon, lat, accuracy, source,"
            " received_at)"
            " SELECT %s + make_interval(mins => i), s.id, d.id, 104.0, 30.6, 5 * (1 + i %% 10),"
            " 'gnss', now() FROM generate_series(0, 99) i, subjects s"
            " JOIN devices d ON d.subject_id = s.id WHERE s.id = %s",
            (START, seeded.subject_id),
        )
    return seeded.subject_id


async def _reads(
    pool: AsyncConnectionPool[Any], subject_id: int
) -> list[store.audit.LocationReadRow]:
    async with pool.connection() as conn:
        return await store.audit.location_reads(
            conn, offices=None, subject_id=subject_id, limit=100
        )


async def test_latest_positions_need_a_purpose_and_are_recorded(
    api: httpx.AsyncClient, pool: AsyncConnectionPool[Any]
) -> None:
    subject = await _subject_with_fixes(pool, "loc-latest")
    path = f"/api/v1/subjects/{subject}/fixes"
    missing = await api.get(path)
    assert missing.status_code == 422
    assert missing.json() == {"detail": "query.purpose: Field required"}
    assert (await api.get(path, params={"purpose": "ok"})).status_code == 422  # too short
    assert await _reads(pool, subject) == []  # refused reads read nothing
    got = await api.get(path, params={"purpose": "alert 17: where is he now", "limit": 3})
    assert got.status_code == 200
    assert len(got.json()) == 3
    (read,) = await _reads(pool, subject)
    assert (read.username, read.what, read.purpose, read.fixes) == (
        "officer",
        "latest",
        "alert 17: where is he now",
        3,
    )
    assert (read.from_time, read.to_time) == (None, None)


async def test_a_trail_is_downsampled_to_the_most_accurate_fix_per_span_and_recorded(
    api: httpx.AsyncClient, pool: AsyncConnectionPool[Any]
) -> None:
    subject = await _subject_with_fixes(pool, "loc-trail")
    since, until = START, START + timedelta(minutes=100)
    trail = await api.get(
        f"/api/v1/subjects/{subject}/trail",
        params={
            "purpose": "court report: week of 2026-11-16",
            "since": since.isoformat(),
            "until": until.isoformat(),
            "max_points": 10,
        },
    )
    assert trail.status_code == 200
    body = trail.json()
    assert body["fixes_in_range"] == 100
    points = body["points"]
    # Ten spans of ten minutes; in each, the fix at minute 0 of the span is 5 m accurate.
    assert [p["accuracy"] for p in points] == [5.0] * 10
    times = [datetime.fromisoformat(p["time"]) for p in points]
    assert times == [START + timedelta(minutes=10 * k) for k in range(10)]
    assert {p["source"] for p in points} == {"gnss"}
    (read,) = await _reads(pool, subject)
    assert (read.what, read.from_time, read.to_time, read.fixes) == ("trail", since, until, 10)


async def test_a_trail_holding_fewer_fixes_than_asked_for_is_not_thinned(
    api: httpx.AsyncClient, pool: AsyncConnectionPool[Any]
) -> None:
    """100 fixes in a month, 2,000 points asked for (the default): all 100."""
    subject = await _subject_with_fixes(pool, "loc-sparse")
    trail = await api.get(
        f"/api/v1/subjects/{subject}/trail",
        params={
            "purpose": "court report: the month",
            "since": (START - timedelta(days=15)).isoformat(),
            "until": (START + timedelta(days=15)).isoformat(),
        },
    )
    assert trail.status_code == 200
    body = trail.json()
    assert (body["fixes_in_range"], len(body["points"])) == (100, 100)
    times = [p["time"] for p in body["points"]]
    assert times == sorted(times)


async def test_a_bad_trail_request_says_what_is_wrong(
    api: httpx.AsyncClient, pool: AsyncConnectionPool[Any]
) -> None:
    subject = await _subject_with_fixes(pool, "loc-bad")
    path = f"/api/v1/subjects/{subject}/trail"
    why = "checking a report"
    backwards = await api.get(
        path,
        params={"purpose": why, "since": "2026-11-20T10:00:00Z", "until": "2026-11-20T09:00:00Z"},
    )
    assert backwards.status_code == 422
    assert backwards.json() == {"detail": "until must be after since"}
    naive = await api.get(
        path, params={"purpose": why, "since": "2026-11-20T09:00:00", "until": "2026-11-20T10:00"}
    )
    assert naive.status_code == 422
    assert "timezone" in str(naive.json()["detail"])
    number = await api.get(path, params={"purpose": why, "since": "0.5", "until": "1e9"})
    assert number.status_code == 422
    assert "RFC 3339" in str(number.json()["detail"])
    assert await _reads(pool, subject) == []


async def test_auditors_read_the_trail_of_reads_and_nobody_rewrites_it(
    api: httpx.AsyncClient, pool: AsyncConnectionPool[Any]
) -> None:
    subject = await _subject_with_fixes(pool, "loc-audit")
    await api.get(f"/api/v1/subjects/{subject}/fixes", params={"purpose": "night check"})
    assert (await api.get("/api/v1/audit/location-reads")).status_code == 403  # an officer
    async with pool.connection() as conn:
        await store.users.create_user(
            conn, username="auditor", password_hash=hash_password("audit-pw"), role="auditor"
        )
    token = await sign_in(api, "auditor", "audit-pw")
    reads = await api.get(
        "/api/v1/audit/location-reads",
        params={"subject_id": subject},
        headers=bearer(token),
    )
    assert reads.status_code == 200
    assert [(r["username"], r["purpose"]) for r in reads.json()] == [("officer", "night check")]
    async with pool.connection() as conn:
        for statement in (
            "UPDATE location_reads SET purpose = 'nothing to see'",
            "DELETE FROM location_reads",
            "TRUNCATE location_reads",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                async with conn.transaction():
                    await conn.execute(statement)


async def test_where_an_alert_happened_is_a_location_read(
    api: httpx.AsyncClient, pool: AsyncConnectionPool[Any]
) -> None:
    """Lists and single alerts carry no coordinates; /alerts/{id}/location does, for a
    stated purpose, on the record."""
    seeded = await seed_subject(pool, code="loc-alert")
    async with pool.connection() as conn:
        (change,) = await alerts.notices.record_findings(
            conn,
            [
                Finding(
                    AlertKind.ZONE_EXIT,
                    seeded.subject_id,
                    START.timestamp(),
                    "out",
                    lon=104.1,
                    lat=30.7,
                )
            ],
            actor="test",
        )
    alert_id = change.alert_id
    listed = await api.get("/api/v1/alerts", params={"subject_id": seeded.subject_id})
    (one,) = listed.json()
    assert "lon" not in one
    assert "lat" not in one
    assert "lon" not in (await api.get(f"/api/v1/alerts/{alert_id}")).json()
    path = f"/api/v1/alerts/{alert_id}/location"
    assert (await api.get(path)).status_code == 422  # no purpose, no read
    assert await _reads(pool, seeded.subject_id) == []
    where = await api.get(path, params={"purpose": "sending a patrol to the exit"})
    assert where.status_code == 200
    assert (where.json()["lon"], where.json()["lat"]) == (104.1, 30.7)
    (read,) = await _reads(pool, seeded.subject_id)
    assert (read.what, read.purpose, read.fixes) == ("alert", "sending a patrol to the exit", 1)
