"""Users: officers, supervisors, admins and auditors; their roles, office and password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

if TYPE_CHECKING:
    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    username: str
    role: str
    office_id: int | None


@dataclass(frozen=True, slots=True)
class UserAccountRow:
    id: int
    username: str
    role: str
    office_id: int | None
    phone: str | None  # where text messages about alerts go
    on_duty: bool  # on duty: texted new high and critical alerts of the office
    created_at: datetime
    disabled_at: datetime | None


async def create_user(
    conn: AsyncConnection[Any],
    *,
    username: str,
    password_hash: str,
    role: str,
    office_id: int | None = None,
) -> int | None:
    """Create the user unless the name is taken: its id, or None."""
    cur = await conn.execute(
        "INSERT INTO users (username, password_hash, role, office_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (username) DO NOTHING RETURNING id",
        (username, password_hash, role, office_id),
    )
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def get_user(conn: AsyncConnection[Any], *, user_id: int) -> UserRow | None:
    cur = conn.cursor(row_factory=class_row(UserRow))
    await cur.execute("SELECT id, username, role, office_id FROM users WHERE id = %s", (user_id,))
    return await cur.fetchone()


async def list_users(
    conn: AsyncConnection[Any], *, user_id: int | None = None
) -> list[UserAccountRow]:
    """Every user (`user_id`: only that one)."""
    cur = conn.cursor(row_factory=class_row(UserAccountRow))
    await cur.execute(
        "SELECT id, username, role, office_id, phone, on_duty, created_at, disabled_at"
        " FROM users WHERE %(id)s::bigint IS NULL OR id = %(id)s ORDER BY id",
        {"id": user_id},
    )
    return await cur.fetchall()


async def update_user(
    conn: AsyncConnection[Any],
    *,
    user_id: int,
    role: str | None = None,
    office_id: int | None = None,
    move_office: bool = False,
    disabled: bool | None = None,
    phone: str | None = None,
    set_phone: bool = False,
    on_duty: bool | None = None,
) -> None:
    """Change what is given (`move_office`: set the office, None meaning the whole county;
    `set_phone`: set the phone, None removing it). Disabling ends the user's sessions and
    API tokens at once."""
    await conn.execute(
        "UPDATE users SET role = COALESCE(%(role)s::text, role),"
        " office_id = CASE WHEN %(move)s THEN %(office)s::bigint ELSE office_id END,"
        " phone = CASE WHEN %(set_phone)s THEN %(phone)s::text ELSE phone END,"
        " on_duty = COALESCE(%(on_duty)s::boolean, on_duty),"
        " disabled_at = CASE WHEN %(disabled)s::boolean IS NULL THEN disabled_at"
        "  WHEN %(disabled)s::boolean THEN COALESCE(disabled_at, now()) END"
        " WHERE id = %(id)s",
        {
            "role": role,
            "move": move_office,
            "office": office_id,
            "disabled": disabled,
            "set_phone": set_phone,
            "phone": phone,
            "on_duty": on_duty,
            "id": user_id,
        },
    )
    if disabled:
        await _sign_out(conn, user_id=user_id)


async def set_password(conn: AsyncConnection[Any], *, user_id: int, password_hash: str) -> None:
    """A new password ends every session and API token of the user (what was obtained with
    a stolen password stops too)."""
    await conn.execute(
        "UPDATE users SET password_hash = %s WHERE id = %s",
        (password_hash, user_id),
    )
    await _sign_out(conn, user_id=user_id)


async def password_hash_of(conn: AsyncConnection[Any], *, user_id: int) -> str | None:
    cur = await conn.execute("SELECT password_hash FROM users WHERE id = %s", (user_id,))
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def _sign_out(conn: AsyncConnection[Any], *, user_id: int) -> None:
    """Ends every session and API token of the user."""
    await conn.execute(
        "UPDATE auth_sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )
    await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )
