"""Zone rule: the vectorised confirmation matches a plain loop and behaves as officers expect."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts import ZoneState, zone_alerts
from domain import FixBatch, FixSource, ZoneStatus
from geofence import Evaluation

IN, OUT, UNSURE = ZoneStatus.INSIDE, ZoneStatus.OUTSIDE, ZoneStatus.UNCERTAIN


def make(
    rows: list[tuple[int, float, ZoneStatus]], *, inclusion: bool = True
) -> tuple[FixBatch, Evaluation]:
    """One fix per row: (assignment, time, status); subject = assignment for simplicity."""
    n = len(rows)
    a = np.array([r[0] for r in rows], dtype=np.int64)
    batch = FixBatch(
        subject=a,
        device=a,
        time=np.array([r[1] for r in rows], dtype=np.float64),
        lon=np.zeros(n),
        lat=np.zeros(n),
        accuracy=np.full(n, 10.0),
        source=[FixSource.GNSS] * n,
        battery=np.full(n, 50, np.int16),
        seq=np.arange(n, dtype=np.int64),
        received=np.zeros(n),
    )
    ev = Evaluation(
        fix=np.arange(n, dtype=np.int64),
        assignment=a,
        zone=a,
        inclusion=np.full(n, inclusion),
        status=np.array([r[2] for r in rows], dtype=np.int8),
        boundary_distance=lambda rows: np.full(rows.shape[0], 123.0),
    )
    return batch, ev


def slow_twin(
    rows: list[tuple[int, float, ZoneStatus]],
    state: dict[int, ZoneState],
    confirm: int,
) -> tuple[list[tuple[int, float]], dict[int, ZoneState]]:
    """The obvious per-fix loop the vectorised rule must match."""
    st_ = dict(state)
    alerts = []
    for a, t, s in sorted(rows, key=lambda r: (r[0], r[1])):
        cur = st_.get(a, ZoneState())
        if s == UNSURE or t <= cur.last_time:
            continue
        run = cur.run + 1 if s == OUT else 0
        opened = cur.alert_open
        if s == OUT and run >= confirm and not opened:
            alerts.append((a, t))
            opened = True
        st_[a] = ZoneState(run=run, last_time=t, alert_open=opened)
    return alerts, st_


rows_strategy = st.lists(
    st.tuples(
        st.integers(1, 4),
        st.integers(0, 40).map(float),
        st.sampled_from([IN, OUT, UNSURE]),
    ),
    max_size=60,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(max_examples=300, deadline=None)
@given(batches=st.lists(rows_strategy, min_size=1, max_size=4), confirm=st.integers(1, 4))
def test_vectorised_rule_matches_the_plain_loop(
    batches: list[list[tuple[int, float, ZoneStatus]]], confirm: int
) -> None:
    state: dict[int, ZoneState] = {}
    twin_state: dict[int, ZoneState] = {}
    for rows in batches:
        batch, ev = make(rows)
        alerts, new_state = zone_alerts(batch, ev, state, confirm_fixes=confirm)
        twin_alerts, twin_state = slow_twin(rows, twin_state, confirm)
        assert [(x.assignment_id, x.fix_time) for x in alerts] == twin_alerts
        state = {**state, **new_state}
        assert state == twin_state


def test_two_outside_fixes_open_one_alert_not_one_per_fix() -> None:
    batch, ev = make([(1, 1, IN), (1, 2, OUT), (1, 3, OUT), (1, 4, OUT), (1, 5, OUT)])
    alerts, state = zone_alerts(batch, ev, {}, confirm_fixes=2)
    assert [(a.kind, a.fix_time) for a in alerts] == [("zone_exit", 3.0)]
    assert state[1] == ZoneState(run=4, last_time=5.0, alert_open=True)


def test_jitter_across_the_border_does_not_alert() -> None:
    rows = [(1, float(t), [IN, OUT, UNSURE, IN, OUT, UNSURE, UNSURE, IN][t]) for t in range(8)]
    batch, ev = make(rows)
    alerts, _ = zone_alerts(batch, ev, {}, confirm_fixes=2)
    assert alerts == []


def test_a_run_continues_into_the_next_batch() -> None:
    batch, ev = make([(1, 1, OUT)])
    _, state = zone_alerts(batch, ev, {}, confirm_fixes=2)
    batch, ev = make([(1, 2, OUT)])
    alerts, _ = zone_alerts(batch, ev, state, confirm_fixes=2)
    assert len(alerts) == 1


def test_a_late_fix_changes_nothing() -> None:
    state = {1: ZoneState(run=1, last_time=100.0)}
    batch, ev = make([(1, 50, OUT), (1, 60, OUT)])
    alerts, new_state = zone_alerts(batch, ev, state, confirm_fixes=2)
    assert alerts == []
    assert new_state == {}


def test_an_exclusion_zone_alerts_on_entry() -> None:
    batch, ev = make([(1, 1, OUT), (1, 2, IN), (1, 3, IN)], inclusion=False)
    alerts, _ = zone_alerts(batch, ev, {}, confirm_fixes=2)
    assert [(a.kind, a.severity, a.fix_time) for a in alerts] == [("zone_entry", "critical", 3.0)]


def test_no_second_alert_while_one_is_live() -> None:
    batch, ev = make([(1, 1, OUT), (1, 2, OUT)])
    alerts, _ = zone_alerts(batch, ev, {1: ZoneState(alert_open=True)}, confirm_fixes=2)
    assert alerts == []


def test_an_empty_batch_is_fine() -> None:
    batch, ev = make([])
    assert zone_alerts(batch, ev, {}, confirm_fixes=2) == ([], {})
