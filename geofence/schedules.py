"""When assignments apply: schedules compiled into interval arrays, tested per (fix, assignment).

Weekly windows are minute-of-week intervals in the schedule's time zone; one-off windows are
epoch-second intervals. Starts are inclusive, ends exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from collections.abc import Sequence

    from domain import OneOffWindow, Schedule

_WEEK_MIN = 7 * 1440
# 1970-01-01 was a Thursday: minute-of-week counts from Monday 00:00.
_EPOCH_MINUTE_OF_WEEK = 3 * 1440
# Offsets are looked up once per quarter hour of fix time: every real time-zone change
# happens on a quarter hour.
_OFFSET_BUCKET_S = 900


class ScheduleError(ValueError):
    """A schedule that cannot be compiled; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Schedules:
    """Row s is schedule s. CSR arrays: weekly intervals of s are
    week_start[week_ptr[s]:week_ptr[s + 1]] (minutes of week), one-off likewise (epoch s)."""

    always: NDArray[np.bool_]
    tz: NDArray[np.int64]  # index into zones
    zones: tuple[ZoneInfo, ...]
    week_ptr: NDArray[np.int64]
    week_start: NDArray[np.int64]
    week_end: NDArray[np.int64]
    once_ptr: NDArray[np.int64]
    once_start: NDArray[np.float64]
    once_end: NDArray[np.float64]
    suspended_ptr: NDArray[np.int64]
    suspended_start: NDArray[np.float64]
    suspended_end: NDArray[np.float64]


def _weekly_intervals(schedule: Schedule) -> list[tuple[int, int]]:
    out = []
    for w in schedule.weekly:
        if not w.days or any(d not in range(7) for d in w.days):
            raise ScheduleError(f"weekdays must be 0 (Monday) .. 6, got {list(w.days)}")
        start = w.start.hour * 60 + w.start.minute
        end = w.end.hour * 60 + w.end.minute
        length = (end - start) % 1440 or 1440
        for d in w.days:
            s = d * 1440 + start
            e = s + length
            if e <= _WEEK_MIN:
                out.append((s, e))
            else:  # Sunday night into Monday morning
                out += [(s, _WEEK_MIN), (0, e - _WEEK_MIN)]
    return out


def _once_intervals(
    schedule: Schedule, windows: Sequence[OneOffWindow] | None = None
) -> list[tuple[float, float]]:
    out = []
    for w in schedule.once if windows is None else windows:
        if w.start.tzinfo is None or w.end.tzinfo is None:
            raise ScheduleError("one-off windows need times with a UTC offset")
        if w.end <= w.start:
            raise ScheduleError(f"window ends ({w.end}) before it starts ({w.start})")
        out.append((w.start.timestamp(), w.end.timestamp()))
    return out


def _ptr(counts: list[int]) -> NDArray[np.int64]:
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(counts)
    return ptr


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name!r}") from exc


def check_schedule(schedule: Schedule) -> None:
    """Raise ScheduleError if the schedule cannot be compiled."""
    _zone(schedule.timezone)
    _weekly_intervals(schedule)
    _once_intervals(schedule)
    _once_intervals(schedule, schedule.suspended)


def compile_schedules(schedules: Sequence[Schedule]) -> Schedules:
    names: dict[str, int] = {}
    zones: list[ZoneInfo] = []
    for s in schedules:
        if s.timezone not in names:
            zones.append(_zone(s.timezone))
            names[s.timezone] = len(zones) - 1
    # Tens of thousands of assignments share a few schedules (most: always); a schedule's
    # hash is computed anew each time, so each is looked up once.
    seen: dict[Schedule, int] = {}
    which = [seen.setdefault(s, len(seen)) for s in schedules]
    compiled = [
        (_weekly_intervals(s), _once_intervals(s), _once_intervals(s, s.suspended)) for s in seen
    ]
    weekly = [compiled[i][0] for i in which]
    once = [compiled[i][1] for i in which]
    suspended = [compiled[i][2] for i in which]
    return Schedules(
        always=np.array([s.always for s in schedules], dtype=np.bool_),
        tz=np.array([names[s.timezone] for s in schedules], dtype=np.int64),
        zones=tuple(zones),
        week_ptr=_ptr([len(w) for w in weekly]),
        week_start=np.array([a for w in weekly for a, _ in w], dtype=np.int64),
        week_end=np.array([b for w in weekly for _, b in w], dtype=np.int64),
        once_ptr=_ptr([len(o) for o in once]),
        once_start=np.array([a for o in once for a, _ in o], dtype=np.float64),
        once_end=np.array([b for o in once for _, b in o], dtype=np.float64),
        suspended_ptr=_ptr([len(o) for o in suspended]),
        suspended_start=np.array([a for o in suspended for a, _ in o], dtype=np.float64),
        suspended_end=np.array([b for o in suspended for _, b in o], dtype=np.float64),
    )


def _utc_offsets(
    zone_idx: NDArray[np.int64], time: NDArray[np.float64], zones: tuple[ZoneInfo, ...]
) -> NDArray[np.float64]:
    """UTC offset in seconds of each fix time in its zone, looked up once per bucket."""
    bucket = np.floor(time / _OFFSET_BUCKET_S).astype(np.int64)
    keys, inverse = np.unique(np.stack([zone_idx, bucket]), axis=1, return_inverse=True)
    offsets = np.array(
        [
            zones[z].utcoffset(datetime.fromtimestamp(b * _OFFSET_BUCKET_S, UTC)).total_seconds()
            for z, b in keys.T.tolist()
        ],
        dtype=np.float64,
    )
    return offsets[inverse.ravel()]


def _any_interval(
    row: NDArray[np.int64],
    value: NDArray[np.float64] | NDArray[np.int64],
    ptr: NDArray[np.int64],
    start: NDArray[np.generic],
    end: NDArray[np.generic],
) -> NDArray[np.bool_]:
    counts = ptr[row + 1] - ptr[row]
    item = np.repeat(np.arange(row.shape[0]), counts)
    k = ptr[row][item] + np.arange(item.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    v = value[item]
    hit = (start[k] <= v) & (v < end[k])
    return np.bincount(item, weights=hit, minlength=row.shape[0]) > 0


def active(
    schedules: Schedules, row: NDArray[np.int64], time: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Does schedule `row[i]` apply at epoch second `time[i]`?"""
    result = schedules.always[row].copy()
    todo = np.flatnonzero(~result)
    if todo.size:
        r, t = row[todo], time[todo]
        local = t + _utc_offsets(schedules.tz[r], t, schedules.zones)
        minute = (np.floor(local / 60).astype(np.int64) + _EPOCH_MINUTE_OF_WEEK) % _WEEK_MIN
        weekly = _any_interval(
            r, minute, schedules.week_ptr, schedules.week_start, schedules.week_end
        )
        once = _any_interval(r, t, schedules.once_ptr, schedules.once_start, schedules.once_end)
        result[todo] = weekly | once
    ptr = schedules.suspended_ptr
    held = np.flatnonzero(result & (ptr[row + 1] > ptr[row]))
    if held.size:
        result[held] = ~_any_interval(
            row[held],
            time[held],
            ptr,
            schedules.suspended_start,
            schedules.suspended_end,
        )
    return result
