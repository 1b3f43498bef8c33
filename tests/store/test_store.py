"""The schema and queries against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg

import store
from domain import (
    AlertKind,
    AlertState,
    FixBatch,
    FixSource,
    NewAlert,
    OneOffWindow,
    Schedule,
    Severity,
    WeeklyWindow,
    ZoneRole,
)
from tests.helpers import seed_subject

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool


async def test_migrations_are_recorded_and_applied_once(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        assert await store.migrate(conn) == []
        cur = await conn.execute("SELECT version, name FROM schema_migrations")
        assert await cur.fetchall() == [
            (1, "0001_foundation.sql"),
            (2, "0002_assignment_schedules.sql"),
            (3, "0003_registry_version.sql"),
            (4, "0004_owntracks_devices.sql"),
            (5, "0005_device_http_passwords.sql"),
            (6, "0006_device_events.sql"),
        ]


def batch_of(subject: int, device: int, times: list[float]) -> FixBatch:
    n = len(times)
    return FixBatch(
        subject=np.full(n, subject, np.int64),
        device=np.full(n, device, np.int64),
        time=np.array(times),
        lon=np.full(n, 104.0),
        lat=np.full(n, 30.6),
        accuracy=np.full(n, 5.0),
        source=[FixSource.WIFI] * n,
        battery=np.array([-1] + [50] * (n - 1), np.int16),
        seq=np.arange(n, dtype=np.int64),
        received=np.array(times) + 0.5,
    )


async def test_copy_stores_each_fix_once_and_reads_back_newest_first(
    pool: AsyncConnectionPool[Any],
) -> None:
    seeded = await seed_subject(pool, code="store-copy")
    async with pool.connection() as conn:
        devices = {d.code: d.id for d in await store.load_devices(conn)}
        batch = batch_of(seeded.subject_id, devices["store-copy"], [1.7e9, 1.7e9 + 5, 1.7e9 + 10])
        async with conn.transaction():
            assert await store.copy_fixes(conn, batch) == 3
        async with conn.transaction():
            assert await store.copy_fixes(conn, batch) == 0
        rows = await store.last_fixes(conn, subject_id=seeded.subject_id, limit=10)
    assert [r.seq for r in rows] == [2, 1, 0]
    assert rows[-1].battery is None
    assert rows[0].source == "wifi"
    assert rows[0].device_code == "store-copy"


async def test_one_live_alert_per_assignment_and_kind(pool: AsyncConnectionPool[Any]) -> None:
    seeded = await seed_subject(pool, code="store-alert")
    alert = NewAlert(
        kind=AlertKind.ZONE_EXIT,
        severity=Severity.HIGH,
        subject_id=seeded.subject_id,
        assignment_id=seeded.assignment_id,
        fix_time=1.7e9,
        lon=104.0,
        lat=30.6,
        message="left the inclusion zone: 80 m outside",
    )
    async with pool.connection() as conn:
        first = await store.open_alerts(conn, [alert], actor="test")
        again = await store.open_alerts(conn, [alert], actor="test")
        assert len(first) == 1
        assert again == []
        assert await store.live_alert_assignments(conn) >= {seeded.assignment_id}
        rows = await store.list_alerts(
            conn, states=[AlertState.OPEN], subject_id=seeded.subject_id, limit=10
        )
        cur = await conn.execute(
            "SELECT action, actor FROM alert_events WHERE alert_id = %s", (first[0],)
        )
        assert await cur.fetchall() == [("opened", "test")]
    assert [(r.id, r.zone_name) for r in rows] == [(first[0], "zone for store-alert")]


async def test_schedules_round_trip(pool: AsyncConnectionPool[Any]) -> None:
    seeded = await seed_subject(pool, code="store-schedule")
    curfew = Schedule(
        timezone="Asia/Shanghai",
        weekly=(WeeklyWindow((0, 1, 2, 3, 4), time(22, 0), time(6, 0)),),
        once=(
            OneOffWindow(
                datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2026, 12, 3, 20, tzinfo=UTC)
            ),
        ),
    )
    async with pool.connection() as conn:
        zone_id = (await store.load_assignments(conn))[0].zone_id
        new = await store.assign_zone(
            conn,
            subject_id=seeded.subject_id,
            zone_id=zone_id,
            role=ZoneRole.EXCLUSION,
            schedule=curfew,
        )
        loaded = {a.id: a for a in await store.load_assignments(conn)}
    assert loaded[new].schedule == curfew
    assert loaded[seeded.assignment_id].schedule.always


async def test_the_registry_version_moves_with_devices_zones_and_assignments(
    pool: AsyncConnectionPool[Any],
) -> None:
    async with pool.connection() as conn:
        before = await store.registry_version(conn)
    seeded = await seed_subject(pool, code="store-version")  # zone, device, assignment
    async with pool.connection() as conn:
        after_seed = await store.registry_version(conn)
        devices = {d.code: d.id for d in await store.load_devices(conn)}
        async with conn.transaction():
            await store.copy_fixes(
                conn, batch_of(seeded.subject_id, devices["store-version"], [1.7e9])
            )
        after_fix = await store.registry_version(conn)
        await conn.execute("UPDATE devices SET active = false WHERE code = 'store-version'")
        after_update = await store.registry_version(conn)
    assert after_seed >= before + 3
    assert after_fix == after_seed
    assert after_update == after_fix + 1
