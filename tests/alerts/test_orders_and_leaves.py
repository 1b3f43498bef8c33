"""Orders (coverage, reminders) and leaves (the district suspended, overdue at the end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.orders import OrderBook, order_reminders
from alerts.windows import leave_end_findings
from domain import (
    Assignment,
    LastFix,
    Leave,
    LeaveState,
    MonitoringOrder,
    OneOffWindow,
    OrderError,
    Schedule,
    Zone,
    ZoneRole,
    add_months,
    check_period,
)
from geofence import ZoneIndex
from tests.helpers import offset, square

DAY = 86400.0

orders_strategy = st.lists(
    st.tuples(st.integers(1, 3), st.integers(0, 50), st.integers(1, 30)),
    max_size=8,
).map(
    lambda rows: [
        MonitoringOrder(id=i, subject_id=s, starts=float(a), ends=float(a + n))
        for i, (s, a, n) in enumerate(rows)
    ]
)


@settings(max_examples=300, deadline=None)
@given(orders=orders_strategy, probes=st.lists(st.tuples(st.integers(0, 4), st.integers(-1, 85))))
def test_coverage_matches_the_plain_loop(
    orders: list[MonitoringOrder], probes: list[tuple[int, int]]
) -> None:
    book = OrderBook.build(orders)
    subject = np.array([p[0] for p in probes], dtype=np.int64)
    time = np.array([p[1] for p in probes], dtype=np.float64)
    expected = [
        any(o.subject_id == s and o.starts <= t < o.ends for o in orders) for s, t in probes
    ]
    assert book.covered(subject, time).tolist() == expected


def test_a_reminder_comes_once_per_end_and_not_when_a_new_order_follows() -> None:
    now = 1000 * DAY
    ending = MonitoringOrder(1, subject_id=1, starts=now - 80 * DAY, ends=now + 5 * DAY)
    later = MonitoringOrder(2, subject_id=2, starts=now - 80 * DAY, ends=now + 20 * DAY)
    renewed = MonitoringOrder(3, subject_id=3, starts=now - 80 * DAY, ends=now + 2 * DAY)
    follow_up = MonitoringOrder(4, subject_id=3, starts=now + 2 * DAY, ends=now + 60 * DAY)
    book = OrderBook.build([ending, later, renewed, follow_up])
    ((order, reminder),) = order_reminders(now, book, set(), warn_s=7 * DAY)
    assert order == ending
    assert (reminder.kind, reminder.subject_id, reminder.order_id) == ("order_ending", 1, 1)
    assert "in 5.0 days" in str(reminder.message)
    assert order_reminders(now, book, {(1, ending.ends)}, warn_s=7 * DAY) == []
    extended = OrderBook.build([MonitoringOrder(1, 1, ending.starts, now + 6 * DAY)])
    assert len(order_reminders(now, extended, {(1, ending.ends)}, warn_s=7 * DAY)) == 1


def test_an_order_runs_at_most_three_calendar_months() -> None:
    start = datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert add_months(start, 3) == datetime(2027, 2, 28, 9, tzinfo=UTC)
    check_period(start, datetime(2027, 2, 28, 9, tzinfo=UTC))
    with pytest.raises(OrderError, match="at most 3 months"):
        check_period(start, datetime(2027, 2, 28, 9, 1, tzinfo=UTC))
    with pytest.raises(OrderError, match="before it starts"):
        check_period(start, start)
    with pytest.raises(OrderError, match="UTC offset"):
        check_period(start.replace(tzinfo=None), start.replace(tzinfo=None) + timedelta(days=1))


def test_the_district_is_suspended_during_a_leave_and_the_destination_applies() -> None:
    t0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
    leave = OneOffWindow(t0, t0 + timedelta(days=2))
    index = ZoneIndex.build(
        [Zone(1, "district", square(1000.0)), Zone(2, "destination", square(500.0, (105.0, 31.0)))],
        [
            Assignment(10, 1, 1, ZoneRole.INCLUSION, Schedule(suspended=(leave,))),
            Assignment(11, 1, 2, ZoneRole.INCLUSION, Schedule(once=(leave,)), leave_id=5),
        ],
    )
    during, after = t0.timestamp() + DAY, t0.timestamp() + 3 * DAY
    assert index.starting(during - 2 * DAY, during).tolist() == [11]
    # After the leave: the district is back, the destination gone.
    assert index.starting(during, after).tolist() == [10]


def test_a_subject_not_back_when_the_leave_ends_is_overdue() -> None:
    t0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
    window = OneOffWindow(t0, t0 + timedelta(days=2))
    index = ZoneIndex.build(
        [Zone(1, "district", square(1000.0))],
        [
            Assignment(10, 1, 1, ZoneRole.INCLUSION, Schedule(suspended=(window,))),
            Assignment(20, 2, 1, ZoneRole.INCLUSION, Schedule(suspended=(window,))),
        ],
    )
    end = window.end.timestamp()
    leaves = [
        Leave(5, 1, destination=9, starts=t0.timestamp(), ends=end, state=LeaveState.APPROVED),
        Leave(6, 2, destination=9, starts=t0.timestamp(), ends=end, state=LeaveState.APPROVED),
    ]
    away, home = offset(5000.0, 0.0), offset(0.0, 0.0)
    findings, state = leave_end_findings(
        end,
        leaves,
        districts=np.array([10, 20], dtype=np.int64),
        destinations={5: 15, 6: 16},
        index=index,
        last_fix={1: LastFix(end - 60, *away, 10.0), 2: LastFix(end - 60, *home, 10.0)},
    )
    assert [(f.kind, f.subject_id, f.assignment_id) for f in findings] == [("leave_overdue", 1, 15)]
    assert state[10].active
    assert not state[20].active
