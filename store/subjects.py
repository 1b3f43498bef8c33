"""Subjects: people under community correction, each in one office at one supervision level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from domain import (
    SupervisionLevel,
)
from store.rows import inserted_id
from store.scope import in_offices

if TYPE_CHECKING:
    from collections.abc import Sequence

    from psycopg import AsyncConnection


async def create_subject(
    conn: AsyncConnection[Any], *, office_id: int, name: str, level: SupervisionLevel
) -> int:
    return await inserted_id(
        conn,
        "INSERT INTO subjects (office_id, name, level) VALUES (%s, %s, %s) RETURNING id",
        (office_id, name, level.value),
    )


async def count_subjects(conn: AsyncConnection[Any]) -> int:
    cur = await conn.execute("SELECT count(*) FROM subjects")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True, slots=True)
class SubjectRow:
    id: int
    name: str
    level: str
    office_id: int
    office: str
    residence_zone_id: int | None  # the registered residence (居住地), a zone


async def list_subjects(
    conn: AsyncConnection[Any],
    *,
    offices: Sequence[int] | None = None,
    subject_id: int | None = None,
) -> list[SubjectRow]:
    """Subjects of these offices (None: of every office); `subject_id`: only that one."""
    cur = conn.cursor(row_factory=class_row(SubjectRow))
    await cur.execute(
        "SELECT s.id, s.name, s.level, s.office_id, o.name AS office, s.residence_zone_id"
        " FROM subjects s"
        " JOIN offices o ON o.id = s.office_id"
        " WHERE "
        + in_offices("s.office_id")
        + " AND (%(subject)s::bigint IS NULL OR s.id = %(subject)s) ORDER BY s.id",
        {"offices": offices, "subject": subject_id},
    )
    return await cur.fetchall()


async def subject_exists(
    conn: AsyncConnection[Any], *, subject_id: int, offices: Sequence[int] | None = None
) -> bool:
    """Is there such a subject in these offices (None: in any)?"""
    cur = await conn.execute(
        "SELECT 1 FROM subjects WHERE id = %(id)s AND " + in_offices("office_id"),
        {"id": subject_id, "offices": offices},
    )
    return await cur.fetchone() is not None


async def subject_levels(conn: AsyncConnection[Any]) -> dict[int, SupervisionLevel]:
    cur = await conn.execute("SELECT id, level FROM subjects")
    return {int(i): SupervisionLevel(level) for i, level in await cur.fetchall()}


async def update_subject(
    conn: AsyncConnection[Any],
    *,
    subject_id: int,
    name: str | None = None,
    level: str | None = None,
    office_id: int | None = None,
    residence_zone_id: int | None = None,
    set_residence: bool = False,
) -> None:
    """Change what is given (`set_residence`: the residence too, None removing it). A
    subject moving office takes its devices along."""
    await conn.execute(
        "UPDATE subjects SET name = COALESCE(%(name)s::text, name),"
        " level = COALESCE(%(level)s::text, level),"
        " office_id = COALESCE(%(office)s::bigint, office_id),"
        " residence_zone_id = CASE WHEN %(set_residence)s THEN %(residence)s::bigint"
        " ELSE residence_zone_id END WHERE id = %(id)s",
        {
            "name": name,
            "level": level,
            "office": office_id,
            "residence": residence_zone_id,
            "set_residence": set_residence,
            "id": subject_id,
        },
    )
    if office_id is not None:
        await conn.execute(
            "UPDATE devices SET office_id = %s WHERE subject_id = %s", (office_id, subject_id)
        )


async def subject_office(conn: AsyncConnection[Any], *, subject_id: int) -> int | None:
    cur = await conn.execute("SELECT office_id FROM subjects WHERE id = %s", (subject_id,))
    row = await cur.fetchone()
    return None if row is None else int(row[0])
