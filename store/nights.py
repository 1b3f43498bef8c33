"""Nights away: the subjects with a residence under an order, their fixes of a night as
arrays, and the nights already raised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from domain import SupervisionLevel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class Resident:
    subject_id: int
    level: SupervisionLevel
    zone_id: int
    geometry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NightFixes:
    """Fixes sorted by subject, then time (phone and band as one track)."""

    subject: np.ndarray[Any, np.dtype[np.int64]]
    time: np.ndarray[Any, np.dtype[np.float64]]
    lon: np.ndarray[Any, np.dtype[np.float64]]
    lat: np.ndarray[Any, np.dtype[np.float64]]
    accuracy: np.ndarray[Any, np.dtype[np.float64]]


async def residents(conn: AsyncConnection[Any], *, at: float) -> list[Resident]:
    """Subjects with a registered residence and an order in force at `at`."""
    cur = await conn.execute(
        "SELECT s.id, s.level, z.id, z.geometry FROM subjects s"
        " JOIN zones z ON z.id = s.residence_zone_id"
        " WHERE EXISTS (SELECT 1 FROM order_periods o WHERE o.subject_id = s.id"
        "  AND to_timestamp(%s) BETWEEN o.starts_at AND o.ends_at) ORDER BY s.id",
        (at,),
    )
    return [Resident(s, SupervisionLevel(v), z, g) for s, v, z, g in await cur.fetchall()]


async def night_fixes(
    conn: AsyncConnection[Any], *, subject_ids: Sequence[int], since: float, until: float
) -> NightFixes:
    cur = await conn.execute(
        "SELECT subject_id, extract(epoch FROM time)::float8, lon, lat, accuracy::float8"
        " FROM fixes WHERE subject_id = ANY(%s) AND time >= to_timestamp(%s)"
        " AND time < to_timestamp(%s) ORDER BY subject_id, time",
        (list(subject_ids), since, until),
    )
    rows = np.array(await cur.fetchall(), dtype=np.float64).reshape(-1, 5)
    return NightFixes(
        rows[:, 0].astype(np.int64), *(np.ascontiguousarray(rows[:, k]) for k in range(1, 5))
    )


async def mark_night(conn: AsyncConnection[Any], *, subject_id: int, night_starts: float) -> bool:
    """Note that the subject's night from `night_starts` was raised; False if it was."""
    cur = await conn.execute(
        "INSERT INTO nights_away (subject_id, night_starts_at) VALUES (%s, %s)"
        " ON CONFLICT DO NOTHING",
        (subject_id, datetime.fromtimestamp(night_starts, UTC)),
    )
    return cur.rowcount == 1
