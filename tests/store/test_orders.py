"""Orders, extensions, leaves and device bindings in the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

import store
from domain import DeviceKind, OrderError
from tests.helpers import seed_subject

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

START = datetime(2026, 9, 1, tzinfo=UTC)


async def test_an_order_is_extended_in_steps_of_at_most_three_months(
    pool: AsyncConnectionPool[Any],
) -> None:
    seeded = await seed_subject(pool, code="orders-extend", order=False)
    async with pool.connection() as conn:
        order = await store.orders.create_order(
            conn,
            subject_id=seeded.subject_id,
            approved_by="head",
            reason="strict supervision",
            starts_at=START,
            ends_at=START + timedelta(days=90),
            actor="supervisor",
        )
        with pytest.raises(OrderError, match="at most 3 months"):
            await store.orders.extend_order(
                conn,
                order_id=order,
                approved_by="head",
                reason="review",
                ends_at=START + timedelta(days=90 + 93),
                actor="supervisor",
            )
        await store.orders.extend_order(
            conn,
            order_id=order,
            approved_by="head",
            reason="reviewed: still needed",
            ends_at=START + timedelta(days=150),
            actor="supervisor",
        )
        (loaded,) = [o for o in await store.orders.load_orders(conn) if o.id == order]
    assert loaded.ends == (START + timedelta(days=150)).timestamp()


async def test_the_table_refuses_a_period_longer_than_three_months(
    pool: AsyncConnectionPool[Any],
) -> None:
    """Even a writer that skips the check cannot store an unlawful period."""
    seeded = await seed_subject(pool, code="orders-check", order=False)
    async with pool.connection() as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            await conn.execute(
                "INSERT INTO monitoring_orders"
                " (subject_id, approved_by, reason, starts_at, ends_at, created_by)"
                " VALUES (%s, 'head', 'x', %s, %s, 'x')",
                (seeded.subject_id, START, START + timedelta(days=100)),
            )


async def test_a_device_keeps_the_history_of_whom_it_was_bound_to(
    pool: AsyncConnectionPool[Any],
) -> None:
    first = await seed_subject(pool, code="bind-a")
    second = await seed_subject(pool, code="bind-b")
    async with pool.connection() as conn:
        band = await store.devices.create_device(
            conn,
            code="bind-band",
            kind=DeviceKind.WRISTBAND,
            subject_id=first.subject_id,
            actor="supervisor-a",
        )
        await store.devices.bind_device(
            conn, device_id=band, subject_id=second.subject_id, actor="supervisor-b"
        )
        history_a = await store.devices.device_bindings(conn, subject_id=first.subject_id)
        history_b = await store.devices.device_bindings(conn, subject_id=second.subject_id)
        (device,) = [d for d in await store.devices.load_devices(conn) if d.id == band]
    assert device.subject_id == second.subject_id
    band_a = [b for b in history_a if b.device_code == "bind-band"]
    assert [(b.bound_by, b.unbound_by) for b in band_a] == [("supervisor-a", "supervisor-b")]
    band_b = [b for b in history_b if b.device_code == "bind-band"]
    assert [(b.bound_by, b.unbound_at) for b in band_b] == [("supervisor-b", None)]


async def test_an_approved_leave_suspends_the_district_and_applies_its_destination(
    pool: AsyncConnectionPool[Any],
) -> None:
    seeded = await seed_subject(pool, code="leave-store")
    async with pool.connection() as conn:
        zone = await store.zones.create_zone(
            conn,
            name="Chengdu",
            geometry={"type": "Circle", "center": [104.06, 30.67], "radius_m": 20_000.0},
        )
        leave = await store.leaves.request_leave(
            conn,
            subject_id=seeded.subject_id,
            destination_zone_id=zone,
            starts_at=START,
            ends_at=START + timedelta(days=3),
            reason="mother in hospital",
            actor="officer",
        )
        await store.leaves.decide_leave(conn, leave_id=leave, approve=True, actor="supervisor")
        with pytest.raises(OrderError, match="not waiting"):
            await store.leaves.decide_leave(conn, leave_id=leave, approve=False, actor="supervisor")
        mine = [
            a
            for a in await store.assignments.load_assignments(conn)
            if a.subject_id == seeded.subject_id
        ]
    by_id = {a.id: a for a in mine}
    district = by_id[seeded.assignment_id]
    (destination,) = [a for a in mine if a.leave_id == leave]
    assert [(w.start, w.end) for w in district.schedule.suspended] == [
        (START, START + timedelta(days=3))
    ]
    assert [(w.start, w.end) for w in destination.schedule.once] == [
        (START, START + timedelta(days=3))
    ]
    assert destination.zone_id == zone


async def test_two_leaves_to_the_same_place_are_both_approved(
    pool: AsyncConnectionPool[Any],
) -> None:
    """A subject visits the same city twice (each leave applies its own window there), or
    goes on leave inside a zone it already has: each approval stands on its own."""
    seeded = await seed_subject(pool, code="leave-twice")
    async with pool.connection() as conn:
        zone = await store.zones.create_zone(
            conn,
            name="Chengdu again",
            geometry={"type": "Circle", "center": [104.06, 30.67], "radius_m": 20_000.0},
        )
        home = (await store.assignments.list_assignments(conn, subject_id=seeded.subject_id))[0]
        leaves = []
        for destination, days in ((zone, 0), (zone, 10), (home.zone_id, 20)):
            leave = await store.leaves.request_leave(
                conn,
                subject_id=seeded.subject_id,
                destination_zone_id=destination,
                starts_at=START + timedelta(days=days),
                ends_at=START + timedelta(days=days + 2),
                reason="a visit",
                actor="officer",
            )
            await store.leaves.decide_leave(conn, leave_id=leave, approve=True, actor="head")
            leaves.append(leave)
        destinations = {
            a.leave_id: a.zone_id
            for a in await store.assignments.load_assignments(conn)
            if a.subject_id == seeded.subject_id and a.leave_id is not None
        }
    assert destinations == dict(zip(leaves, [zone, zone, home.zone_id], strict=True))
