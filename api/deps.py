"""What routes share: the services created once with the app (typed, in one place), a
pooled connection per request (its transaction commits on success), and the parameter types
every route reads alike."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from annotated_types import Ge, Le
from fastapi import Depends, Header, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from pydantic import AwareDatetime, BeforeValidator
from starlette.applications import Starlette

from domain import Language, language_of

if TYPE_CHECKING:
    from alerts import Destinations
    from api.auth import AuthConfig, SigningKeys
    from api.console import ConsoleConfig
    from api.live import Feed
    from api.passwords import PasswordChecker
    from domain import LevelPolicy, SupervisionLevel


@dataclass(slots=True)
class Services:
    """Made by `create_app`; a route reaches it through `services(request.app)`.
    `device_passwords`: makes a device's broker password and its hash (None: this server
    issues no broker accounts). `signing_keys`: the auth module's cache of the store's keys."""

    pool: AsyncConnectionPool[Any]
    auth: AuthConfig
    passwords: PasswordChecker
    destinations: Destinations
    levels: Mapping[SupervisionLevel, LevelPolicy]
    report_timezone: str
    device_passwords: Callable[[], tuple[str, str]] | None
    feed: Feed
    live_heartbeat_s: float
    live_recheck_s: float
    console: ConsoleConfig
    signing_keys: SigningKeys | None = None


def services(app: Starlette) -> Services:
    shared: Services = app.state.services
    return shared


async def _connection(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    async with services(request.app).pool.connection() as conn:
        yield conn


# Committed (and given back to the pool) when the route returns, before the answer is sent:
# a client that is told "created" finds it on its next request, and a read's audit row is on
# the record before the positions leave (FastAPI's default scope would commit after sending,
# holding the transaction open for as long as a slow client takes to read).
Conn = Annotated[AsyncConnection[Any], Depends(_connection, scope="function")]


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")


def _rfc3339(value: object) -> object:
    """Only a date and time in words: pydantic would take `0.5` as seconds after 1970."""
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("send an RFC 3339 time with its offset, like 2026-11-25T08:00:00Z")
    return value


def _language(
    accept_language: Annotated[
        str | None,
        Header(
            max_length=200,
            description="zh (zh-CN, ...) for Chinese texts (an alert's message), else English",
        ),
    ] = None,
) -> Language:
    return language_of(accept_language)


# The reader's language, from Accept-Language.
Lang = Annotated[Language, Depends(_language)]


# A point in time given by a client: RFC 3339 with a UTC offset, nothing else.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


# An id of a row (a subject, an alert, ...): positive, and within the integers JSON
# carries exactly (2^53: a browser's numbers), far below what the store's bigint keys hold.
Id = Annotated[int, Ge(1), Le(2**53)]
