"""Password hashing off the event loop. argon2 takes tens of milliseconds of CPU by design;
run on the event loop that also serves ingest, the clock rules and delivery, a few hundred
concurrent sign-ins would stall monitoring. Here at most `concurrency` hashes run at once in
worker threads, and at most `waiting` more wait; beyond that a sign-in is told to come back
(503) at once, so a flood costs bounded CPU and holds no database connection."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, status

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs what a wrong
# password costs and timing does not tell which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


class PasswordChecker:
    def __init__(self, *, concurrency: int = 2, waiting: int = 32) -> None:
        self._running = asyncio.Semaphore(concurrency)
        self._limit = concurrency + waiting
        self._admitted = 0

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Admission for a whole sign-in, before it touches the store: beyond the limit,
        503 at once (a flood must not queue for the connections ingest needs)."""
        if self._admitted >= self._limit:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "too many sign-ins at once: try again in a moment",
                headers={"Retry-After": "1"},
            )
        self._admitted += 1
        try:
            yield
        finally:
            self._admitted -= 1

    async def verify(self, stored: str | None, password: str) -> bool:
        """Does `password` match `stored` (None: no such user; False, at the same cost)?"""
        async with self._running:
            return await asyncio.to_thread(_verify, stored, password)

    async def hash(self, password: str) -> str:
        async with self._running:
            return await asyncio.to_thread(hash_password, password)
