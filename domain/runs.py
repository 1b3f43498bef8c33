"""Run states of many keys at once, in columns: the rules read and write tens of thousands a
batch, which one object each made cost more than the rules' own work."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from domain.alerts import LastFix, RunState, SeparationState
from domain.fixes import Ids

Flags = NDArray[np.bool_]
Seconds = NDArray[np.float64]
G = TypeVar("G", bound=np.generic)


@dataclass(frozen=True, slots=True, eq=False)
class RunStates(Mapping[int, RunState]):
    """The run state of each key (an assignment, a subject), sorted by key; read as a
    mapping where one is wanted, in columns by `columns` where many are."""

    key: Ids
    active: Flags
    run: Ids
    run_active: Flags
    run_start: Seconds
    last_time: Seconds

    @classmethod
    def none(cls) -> RunStates:
        nothing = np.zeros(0)
        flags = np.zeros(0, np.bool_)
        return cls(np.zeros(0, np.int64), flags, np.zeros(0, np.int64), flags, nothing, nothing)

    @classmethod
    def of(cls, states: Mapping[int, RunState]) -> RunStates:
        if isinstance(states, RunStates):
            return states
        keys = sorted(states)
        runs = [states[k] for k in keys]
        return cls(
            key=np.array(keys, dtype=np.int64),
            active=np.array([r.active for r in runs], dtype=np.bool_),
            run=np.array([r.run for r in runs], dtype=np.int64),
            run_active=np.array([r.run_active for r in runs], dtype=np.bool_),
            run_start=np.array([r.run_start for r in runs], dtype=np.float64),
            last_time=np.array([r.last_time for r in runs], dtype=np.float64),
        )

    def __len__(self) -> int:
        return int(self.key.shape[0])

    def __iter__(self) -> Iterator[int]:
        return iter(self.key.tolist())

    def __getitem__(self, key: int) -> RunState:
        i = int(np.searchsorted(self.key, key))
        if i == self.key.shape[0] or self.key[i] != key:
            raise KeyError(key)
        return RunState(
            active=bool(self.active[i]),
            run=int(self.run[i]),
            run_active=bool(self.run_active[i]),
            run_start=float(self.run_start[i]),
            last_time=float(self.last_time[i]),
        )

    def columns(self, keys: Ids) -> RunStates:
        """The states of `keys`, in their order (a key without one: nothing yet, as
        RunState())."""
        n, never = keys.shape[0], -np.inf
        if not len(self):
            no, zero, start = np.zeros(n, np.bool_), np.zeros(n, np.int64), np.full(n, never)
            return RunStates(keys, no, zero, no, start, start.copy())
        at = np.minimum(np.searchsorted(self.key, keys), len(self) - 1)
        known = self.key[at] == keys
        return RunStates(
            key=keys,
            active=self.active[at] & known,
            run=np.where(known, self.run[at], 0),
            run_active=self.run_active[at] & known,
            run_start=np.where(known, self.run_start[at], never),
            last_time=np.where(known, self.last_time[at], never),
        )

    def updated(self, newer: Mapping[int, RunState]) -> RunStates:
        """These states with `newer`'s in place of (or beside) theirs."""
        fresh = RunStates.of(newer)
        if not len(fresh):
            return self
        keep = ~np.isin(self.key, fresh.key, assume_unique=True)
        key = np.concatenate([self.key[keep], fresh.key])
        order = np.argsort(key, kind="stable")

        def merged(mine: NDArray[G], theirs: NDArray[G]) -> NDArray[G]:
            return np.concatenate([mine[keep], theirs])[order]

        return RunStates(
            key=key[order],
            active=merged(self.active, fresh.active),
            run=merged(self.run, fresh.run),
            run_active=merged(self.run_active, fresh.run_active),
            run_start=merged(self.run_start, fresh.run_start),
            last_time=merged(self.last_time, fresh.last_time),
        )


# Columns of a device's remembered fix; a time of NaN: none yet.
TIME, LON, LAT, ACCURACY = range(4)


def _fix_rows(fixes: list[LastFix | None]) -> NDArray[np.float64]:
    rows = np.full((len(fixes), 4), np.nan)
    for i, f in enumerate(fixes):
        if f is not None:
            rows[i] = (f.time, f.lon, f.lat, f.accuracy)
    return rows


def _fix(row: NDArray[np.float64]) -> LastFix | None:
    if np.isnan(row[TIME]):
        return None
    return LastFix(float(row[TIME]), float(row[LON]), float(row[LAT]), float(row[ACCURACY]))


@dataclass(frozen=True, slots=True, eq=False)
class SeparationStates(Mapping[int, SeparationState]):
    """Per subject (sorted): the separation run and each device kind's newest fix (rows of
    TIME, LON, LAT, ACCURACY), in columns as RunStates are."""

    key: Ids
    run: RunStates
    phone: NDArray[np.float64]
    wristband: NDArray[np.float64]

    @classmethod
    def none(cls) -> SeparationStates:
        return cls(np.zeros(0, np.int64), RunStates.none(), np.zeros((0, 4)), np.zeros((0, 4)))

    @classmethod
    def of(cls, states: Mapping[int, SeparationState]) -> SeparationStates:
        if isinstance(states, SeparationStates):
            return states
        keys = sorted(states)
        return cls(
            key=np.array(keys, dtype=np.int64),
            run=RunStates.of({k: states[k].run for k in keys}),
            phone=_fix_rows([states[k].phone for k in keys]),
            wristband=_fix_rows([states[k].wristband for k in keys]),
        )

    def __len__(self) -> int:
        return int(self.key.shape[0])

    def __iter__(self) -> Iterator[int]:
        return iter(self.key.tolist())

    def __getitem__(self, key: int) -> SeparationState:
        i = int(np.searchsorted(self.key, key))
        if i == self.key.shape[0] or self.key[i] != key:
            raise KeyError(key)
        return SeparationState(self.run[key], _fix(self.phone[i]), _fix(self.wristband[i]))

    def columns(self, keys: Ids) -> SeparationStates:
        """The states of `keys`, in their order (nothing yet where a key has none)."""
        n = keys.shape[0]
        if not len(self):
            return SeparationStates(
                keys, self.run.columns(keys), np.full((n, 4), np.nan), np.full((n, 4), np.nan)
            )
        at = np.minimum(np.searchsorted(self.key, keys), len(self) - 1)
        known = (self.key[at] == keys)[:, None]
        return SeparationStates(
            key=keys,
            run=self.run.columns(keys),
            phone=np.where(known, self.phone[at], np.nan),
            wristband=np.where(known, self.wristband[at], np.nan),
        )

    def updated(self, newer: Mapping[int, SeparationState]) -> SeparationStates:
        """These states with `newer`'s in place of (or beside) theirs."""
        fresh = SeparationStates.of(newer)
        if not len(fresh):
            return self
        keep = ~np.isin(self.key, fresh.key, assume_unique=True)
        key = np.concatenate([self.key[keep], fresh.key])
        order = np.argsort(key, kind="stable")
        return SeparationStates(
            key=key[order],
            run=self.run.updated(fresh.run),
            phone=np.concatenate([self.phone[keep], fresh.phone])[order],
            wristband=np.concatenate([self.wristband[keep], fresh.wristband])[order],
        )


@dataclass(frozen=True, slots=True, eq=False)
class Positions(Mapping[int, LastFix]):
    """Each key's (a subject's) newest fix, sorted by key: rows of TIME, LON, LAT,
    ACCURACY."""

    key: Ids
    fix: NDArray[np.float64]

    @classmethod
    def none(cls) -> Positions:
        return cls(np.zeros(0, np.int64), np.zeros((0, 4)))

    @classmethod
    def of(cls, fixes: Mapping[int, LastFix]) -> Positions:
        if isinstance(fixes, Positions):
            return fixes
        keys = sorted(fixes)
        return cls(np.array(keys, dtype=np.int64), _fix_rows([fixes[k] for k in keys]))

    def __len__(self) -> int:
        return int(self.key.shape[0])

    def __iter__(self) -> Iterator[int]:
        return iter(self.key.tolist())

    def __getitem__(self, key: int) -> LastFix:
        i = int(np.searchsorted(self.key, key))
        if i == self.key.shape[0] or self.key[i] != key:
            raise KeyError(key)
        fix = _fix(self.fix[i])
        assert fix is not None, "a position is a fix"
        return fix

    def newer(self, other: Mapping[int, LastFix]) -> Positions:
        """Per key, whichever of the two fixes is newer (these on a tie)."""
        fresh = Positions.of(other)
        if not len(fresh):
            return self
        key = np.concatenate([fresh.key, self.key])
        fix = np.concatenate([fresh.fix, self.fix])
        order = np.lexsort((fix[:, TIME], key))  # by key, then time, stable: the newest last
        key, fix = key[order], fix[order]
        last = np.append(key[1:] != key[:-1], True)
        return Positions(key[last], fix[last])
