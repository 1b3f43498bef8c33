"""An ASGI app served by uvicorn on a free loopback port, in the test's event loop: for the
tests that need a real socket (WebSockets, a browser, webhook receivers)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import uvicorn

from ccmon.bench.common import free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class Served:
    """The app on one port, which a test can stop and start again (a network drop, as a
    client sees it)."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self._app = app
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        config = uvicorn.Config(
            self._app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self._server is not None
        assert self._task is not None
        self._server.should_exit = True
        await self._task


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[Served]:
    served = Served(app)
    await served.start()
    try:
        yield served
    finally:
        await served.stop()
