"""What the rules remember between batches, kept so a restarted pipeline resumes: confirmation
runs per zone assignment and per subject (separation), and what was last heard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain import LastFix, RunState, SeparationState

if TYPE_CHECKING:
    from collections.abc import Mapping

    from psycopg import AsyncConnection

_RUN = "active, run, run_active, run_start, last_time"
_RUN_TYPES = "%s::boolean[], %s::int[], %s::boolean[], %s::float8[], %s::float8[]"
_UPDATE_RUN = (
    "active = EXCLUDED.active, run = EXCLUDED.run, run_active = EXCLUDED.run_active,"
    " run_start = EXCLUDED.run_start, last_time = EXCLUDED.last_time"
)


def _run_columns(runs: list[RunState]) -> tuple[list[Any], ...]:
    return (
        [r.active for r in runs],
        [r.run for r in runs],
        [r.run_active for r in runs],
        [r.run_start for r in runs],
        [r.last_time for r in runs],
    )


def _run(row: tuple[Any, ...]) -> RunState:
    return RunState(bool(row[0]), int(row[1]), bool(row[2]), float(row[3]), float(row[4]))


def _fix(row: tuple[Any, ...]) -> LastFix | None:
    return None if row[0] is None else LastFix(*(float(v) for v in row))


async def load_zone_state(conn: AsyncConnection[Any]) -> dict[int, RunState]:
    cur = await conn.execute(f"SELECT assignment_id, {_RUN} FROM zone_rule_state")  # noqa: S608
    return {int(r[0]): _run(r[1:]) for r in await cur.fetchall()}


async def save_zone_state(conn: AsyncConnection[Any], state: Mapping[int, RunState]) -> None:
    if not state:
        return
    ids = list(state)
    runs = [state[i] for i in ids]
    await conn.execute(
        f"INSERT INTO zone_rule_state (assignment_id, {_RUN})"  # noqa: S608
        f" SELECT * FROM unnest(%s::bigint[], {_RUN_TYPES})"
        f" AS u (assignment_id, {_RUN})"
        # an assignment deleted meanwhile has nothing left to remember
        " WHERE EXISTS (SELECT 1 FROM zone_assignments za WHERE za.id = u.assignment_id)"
        f" ON CONFLICT (assignment_id) DO UPDATE SET {_UPDATE_RUN}",
        (ids, *_run_columns(runs)),
    )


_FIXES = (
    "phone_time, phone_lon, phone_lat, phone_accuracy, band_time, band_lon, band_lat, band_accuracy"
)


async def load_separation_state(conn: AsyncConnection[Any]) -> dict[int, SeparationState]:
    cur = await conn.execute(
        f"SELECT subject_id, {_RUN}, {_FIXES} FROM separation_rule_state"  # noqa: S608
    )
    return {
        int(r[0]): SeparationState(_run(r[1:6]), _fix(r[6:10]), _fix(r[10:14]))
        for r in await cur.fetchall()
    }


async def save_separation_state(
    conn: AsyncConnection[Any], state: Mapping[int, SeparationState]
) -> None:
    if not state:
        return
    ids = list(state)
    runs = [state[s].run for s in ids]

    def column(kind: str, field: str) -> list[float | None]:
        fixes = [getattr(state[s], kind) for s in ids]
        return [None if f is None else getattr(f, field) for f in fixes]

    fields = ("time", "lon", "lat", "accuracy")
    await conn.execute(
        f"INSERT INTO separation_rule_state (subject_id, {_RUN}, {_FIXES})"  # noqa: S608
        f" SELECT * FROM unnest(%s::bigint[], {_RUN_TYPES}, {', '.join(['%s::float8[]'] * 8)})"
        f" ON CONFLICT (subject_id) DO UPDATE SET {_UPDATE_RUN},"
        " phone_time = EXCLUDED.phone_time, phone_lon = EXCLUDED.phone_lon,"
        " phone_lat = EXCLUDED.phone_lat, phone_accuracy = EXCLUDED.phone_accuracy,"
        " band_time = EXCLUDED.band_time, band_lon = EXCLUDED.band_lon,"
        " band_lat = EXCLUDED.band_lat, band_accuracy = EXCLUDED.band_accuracy",
        (
            ids,
            *_run_columns(runs),
            *(column("phone", f) for f in fields),
            *(column("wristband", f) for f in fields),
        ),
    )


async def last_reports(conn: AsyncConnection[Any]) -> dict[int, float]:
    """Per device, the time of its newest fix or status event."""
    cur = await conn.execute(
        "SELECT d.id, GREATEST("
        " (SELECT max(time) FROM fixes f WHERE f.device_id = d.id),"
        " (SELECT max(time) FROM device_events e WHERE e.device_id = d.id))"
        " FROM devices d"
    )
    return {int(d): t.timestamp() for d, t in await cur.fetchall() if t is not None}


async def last_positions(conn: AsyncConnection[Any]) -> dict[int, LastFix]:
    """Per subject, the newest stored fix."""
    cur = await conn.execute(
        "SELECT s.id, f.time, f.lon, f.lat, f.accuracy FROM subjects s CROSS JOIN LATERAL"
        " (SELECT time, lon, lat, accuracy FROM fixes WHERE subject_id = s.id"
        "  ORDER BY time DESC LIMIT 1) f"
    )
    return {
        int(s): LastFix(t.timestamp(), float(lon), float(lat), float(acc))
        for s, t, lon, lat, acc in await cur.fetchall()
    }
