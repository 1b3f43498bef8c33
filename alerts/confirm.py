"""Confirming a condition over time, compiled: the core every observation rule shares.

Observations (a fix outside a zone, a phone-wristband pair far apart) arrive per key (an
assignment, a subject). A condition becomes confirmed when a run of consecutive observations
that show it is long enough, and ends when a run that does not show it is long enough (the
same test both ways, so jitter across a boundary changes nothing). Runs follow observation
time, not arrival: an observation not newer than the key's newest one is late and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numba as nb
import numpy as np
from numpy.typing import NDArray

from domain import Ids, RunStates, by_key_then_time

if TYPE_CHECKING:
    from domain import EpochSeconds

Flags = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Transitions:
    """Rows (indices into the observations) where a key's confirmed condition flipped, in
    (key, time) order, with the condition after the flip; the new state of every key that
    had a decisive, in-order observation."""

    rows: Ids
    active: NDArray[np.bool_]
    state: RunStates


def confirm(
    key: Ids,
    time: EpochSeconds,
    observed: NDArray[np.bool_],
    decisive: NDArray[np.bool_],
    state: RunStates,
    *,
    min_run: Ids,
    min_span_s: NDArray[np.float64],
    order: Ids | None = None,
) -> Transitions:
    """A run confirms its side once it has `min_run` observations, or at least two that span
    `min_span_s` seconds (both per observation row: they depend on the subject's level).
    `order`: the rows in (key, time) order, when the caller has it already."""
    if order is None:
        order = by_key_then_time(key, time)
    flips, keys, columns = _runs(
        order,
        np.ascontiguousarray(key, np.int64),
        np.ascontiguousarray(time, np.float64),
        np.ascontiguousarray(observed, np.bool_),
        np.ascontiguousarray(decisive, np.bool_),
        state.key,
        (state.active, state.run, state.run_active, state.run_start, state.last_time),
        np.ascontiguousarray(min_run, np.int64),
        np.ascontiguousarray(min_span_s, np.float64),
    )
    active, run, run_active, run_start, last_time = columns
    return Transitions(
        rows=flips,
        active=observed[flips],
        state=RunStates(keys, active, run, run_active, run_start, last_time),
    )


@nb.njit(cache=True)
def _runs(
    order: Ids,
    key: Ids,
    time: EpochSeconds,
    observed: Flags,
    decisive: Flags,
    state_key: Ids,
    state: tuple[Flags, Ids, Flags, EpochSeconds, EpochSeconds],
    min_run: Ids,
    min_span_s: EpochSeconds,
) -> tuple[Ids, Ids, tuple[Flags, Ids, Flags, EpochSeconds, EpochSeconds]]:
    """Each key's observations in time order (`order`), one at a time from the state carried
    in: the rows where the confirmed side flipped, and the state of each key that observed."""
    s_active, s_run, s_run_active, s_run_start, s_last = state
    n = order.shape[0]
    flips = np.empty(n, np.int64)
    keys, runs = np.empty(n, np.int64), np.empty(n, np.int64)
    actives, run_actives = np.empty(n, np.bool_), np.empty(n, np.bool_)
    run_starts, lasts = np.empty(n), np.empty(n)
    n_flips = n_keys = 0
    i = 0
    while i < n:
        k = key[order[i]]
        at = np.searchsorted(state_key, k)
        known = at < state_key.shape[0] and state_key[at] == k
        active = s_active[at] if known else False
        run = s_run[at] if known else 0
        run_active = s_run_active[at] if known else False
        run_start = s_run_start[at] if known else -np.inf
        late = s_last[at] if known else -np.inf
        last = late
        while i < n and key[order[i]] == k:
            r = order[i]
            i += 1
            t = time[r]
            # late; or a second observation at the same instant (phone and wristband)
            if not decisive[r] or t <= last:
                continue
            last = t
            v = observed[r]
            if run > 0 and v == run_active:
                run += 1
            else:
                run, run_active, run_start = 1, v, t
            met = run >= min_run[r] or (run >= 2 and t - run_start >= min_span_s[r])
            if met and v != active:
                active = v
                flips[n_flips] = r
                n_flips += 1
        if last > late:
            keys[n_keys], actives[n_keys], runs[n_keys] = k, active, run
            run_actives[n_keys], run_starts[n_keys], lasts[n_keys] = run_active, run_start, last
            n_keys += 1
    m = n_keys
    return (
        flips[:n_flips],
        keys[:m],
        (actives[:m], runs[:m], run_actives[:m], run_starts[:m], lasts[:m]),
    )
