"""Curfew at the window start, and the officer's steps on an alert."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from alerts import Action, NoteRequiredError, WrongStateError, next_state
from alerts.windows import curfew_start_findings
from domain import (
    AlertState,
    Assignment,
    LastFix,
    Schedule,
    Severity,
    WeeklyWindow,
    Zone,
    ZoneRole,
)
from geofence import ZoneIndex
from tests.helpers import offset, square

NIGHTS = Schedule(weekly=(WeeklyWindow(tuple(range(7)), time(22, 0), time(6, 0)),))
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_subject_away_when_the_curfew_begins_is_alerted_at_its_start() -> None:
    index = ZoneIndex.build(
        [Zone(1, "home", square(100.0))],
        [
            Assignment(11, subject_id=1, zone_id=1, role=ZoneRole.INCLUSION, schedule=NIGHTS),
            Assignment(12, subject_id=2, zone_id=1, role=ZoneRole.INCLUSION, schedule=NIGHTS),
        ],
    )
    start = datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI).timestamp()
    starting = index.starting(start - 1.0, start)
    assert starting.tolist() == [11, 12]
    assert index.starting(start, start + 1.0).tolist() == []

    away, home = offset(2000.0, 0.0), offset(10.0, 0.0)
    last = {
        1: LastFix(start - 600, away[0], away[1], 15.0),
        2: LastFix(start - 60, home[0], home[1], 15.0),
    }
    findings, state = curfew_start_findings(start, starting, index, last)
    assert [(f.kind, f.subject_id, f.time, f.assignment_id) for f in findings] == [
        ("curfew", 1, start - 600, 11)
    ]
    assert "10 min old" in str(findings[0].message)
    assert state[11].active
    assert not state[12].active
    assert state[12].last_time == start - 60


def test_a_subject_with_no_known_position_gets_a_fresh_run_but_no_alert() -> None:
    index = ZoneIndex.build(
        [Zone(1, "home", square(100.0))],
        [Assignment(11, subject_id=1, zone_id=1, role=ZoneRole.INCLUSION, schedule=NIGHTS)],
    )
    findings, state = curfew_start_findings(
        1.8e9, np.array([11], dtype=np.int64), index, last_fix={}
    )
    assert findings == []
    assert not state[11].active


OPEN, ACK, RESOLVED = AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.RESOLVED


def test_the_steps_officers_take() -> None:
    assert next_state(OPEN, Severity.HIGH, Action.ACKNOWLEDGE, None) == ACK
    assert next_state(ACK, Severity.HIGH, Action.RESOLVE, None) == RESOLVED
    assert next_state(OPEN, Severity.HIGH, Action.DISMISS, None) == AlertState.DISMISSED
    assert next_state(RESOLVED, Severity.HIGH, Action.NOTE, "called him back") is None


def test_steps_that_are_refused_say_why() -> None:
    with pytest.raises(WrongStateError, match="acknowledged"):
        next_state(ACK, Severity.HIGH, Action.ACKNOWLEDGE, None)
    with pytest.raises(WrongStateError, match="resolved"):
        next_state(RESOLVED, Severity.HIGH, Action.DISMISS, "oops")
    with pytest.raises(NoteRequiredError, match="critical"):
        next_state(ACK, Severity.CRITICAL, Action.RESOLVE, "  ")
    with pytest.raises(NoteRequiredError):
        next_state(OPEN, Severity.NORMAL, Action.NOTE, None)
    assert next_state(ACK, Severity.CRITICAL, Action.RESOLVE, "visited: strap replaced")
