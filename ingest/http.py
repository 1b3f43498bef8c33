"""HTTP ingest for phones that cannot hold an MQTT connection: OwnTracks HTTP mode.

The app POSTs the same JSON it would publish, naming itself in the X-Limit-U (user) and
X-Limit-D (device) headers, with HTTP Basic credentials; the device's password is checked
against its argon2 hash. Messages join the MQTT ones in the pipeline's queue.
"""

from __future__ import annotations

import asyncio
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


def owntracks_http(queue: asyncio.Queue[Message], pipeline: Pipeline) -> APIRouter:
    router = APIRouter(tags=["ingest"])

    @router.post("/owntracks", status_code=status.HTTP_200_OK)
    async def owntracks(
        request: Request,
        credentials: Annotated[HTTPBasicCredentials, Depends(_basic)],
        user: Annotated[str, Header(alias="X-Limit-U", pattern=r"^[^/]+$")],
        device: Annotated[str, Header(alias="X-Limit-D", pattern=r"^[^/]+$")],
    ) -> list[object]:
        """One OwnTracks message (or an array of them). Answers `[]`: nothing for the app
        to do. 401 unless the Basic user is X-Limit-U and the password is the device's."""
        registered = pipeline.owntracks_devices.get(f"{user}/{device}")
        stored = registered.http_password_hash if registered else None
        try:
            if stored is None or credentials.username != user:
                raise VerificationError
            _hasher.verify(stored, credentials.password)
        except (VerificationError, InvalidHashError):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown device or wrong password",
                headers={"WWW-Authenticate": 'Basic realm="ccmon devices"'},
            ) from None
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
