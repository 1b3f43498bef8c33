"""HTTP ingest for phones that cannot hold an MQTT connection: OwnTracks HTTP mode.

The app POSTs the same JSON it would publish, naming itself in the X-Limit-U (user) and
X-Limit-D (device) headers, with HTTP Basic credentials; the device's password is checked
against its argon2 hash by the API's password checker (off the event loop, a few at a time),
once, then remembered. Messages join the MQTT ones in the pipeline's queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from ingest.decode import Message
from ingest.pipeline import Pipeline

_basic = HTTPBasic(realm="ccmon devices")


class Passwords(Protocol):
    """What checks passwords for the whole server (`api.PasswordChecker`): admission (503
    when too many wait), then argon2 in a worker thread."""

    def turn(self) -> AbstractAsyncContextManager[None]: ...

    async def verify(self, stored: str | None, password: str) -> bool: ...


class _Known:
    """Device passwords proven once, remembered by a SHA-256 of them for as long as the
    stored hash is the same: a phone posts every fix, and argon2 costs tens of milliseconds
    on purpose."""

    def __init__(self, passwords: Passwords) -> None:
        self._passwords = passwords
        self._known: dict[tuple[str, str], str] = {}  # (device, sha256 of password) -> hash

    async def right(self, device: str, stored: str, password: str) -> bool:
        key = (device, hashlib.sha256(password.encode()).hexdigest())
        if self._known.get(key) == stored:
            return True
        async with self._passwords.turn():
            ok = await self._passwords.verify(stored, password)
        if ok:
            self._known[key] = stored
        return ok


def owntracks_http(
    queue: asyncio.Queue[Message], pipeline: Pipeline, passwords: Passwords
) -> APIRouter:
    router = APIRouter(tags=["ingest"])
    known = _Known(passwords)

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
            or not await known.right(name, stored, credentials.password)
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown device or wrong password",
                headers={"WWW-Authenticate": 'Basic realm="ccmon devices"'},
            )
        # The API reads no body past its own bound (api.limits); a device message's is lower.
        body = await request.body()
        if len(body) > pipeline.limits.max_bytes:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"body over {pipeline.limits.max_bytes:,} bytes"
            )
        await queue.put(Message(f"owntracks/{name}", body, time.time()))
        return []

    return router
