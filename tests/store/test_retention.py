"""Retention in the real PostgreSQL: an order's fixes go once the order has been over for the
configured age, extensions counted; a fix also inside a newer order's period stays; alerts
stay; each purge is on record once, and the auditors can read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

import alerts
import store
from api import create_app, hash_password
from domain import AlertKind, Finding
from tests.helpers import bearer, seed_subject, sign_in

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

DAY = 86400.0
NOW = datetime.now(UTC)


async def _order(
    pool: AsyncConnectionPool[Any], subject_id: int, start_days_ago: float, days: float
) -> int:
    start = NOW - timedelta(days=start_days_ago)
    async with pool.connection() as conn:
        return await store.orders.create_order(
            conn,
            subject_id=subject_id,
            approved_by="head",
            reason="test",
            starts_at=start,
            ends_at=start + timedelta(days=days),
            actor="test",
        )


async def _fixes_at(pool: AsyncConnectionPool[Any], subject_id: int, days_ago: list[float]) -> None:
    """One fix per day in `days_ago`, of the subject's device, a stay begun there, and the
    newest as position."""
    async with pool.connection() as conn:
        for ago in days_ago:
            await conn.execute(
                "INSERT INTO fixes (time, subject_id, device_id, lon, lat, accuracy, source,"
                " received_at) SELECT %s, s.id, d.id, 104.0, 30.6, 10, 'gnss', now()"
                " FROM subjects s JOIN devices d ON d.subject_id = s.id WHERE s.id = %s",
                (NOW - timedelta(days=ago), subject_id),
            )
            await conn.execute(
                "INSERT INTO stays (subject_id, starts_at, ends_at, lon, lat, radius_m, fixes)"
                " VALUES (%s, %s, %s, 104.0, 30.6, 20, 2)",
                (subject_id, NOW - timedelta(days=ago), NOW - timedelta(days=ago - 0.01)),
            )
        await conn.execute(
            "INSERT INTO device_positions (device_id, subject_id, time, lon, lat, accuracy,"
            " source, received_at) SELECT d.id, s.id, %s, 104.0, 30.6, 10, 'gnss', now()"
            " FROM subjects s JOIN devices d ON d.subject_id = s.id WHERE s.id = %s"
            " ON CONFLICT (device_id) DO UPDATE SET time = excluded.time",
            (NOW - timedelta(days=min(days_ago)), subject_id),
        )


async def _days_left(
    pool: AsyncConnectionPool[Any], subject_id: int, table: str = "fixes", time: str = "time"
) -> list[int]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            f"SELECT round(extract(epoch FROM now() - {time}) / 86400)::int FROM {table}"
            " WHERE subject_id = %s ORDER BY 1 DESC",
            (subject_id,),
        )
        return [int(r[0]) for r in await cur.fetchall()]


async def test_fixes_go_when_the_order_has_been_over_long_enough(
    pool: AsyncConnectionPool[Any],
) -> None:
    age_s = 180 * DAY
    old = await seed_subject(pool, code="retention-old", order=False)
    renewed = await seed_subject(pool, code="retention-renewed", order=False)
    # old: an order from 400 to 320 days ago, extended to 300 days ago: over 300 days.
    order = await _order(pool, old.subject_id, 400, 80)
    async with pool.connection() as conn:
        await store.orders.extend_order(
            conn,
            order_id=order,
            approved_by="head",
            reason="review",
            ends_at=NOW - timedelta(days=300),
            actor="test",
        )
        await store.subscriptions.create_subscription(
            conn,
            url="https://cases.example.org/retention",
            secret="a-secret-of-enough-length",
            office_id=None,
            kinds=["tamper"],
            min_severity="normal",
            actor="test",
        )
        (alert,) = await alerts.notices.record_findings(
            conn,
            [
                Finding(
                    AlertKind.TAMPER,
                    old.subject_id,
                    (NOW - timedelta(days=310)).timestamp(),
                    "x",
                    lon=104.0,
                    lat=30.6,
                )
            ],
            actor="test",
        )
    await _fixes_at(pool, old.subject_id, [390, 310])
    # renewed: one order over 250 days ago, a second one from 255 days ago over only 165 days
    # ago (within the age): the fix 252 days ago is in both, and stays.
    await _order(pool, renewed.subject_id, 330, 80)
    await _order(pool, renewed.subject_id, 255, 90)
    await _fixes_at(pool, renewed.subject_id, [320, 252, 200])

    async with pool.connection() as conn:
        purges = await store.retention.purge_expired_fixes(conn, age_s=age_s)
        assert await store.retention.purge_expired_fixes(conn, age_s=age_s) == []  # once only
    done = {p.subject_id: p for p in purges if p.subject_id in (old.subject_id, renewed.subject_id)}
    assert done[old.subject_id].fixes_deleted == 2
    assert done[old.subject_id].period_end == NOW - timedelta(days=300)  # after the extension
    assert done[renewed.subject_id].fixes_deleted == 1
    assert await _days_left(pool, old.subject_id) == []
    assert await _days_left(pool, renewed.subject_id) == [252, 200]
    assert await _days_left(pool, old.subject_id, "stays", "starts_at") == []
    assert await _days_left(pool, renewed.subject_id, "stays", "starts_at") == [252, 200]
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT subject_id FROM device_positions WHERE subject_id = ANY(%s)",
            ([old.subject_id, renewed.subject_id],),
        )
        assert [r[0] for r in await cur.fetchall()] == [renewed.subject_id]
        cur = await conn.execute(
            "SELECT count(*) FROM alerts WHERE subject_id = %s", (old.subject_id,)
        )
        assert await cur.fetchone() == (1,)  # alerts are kept, where they happened not
        cur = await conn.execute(
            "SELECT a.lon, a.lat, x.body -> 'alert' ? 'lon', x.body -> 'alert' ->> 'kind'"
            " FROM alerts a JOIN alert_events e ON e.alert_id = a.id"
            " JOIN outbox x ON x.event_id = e.id WHERE a.id = %s",
            (alert.alert_id,),
        )
        assert await cur.fetchall() == [(None, None, False, "tamper")]
        await store.users.create_user(
            conn,
            username="retention-auditor",
            password_hash=hash_password("auditor-password"),
            role="auditor",
        )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(pool)), base_url="http://ccmon"
    ) as client:
        token = await sign_in(client, "retention-auditor", "auditor-password")
        listed = (await client.get("/api/v1/audit/purges", headers=bearer(token))).json()
    assert {(p["order_id"], p["fixes_deleted"]) for p in listed} >= {(order, 2)}


async def test_quarantine_goes_at_the_same_age(pool: AsyncConnectionPool[Any]) -> None:
    """Raw device input may hold anyone's position: kept no longer than fixes."""
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO quarantine (received_at, topic, payload, reason) VALUES"
            " (now() - interval '200 days', 'retention/old', '{}', 'old'),"
            " (now(), 'retention/new', '{}', 'new')"
        )
        assert await store.retention.purge_quarantine(conn, age_s=180 * DAY) == 1
        cur = await conn.execute("SELECT topic FROM quarantine WHERE topic LIKE 'retention/%'")
        assert await cur.fetchall() == [("retention/new",)]


async def test_a_protected_persons_positions_go_at_the_same_age_from_when_taken(
    pool: AsyncConnectionPool[Any],
) -> None:
    """Nobody's sentence: a protected person's fixes and the rule's remembered track of them
    are kept for the age from when they were taken."""
    old, new = NOW.timestamp() - 200 * DAY, NOW.timestamp()
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO protected_fixes (time, protected_person_id, device_id, lon, lat,"
            " accuracy, source, received_at) VALUES"
            " (to_timestamp(%(old)s), -1, -1, 104, 30, 10, 'gnss', now()),"
            " (to_timestamp(%(new)s), -1, -1, 104, 30, 10, 'gnss', now())",
            {"old": old, "new": new},
        )
        await conn.execute(
            "INSERT INTO party_tracks (party, track) VALUES (-900001, %s), (-900002, %s)",
            ([old, 104.0, 30.0, 10.0], [new, 104.0, 30.0, 10.0]),
        )
        assert await store.retention.purge_protected_positions(conn, age_s=180 * DAY) == 1
        cur = await conn.execute(
            "SELECT extract(epoch FROM time) FROM protected_fixes WHERE device_id = -1"
        )
        assert [round(float(t)) for (t,) in await cur.fetchall()] == [round(new)]
        cur = await conn.execute("SELECT party FROM party_tracks WHERE party < -900000")
        assert await cur.fetchall() == [(-900002,)]
