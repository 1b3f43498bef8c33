"""Zone rule: what officers expect from exits, entries and curfews."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from alerts import zone_findings
from domain import RunState, RunStates, ZoneStatus
from geofence import Evaluation
from tests.alerts.support import batch, policies

if TYPE_CHECKING:
    from collections.abc import Sequence

IN, OUT, UNSURE = ZoneStatus.INSIDE, ZoneStatus.OUTSIDE, ZoneStatus.UNCERTAIN
NO_CURFEWS = np.array([], dtype=np.int64)


def judge(
    rows: Sequence[tuple[int, float, ZoneStatus]],
    state: dict[int, RunState] | None = None,
    *,
    inclusion: bool = True,
    curfews: list[int] | None = None,
) -> tuple[list[tuple[str, str, float, bool]], dict[int, RunState]]:
    """One fix per row: (assignment, time, status); subject = assignment."""
    a = [r[0] for r in rows]
    b = batch(a, [r[1] for r in rows])
    n = len(rows)
    ev = Evaluation(
        fix=np.arange(n, dtype=np.int64),
        row=np.arange(n, dtype=np.int64),
        assignment=np.array(a, dtype=np.int64),
        zone=np.array(a, dtype=np.int64),
        inclusion=np.full(n, inclusion),
        status=np.array([r[2] for r in rows], dtype=np.int8),
        boundary_distance=lambda rows: np.full(rows.shape[0], 123.0),
    )
    findings, new_state = zone_findings(
        b,
        ev,
        RunStates.of(state or {}),
        policies=policies(a),
        curfews=NO_CURFEWS if curfews is None else np.array(curfews, dtype=np.int64),
    )
    return [(f.kind, f.severity, f.time, f.cleared) for f in findings], dict(new_state)


def test_two_outside_fixes_raise_once_and_coming_back_clears() -> None:
    rows = [(1, 1, IN), (1, 2, OUT), (1, 3, OUT), (1, 4, OUT), (1, 5, IN), (1, 6, IN)]
    findings, state = judge(rows)
    assert findings == [("zone_exit", "high", 3.0, False), ("zone_exit", "high", 6.0, True)]
    assert state[1].active is False


def test_jitter_across_the_border_does_not_alert() -> None:
    rows = [(1, float(t), [IN, OUT, UNSURE, IN, OUT, UNSURE, UNSURE, IN][t]) for t in range(8)]
    assert judge(rows)[0] == []


def test_uncertain_fixes_prove_nothing() -> None:
    rows = [(1, float(t), UNSURE) for t in range(10)]
    findings, state = judge(rows)
    assert findings == []
    assert state == {}


def test_a_run_continues_into_the_next_batch() -> None:
    _, state = judge([(1, 1, OUT)])
    findings, _ = judge([(1, 2, OUT)], state)
    assert findings == [("zone_exit", "high", 2.0, False)]


def test_a_late_fix_never_flips_the_state_back() -> None:
    _, state = judge([(1, 10, OUT), (1, 11, OUT)])
    assert state[1].active
    findings, new_state = judge([(1, 5, IN), (1, 6, IN)], state)
    assert findings == []
    assert new_state == {}


def test_an_exclusion_zone_alerts_on_entry_as_critical() -> None:
    findings, _ = judge([(1, 1, OUT), (1, 2, IN), (1, 3, IN)], inclusion=False)
    assert findings == [("zone_entry", "critical", 3.0, False)]


def test_a_curfew_assignment_alerts_as_curfew() -> None:
    findings, _ = judge([(7, 1, OUT), (7, 2, OUT)], curfews=[7])
    assert findings == [("curfew", "high", 2.0, False)]


def test_no_second_raise_while_the_condition_is_confirmed() -> None:
    findings, _ = judge([(1, 1, OUT), (1, 2, OUT)], {1: RunState(active=True)})
    assert findings == []
