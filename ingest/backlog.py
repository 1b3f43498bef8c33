"""Reading a backlog: messages that waited for ingest (in the broker while ingest was away or
reconnecting, or while the store was). While ingest reads one, the fixes stored so far are
old news, not the devices' silence: the silence rule opens nothing meanwhile.

Ingest knows it has read all that waited by a marker: on (re)connecting, and when the store
is back after an outage, it publishes a random token to a topic of its own. The broker
queues it behind whatever waits for the session, so when the marker has come through the
pipeline, everything before it is stored."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time

log = logging.getLogger(__name__)


def marker_topic(client_id: str) -> str:
    """Where an ingest client publishes its markers (and only it reads): its client id, with
    anything that is not plain text in a topic level replaced."""
    return f"cc/v1/ingest/{re.sub(r'[^A-Za-z0-9_.-]', '_', client_id)}/mark"


class Backlog:
    """Whether ingest is still reading what waited for it. A process starts behind (it has
    read nothing yet) and is behind for at most `max_s` after each start of a backlog, so a
    lost marker cannot hold the silence rule for long."""

    def __init__(self, *, max_s: float) -> None:
        self._max_s = max_s
        self._since: float | None = time.monotonic()
        self._token: bytes | None = None
        self.wanted = asyncio.Event()  # a marker should be published

    def begin(self) -> None:
        """Messages may wait from now on: behind until a new marker has come through."""
        self._since = time.monotonic()
        self._token = None
        self.wanted.set()

    def marker(self) -> bytes:
        """The payload of the marker to publish now."""
        self.wanted.clear()
        self._token = secrets.token_hex(16).encode()
        return self._token

    def passed(self, payload: bytes) -> None:
        """A marker came through the pipeline, everything before it stored."""
        if self._token is not None and secrets.compare_digest(payload, self._token):
            log.info("backlog read")
            self._since = self._token = None

    @property
    def reading(self) -> bool:
        if self._since is None:
            return False
        if time.monotonic() - self._since > self._max_s:
            log.warning("backlog not read within %.0f s: judging silence again", self._max_s)
            self._since = self._token = None
            return False
        return True

    @property
    def left_s(self) -> float:
        """How much longer the backlog may hold the silence rule."""
        if self._since is None:
            return 0.0
        return max(0.0, self._max_s - (time.monotonic() - self._since))
