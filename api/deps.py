"""Request-scoped dependencies (a pooled connection whose transaction commits on success),
and the parameter types every route reads alike."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from pydantic import AwareDatetime, BeforeValidator


async def _connection(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    pool: AsyncConnectionPool[Any] = request.app.state.pool
    async with pool.connection() as conn:
        yield conn


Conn = Annotated[AsyncConnection[Any], Depends(_connection)]


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")


def _rfc3339(value: object) -> object:
    """Only a date and time in words: pydantic would take `0.5` as seconds after 1970."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("send an RFC 3339 time with its offset, like 2026-11-25T08:00:00Z")
    return value


# A point in time given by a client: RFC 3339 with a UTC offset, nothing else.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
