"""Prohibition orders (禁止令): protected persons, the pairs an order keeps apart, and the
protected persons' positions (the most sensitive ccmon holds: written here, read by the
proximity rule and by the users their grants name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from domain import Party, Prohibition
from store.fixes import stamps
from store.rows import inserted_id
from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection

    from domain import FixBatch


@dataclass(frozen=True, slots=True)
class ProtectedPersonRow:
    id: int
    office_id: int
    code: str
    name: str
    phone: str | None
    sms_opt_in: bool
    language: str
    pursuit_consent: bool
    created_at: datetime


async def create_protected_person(
    conn: AsyncConnection[Any],
    *,
    office_id: int,
    code: str,
    name: str,
    phone: str | None,
    sms_opt_in: bool,
    language: str,
    pursuit_consent: bool,
) -> int:
    return await inserted_id(
        conn,
        "INSERT INTO protected_persons (office_id, code, name, phone, sms_opt_in, language,"
        " pursuit_consent) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (office_id, code, name, phone, sms_opt_in, language, pursuit_consent),
    )


async def list_protected_persons(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None,
    person_id: int | None = None,
) -> list[ProtectedPersonRow]:
    """Protected persons of these offices (None: every office); `person_id`: only that one."""
    cur = conn.cursor(row_factory=class_row(ProtectedPersonRow))
    await cur.execute(
        "SELECT id, office_id, code, name, phone, sms_opt_in, language, pursuit_consent,"
        " created_at FROM protected_persons WHERE "
        + in_offices("office_id")
        + " AND (%(person)s::bigint IS NULL OR id = %(person)s) ORDER BY id",
        {"offices": offices, "person": person_id},
    )
    return await cur.fetchall()


@dataclass(frozen=True, slots=True)
class ProhibitionRow:
    id: int
    subject_id: int
    protected_person_id: int | None
    protected_person_code: str | None
    other_subject_id: int | None
    distance_m: float
    for_s: float
    warn_s: float
    active: bool
    created_at: datetime
    created_by: str


async def create_prohibition(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    protected_person_id: int | None,
    other_subject_id: int | None,
    distance_m: float,
    for_s: float,
    warn_s: float,
    actor: str,
) -> int:
    return await inserted_id(
        conn,
        "INSERT INTO prohibitions (subject_id, protected_person_id, other_subject_id,"
        " distance_m, for_s, warn_s, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " RETURNING id",
        (subject_id, protected_person_id, other_subject_id, distance_m, for_s, warn_s, actor),
    )


async def list_prohibitions(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None,
    subject_id: int | None = None,
    prohibition_id: int | None = None,
) -> list[ProhibitionRow]:
    """The pairs of subjects of these offices (a pair of two subjects: of either's office)."""
    cur = conn.cursor(row_factory=class_row(ProhibitionRow))
    await cur.execute(
        "SELECT p.id, p.subject_id, p.protected_person_id, pp.code AS protected_person_code,"
        " p.other_subject_id, p.distance_m, p.for_s, p.warn_s, p.active, p.created_at,"
        " p.created_by FROM prohibitions p JOIN subjects s ON s.id = p.subject_id"
        " LEFT JOIN subjects o ON o.id = p.other_subject_id"
        " LEFT JOIN protected_persons pp ON pp.id = p.protected_person_id"
        " WHERE ("
        + in_offices("s.office_id")
        + " OR "
        + in_offices("o.office_id")
        + ") AND (%(subject)s::bigint IS NULL OR %(subject)s IN (p.subject_id, p.other_subject_id))"
        " AND (%(id)s::bigint IS NULL OR p.id = %(id)s) ORDER BY p.id",
        {"offices": offices, "subject": subject_id, "id": prohibition_id},
    )
    return await cur.fetchall()


async def retire_prohibition(conn: AsyncConnection[Any], *, prohibition_id: int) -> bool:
    """Stop watching a pair (its alerts keep their history); False if it was not active."""
    cur = await conn.execute(
        "UPDATE prohibitions SET active = false WHERE id = %s AND active", (prohibition_id,)
    )
    return cur.rowcount == 1


async def load_prohibitions(conn: AsyncConnection[Any]) -> list[Prohibition]:
    """The pairs the proximity rule watches (active ones)."""
    cur = await conn.execute(
        "SELECT p.id, p.subject_id, COALESCE(p.protected_person_id, p.other_subject_id),"
        " p.protected_person_id IS NOT NULL, p.distance_m, p.for_s, p.warn_s, pp.code"
        " FROM prohibitions p LEFT JOIN protected_persons pp ON pp.id = p.protected_person_id"
        " WHERE p.active"
    )
    return [
        Prohibition(
            id=int(i),
            subject_id=int(s),
            other_id=int(o),
            other=Party.PROTECTED if protected else Party.SUBJECT,
            distance_m=float(d),
            for_s=float(f),
            warn_s=float(w),
            other_code=code or "",
        )
        for i, s, o, protected, d, f, w, code in await cur.fetchall()
    ]


async def copy_protected_fixes(conn: AsyncConnection[Any], protected: FixBatch) -> int:
    """Store protected persons' fixes (`subject`: the protected person's id); a fix already
    stored (same device and time) is skipped. Returns how many were new."""
    if not len(protected):
        return 0
    cur = await conn.execute(
        "INSERT INTO protected_fixes (time, protected_person_id, device_id, lon, lat,"
        " accuracy, source, received_at)"
        " SELECT * FROM unnest(%s::timestamptz[], %b::bigint[], %b::bigint[], %b::float8[],"
        " %b::float8[], %b::float8[], %s::text[], %s::timestamptz[])"
        " ON CONFLICT DO NOTHING",
        (
            stamps(protected.time),
            protected.subject.tolist(),
            protected.device.tolist(),
            protected.lon.tolist(),
            protected.lat.tolist(),
            protected.accuracy.tolist(),
            [s.value for s in protected.source],
            stamps(protected.received),
        ),
    )
    return cur.rowcount


@dataclass(frozen=True, slots=True)
class GrantRow:
    """Who may see a protected person's position: the users of `role` of `office_id`."""

    id: int
    protected_person_id: int
    office_id: int
    role: str
    granted_by: str
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None


async def create_grant(
    conn: AsyncConnection[Any], *, person_id: int, office_id: int, role: str, actor: str
) -> int | None:
    """Grant a role of an office the protected person's position; None if it already has it."""
    cur = await conn.execute(
        "INSERT INTO protected_grants (protected_person_id, office_id, role, granted_by)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
        (person_id, office_id, role, actor),
    )
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def list_grants(
    conn: AsyncConnection[Any], *, person_id: int, grant_id: int | None = None
) -> list[GrantRow]:
    """The protected person's grants (revoked ones too), oldest first."""
    cur = conn.cursor(row_factory=class_row(GrantRow))
    await cur.execute(
        "SELECT id, protected_person_id, office_id, role, granted_by, granted_at, revoked_by,"
        " revoked_at FROM protected_grants WHERE protected_person_id = %s"
        " AND (%s::bigint IS NULL OR id = %s) ORDER BY id",
        (person_id, grant_id, grant_id),
    )
    return await cur.fetchall()


async def revoke_grant(
    conn: AsyncConnection[Any], *, person_id: int, grant_id: int, actor: str
) -> bool:
    """End a grant; False if it was not in force."""
    cur = await conn.execute(
        "UPDATE protected_grants SET revoked_at = now(), revoked_by = %s"
        " WHERE id = %s AND protected_person_id = %s AND revoked_at IS NULL",
        (actor, grant_id, person_id),
    )
    return cur.rowcount == 1


async def readable_protected_persons(
    conn: AsyncConnection[Any], *, role: str, office_id: int | None
) -> list[ProtectedPersonRow]:
    """The protected persons whose position a user of this role and office may see: those
    whose grant in force names exactly this office and role (a user of no office: none)."""
    cur = conn.cursor(row_factory=class_row(ProtectedPersonRow))
    await cur.execute(
        "SELECT pp.id, pp.office_id, pp.code, pp.name, pp.phone, pp.sms_opt_in, pp.language,"
        " pp.pursuit_consent, pp.created_at FROM protected_persons pp WHERE EXISTS ("
        "  SELECT 1 FROM protected_grants g WHERE g.protected_person_id = pp.id"
        "  AND g.revoked_at IS NULL AND g.office_id = %s AND g.role = %s) ORDER BY pp.id",
        (office_id, role),
    )
    return await cur.fetchall()


@dataclass(frozen=True, slots=True)
class ProtectedFixRow:
    time: datetime
    lon: float
    lat: float
    accuracy: float
    source: str
    received_at: datetime


async def protected_positions(
    conn: AsyncConnection[Any], *, person_id: int, since: datetime, until: datetime, limit: int
) -> list[ProtectedFixRow]:
    """The protected person's fixes taken in [since, until), the newest `limit`, newest
    first."""
    cur = conn.cursor(row_factory=class_row(ProtectedFixRow))
    await cur.execute(
        "SELECT time, lon, lat, accuracy, source, received_at FROM protected_fixes"
        " WHERE protected_person_id = %s AND time >= %s AND time < %s"
        " ORDER BY time DESC LIMIT %s",
        (person_id, since, until, limit),
    )
    return await cur.fetchall()
