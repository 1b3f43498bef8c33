"""Where webhooks may go. An admin's URL must not reach inside: loopback, link-local (cloud
metadata at 169.254.169.254), private, shared, multicast or reserved addresses are refused,
unless an operator allows a network (CCMON_WEBHOOK_ALLOWED_NETWORKS: a case system on the
bureau's intranet). Checked when a subscription is made and again before every delivery
(a name may resolve elsewhere later)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Destinations:
    def __init__(self, allowed_networks: Iterable[str] = ()) -> None:
        self._allowed = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]

    def refuses(self, address: IpAddress) -> bool:
        if any(address in network for network in self._allowed):
            return False
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            return self.refuses(mapped)
        return not address.is_global or address.is_multicast

    async def refusal(self, url: str) -> str | None:
        """Why `url` may not be called (None: it may). A name that does not resolve now is
        not refused here: the call itself fails, and is tried again, until it does."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:  # no lookup (and no wait) for an address given as such
            return self._refusal(host, literal)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, ValueError):
            return None
        for *_, sockaddr in infos:
            refusal = self._refusal(host, ipaddress.ip_address(str(sockaddr[0]).split("%")[0]))
            if refusal is not None:
                return refusal
        return None

    def _refusal(self, host: str, address: IpAddress) -> str | None:
        if not self.refuses(address):
            return None
        return (
            f"{host} is {address}, an address inside (loopback, private, link-local,"
            " multicast or reserved): not a webhook destination unless"
            " CCMON_WEBHOOK_ALLOWED_NETWORKS allows it"
        )
