"""Rule state kept between batches (zone runs, phone-wristband separation, last reports),
versioned per subject and locked per batch so several ingest processes can share it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from domain import LastFix, Positions, RunState, RunStates, SeparationState, SeparationStates

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    from numpy.typing import NDArray
    from psycopg import AsyncConnection


_RUN = "active, run, run_active, run_start, last_time"


# Binary (%b): arrays dump several times faster than as text.
_RUN_TYPES = "%b::boolean[], %b::int[], %b::boolean[], %b::float8[], %b::float8[]"


_UPDATE_RUN = (
    "active = EXCLUDED.active, run = EXCLUDED.run, run_active = EXCLUDED.run_active,"
    " run_start = EXCLUDED.run_start, last_time = EXCLUDED.last_time"
)


def _run_columns(runs: RunStates) -> tuple[list[Any], ...]:
    """The run columns in _RUN's order, as the query's arrays."""
    return (
        runs.active.tolist(),
        runs.run.tolist(),
        runs.run_active.tolist(),
        runs.run_start.tolist(),
        runs.last_time.tolist(),
    )


def _run(row: tuple[Any, ...]) -> RunState:
    return RunState(bool(row[0]), int(row[1]), bool(row[2]), float(row[3]), float(row[4]))


def _fix(row: tuple[Any, ...]) -> LastFix | None:
    return None if row[0] is None else LastFix(*(float(v) for v in row))


# Advisory lock key (any fixed number): batches share it, the clock takes it alone.
_RULES = 0x6363_7275_6C65


def _only(column: str, subjects: Sequence[int] | None) -> tuple[str, tuple[Any, ...]]:
    if subjects is None:
        return "", ()
    return f" WHERE {column} = ANY(%s)", (list(subjects),)


async def load_zone_state(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> dict[int, RunState]:
    return await _load_assignment_runs(conn, "zone_rule_state", subjects)


async def save_zone_state(conn: AsyncConnection[Any], state: Mapping[int, RunState]) -> None:
    await _save_assignment_runs(conn, "zone_rule_state", RunStates.of(state))


async def load_heading_state(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> dict[int, RunState]:
    """The runs of the approach to each exclusion zone assigned to these subjects."""
    return await _load_assignment_runs(conn, "heading_rule_state", subjects)


async def save_heading_state(conn: AsyncConnection[Any], state: RunStates) -> None:
    await _save_assignment_runs(conn, "heading_rule_state", state)


async def _load_assignment_runs(
    conn: AsyncConnection[Any], table: str, subjects: Sequence[int] | None
) -> dict[int, RunState]:
    where, args = _only("za.subject_id", subjects)
    cur = await conn.execute(
        f"SELECT z.assignment_id, {_RUN} FROM {table} z"
        f" JOIN zone_assignments za ON za.id = z.assignment_id{where}",
        args,
    )
    return {int(r[0]): _run(r[1:]) for r in await cur.fetchall()}


async def _save_assignment_runs(conn: AsyncConnection[Any], table: str, runs: RunStates) -> None:
    if not len(runs):
        return
    await conn.execute(
        f"INSERT INTO {table} (assignment_id, {_RUN})"
        f" SELECT * FROM unnest(%b::bigint[], {_RUN_TYPES})"
        f" AS u (assignment_id, {_RUN})"
        # an assignment deleted meanwhile has nothing left to remember
        " WHERE EXISTS (SELECT 1 FROM zone_assignments za WHERE za.id = u.assignment_id)"
        f" ON CONFLICT (assignment_id) DO UPDATE SET {_UPDATE_RUN}",
        (runs.key.tolist(), *_run_columns(runs)),
    )


_FIXES = (
    "phone_time, phone_lon, phone_lat, phone_accuracy, band_time, band_lon, band_lat, band_accuracy"
)


async def load_separation_state(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> dict[int, SeparationState]:
    where, args = _only("subject_id", subjects)
    cur = await conn.execute(
        f"SELECT subject_id, {_RUN}, {_FIXES} FROM separation_rule_state{where}",
        args,
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
    states = SeparationStates.of(state)
    runs = states.run

    def column(fixes: NDArray[np.float64], c: int) -> list[float | None]:
        return [None if math.isnan(v) else v for v in fixes[:, c].tolist()]

    await conn.execute(
        f"INSERT INTO separation_rule_state (subject_id, {_RUN}, {_FIXES})"
        # (the fixes' columns may hold nothing but NULLs: text, whose arrays need no type)
        f" SELECT * FROM unnest(%b::bigint[], {_RUN_TYPES}, {', '.join(['%s::float8[]'] * 8)})"
        f" ON CONFLICT (subject_id) DO UPDATE SET {_UPDATE_RUN},"
        " phone_time = EXCLUDED.phone_time, phone_lon = EXCLUDED.phone_lon,"
        " phone_lat = EXCLUDED.phone_lat, phone_accuracy = EXCLUDED.phone_accuracy,"
        " band_time = EXCLUDED.band_time, band_lon = EXCLUDED.band_lon,"
        " band_lat = EXCLUDED.band_lat, band_accuracy = EXCLUDED.band_accuracy",
        (
            states.key.tolist(),
            *_run_columns(runs),
            *(column(states.phone, c) for c in range(4)),
            *(column(states.wristband, c) for c in range(4)),
        ),
    )


async def load_proximity_state(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> tuple[dict[int, RunState], dict[int, RunState]]:
    """The runs (near, approach) of the prohibitions concerning these subjects (None: all)."""
    pairs, args = _pairs_of(subjects)
    cur = await conn.execute(
        f"SELECT s.prohibition_id, s.rule, {_RUN} FROM proximity_rule_state s"
        f" WHERE s.prohibition_id IN (SELECT p.id FROM {pairs})",
        args,
    )
    runs: dict[str, dict[int, RunState]] = {"near": {}, "approach": {}}
    for r in await cur.fetchall():
        runs[r[1]][int(r[0])] = _run(r[2:])
    return runs["near"], runs["approach"]


def _pairs_of(subjects: Sequence[int] | None) -> tuple[str, tuple[Any, ...]]:
    if subjects is None:
        return "prohibitions p", ()
    return (
        "prohibitions p WHERE p.subject_id = ANY(%s) OR p.other_subject_id = ANY(%s)",
        (list(subjects), list(subjects)),
    )


async def save_proximity_state(
    conn: AsyncConnection[Any], near: RunStates, approach: RunStates
) -> None:
    for rule, runs in (("near", near), ("approach", approach)):
        if not len(runs):
            continue
        await conn.execute(
            f"INSERT INTO proximity_rule_state (prohibition_id, rule, {_RUN})"
            f" SELECT u.prohibition_id, %s, {_RUN} FROM unnest(%b::bigint[], {_RUN_TYPES})"
            f" AS u (prohibition_id, {_RUN})"
            # a prohibition deleted meanwhile has nothing left to remember
            " WHERE EXISTS (SELECT 1 FROM prohibitions p WHERE p.id = u.prohibition_id)"
            f" ON CONFLICT (prohibition_id, rule) DO UPDATE SET {_UPDATE_RUN}",
            (rule, runs.key.tolist(), *_run_columns(runs)),
        )


async def load_tracks(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> dict[int, list[float]]:
    """The tracks (by party key) of these subjects (None: everyone's) and of the protected
    persons their prohibitions name."""
    if subjects is None:
        cur = await conn.execute("SELECT party, track FROM party_tracks")
    else:
        pairs, args = _pairs_of(subjects)
        cur = await conn.execute(
            "SELECT t.party, t.track FROM party_tracks t WHERE t.party = ANY(%s)"
            f" OR t.party IN (SELECT -p.protected_person_id FROM {pairs})",
            (list(subjects), *args),
        )
    return {int(party): [float(v) for v in track] for party, track in await cur.fetchall()}


async def save_tracks(conn: AsyncConnection[Any], tracks: Positions) -> None:
    if not len(tracks):
        return
    width = tracks.fix.shape[1]
    await conn.execute(
        "INSERT INTO party_tracks (party, track)"
        " SELECT u.party, (%b::float8[])[(u.i - 1) * %s + 1 : u.i * %s]"
        " FROM unnest(%b::bigint[]) WITH ORDINALITY AS u (party, i)"
        " ON CONFLICT (party) DO UPDATE SET track = EXCLUDED.track",
        (tracks.fix.ravel().tolist(), width, width, tracks.key.tolist()),
    )


async def load_checks(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> dict[int, list[float]]:
    """The faked-location checks (by device) of these subjects' devices (None: everyone's),
    while each device is bound to the subject it was judged for."""
    where, args = _only("d.subject_id", subjects)
    cur = await conn.execute(
        "SELECT c.device_id, c.state FROM device_checks c"
        " JOIN devices d ON d.id = c.device_id AND d.subject_id = c.subject_id" + where,
        args,
    )
    return {int(device): [float(v) for v in state] for device, state in await cur.fetchall()}


async def save_checks(conn: AsyncConnection[Any], checks: Positions) -> None:
    if not len(checks):
        return
    width = checks.fix.shape[1]
    await conn.execute(
        "INSERT INTO device_checks (device_id, subject_id, state)"
        " SELECT u.device, d.subject_id, (%b::float8[])[(u.i - 1) * %s + 1 : u.i * %s]"
        " FROM unnest(%b::bigint[]) WITH ORDINALITY AS u (device, i)"
        " JOIN devices d ON d.id = u.device WHERE d.subject_id IS NOT NULL"
        " ON CONFLICT (device_id) DO UPDATE"
        " SET subject_id = EXCLUDED.subject_id, state = EXCLUDED.state",
        (checks.fix.ravel().tolist(), width, width, checks.key.tolist()),
    )


async def last_reports(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> dict[int, float]:
    """Per device (bound to one of `subjects`), the time of its newest fix or device event."""
    where, args = _only("d.subject_id", subjects)
    cur = await conn.execute(
        "SELECT d.id, GREATEST("
        " (SELECT max(time) FROM fixes f WHERE f.device_id = d.id),"
        " (SELECT max(time) FROM device_events e WHERE e.device_id = d.id))"
        f" FROM devices d{where}",
        args,
    )
    return {int(d): t.timestamp() for d, t in await cur.fetchall() if t is not None}


async def last_positions(
    conn: AsyncConnection[Any], subjects: Sequence[int] | None = None
) -> dict[int, LastFix]:
    """Per subject, the newest stored fix."""
    where, args = _only("s.id", subjects)
    cur = await conn.execute(
        "SELECT s.id, f.time, f.lon, f.lat, f.accuracy FROM subjects s CROSS JOIN LATERAL"
        " (SELECT time, lon, lat, accuracy FROM fixes WHERE subject_id = s.id"
        f"  ORDER BY time DESC LIMIT 1) f{where}",
        args,
    )
    return {
        int(s): LastFix(t.timestamp(), float(lon), float(lat), float(acc))
        for s, t, lon, lat, acc in await cur.fetchall()
    }


async def rule_versions(conn: AsyncConnection[Any], *, above: int = -1) -> dict[int, int]:
    """Subject -> the version of its rule state, for versions above `above`."""
    cur = await conn.execute(
        "SELECT subject_id, version FROM rule_versions WHERE version > %s", (above,)
    )
    return {int(s): int(v) for s, v in await cur.fetchall()}


async def claim_subjects(
    conn: AsyncConnection[Any], subjects: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """Lock the subjects' rule state until the transaction ends (in subject order, so two
    batches never deadlock) and give each a new version: subject -> (old, new)."""
    if not subjects:
        return {}
    cur = await conn.execute(
        "WITH old AS (SELECT subject_id, version FROM rule_versions WHERE subject_id = ANY(%b)"
        "  ORDER BY subject_id FOR UPDATE)"
        " UPDATE rule_versions r SET version = nextval('rule_version_seq') FROM old"
        " WHERE r.subject_id = old.subject_id RETURNING r.subject_id, old.version, r.version",
        (list(subjects),),
    )
    return {int(s): (int(old), int(new)) for s, old, new in await cur.fetchall()}


async def lock_rules(conn: AsyncConnection[Any], *, alone: bool) -> None:
    """Until the transaction ends: batches hold this together, the clock rules `alone`."""
    lock = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
    await conn.execute(f"SELECT {lock}(%s)", (_RULES,))
