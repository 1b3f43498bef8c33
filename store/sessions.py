"""Signing in: the throttle on wrong passwords, sessions with their refresh tokens, and the
keys that sign access tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from psycopg.rows import class_row

from store.users import UserRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection


@dataclass(frozen=True, slots=True)
class LoginRow:
    id: int
    password_hash: str


async def login_row(conn: AsyncConnection[Any], *, username: str) -> LoginRow | None:
    """The password hash of an enabled user."""
    cur = conn.cursor(row_factory=class_row(LoginRow))
    await cur.execute(
        "SELECT id, password_hash FROM users WHERE username = %s AND disabled_at IS NULL",
        (username,),
    )
    return await cur.fetchone()


async def login_blocked(conn: AsyncConnection[Any], *, username: str, source: str) -> float:
    """Seconds before this name may try again from this source (0: now)."""
    cur = await conn.execute(
        "SELECT COALESCE(EXTRACT(EPOCH FROM max(blocked_until) - now()), 0)::float8"
        " FROM login_throttle WHERE source = %s AND username IN (%s, '')",
        (source, username),
    )
    row = await cur.fetchone()
    return max(0.0, float(row[0])) if row else 0.0


async def login_failed(
    conn: AsyncConnection[Any],
    *,
    username: str,
    source: str,
    max_failures: int,
    lockout_s: float,
) -> None:
    """Count a wrong password. From `max_failures` in a row on, the name waits from this
    source 1 s, then 2, 4, ... at most `lockout_s`; at ten times as many from the source
    (any names), the source waits `lockout_s`. A count older than `lockout_s` starts over."""
    await conn.execute(
        "INSERT INTO login_throttle AS t (username, source, failures) VALUES"
        " (%(name)s, %(source)s, 1), ('', %(source)s, 1)"
        " ON CONFLICT (username, source) DO UPDATE SET updated_at = now(),"
        " failures = CASE WHEN t.updated_at < now() - make_interval(secs => %(lock)s) THEN 1"
        "  ELSE t.failures + 1 END,"
        " blocked_until = CASE"
        "  WHEN t.updated_at < now() - make_interval(secs => %(lock)s) THEN NULL"
        "  WHEN t.username = '' AND t.failures + 1 >= 10 * %(max)s"
        "   THEN now() + make_interval(secs => %(lock)s)"
        "  WHEN t.username <> '' AND t.failures + 1 >= %(max)s"
        "   THEN now() + make_interval(secs => least(%(lock)s,"
        "    power(2, least(t.failures + 1 - %(max)s, 30))))"
        "  ELSE t.blocked_until END",
        {"name": username, "source": source, "max": max_failures, "lock": lockout_s},
    )


async def forget_failures(conn: AsyncConnection[Any], *, older_than_s: float) -> int:
    """Drop the counts of wrong passwords nothing has added to for `older_than_s` (the
    longest hold-off: they no longer hold anyone off, and the next one starts over): names
    typed by a guesser would otherwise be kept forever. How many went."""
    cur = await conn.execute(
        "DELETE FROM login_throttle WHERE updated_at < now() - make_interval(secs => %s)",
        (older_than_s,),
    )
    return cur.rowcount


async def login_succeeded(conn: AsyncConnection[Any], *, username: str, source: str) -> None:
    await conn.execute(
        "DELETE FROM login_throttle WHERE username = %s AND source = %s", (username, source)
    )


async def signing_keys(
    conn: AsyncConnection[Any], *, rotate_after_s: float, keep_s: float
) -> dict[int, bytes]:
    """The keys access tokens are signed and checked with, by id (the newest signs): a new
    one when the newest is older than `rotate_after_s` (or there is none), and a key that
    stopped signing more than `keep_s` ago (no token of it can still be alive) deleted."""
    await conn.execute(
        "INSERT INTO signing_keys (secret) SELECT %s WHERE NOT EXISTS (SELECT 1 FROM"
        " signing_keys WHERE created_at > now() - make_interval(secs => %s))",
        (secrets.token_bytes(32), rotate_after_s),
    )
    await conn.execute(
        "DELETE FROM signing_keys k WHERE EXISTS (SELECT 1 FROM signing_keys n"
        " WHERE n.created_at > k.created_at AND n.created_at < now() - make_interval(secs => %s))",
        (keep_s,),
    )
    cur = await conn.execute("SELECT id, secret FROM signing_keys")
    return {int(key_id): bytes(secret) for key_id, secret in await cur.fetchall()}


async def create_session(
    conn: AsyncConnection[Any], *, user_id: int, refresh_hash: str, ttl_s: float
) -> UUID:
    cur = await conn.execute(
        "INSERT INTO auth_sessions (user_id, refresh_hash, expires_at)"
        " VALUES (%s, %s, now() + make_interval(secs => %s)) RETURNING id",
        (user_id, refresh_hash, ttl_s),
    )
    row = await cur.fetchone()
    assert row is not None, "INSERT ... RETURNING returns its row"
    return UUID(str(row[0]))


async def refresh_session(
    conn: AsyncConnection[Any],
    *,
    refresh_hash: str,
    new_hash: str,
    ttl_s: float,
    max_age_s: float,
) -> tuple[UUID, int] | None:
    """Swap a live session's refresh token for a new one and extend it (by `ttl_s`, never
    past `max_age_s` after the sign-in): (session, user), or None when the token is unknown,
    expired or its session revoked. A token exchanged once already, shown again, ends its
    session: someone else holds its tokens too."""
    cur = await conn.execute(
        "UPDATE auth_sessions SET refresh_hash = %s, refreshed_at = now(),"
        " expires_at = least(now() + make_interval(secs => %s),"
        "  created_at + make_interval(secs => %s))"
        " WHERE refresh_hash = %s AND revoked_at IS NULL AND expires_at > now()"
        " RETURNING id, user_id",
        (new_hash, ttl_s, max_age_s, refresh_hash),
    )
    row = await cur.fetchone()
    if row is not None:
        await conn.execute(
            "INSERT INTO used_refresh_tokens (hash, session_id) VALUES (%s, %s)",
            (refresh_hash, row[0]),
        )
        return UUID(str(row[0])), int(row[1])
    await conn.execute(
        "UPDATE auth_sessions SET revoked_at = now() WHERE revoked_at IS NULL"
        " AND id = (SELECT session_id FROM used_refresh_tokens WHERE hash = %s)",
        (refresh_hash,),
    )
    return None


async def revoke_session(conn: AsyncConnection[Any], *, session_id: UUID) -> None:
    await conn.execute(
        "UPDATE auth_sessions SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
        (session_id,),
    )


async def session_user(conn: AsyncConnection[Any], *, session_id: UUID) -> UserRow | None:
    """The user of a live session (not revoked, not expired)."""
    cur = conn.cursor(row_factory=class_row(UserRow))
    await cur.execute(
        "SELECT u.id, u.username, u.role, u.office_id FROM auth_sessions s"
        " JOIN users u ON u.id = s.user_id"
        " WHERE s.id = %s AND s.revoked_at IS NULL AND s.expires_at > now()"
        " AND u.disabled_at IS NULL",
        (session_id,),
    )
    return await cur.fetchone()
