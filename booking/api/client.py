"""Who is asking: the client's address as the rate limiter sees it, proxy-aware."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

from litestar import Request

from booking.settings import Settings


def client_address(request: Request[Any, Any, Any], settings: Settings) -> str:
    """The nearest address not owned by a trusted proxy, so a proxy never looks like one client."""
    peer = request.client.host if request.client else "unknown"
    networks = settings.proxy_networks()
    if not networks:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for address in reversed([*hops, peer]):
        try:
            parsed = ip_address(address)
        except ValueError:
            return address  # garbage from outside the proxies: still one bucket per value
        if not any(parsed in network for network in networks):
            return address
    return peer
