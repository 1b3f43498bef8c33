"""The shared confirmation core: the compiled version matches a plain Python loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts import confirm
from domain import RunState, RunStates

Row = tuple[int, float, bool, bool]  # key, time, observed, decisive


def slow_twin(
    rows: list[Row], state: dict[int, RunState], min_run: int, min_span: float
) -> tuple[list[tuple[int, float, bool]], dict[int, RunState]]:
    """The obvious per-observation loop."""
    st_ = dict(state)
    flips = []
    for key, t, observed, decisive in sorted(rows, key=lambda r: (r[0], r[1])):
        cur = st_.get(key, RunState())
        if not decisive or t <= cur.last_time:
            continue
        if cur.run > 0 and observed == cur.run_active:
            run, start = cur.run + 1, cur.run_start
        else:
            run, start = 1, t
        met = run >= min_run or (run >= 2 and t - start >= min_span)
        active = observed if met else cur.active
        if active != cur.active:
            flips.append((key, t, active))
        st_[key] = RunState(active, run, observed, start, t)
    return flips, st_


def run(
    rows: list[Row], state: dict[int, RunState], min_run: int, min_span: float
) -> tuple[list[tuple[int, float, bool]], dict[int, RunState]]:
    n = len(rows)
    key = np.array([r[0] for r in rows], dtype=np.int64)
    time = np.array([r[1] for r in rows], dtype=np.float64)
    t = confirm(
        key,
        time,
        np.array([r[2] for r in rows], dtype=np.bool_),
        np.array([r[3] for r in rows], dtype=np.bool_),
        RunStates.of(state),
        min_run=np.full(n, min_run, dtype=np.int64),
        min_span_s=np.full(n, min_span),
    )
    flips = [
        (int(key[r]), float(time[r]), bool(a))
        for r, a in zip(t.rows.tolist(), t.active.tolist(), strict=True)
    ]
    return flips, dict(t.state)


rows_strategy = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 40).map(float), st.booleans(), st.booleans()),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(
    batches=st.lists(rows_strategy, min_size=1, max_size=4),
    min_run=st.integers(1, 4),
    min_span=st.sampled_from([0.0, 3.0, 10.0, 1e9]),
)
def test_compiled_confirmation_matches_the_plain_loop(
    batches: list[list[Row]], min_run: int, min_span: float
) -> None:
    state: dict[int, RunState] = {}
    twin_state: dict[int, RunState] = {}
    for rows in batches:
        # Within one batch, the first of two same-instant observations of a key counts: the
        # twin sees them in the same (stable) order.
        flips, new_state = run(rows, state, min_run, min_span)
        twin_flips, twin_state = slow_twin(rows, twin_state, min_run, min_span)
        assert flips == twin_flips
        state = {**state, **new_state}
        assert state == twin_state


def test_a_run_confirms_by_time_when_fixes_are_sparse() -> None:
    rows = [(1, 0.0, True, True), (1, 100.0, True, True)]
    flips, _ = run(rows, {}, min_run=5, min_span=60.0)
    assert flips == [(1, 100.0, True)]


def test_jitter_flips_nothing_either_way() -> None:
    pattern = [True, False, True, False, True, False]
    rows = [(1, float(i), o, True) for i, o in enumerate(pattern)]
    assert run(rows, {}, 2, 1e9)[0] == []
    assert run(rows, {1: RunState(active=True)}, 2, 1e9)[0] == []


def test_a_late_observation_changes_nothing() -> None:
    state = {1: RunState(run=1, run_active=True, run_start=100.0, last_time=100.0)}
    flips, new_state = run([(1, 50.0, True, True), (1, 60.0, True, True)], state, 2, 1e9)
    assert flips == []
    assert new_state == {}


def test_nothing_in_nothing_out() -> None:
    assert run([], {}, 2, 10.0) == ([], {})
