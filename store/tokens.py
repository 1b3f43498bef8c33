"""API tokens: long-lived credentials for integrations, stored only as hashes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg.rows import class_row

from store.users import UserRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class ApiTokenRow:
    id: int
    name: str
    username: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def create_api_token(
    conn: AsyncConnection[Any], *, name: str, username: str, token_hash: str, actor: str
) -> int | None:
    """A token acting as `username`; None when there is no such user."""
    cur = await conn.execute(
        "INSERT INTO api_tokens (name, user_id, token_hash, created_by)"
        " SELECT %s, id, %s, %s FROM users WHERE username = %s RETURNING id",
        (name, token_hash, actor, username),
    )
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def api_token_user(conn: AsyncConnection[Any], *, token_hash: str) -> UserRow | None:
    """The user a live API token acts as (noting its use)."""
    cur = conn.cursor(row_factory=class_row(UserRow))
    await cur.execute(
        "WITH used AS (UPDATE api_tokens SET last_used_at = now()"
        "  WHERE token_hash = %s AND revoked_at IS NULL RETURNING user_id)"
        " SELECT u.id, u.username, u.role, u.office_id FROM used"
        " JOIN users u ON u.id = used.user_id WHERE u.disabled_at IS NULL",
        (token_hash,),
    )
    return await cur.fetchone()


async def list_api_tokens(conn: AsyncConnection[Any]) -> list[ApiTokenRow]:
    cur = conn.cursor(row_factory=class_row(ApiTokenRow))
    await cur.execute(
        "SELECT t.id, t.name, u.username, t.created_by, t.created_at, t.last_used_at,"
        " t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id"
    )
    return await cur.fetchall()


async def revoke_api_token(conn: AsyncConnection[Any], *, token_id: int) -> bool:
    """Whether a live token was revoked now."""
    cur = await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
        (token_id,),
    )
    return cur.rowcount == 1
