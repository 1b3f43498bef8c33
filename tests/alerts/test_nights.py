"""Nights away: the time away against minute sampling (pure), the night around any moment,
and the job over the real PostgreSQL: a night out raises `night_away` once, when the limit
passed, at the stay it was spent at; a night at home, a night under an approved leave and a
subject without a residence raise nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import store
from alerts.nights import away, check
from alerts.places import Night
from domain import DEFAULT_LEVELS, AlertKind, AlertState
from tests.api.test_places import FRIEND, MIDNIGHT, store_zone, subject_with_a_day
from tests.helpers import offset

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

SHANGHAI = ZoneInfo("Asia/Shanghai")
GAP = 3600.0


@settings(max_examples=300)
@given(
    fixes=st.lists(st.tuples(st.integers(0, 600), st.booleans()), max_size=30),
    start=st.integers(0, 600),
    length=st.integers(0, 400),
    gap=st.integers(1, 120),
    limit=st.integers(0, 300),
    leaves=st.lists(st.tuples(st.integers(0, 700), st.integers(1, 200)), max_size=3),
)
def test_time_away_is_the_minutes_whose_latest_fix_is_outside(
    fixes: list[tuple[int, bool]],
    start: int,
    length: int,
    gap: int,
    limit: int,
    leaves: list[tuple[int, int]],
) -> None:
    """Minutes as units: each minute of [start, start + length) counts when the latest fix
    at or before it is outside, at most `gap` minutes old, and no leave covers it."""
    fixes = sorted(dict(fixes).items())  # one fix a minute at most
    time = np.array([t for t, _ in fixes], np.float64)
    outside = np.array([o for _, o in fixes], np.bool_)
    excused = [(float(a), float(a + n)) for a, n in leaves]
    got = away(
        time,
        outside,
        start=start,
        until=start + length,
        max_gap_s=gap,
        limit_s=limit,
        excused=excused,
    )
    counted = []
    for m in range(start, start + length):
        moment = m + 0.5
        before = [i for i, t in enumerate(time) if t <= moment]
        counted.append(
            bool(before)
            and bool(outside[before[-1]])
            and moment - time[before[-1]] < gap
            and not any(a <= moment < b for a, b in excused)
        )
    assert got.seconds == pytest.approx(sum(counted))
    if sum(counted) > limit:
        # the limit passed during the minute the running count exceeds it
        k = int(np.flatnonzero(np.cumsum(counted) > limit)[0])
        assert got.crossed_at is not None
        assert start + k <= got.crossed_at <= start + k + 1
    else:
        assert got.crossed_at is None


@settings(max_examples=200)
@given(minutes=st.integers(0, 10 * 1440), starts_h=st.integers(1, 24), ends_h=st.integers(1, 23))
def test_the_night_around_a_moment_is_under_way_or_the_last_one_over(
    minutes: int, starts_h: int, ends_h: int
) -> None:
    if starts_h % 24 == ends_h:
        return
    night = Night(float(starts_h), float(ends_h))
    t = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    start, end = night.around(t, SHANGHAI)
    assert start <= t
    assert end - start == timedelta(hours=(ends_h - starts_h) % 24)
    following = start + timedelta(days=1)
    assert following > t  # no night began after it and before t
    assert start.astimezone(SHANGHAI).hour == starts_h % 24


async def _with_residence(pool: AsyncConnectionPool[Any], code: str) -> int:
    subject = await subject_with_a_day(pool, code)
    zone = await store_zone(pool)
    async with pool.connection() as conn:
        await store.subjects.update_subject(
            conn, subject_id=subject, residence_zone_id=zone, set_residence=True
        )
    return subject


async def _night_alerts(pool: AsyncConnectionPool[Any], at_hours: float) -> dict[int, Any]:
    async with pool.connection() as conn, conn.transaction():
        await check(
            conn,
            levels=DEFAULT_LEVELS,
            tz=SHANGHAI,
            max_gap_s=GAP,
            now=(MIDNIGHT + timedelta(hours=at_hours)).timestamp(),
        )
        rows = await store.alerts.list_alerts(
            conn,
            states=[AlertState.OPEN],
            subject_id=None,
            kinds=[AlertKind.NIGHT_AWAY],
            limit=1000,
        )
    return {a.subject_id: a for a in rows}


async def test_a_night_out_raises_night_away_once_at_the_stay_it_was_spent_at(
    pool: AsyncConnectionPool[Any],
) -> None:
    out = await _with_residence(pool, "nights-out")
    leave = await _with_residence(pool, "nights-leave")
    nowhere = await subject_with_a_day(pool, "nights-no-residence")
    async with pool.connection() as conn:
        zone = await store_zone(pool)
        leave_id = await store.leaves.request_leave(
            conn,
            subject_id=leave,
            destination_zone_id=zone,
            starts_at=MIDNIGHT + timedelta(hours=22),
            ends_at=MIDNIGHT + timedelta(hours=27),
            reason="visiting family",
            actor="test",
        )
        await store.leaves.decide_leave(conn, leave_id=leave_id, approve=True, actor="test")
    # the first night (22:00-07:00 at home) and the evening: nothing
    assert set(await _night_alerts(pool, 4.0)) & {out, leave, nowhere} == set()
    # 00:30: out since 23:00, 1.5 h: not yet
    assert set(await _night_alerts(pool, 24.5)) & {out, leave, nowhere} == set()
    # 01:30: past 2 h at 01:00, at the friend's (a stay since 23:00)
    raised = await _night_alerts(pool, 25.5)
    assert set(raised) & {out, leave, nowhere} == {out}
    alert = raised[out]
    assert alert.kind == AlertKind.NIGHT_AWAY
    crossed = MIDNIGHT + timedelta(hours=25)
    assert abs(alert.fix_time - crossed) <= timedelta(minutes=3)
    lon, lat = offset(*FRIEND)
    assert (alert.lon, alert.lat) == (pytest.approx(lon, abs=2e-4), pytest.approx(lat, abs=2e-4))
    assert re.fullmatch(
        r"away from the residence 2\.[45] h of the night, at a place since 2[23]:[0-5]\d",
        alert.message,
    ), alert.message
    # later that night and after it: the same alert, not raised again
    for hours in (27.0, 30.0):
        again = await _night_alerts(pool, hours)
        assert again[out].id == alert.id
        assert again[out].count == 1
