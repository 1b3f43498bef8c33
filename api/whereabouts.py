"""Who was there then (核查): for every subject of the caller's offices, whether their fixes
put them in an area during a time window; each subject answered is a location read on the
record (purpose and case) before the answer is sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

import store
from api.auth import ActingUser
from api.deps import Conn, Timestamp
from api.zones import Crs, CrsQuery, moved
from domain import Verdict as Code
from domain.crs import wgs84_to_gcj02
from geofence import ZoneError
from geofence.whereabouts import Area, judge

if TYPE_CHECKING:
    from domain import Around
    from geofence.whereabouts import Answer

router = APIRouter(tags=["whereabouts"])

MAX_WINDOW_S = 7 * 86_400


class Verdict(StrEnum):
    WAS_THERE = "was_there"
    MAY_HAVE_BEEN_THERE = "may_have_been_there"
    WAS_ELSEWHERE = "was_elsewhere"
    NO_DATA = "no_data"


class Reason(StrEnum):
    FIX_INSIDE = "fix_inside"  # a fix in the window, inside with all of its accuracy
    FIX_REACHES = "fix_reaches"  # a fix in the window whose accuracy circle reaches in
    GAP = "gap"  # between two fixes there was time to go there and back
    GAP_FROM_START = "gap_from_start"  # no fix before: from the window's start to the first
    GAP_TO_END = "gap_to_end"  # no fix after: from the last to the window's end
    FIXES_ELSEWHERE = "fixes_elsewhere"  # every fix outside, every gap too short
    NO_FIXES = "no_fixes"  # none in the window nor within an hour of it


_VERDICTS = {
    Code.WAS_THERE: Verdict.WAS_THERE,
    Code.MAY_HAVE_BEEN_THERE: Verdict.MAY_HAVE_BEEN_THERE,
    Code.WAS_ELSEWHERE: Verdict.WAS_ELSEWHERE,
}


class WhereaboutsQuery(BaseModel):
    area: dict[str, Any] = Field(
        description="a GeoJSON Polygon or MultiPolygon, or"
        ' {"type": "Circle", "center": [lon, lat], "radius_m": r}, as zones are given'
    )
    since: Timestamp
    until: Timestamp = Field(description="at most 7 days after since")
    purpose: str = Field(min_length=4, max_length=500, description="recorded with each read")
    case_ref: str = Field(
        min_length=1, max_length=200, description="the case it is asked for (案件编号)"
    )
    max_speed_mps: float = Field(
        default=33.4,
        ge=1.0,
        le=100.0,
        description="the fastest a subject may have moved between fixes (default 120 km/h)",
    )


class EvidenceFix(BaseModel):
    time: datetime
    device_code: str
    lon: float
    lat: float
    accuracy: float
    distance_m: float = Field(description="from the area (0: inside, or its accuracy reaches in)")


class SubjectWhereabouts(BaseModel):
    subject_id: int
    name: str
    office_id: int
    verdict: Verdict
    reason: Reason
    fixes_in_window: int
    fixes: list[EvidenceFix] = Field(
        description="the fixes that decide it: the one inside or reaching in; the two ends of"
        " the gap (one where the other is the window's edge); the nearest one elsewhere"
    )


class WhereaboutsAnswer(BaseModel):
    since: datetime
    until: datetime
    case_ref: str
    max_speed_mps: float
    counts: dict[Verdict, int]
    subjects: list[SubjectWhereabouts]


def _reason(answer: Answer, i: int, around: Around) -> Reason:
    code, row = Code(int(answer.verdict[i])), int(answer.row[i])
    if code is Code.WAS_THERE:
        return Reason.FIX_INSIDE
    if code is Code.WAS_ELSEWHERE:
        return Reason.FIXES_ELSEWHERE
    if answer.gap_from_start[i]:
        return Reason.GAP_FROM_START
    if answer.gap_to_next[i]:
        return Reason.GAP if not np.isnan(around.next_time[row]) else Reason.GAP_TO_END
    return Reason.FIX_REACHES


def _evidence(answer: Answer, i: int, around: Around) -> list[tuple[float, ...]]:
    """(time, device, lon, lat, accuracy, distance) of the fixes deciding subject i."""
    row = int(answer.row[i])
    fixes: list[tuple[float, ...]] = [
        (
            around.time[row],
            around.device[row],
            around.lon[row],
            around.lat[row],
            around.accuracy[row],
            answer.distance[row],
        )
    ]
    if answer.gap_to_next[i] and not np.isnan(around.next_time[row]):
        fixes.append(
            (
                around.next_time[row],
                around.next_device[row],
                around.next_lon[row],
                around.next_lat[row],
                around.next_accuracy[row],
                answer.next_distance[row],
            )
        )
    return fixes


@router.post("/whereabouts")
async def whereabouts(
    query: WhereaboutsQuery, conn: Conn, user: ActingUser, crs: CrsQuery = Crs.WGS84
) -> WhereaboutsAnswer:
    """Who was there then: every subject of the caller's offices, *was there* (a fix in
    the window inside the area, accuracy-aware), *may have been there* (a fix whose
    accuracy reaches in, or a gap between fixes in which the area was reachable at
    `max_speed_mps`), *was elsewhere* (the fixes prove it) or *no data*, with the fixes
    that decide it. Each subject answered is a location read recorded with the purpose
    and the case."""
    span = (query.until - query.since).total_seconds()
    if not 0 < span <= MAX_WINDOW_S:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "until must be after since, by at most 7 days"
        )
    geometry = query.area if crs is Crs.WGS84 else moved(query.area, to_wgs84=True)
    try:
        area = Area.of(geometry)
    except ZoneError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"area: {exc}") from exc
    subjects = await store.subjects.list_subjects(conn, offices=user.scope)
    around = await store.whereabouts.fixes_around(
        conn,
        subject_ids=[s.id for s in subjects],
        since=query.since,
        until=query.until,
    )
    answer = await asyncio.to_thread(
        judge,
        area,
        around,
        since=query.since.timestamp(),
        until=query.until.timestamp(),
        max_speed=query.max_speed_mps,
    )
    found = {int(s): i for i, s in enumerate(answer.subject.tolist())}
    evidence = {s: _evidence(answer, i, around) for s, i in found.items()}
    codes = await store.whereabouts.device_codes(
        conn, device_ids=sorted({int(f[1]) for fs in evidence.values() for f in fs})
    )
    out = []
    for s in subjects:
        i = found.get(s.id)
        fixes = [_fix(f, codes, crs) for f in evidence.get(s.id, [])]
        out.append(
            SubjectWhereabouts(
                subject_id=s.id,
                name=s.name,
                office_id=s.office_id,
                verdict=Verdict.NO_DATA if i is None else _VERDICTS[Code(int(answer.verdict[i]))],
                reason=Reason.NO_FIXES if i is None else _reason(answer, i, around),
                fixes_in_window=0 if i is None else int(around.in_window[answer.row[i]]),
                fixes=fixes,
            )
        )
    await store.audit.record_whereabouts_reads(
        conn,
        username=user.username,
        fixes={s.subject_id: len(s.fixes) for s in out},
        since=query.since,
        until=query.until,
        purpose=query.purpose,
        case_ref=query.case_ref,
    )
    await conn.commit()
    return WhereaboutsAnswer(
        since=query.since,
        until=query.until,
        case_ref=query.case_ref,
        max_speed_mps=query.max_speed_mps,
        counts={v: sum(s.verdict is v for s in out) for v in Verdict},
        subjects=out,
    )


def _fix(fix: tuple[float, ...], codes: dict[int, str], crs: Crs) -> EvidenceFix:
    time, device, lon, lat, accuracy, distance = fix
    if crs is Crs.GCJ02:
        glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
        lon, lat = float(glon[0]), float(glat[0])
    return EvidenceFix(
        time=datetime.fromtimestamp(time, UTC),
        device_code=codes[int(device)],
        lon=lon,
        lat=lat,
        accuracy=accuracy,
        distance_m=round(float(distance), 1),
    )
