"""Orders and leaves through the real parts: nothing stored outside an order, a leave that
moves the zone and ends overdue, a reminder before an order ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import store
from tests.helpers import offset, seed_subject, until
from tests.running import live_alerts, processed, publish, walk

if TYPE_CHECKING:
    import httpx
    from psycopg_pool import AsyncConnectionPool

    from ingest import Pipeline
    from tests.conftest import Broker


async def _tables_holding(pool: AsyncConnectionPool[Any], text: str) -> list[str]:
    """Every table.column of the database whose value holds `text` (bytes included)."""
    found = []
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        )
        for table, column, kind in await cur.fetchall():
            holds = (
                f'position(%s::bytea IN "{column}") > 0'
                if kind == "bytea"
                else f'"{column}"::text LIKE %s'
            )
            value = text.encode() if kind == "bytea" else f"%{text}%"
            hit = await conn.execute(
                f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE {holds})',
                (value,),
            )
            row = await hit.fetchone()
            if row and row[0]:
                found.append(f"{table}.{column}")
    return found


async def test_a_subject_outside_an_order_leaves_no_position_anywhere(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    """Art. 29: its fixes, a batch of them and a device event arrive; afterwards no table
    of the database holds the position in any column, as a number or in raw bytes."""
    seeded = await seed_subject(pool, code="orders-nowhere", order=False)
    await pipeline.refresh()
    topic = f"cc/v1/devices/{seeded.device_code}/fix"
    fix = {"lat": 30.6543219, "lon": 104.1234567, "accuracy": 9, "source": "gnss"}
    now = datetime.now(UTC)
    single = {**fix, "time": now.isoformat()}
    batch = [{**fix, "time": (now - timedelta(seconds=s)).isoformat()} for s in (5, 10)]
    status = {"time": now.isoformat(), "event": "strap_cut"}
    await publish(
        mosquitto,
        [
            (topic, json.dumps(single).encode()),
            (topic, json.dumps(batch).encode()),
            (f"cc/v1/devices/{seeded.device_code}/status", json.dumps(status).encode()),
        ],
    )
    await until(lambda: processed(pipeline, 3), what="the messages handled")
    assert "devices.code" in await _tables_holding(pool, seeded.device_code)  # it looks
    assert await _tables_holding(pool, "30.654321") == []
    assert await _tables_holding(pool, "104.123456") == []
    async with pool.connection() as conn:  # that it happened is on record
        cur = await conn.execute(
            "SELECT count(*) FROM quarantine WHERE topic LIKE %s AND reason LIKE %s",
            (f"cc/v1/devices/{seeded.device_code}/%", "no active order%"),
        )
        assert await cur.fetchone() == (3,)


async def test_outside_an_active_order_nothing_is_stored_and_nothing_alerts(
    pool: AsyncConnectionPool[Any],
    mosquitto: Broker,
    pipeline: Pipeline,
    admin_api: httpx.AsyncClient,
) -> None:
    seeded = await seed_subject(pool, code="orders-none", order=False)
    await pipeline.refresh()
    await publish(mosquitto, walk(seeded, [1500.0, 1600.0, 1700.0]))
    await until(lambda: processed(pipeline, 3), what="the fixes handled")
    async with pool.connection() as conn:
        assert await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=10) == []
    assert await live_alerts(pool, seeded.subject_id) == []
    quarantined = (
        await admin_api.get("/api/v1/quarantine", params={"purpose": "why no fixes arrive"})
    ).json()
    mine = [q for q in quarantined if q["topic"] == f"cc/v1/devices/{seeded.device_code}/fix"]
    assert len(mine) == 3
    assert all(
        q["reason"].startswith(f"no active order: subject {seeded.subject_id}") for q in mine
    )

    async with pool.connection() as conn:
        await store.orders.create_order(
            conn,
            subject_id=seeded.subject_id,
            approved_by="bureau head",
            reason="approved today",
            starts_at=datetime.now(UTC) - timedelta(minutes=5),
            ends_at=datetime.now(UTC) + timedelta(days=30),
            actor="supervisor",
        )
    await pipeline.refresh()
    await publish(mosquitto, walk(seeded, [0.0]))
    await until(lambda: processed(pipeline, 4), what="the fix under the new order")
    async with pool.connection() as conn:
        assert len(await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=10)) == 1


async def test_on_leave_the_destination_applies_and_a_late_return_is_overdue(
    pool: AsyncConnectionPool[Any], mosquitto: Broker, pipeline: Pipeline
) -> None:
    seeded = await seed_subject(pool, code="orders-leave")
    destination = offset(8000.0, 0.0)
    now = datetime.now(UTC)
    async with pool.connection() as conn:
        zone = await store.zones.create_zone(
            conn,
            name="hospital town",
            geometry={"type": "Circle", "center": list(destination), "radius_m": 1000.0},
        )
        leave = await store.leaves.request_leave(
            conn,
            subject_id=seeded.subject_id,
            destination_zone_id=zone,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(seconds=3),
            reason="mother in hospital",
            actor="officer",
        )
        await store.leaves.decide_leave(conn, leave_id=leave, approve=True, actor="supervisor")
    await pipeline.refresh()
    # At the destination, 8 km outside the district: allowed during the leave.
    await publish(mosquitto, walk(seeded, [8000.0, 8100.0, 8050.0]))
    await until(lambda: processed(pipeline, 3), what="the fixes on leave")
    assert await live_alerts(pool, seeded.subject_id) == []

    # Still there when the leave ends.
    await until(lambda: _has_alert(pool, seeded.subject_id), what="the overdue alert")
    (overdue,) = await live_alerts(pool, seeded.subject_id)
    assert (overdue.kind, overdue.severity, overdue.condition) == (
        "leave_overdue",
        "high",
        "active",
    )
    assert overdue.zone_name == "hospital town"

    # Back home: the overdue alert records it; no second alert for the same absence.
    await publish(mosquitto, walk(seeded, [100.0, 50.0], step_s=0.01))
    await until(lambda: processed(pipeline, 5), what="the fixes back home")
    (back,) = await live_alerts(pool, seeded.subject_id)
    assert (back.id, back.condition) == (overdue.id, "cleared")


async def _has_alert(pool: AsyncConnectionPool[Any], subject_id: int) -> bool:
    return bool(await live_alerts(pool, subject_id))


async def test_the_supervisor_is_reminded_once_before_an_order_ends(
    pool: AsyncConnectionPool[Any], pipeline: Pipeline
) -> None:
    seeded = await seed_subject(pool, code="orders-remind", order=False)
    async with pool.connection() as conn:
        order = await store.orders.create_order(
            conn,
            subject_id=seeded.subject_id,
            approved_by="bureau head",
            reason="strict supervision",
            starts_at=datetime.now(UTC) - timedelta(days=87),
            ends_at=datetime.now(UTC) + timedelta(days=3),
            actor="supervisor",
        )
    await pipeline.refresh()
    await until(lambda: _has_alert(pool, seeded.subject_id), what="the reminder")
    await pipeline.tick(datetime.now(UTC).timestamp())
    (reminder,) = await live_alerts(pool, seeded.subject_id)
    assert (reminder.kind, reminder.severity, reminder.count) == ("order_ending", "normal", 1)
    assert reminder.message.startswith(f"monitoring order {order} ends")
