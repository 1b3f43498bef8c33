"""Rule state in columns behaves as the mappings it replaces; rows sort as lexsort does."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from domain import (
    LastFix,
    Positions,
    RunState,
    RunStates,
    SeparationState,
    SeparationStates,
    Spans,
    Times,
    by_key_then_time,
)

keys = st.integers(0, 30)
runs = st.builds(
    RunState,
    active=st.booleans(),
    run=st.integers(0, 9),
    run_active=st.booleans(),
    run_start=st.floats(0, 100),
    last_time=st.floats(0, 100),
)
fixes = st.builds(
    LastFix,
    time=st.integers(0, 5).map(float),
    lon=st.floats(-180, 180),
    lat=st.floats(-90, 90),
    accuracy=st.floats(0, 100),
)
separations = st.builds(
    SeparationState, run=runs, phone=st.none() | fixes, wristband=st.none() | fixes
)


@given(st.dictionaries(keys, runs), st.dictionaries(keys, runs), st.lists(keys))
def test_run_states_update_and_look_up_as_a_dict(
    old: dict[int, RunState], new: dict[int, RunState], asked: list[int]
) -> None:
    merged = RunStates.of(old).updated(new)
    assert dict(merged) == {**old, **new}
    got = merged.columns(np.array(asked, dtype=np.int64))
    want = [{**old, **new}.get(k, RunState()) for k in asked]
    assert got.active.tolist() == [w.active for w in want]
    assert got.run.tolist() == [w.run for w in want]
    assert got.last_time.tolist() == [w.last_time for w in want]


@given(st.dictionaries(keys, separations), st.dictionaries(keys, separations))
def test_separation_states_update_as_a_dict(
    old: dict[int, SeparationState], new: dict[int, SeparationState]
) -> None:
    assert dict(SeparationStates.of(old).updated(new)) == {**old, **new}


@given(st.dictionaries(keys, fixes), st.dictionaries(keys, fixes))
def test_positions_keep_the_newer_fix_and_the_old_one_on_a_tie(
    old: dict[int, LastFix], new: dict[int, LastFix]
) -> None:
    want = dict(old)
    for k, f in new.items():
        if k not in want or f.time > want[k].time:
            want[k] = f
    assert dict(Positions.of(old).newer(new)) == want


@given(
    st.lists(
        st.tuples(st.integers(-(2**62), 2**62) | keys, st.integers(0, 9).map(float)), max_size=300
    )
)
def test_rows_sort_by_key_then_time_as_lexsort_does(rows: list[tuple[int, float]]) -> None:
    key = np.array([r[0] for r in rows], dtype=np.int64)
    time = np.array([r[1] for r in rows], dtype=np.float64)
    assert by_key_then_time(key, time).tolist() == np.lexsort((time, key)).tolist()


times = st.integers(0, 9).map(float)


@given(st.dictionaries(keys, times), st.lists(st.tuples(keys, times)), st.lists(keys))
def test_times_keep_the_newest_and_the_earliest_per_key(
    old: dict[int, float], reports: list[tuple[int, float]], asked: list[int]
) -> None:
    key = np.array([r[0] for r in reports], dtype=np.int64)
    time = np.array([r[1] for r in reports], dtype=np.float64)
    newest: dict[int, float] = {}
    earliest: dict[int, float] = {}
    for k, t in reports:
        newest[k], earliest[k] = max(newest.get(k, t), t), min(earliest.get(k, t), t)
    assert dict(Times.newest(key, time)) == newest
    assert dict(Times.earliest(key, time)) == earliest
    later = {k: max(old.get(k, t), t) for k, t in newest.items()}
    assert dict(Times.of(old).latest(newest)) == {**old, **later}
    got = Times.of(old).at(np.array(asked, dtype=np.int64), -1.0)
    assert got.tolist() == [old.get(k, -1.0) for k in asked]


@given(
    st.lists(st.integers(-50, 50), max_size=80),
    st.lists(st.integers(-80, 80), max_size=40),
    st.booleans(),
)
def test_spans_find_each_keys_rows_as_binary_search_does(
    column: list[int], asked: list[int], sparse: bool
) -> None:
    key = np.array(sorted(column + ([10**9] if sparse and column else [])), dtype=np.int64)
    spans = Spans.of(key)
    assert (spans.first is None) == (sparse or not column)  # the table, or the fallback
    lo, hi = spans.rows(np.array(asked, dtype=np.int64))
    assert (hi - lo).tolist() == [int((key == k).sum()) for k in asked]
    for a, b, k in zip(lo.tolist(), hi.tolist(), asked, strict=True):
        assert (key[a:b] == k).all()
    unique = Spans.of(np.unique(key))
    table = unique.table(unique.key * 10, -1)
    if table is not None:  # one value a key, by the same index
        values = table[unique.index(np.array(asked, dtype=np.int64))]
        assert values.tolist() == [k * 10 if k in set(column) else -1 for k in asked]
