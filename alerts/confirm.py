"""Confirming a condition over time, vectorised: the core every observation rule shares.

Observations (a fix outside a zone, a phone-wristband pair far apart) arrive per key (an
assignment, a subject). A condition becomes confirmed when a run of consecutive observations
that show it is long enough, and ends when a run that does not show it is long enough (the
same test both ways, so jitter across a boundary changes nothing). Runs follow observation
time, not arrival: an observation not newer than the key's newest one is late and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from domain import Ids, RunStates

if TYPE_CHECKING:
    from domain import EpochSeconds


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
) -> Transitions:
    """A run confirms its side once it has `min_run` observations, or at least two that span
    `min_span_s` seconds (both per observation row: they depend on the subject's level)."""
    keys, k = np.unique(key, return_inverse=True)
    k = k.astype(np.int64)
    prior = state.columns(keys)
    c_active, c_run, c_run_active = prior.active, prior.run, prior.run_active
    c_run_start, c_last = prior.run_start, prior.last_time

    use = np.flatnonzero(decisive & (time > c_last[k]))
    rows = use[np.lexsort((time[use], k[use]))]
    # Two observations of one key at the same instant (phone and wristband): the first counts.
    same = np.zeros(rows.shape[0], dtype=np.bool_)
    same[1:] = (k[rows][1:] == k[rows][:-1]) & (time[rows][1:] == time[rows][:-1])
    rows = rows[~same]
    kk, v, t = k[rows], observed[rows], time[rows]
    n = rows.shape[0]
    idx = np.arange(n, dtype=np.int64)
    new_key = np.ones(n, dtype=np.bool_)
    new_key[1:] = kk[1:] != kk[:-1]
    new_run = new_key.copy()
    new_run[1:] |= v[1:] != v[:-1]
    key_start = np.maximum.accumulate(np.where(new_key, idx, 0))
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0))

    # The key's first run in this batch continues the run carried in, if on the same side.
    carry = (run_start == key_start) & (v == c_run_active[kk]) & (c_run[kk] > 0)
    run = idx - run_start + 1 + np.where(carry, c_run[kk], 0)
    start_time = np.where(carry, c_run_start[kk], t[run_start])
    met = (run >= min_run[rows]) | ((run >= 2) & (t - start_time >= min_span_s[rows]))

    # The confirmed condition at each row: the side of the latest row (so far, within the
    # key) whose run met the test; before any, the condition carried in.
    last_met = np.maximum.accumulate(np.where(met, idx, -1))
    active = np.where(last_met >= key_start, v[last_met], c_active[kk])
    before = np.where(new_key, c_active[kk], np.roll(active, 1))
    flip = active != before

    _, last_rev = np.unique(kk[::-1], return_index=True)
    last = n - 1 - last_rev
    new_state = RunStates(
        key=keys[kk[last]],
        active=active[last],
        run=run[last],
        run_active=v[last],
        run_start=start_time[last],
        last_time=t[last],
    )
    return Transitions(rows=rows[flip], active=active[flip], state=new_state)
