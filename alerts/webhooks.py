"""Signed webhooks: the alert event as JSON, with headers a receiver uses to check it came
from ccmon, is fresh, and is not a duplicate.

    X-Ccmon-Event       the alert event id: the same on every retry (drop duplicates by it)
    X-Ccmon-Delivery    the outbox row id (one per event and subscription)
    X-Ccmon-Timestamp   Unix seconds when this attempt was signed
    X-Ccmon-Signature   v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

import httpx

from alerts.delivery import DELIVERED, Outcome

if TYPE_CHECKING:
    import store
    from alerts.destinations import Destinations

_RETRY_STATUS = frozenset({408, 429})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def body_bytes(delivery: store.outbox.Delivery) -> bytes:
    return json.dumps(delivery.body, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookChannel:
    """POSTs each delivery to its subscription's URL with a per-attempt `timeout_s`.

    Each subscription has a connection pool of its own, of `connections` (as many as the
    worker lets it have in flight): a slow receiver cannot take connections from the others,
    and a small pool is cheap to manage (httpx scans its whole pool on every request).
    """

    def __init__(self, *, timeout_s: float, connections: int, destinations: Destinations) -> None:
        self._timeout = timeout_s
        self._destinations = destinations
        self._limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections
        )
        self._clients: dict[int, httpx.AsyncClient] = {}

    async def __aenter__(self) -> WebhookChannel:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def _client(self, subscription_id: int) -> httpx.AsyncClient:
        client = self._clients.get(subscription_id)
        if client is None:
            client = self._clients[subscription_id] = httpx.AsyncClient(
                limits=self._limits, follow_redirects=False
            )
        return client

    async def send(self, delivery: store.outbox.Delivery) -> Outcome:
        assert delivery.url is not None
        assert delivery.secret is not None
        assert delivery.subscription_id is not None
        refusal = await self._destinations.refusal(delivery.url)
        if refusal is not None:
            return Outcome(ok=False, retry=False, error=refusal)
        body = body_bytes(delivery)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Ccmon-Event": str(delivery.event_id),
            "X-Ccmon-Delivery": str(delivery.id),
            "X-Ccmon-Timestamp": timestamp,
            "X-Ccmon-Signature": signature(delivery.secret, timestamp, body),
        }
        return await http_call(
            self._client(delivery.subscription_id),
            "POST",
            delivery.url,
            content=body,
            headers=headers,
            timeout_s=self._timeout,
        )


async def http_call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout_s: float,
) -> Outcome:
    """One HTTP attempt: 2xx delivered; timeouts, connection errors, 5xx, 408 and 429 worth
    another try; any other 4xx is final (the receiver refuses it), and so is a redirect
    (never followed: it could lead anywhere). Only the status is recorded, never what the
    receiver answered (it could be anything, from anywhere)."""
    try:
        response = await client.request(
            method, url, content=content, headers=headers, timeout=timeout_s
        )
    except httpx.TimeoutException:
        return Outcome(ok=False, retry=True, error=f"no answer within {timeout_s:g} s")
    except httpx.HTTPError as exc:
        return Outcome(ok=False, retry=True, error=f"{type(exc).__name__}: {exc}")
    if response.is_success:
        return DELIVERED
    code = response.status_code
    error = f"HTTP {code}" + (" (a redirect, not followed)" if response.is_redirect else "")
    return Outcome(ok=False, retry=code >= 500 or code in _RETRY_STATUS, error=error)
