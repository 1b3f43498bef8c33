"""Forward-only migrations, applied at start under an advisory lock."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import AsyncConnection

# Any fixed number: serialises concurrent starts of several ccmon processes.
_MIGRATION_LOCK = 0x6363_6D6F_6E


def _migration_files() -> list[tuple[int, str, str]]:
    folder = resources.files("store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def _timescale_available(conn: AsyncConnection[Any]) -> bool:
    cur = await conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    return await cur.fetchone() is not None


async def _make_fixes_hypertable(conn: AsyncConnection[Any]) -> None:
    await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    await conn.execute(
        "SELECT create_hypertable('fixes', 'time', if_not_exists => true, migrate_data => true)"
    )


async def migrate(conn: AsyncConnection[Any]) -> list[str]:
    """Apply every migration not yet applied; returns the names applied now.

    Runs in its own transactions (one per migration), so pass a connection in autocommit mode.
    """
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur = await conn.execute("SELECT version FROM schema_migrations")
        done = {row[0] for row in await cur.fetchall()}
        for version, name, sql in _migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql.encode())
                if version == 1 and await _timescale_available(conn):
                    await _make_fixes_hypertable(conn)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (version, name),
                )
            applied_now.append(name)
    return applied_now
