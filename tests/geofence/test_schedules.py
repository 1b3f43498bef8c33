"""Schedules: curfews across midnight and the week's end, one-off leaves, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
from shapely.geometry import Polygon, mapping

from domain import Assignment, OneOffWindow, Schedule, WeeklyWindow, Zone, ZoneRole, ZoneStatus
from geofence import ScheduleError, ZoneIndex, check_schedule
from tests.geofence.zones import batch

HOME = mapping(Polygon([(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)]))
EVERY_DAY = tuple(range(7))
CURFEW = Schedule(
    timezone="Asia/Shanghai", weekly=(WeeklyWindow(EVERY_DAY, time(22, 0), time(6, 0)),)
)


def applies(schedule: Schedule, *moments: datetime) -> list[bool]:
    """Which moments the schedule covers: a fix inside the zone counts only then."""
    n = len(moments)
    t = np.array([m.timestamp() for m in moments])
    status, _ = classify_at(schedule, t, n)
    return [bool(s == ZoneStatus.INSIDE) for s in status]


def classify_at(schedule: Schedule, t: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    index = ZoneIndex.build(
        [Zone(1, "home", HOME)],
        [Assignment(1, subject_id=1, zone_id=1, role=ZoneRole.INCLUSION, schedule=schedule)],
    )
    fixes = batch(np.full(n, 0.005), np.full(n, 0.005), np.ones(n), time=t)
    ev = index.evaluate(fixes)
    status = np.zeros(n, dtype=np.int8)
    status[ev.fix] = ev.status
    return status, ev.fix


def beijing(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A Beijing wall-clock time (UTC+8, no daylight saving), as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_a_curfew_runs_across_midnight() -> None:
    got = applies(
        CURFEW,
        beijing(2026, 11, 25, 21, 59),
        beijing(2026, 11, 25, 22, 0),
        beijing(2026, 11, 26, 0, 0),
        beijing(2026, 11, 26, 5, 59),
        beijing(2026, 11, 26, 6, 0),
        beijing(2026, 11, 26, 12, 0),
    )
    assert got == [False, True, True, True, False, False]


def test_a_curfew_runs_from_sunday_night_into_monday() -> None:
    sunday_only = Schedule(weekly=(WeeklyWindow((6,), time(22, 0), time(6, 0)),))
    got = applies(
        sunday_only,
        beijing(2026, 11, 29, 23, 0),  # Sunday
        beijing(2026, 11, 30, 5, 0),  # Monday morning
        beijing(2026, 11, 30, 23, 0),  # Monday night: not covered
        beijing(2026, 11, 28, 23, 0),  # Saturday night: not covered
    )
    assert got == [True, True, False, False]


def test_the_time_zone_is_the_schedules_own() -> None:
    berlin_evening = Schedule(
        timezone="Europe/Berlin", weekly=(WeeklyWindow(EVERY_DAY, time(20, 0), time(21, 0)),)
    )
    # 20:30 in Berlin is 19:30 UTC in winter and 18:30 UTC in summer (daylight saving).
    got = applies(
        berlin_evening,
        datetime(2026, 1, 15, 19, 30, tzinfo=UTC),
        datetime(2026, 7, 15, 18, 30, tzinfo=UTC),
        datetime(2026, 7, 15, 19, 30, tzinfo=UTC),
    )
    assert got == [True, True, False]


def test_a_one_off_window_is_half_open() -> None:
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    leave = Schedule(once=(OneOffWindow(start, start + timedelta(days=2)),))
    got = applies(
        leave,
        start - timedelta(seconds=1),
        start,
        start + timedelta(days=1),
        start + timedelta(days=2),
    )
    assert got == [False, True, True, False]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (Schedule(timezone="Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (Schedule(weekly=(WeeklyWindow((7,), time(1), time(2)),)), "weekdays must be 0"),
        (
            Schedule(once=(OneOffWindow(datetime(2026, 1, 2), datetime(2026, 1, 3)),)),
            "UTC offset",
        ),
        (
            Schedule(
                once=(
                    OneOffWindow(
                        datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
                    ),
                )
            ),
            "before it starts",
        ),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(schedule: Schedule, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        check_schedule(schedule)
    index = ZoneIndex.build(
        [Zone(1, "home", HOME)],
        [Assignment(7, subject_id=1, zone_id=1, role=ZoneRole.INCLUSION, schedule=schedule)],
    )
    assert len(index.problems) == 1
    assert index.problems[0].startswith("assignment 7 left out: ")
    assert message in index.problems[0]
