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
from domain.order import by_key_then_time

Flags = NDArray[np.bool_]
Seconds = NDArray[np.float64]
G = TypeVar("G", bound=np.generic)
V = TypeVar("V")


class _Keyed(Mapping[int, V]):
    """Rows sorted by `key`, read as a mapping; what the column classes below share."""

    __slots__ = ()
    key: Ids

    def __len__(self) -> int:
        return int(self.key.shape[0])

    def __iter__(self) -> Iterator[int]:
        return iter(self.key.tolist())

    def _row(self, key: int) -> int:
        i = int(np.searchsorted(self.key, key))
        if i == self.key.shape[0] or self.key[i] != key:
            raise KeyError(key)
        return i

    def _pick(self, keys: Ids) -> Ids:
        """The row of each of `keys`; len(self) where it has none (a default row appended
        to each column stands there)."""
        n = len(self)
        at = np.searchsorted(self.key, keys)
        known = at < n
        known[known] = self.key[at[known]] == keys[known]
        return np.where(known, at, n)

    def _merge(self, fresh: Ids) -> tuple[Flags, Ids, Ids]:
        """For `fresh` keys replacing or joining these: the rows of these kept, the order
        of (kept rows, then fresh rows) by key, and the keys in that order."""
        keep = ~np.isin(self.key, fresh, assume_unique=True)
        key = np.concatenate([self.key[keep], fresh])
        order = np.argsort(key, kind="stable")
        return keep, order, key[order]


@dataclass(frozen=True, slots=True, eq=False)
class RunStates(_Keyed[RunState]):
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

    def __getitem__(self, key: int) -> RunState:
        i = self._row(key)
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
        at, nothing = self._pick(keys), RunState()
        return RunStates(
            key=keys,
            active=np.append(self.active, nothing.active)[at],
            run=np.append(self.run, nothing.run)[at],
            run_active=np.append(self.run_active, nothing.run_active)[at],
            run_start=np.append(self.run_start, nothing.run_start)[at],
            last_time=np.append(self.last_time, nothing.last_time)[at],
        )

    def updated(self, newer: Mapping[int, RunState]) -> RunStates:
        """These states with `newer`'s in place of (or beside) theirs."""
        fresh = RunStates.of(newer)
        if not len(fresh):
            return self
        keep, order, key = self._merge(fresh.key)

        def merged(mine: NDArray[G], theirs: NDArray[G]) -> NDArray[G]:
            return np.concatenate([mine[keep], theirs])[order]

        return RunStates(
            key=key,
            active=merged(self.active, fresh.active),
            run=merged(self.run, fresh.run),
            run_active=merged(self.run_active, fresh.run_active),
            run_start=merged(self.run_start, fresh.run_start),
            last_time=merged(self.last_time, fresh.last_time),
        )


def _newest_rows(key: Ids, time: Seconds) -> Ids:
    """Per key, the row of its newest time (the later row on a tie), in key order."""
    order = by_key_then_time(key, time)
    k = key[order]
    last: Flags = np.append(k[1:] != k[:-1], True)[: k.shape[0]]
    return order[last]


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
class SeparationStates(_Keyed[SeparationState]):
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

    def __getitem__(self, key: int) -> SeparationState:
        i = self._row(key)
        return SeparationState(self.run[key], _fix(self.phone[i]), _fix(self.wristband[i]))

    def columns(self, keys: Ids) -> SeparationStates:
        """The states of `keys`, in their order (nothing yet where a key has none)."""
        at, none = self._pick(keys), np.full((1, 4), np.nan)
        return SeparationStates(
            key=keys,
            run=self.run.columns(keys),
            phone=np.concatenate([self.phone, none])[at],
            wristband=np.concatenate([self.wristband, none])[at],
        )

    def updated(self, newer: Mapping[int, SeparationState]) -> SeparationStates:
        """These states with `newer`'s in place of (or beside) theirs."""
        fresh = SeparationStates.of(newer)
        if not len(fresh):
            return self
        keep, order, key = self._merge(fresh.key)
        return SeparationStates(
            key=key,
            run=self.run.updated(fresh.run),
            phone=np.concatenate([self.phone[keep], fresh.phone])[order],
            wristband=np.concatenate([self.wristband[keep], fresh.wristband])[order],
        )


@dataclass(frozen=True, slots=True, eq=False)
class Positions(_Keyed[LastFix]):
    """Each key's (a subject's) newest fix, sorted by key: rows of TIME, LON, LAT,
    ACCURACY (a rule may keep columns of its own after these: proximity its party's motion)."""

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

    def __getitem__(self, key: int) -> LastFix:
        fix = _fix(self.fix[self._row(key)])
        assert fix is not None, "a position is a fix"
        return fix

    def newer(self, other: Mapping[int, LastFix]) -> Positions:
        """Per key, whichever of the two fixes is newer (these on a tie)."""
        fresh = Positions.of(other)
        if not len(fresh):
            return self
        return Positions.newest(
            np.concatenate([fresh.key, self.key]), np.concatenate([fresh.fix, self.fix])
        )

    def at(self, keys: Ids) -> NDArray[np.float64]:
        """The row of each of `keys`; NaN where a key has none."""
        return np.concatenate([self.fix, np.full((1, self.fix.shape[1]), np.nan)])[self._pick(keys)]

    @classmethod
    def newest(cls, key: Ids, fix: NDArray[np.float64]) -> Positions:
        """Per key, its newest of the `fix` rows (the later row on a tie)."""
        rows = _newest_rows(key, fix[:, TIME])
        return Positions(key[rows], fix[rows])


@dataclass(frozen=True, slots=True, eq=False)
class Times(_Keyed[float]):
    """One time per key (a device's newest report, a quiet device's first report back),
    sorted by key."""

    key: Ids
    time: Seconds

    @classmethod
    def none(cls) -> Times:
        return cls(np.zeros(0, np.int64), np.zeros(0))

    @classmethod
    def of(cls, times: Mapping[int, float]) -> Times:
        if isinstance(times, Times):
            return times
        keys = sorted(times)
        return cls(np.array(keys, dtype=np.int64), np.array([times[k] for k in keys], np.float64))

    @classmethod
    def newest(cls, key: Ids, time: Seconds) -> Times:
        """The newest of `time` per key."""
        rows = _newest_rows(key, time)
        return cls(key[rows], time[rows])

    @classmethod
    def earliest(cls, key: Ids, time: Seconds) -> Times:
        """The earliest of `time` per key."""
        negated = cls.newest(key, -time)
        return cls(negated.key, -negated.time)

    def __getitem__(self, key: int) -> float:
        return float(self.time[self._row(key)])

    def at(self, keys: Ids, otherwise: float) -> Seconds:
        """The time of each of `keys`; `otherwise` where a key has none."""
        return np.append(self.time, otherwise)[self._pick(keys)]

    def latest(self, other: Mapping[int, float]) -> Times:
        """Per key, the later of the two times."""
        fresh = Times.of(other)
        return Times.newest(np.concatenate([self.key, fresh.key]), np.append(self.time, fresh.time))
