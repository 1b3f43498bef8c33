"""The schema and queries against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alerts
import store
from domain import (
    AlertKind,
    AlertState,
    Finding,
    FixBatch,
    FixSource,
    LastFix,
    OneOffWindow,
    RunState,
    Schedule,
    SeparationState,
    WeeklyWindow,
    ZoneRole,
)
from store.fixes import stamps
from tests.helpers import seed_subject

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool


async def test_migrations_are_recorded_and_applied_once(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        assert await store.migrate.migrate(conn) == []
        cur = await conn.execute("SELECT version, name FROM schema_migrations")
        recorded = await cur.fetchall()
    files = sorted(p.name for p in (Path(store.__file__).parent / "migrations").glob("*.sql"))
    assert [name for _, name in recorded] == files
    assert [version for version, _ in recorded] == list(range(1, len(files) + 1))


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
        mock=np.zeros(n, np.bool_),
    )


async def test_copy_stores_each_fix_once_and_reads_back_newest_first(
    pool: AsyncConnectionPool[Any],
) -> None:
    seeded = await seed_subject(pool, code="store-copy")
    async with pool.connection() as conn:
        devices = {d.code: d.id for d in await store.devices.load_devices(conn)}
        batch = batch_of(seeded.subject_id, devices["store-copy"], [1.7e9, 1.7e9 + 5, 1.7e9 + 10])
        async with conn.transaction():
            assert await store.fixes.copy_fixes(conn, batch) == 3
        async with conn.transaction():
            assert await store.fixes.copy_fixes(conn, batch) == 0
        rows = await store.fixes.last_fixes(conn, subject_id=seeded.subject_id, limit=10)
    assert [r.seq for r in rows] == [2, 1, 0]
    assert rows[-1].battery is None
    assert rows[0].source == "wifi"
    assert rows[0].device_code == "store-copy"


async def test_a_condition_opens_one_alert_repeats_count_and_clearing_is_recorded(
    pool: AsyncConnectionPool[Any],
) -> None:
    seeded = await seed_subject(pool, code="store-alert")

    def finding(t: float, *, cleared: bool = False) -> Finding:
        return Finding(
            kind=AlertKind.ZONE_EXIT,
            subject_id=seeded.subject_id,
            time=t,
            message="back inside" if cleared else "left the inclusion zone: 80 m outside",
            assignment_id=seeded.assignment_id,
            lon=104.0,
            lat=30.6,
            cleared=cleared,
        )

    async with pool.connection() as conn:
        record = alerts.notices.record_findings
        opened = await record(conn, [finding(1.7e9)], actor="test")
        cleared = await record(conn, [finding(1.7e9 + 60, cleared=True)], actor="test")
        late_clear = await record(conn, [finding(1.7e9 + 30, cleared=True)], actor="test")
        again = await record(conn, [finding(1.7e9 + 120)], actor="test")
        rows = await store.alerts.list_alerts(
            conn, states=[AlertState.OPEN], subject_id=seeded.subject_id, limit=10
        )
        events = await store.alerts.alert_events(conn, alert_id=opened[0].alert_id)
    assert [c.action for c in opened + cleared + again] == ["opened", "cleared", "repeated"]
    assert late_clear == []
    assert len({c.alert_id for c in opened + cleared + again}) == 1
    (alert,) = rows
    assert (alert.zone_name, alert.count, alert.condition) == ("zone for store-alert", 2, "active")
    assert alert.last_time == datetime.fromtimestamp(1.7e9 + 120, UTC)
    assert [(e.action, e.actor) for e in events] == [
        ("opened", "test"),
        ("cleared", "test"),
        ("repeated", "test"),
    ]


async def test_alert_history_cannot_be_rewritten(pool: AsyncConnectionPool[Any]) -> None:
    seeded = await seed_subject(pool, code="store-history")
    async with pool.connection() as conn:
        (change,) = await alerts.notices.record_findings(
            conn,
            [Finding(AlertKind.SOS, seeded.subject_id, 1.7e9, "SOS button pressed")],
            actor="test",
        )
    for statement in (
        "UPDATE alert_events SET note = 'edited'",
        "DELETE FROM alert_events",
        "TRUNCATE alert_events CASCADE",
        "DELETE FROM alerts",
    ):
        async with pool.connection() as conn:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                await conn.execute(statement)
    async with pool.connection() as conn:
        events = await store.alerts.alert_events(conn, alert_id=change.alert_id)
    assert [e.note for e in events] == ["SOS button pressed"]


@pytest.mark.parametrize("topic", ["alice/#", "+/phone", "alice/phone\ntopic readwrite #", "a/b/c"])
async def test_an_owntracks_topic_is_plain_names_however_it_is_registered(
    pool: AsyncConnectionPool[Any], topic: str
) -> None:
    """It becomes a line of the broker's ACL: no wildcard, no newline, as the API says."""
    async with pool.connection() as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            await conn.execute(
                "INSERT INTO devices (code, kind, owntracks_topic) VALUES ('ot-sql', 'phone', %s)",
                (topic,),
            )


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
        zone_id = (await store.assignments.load_assignments(conn))[0].zone_id
        new = await store.assignments.assign_zone(
            conn,
            subject_id=seeded.subject_id,
            zone_id=zone_id,
            role=ZoneRole.EXCLUSION,
            schedule=curfew,
        )
        loaded = {a.id: a for a in await store.assignments.load_assignments(conn)}
    assert loaded[new].schedule == curfew
    assert loaded[seeded.assignment_id].schedule.always


async def test_the_registry_version_moves_with_devices_zones_and_assignments(
    pool: AsyncConnectionPool[Any],
) -> None:
    async with pool.connection() as conn:
        before = await store.registry.registry_version(conn)
    seeded = await seed_subject(pool, code="store-version")  # zone, device, assignment
    async with pool.connection() as conn:
        after_seed = await store.registry.registry_version(conn)
        devices = {d.code: d.id for d in await store.devices.load_devices(conn)}
        async with conn.transaction():
            await store.fixes.copy_fixes(
                conn, batch_of(seeded.subject_id, devices["store-version"], [1.7e9])
            )
        after_fix = await store.registry.registry_version(conn)
        await conn.execute("UPDATE devices SET active = false WHERE code = 'store-version'")
        after_update = await store.registry.registry_version(conn)
    assert after_seed >= before + 3
    assert after_fix == after_seed
    assert after_update == after_fix + 1


async def test_zones_are_read_again_only_when_they_changed(
    pool: AsyncConnectionPool[Any],
) -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    async with pool.connection() as conn:
        a = await store.zones.create_zone(conn, name="store-zone a", geometry=square)
        b = await store.zones.create_zone(conn, name="store-zone b", geometry=square)
    async with pool.connection() as conn:
        first = await store.zones.load_zones(conn, known={})
        again = await store.zones.load_zones(conn, known=first)
    bigger = {**square, "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    async with pool.connection() as conn:  # committed apart: a revision is a transaction
        await store.zones.update_zone(conn, zone_id=b, name="store-zone b", geometry=bigger)
        await conn.execute("DELETE FROM zones WHERE id = %s", (a,))
    async with pool.connection() as conn:
        after = await store.zones.load_zones(conn, known=again)
    assert first[a][1].geometry == square
    assert again[a][1] is first[a][1]  # unchanged: not read again, the same object
    assert again[b] == first[b]
    assert a not in after
    assert after[b][0] != again[b][0]
    assert after[b][1].geometry == bigger
    assert {i: z for i, (_, z) in after.items() if i != b} == {
        i: z for i, (_, z) in again.items() if i not in (a, b)
    }


async def test_rule_state_round_trips(pool: AsyncConnectionPool[Any]) -> None:
    seeded = await seed_subject(pool, code="store-rule-state")
    zone = {seeded.assignment_id: RunState(True, 3, True, 1.7e9, 1.7e9 + 20)}
    fresh = RunState()  # -inf times: nothing seen yet
    separation = {
        seeded.subject_id: SeparationState(
            run=fresh, phone=LastFix(1.7e9, 104.0, 30.6, 12.5), wristband=None
        )
    }
    async with pool.connection() as conn:
        await store.rule_state.save_zone_state(conn, zone)
        await store.rule_state.save_separation_state(conn, separation)
        await store.rule_state.save_zone_state(conn, {seeded.assignment_id: fresh})
        zones = await store.rule_state.load_zone_state(conn)
        separations = await store.rule_state.load_separation_state(conn)
    assert zones[seeded.assignment_id] == fresh
    assert separations[seeded.subject_id] == separation[seeded.subject_id]


@settings(max_examples=500)
@given(st.floats(min_value=0.0, max_value=4_102_444_800.0))  # up to 2100
def test_copy_timestamps_round_like_datetime(t: float) -> None:
    """COPY text and the rules (via datetime) must name the same microsecond, or an alert's
    fix time would not match its fix."""
    (text,) = stamps(np.array([t]))
    assert datetime.fromisoformat(text) == datetime.fromtimestamp(t, UTC)


async def test_counts_of_wrong_passwords_that_hold_nobody_off_are_forgotten(
    pool: AsyncConnectionPool[Any],
) -> None:
    """A guesser's typed names would otherwise pile up for ever."""
    async with pool.connection() as conn:
        await store.sessions.login_failed(
            conn, username="sprayed-old", source="10.0.0.9", max_failures=5, lockout_s=900
        )
        await store.sessions.login_failed(
            conn, username="sprayed-new", source="10.0.0.9", max_failures=5, lockout_s=900
        )
        await conn.execute(
            "UPDATE login_throttle SET updated_at = now() - interval '1 hour'"
            " WHERE username IN ('sprayed-old', '')"
        )
        assert await store.sessions.forget_failures(conn, older_than_s=900) == 2
        cur = await conn.execute("SELECT username FROM login_throttle ORDER BY username")
        assert await cur.fetchall() == [("sprayed-new",)]
