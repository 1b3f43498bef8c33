"""A real HTTP receiver on loopback for delivery tests: records what arrives, answers as the
test tells it (fail first, answer slowly, refuse)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from tests.serving import serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """`answers[path]`: status codes to give, one per request, then 200; `delay[path]`:
    seconds to wait before answering."""

    base: str
    received: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    async def endpoint(request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        receiver.received.append(Received(path, dict(request.headers), body, time.monotonic()))
        await asyncio.sleep(receiver.delay.get(path, 0.0))
        queue = receiver.answers.get(path, [])
        code = queue.pop(0) if queue else 200
        # a redirect points elsewhere on the receiver (a follower would show up there)
        moved = {"location": f"{receiver.base}/elsewhere"} if 300 <= code < 400 else None
        return Response(status_code=code, content=b"ok", headers=moved)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST", "PUT"])])
    async with serving(app) as served:
        receiver = Receiver(base=served.url)
        yield receiver
