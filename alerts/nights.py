"""Nights away (夜不归宿): a subject whose residence is a zone, away from it for more than their
level's `night_away_h` of the night (`night_starts_h` to `night_ends_h`, local time), raises
`night_away` once that night, with where they were: the stay outside the residence that
took most of the night, or, with none, the last fix away.

Away is judged from the fixes, accuracy-aware: each fix holds from its time until the next
(at most `max_gap_s`: beyond, nothing says where the subject was), and counts as away only
when it lies outside the residence beyond its accuracy; a fix that may be inside (a cell fix
at home) is not away. Time under an approved leave is not away. The pure part (`away`) is
numpy over each subject's fixes; the job (`check`) reads and writes at the edge, as often as
the stays job runs, during the night and after it (fixes that arrive late still count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

import store
from alerts.notices import record_findings
from alerts.places import Night
from domain import (
    AlertKind,
    Assignment,
    Finding,
    FixBatch,
    LeaveState,
    Text,
    Zone,
    ZoneRole,
    ZoneStatus,
)
from geofence import ZoneIndex

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from zoneinfo import ZoneInfo

    from psycopg import AsyncConnection

    from domain import AlertChange, EpochSeconds, LevelPolicy, SupervisionLevel


@dataclass(frozen=True, slots=True)
class Away:
    seconds: float  # away in the night so far
    crossed_at: float | None  # when it passed the limit (None: it has not)


def _merged(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def away(
    time: EpochSeconds,
    outside: np.ndarray[Any, np.dtype[np.bool_]],
    *,
    start: float,
    until: float,
    max_gap_s: float,
    limit_s: float,
    excused: Sequence[tuple[float, float]] = (),
) -> Away:
    """One subject's time away in [start, until) from their fixes sorted by time (those
    before `start` count from it): each fix `outside` holds until the next fix, at most
    `max_gap_s`; the spans `excused` (approved leaves) do not count."""
    if time.shape[0] == 0 or until <= start:
        return Away(0.0, None)
    following = np.append(time[1:], until)
    begins = np.clip(time, start, until)[outside]
    ends = np.clip(np.minimum(following, time + max_gap_s), start, until)[outside]
    if excused:
        begins, ends = _without(begins, ends, _merged(excused))
    total = np.cumsum(np.maximum(ends - begins, 0.0))
    over = np.flatnonzero(total > limit_s)
    crossed = float(ends[over[0]] - (total[over[0]] - limit_s)) if over.size else None
    return Away(float(total[-1]) if total.size else 0.0, crossed)


def _without(
    begins: EpochSeconds, ends: EpochSeconds, leaves: Sequence[tuple[float, float]]
) -> tuple[EpochSeconds, EpochSeconds]:
    """The spans [begins, ends) less the (merged, sorted) leaves, in order."""
    out_b, out_e = [], []
    for first, e in zip(begins.tolist(), ends.tolist(), strict=True):
        b = first
        for a, z in leaves:
            if z <= b or a >= e:
                continue
            if a > b:
                out_b.append(b)
                out_e.append(a)
            b = max(b, z)
            if b >= e:
                break
        if b < e:
            out_b.append(b)
            out_e.append(e)
    return np.array(out_b, np.float64), np.array(out_e, np.float64)


def residence_index(residents: Sequence[store.nights.Resident]) -> ZoneIndex:
    """The residences as the pipeline's zone index has them: each an inclusion zone of its
    subject (judged only here, never by the zone rule)."""
    zones = {r.zone_id: Zone(r.zone_id, "residence", r.geometry) for r in residents}
    return ZoneIndex.build(
        zones.values(),
        [
            Assignment(i + 1, r.subject_id, r.zone_id, ZoneRole.INCLUSION)
            for i, r in enumerate(residents)
        ],
    )


def outside(index: ZoneIndex, fixes: FixBatch) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Each fix outside its subject's residence beyond its accuracy (False for a subject
    without one)."""
    ev = index.evaluate(fixes)
    out = np.zeros(len(fixes), np.bool_)
    out[ev.fix[ev.status == int(ZoneStatus.OUTSIDE)]] = True
    return out


def _outside(
    residents: Sequence[store.nights.Resident], fixes: store.nights.NightFixes
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return outside(
        residence_index(residents),
        FixBatch.measured(fixes.subject, fixes.time, fixes.lon, fixes.lat, fixes.accuracy),
    )


async def check(
    conn: AsyncConnection[Any],
    *,
    levels: Mapping[SupervisionLevel, LevelPolicy],
    tz: ZoneInfo,
    max_gap_s: float,
    now: float,
) -> list[AlertChange]:
    """Judge the night under way (or the last one) for every subject with a residence under
    an order; raise `night_away` for each over their level's limit not yet raised that
    night."""
    residents = await store.nights.residents(conn, at=now)
    leaves = [v for v in await store.leaves.load_leaves(conn) if v.state is LeaveState.APPROVED]
    findings = []
    for level, policy in levels.items():
        mine = [r for r in residents if r.level is level]
        if not mine:
            continue
        night = Night(policy.night_starts_h, policy.night_ends_h)
        n0, n1 = (d.timestamp() for d in night.around(datetime.fromtimestamp(now, UTC), tz))
        until = min(now, n1)
        fixes = await store.nights.night_fixes(
            conn, subject_ids=[r.subject_id for r in mine], since=n0 - max_gap_s, until=until
        )
        outside = _outside(mine, fixes)
        for r in mine:
            rows = np.flatnonzero(fixes.subject == r.subject_id)
            judged = away(
                fixes.time[rows],
                outside[rows],
                start=n0,
                until=until,
                max_gap_s=max_gap_s,
                limit_s=policy.night_away_h * 3600.0,
                excused=[(v.starts, v.ends) for v in leaves if v.subject_id == r.subject_id],
            )
            if judged.crossed_at is None:
                continue
            if not await store.nights.mark_night(conn, subject_id=r.subject_id, night_starts=n0):
                continue  # raised already this night
            findings.append(await _finding(conn, r, judged, rows, outside, fixes, n0, until, tz))
    return await record_findings(conn, findings, actor="nights") if findings else []


async def _finding(
    conn: AsyncConnection[Any],
    resident: store.nights.Resident,
    judged: Away,
    rows: np.ndarray[Any, np.dtype[np.int64]],
    outside: np.ndarray[Any, np.dtype[np.bool_]],
    fixes: store.nights.NightFixes,
    n0: float,
    until: float,
    tz: ZoneInfo,
) -> Finding:
    """Where they were: the stay outside the residence that took most of the night, or the
    last fix away."""
    assert judged.crossed_at is not None
    hours = judged.seconds / 3600.0
    stays = await store.stays.subject_stays(
        conn,
        subject_id=resident.subject_id,
        since=datetime.fromtimestamp(n0, UTC),
        until=datetime.fromtimestamp(until, UTC),
    )
    if stays:
        centres = store.nights.NightFixes(
            subject=np.full(len(stays), resident.subject_id, np.int64),
            time=np.array([s.starts_at.timestamp() for s in stays]),
            lon=np.array([s.lon for s in stays]),
            lat=np.array([s.lat for s in stays]),
            accuracy=np.array([s.radius_m for s in stays]),
        )
        away_stays = [s for s, o in zip(stays, _outside([resident], centres), strict=True) if o]
        if away_stays:

            def overlap(s: store.stays.StayRow) -> float:
                return min(s.ends_at.timestamp(), until) - max(s.starts_at.timestamp(), n0)

            best = max(away_stays, key=overlap)
            return Finding(
                AlertKind.NIGHT_AWAY,
                resident.subject_id,
                judged.crossed_at,
                Text(
                    "night_away_at",
                    {"h": hours, "since": best.starts_at.astimezone(tz).strftime("%H:%M")},
                ),
                lon=best.lon,
                lat=best.lat,
            )
    away_rows = rows[outside[rows]]
    last = int(away_rows[-1])
    return Finding(
        AlertKind.NIGHT_AWAY,
        resident.subject_id,
        judged.crossed_at,
        Text("night_away_moving", {"h": hours}),
        lon=float(fixes.lon[last]),
        lat=float(fixes.lat[last]),
    )
