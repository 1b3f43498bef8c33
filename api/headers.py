"""Security headers on every HTTP answer. The Content-Security-Policy lets the console and
/docs run only ccmon's own scripts and styles (no inline script, no other origin but the
basemap's tiles), so a name an officer typed cannot become code even if a page mistook it
for markup; no other site may frame ccmon."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(tiles_url: str | None) -> str:
    images = ["'self'", "data:"]
    if tiles_url:
        parts = urlsplit(tiles_url)
        # A provider's {s} subdomains (a.tile..., b.tile...) as a wildcard.
        images.append(f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """ASGI middleware adding the headers to every HTTP response (WebSockets pass)."""

    def __init__(self, app: ASGIApp, *, tiles_url: str | None) -> None:
        self._app = app
        self._headers = [
            (b"content-security-policy", content_security_policy(tiles_url).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self._headers]
            await send(message)

        await self._app(scope, receive, with_headers)
