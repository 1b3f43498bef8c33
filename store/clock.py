"""The clock: which process leads it, the time it has run to, and ingest backlogs that hold
its silence rules back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import AsyncConnection


# Advisory lock key (any fixed number): the leading process holds it for as long as its
# connection lives.
_CLOCK = 0x6363_636C_6B


async def lead_clock(conn: AsyncConnection[Any]) -> bool:
    """Become the process that runs the clock rules, unless another is; held for as long
    as `conn` stays open. Call once per connection."""
    cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (_CLOCK,))
    row = await cur.fetchone()
    return bool(row and row[0])


async def clock_time(conn: AsyncConnection[Any]) -> float | None:
    """When the clock rules last ran (in whichever process)."""
    cur = await conn.execute("SELECT ticked_at FROM rule_clock")
    row = await cur.fetchone()
    return None if row is None else float(row[0].timestamp())


async def set_clock_time(conn: AsyncConnection[Any], at: float) -> None:
    await conn.execute(
        "INSERT INTO rule_clock (ticked_at) VALUES (to_timestamp(%s))"
        " ON CONFLICT (one) DO UPDATE SET ticked_at = EXCLUDED.ticked_at",
        (at,),
    )


async def set_backlog(conn: AsyncConnection[Any], *, member: str, for_s: float | None) -> None:
    """Ingest process `member` reads a backlog for at most `for_s` more (None: it is done)."""
    if for_s is None:
        await conn.execute("DELETE FROM ingest_backlogs WHERE member = %s", (member,))
        return
    await conn.execute(
        "INSERT INTO ingest_backlogs (member, until) VALUES (%s, now() + make_interval(secs => %s))"
        " ON CONFLICT (member) DO UPDATE SET until = EXCLUDED.until",
        (member, for_s),
    )


async def backlog_pending(conn: AsyncConnection[Any]) -> bool:
    """Is any ingest process reading a backlog now?"""
    cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM ingest_backlogs WHERE until > now())")
    row = await cur.fetchone()
    return bool(row and row[0])
