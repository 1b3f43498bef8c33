"""Console and API users. The store keeps hashes only; hashing lives at the API edge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import AsyncConnection


async def create_user(
    conn: AsyncConnection[Any], *, username: str, password_hash: str, role: str
) -> bool:
    """Create the user unless the name is taken; returns whether it was created."""
    cur = await conn.execute(
        "INSERT INTO users (username, password_hash, role) VALUES (%s, %s, %s)"
        " ON CONFLICT (username) DO NOTHING",
        (username, password_hash, role),
    )
    return cur.rowcount == 1


async def password_hash(conn: AsyncConnection[Any], *, username: str) -> str | None:
    cur = await conn.execute("SELECT password_hash FROM users WHERE username = %s", (username,))
    row = await cur.fetchone()
    return None if row is None else str(row[0])
