"""HTTP ingest for phones that cannot hold an MQTT connection: OwnTracks HTTP mode.

The app POSTs the same JSON it would publish, naming itself in the X-Limit-U (user) and
X-Limit-D (device) headers, with HTTP Basic credentials; the device's password is checked
against its argon2 hash (off the event loop, once per password). Messages join the MQTT
ones in the pipeline's queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from ingest.decode import Message
from ingest.pipeline import Pipeline

_hasher = PasswordHasher()
_basic = HTTPBasic(realm="ccmon devices")
_HASHING = 2  # argon2 checks at once, in worker threads
_WAITING = 32  # more than this waiting: 503 at once


class _Passwords:
    """A device's password checked with argon2 once, in a worker thread (never on the event
    loop ingest runs on), then remembered by a SHA-256 of it for as long as the stored hash
    is the same: a phone posts every fix, and argon2 costs tens of milliseconds on purpose."""

    def __init__(self) -> None:
        self._running = asyncio.Semaphore(_HASHING)
        self._admitted = 0
        self._known: dict[tuple[str, str], str] = {}  # (device, sha256 of password) -> hash

    async def right(self, device: str, stored: str, password: str) -> bool:
        key = (device, hashlib.sha256(password.encode()).hexdigest())
        if self._known.get(key) == stored:
            return True
        if self._admitted >= _HASHING + _WAITING:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "too many devices signing in at once: try again",
                headers={"Retry-After": "1"},
            )
        self._admitted += 1
        try:
            async with self._running:
                ok = await asyncio.to_thread(_verify, stored, password)
        finally:
            self._admitted -= 1
        if ok:
            self._known[key] = stored
        return ok


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def owntracks_http(queue: asyncio.Queue[Message], pipeline: Pipeline) -> APIRouter:
    router = APIRouter(tags=["ingest"])
    passwords = _Passwords()

    @router.post("/owntracks", status_code=status.HTTP_200_OK)
    async def owntracks(
        request: Request,
        credentials: Annotated[HTTPBasicCredentials, Depends(_basic)],
        user: Annotated[str, Header(alias="X-Limit-U", pattern=r"^[^/]+$")],
        device: Annotated[str, Header(alias="X-Limit-D", pattern=r"^[^/]+$")],
    ) -> list[object]:
        """One OwnTracks message (or an array of them). Answers `[]`: nothing for the app
        to do. 401 unless the Basic user is X-Limit-U and the password is the device's."""
        name = f"{user}/{device}"
        registered = pipeline.owntracks_devices.get(name)
        stored = registered.http_password_hash if registered else None
        if (
            stored is None
            or credentials.username != user
            or not await passwords.right(name, stored, credentials.password)
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown device or wrong password",
                headers={"WWW-Authenticate": 'Basic realm="ccmon devices"'},
            )
        body = await _bounded_body(request, pipeline.limits.max_bytes)
        await queue.put(Message(f"owntracks/{user}/{device}", body, time.time()))
        return []

    return router


async def _bounded_body(request: Request, max_bytes: int) -> bytes:
    """The body, read no further than `max_bytes` (whatever Content-Length claims)."""
    too_large = HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {max_bytes:,} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    return bytes(body)
