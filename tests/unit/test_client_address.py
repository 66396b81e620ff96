from __future__ import annotations

from typing import Any

import pytest
from litestar import Request

from booking.api.client import client_address
from booking.settings import Settings, SettingsError, load_settings


def request_from(peer: str, forwarded: str | None = None) -> Request[Any, Any, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers,
             "client": (peer, 40000), "query_string": b"", "app": None}  # fmt: skip
    return Request(scope)  # type: ignore[arg-type]


def test_without_trusted_proxies_the_peer_counts_and_headers_are_ignored() -> None:
    request = request_from("198.51.100.4", "203.0.113.9")
    assert client_address(request, Settings()) == "198.51.100.4"


def test_behind_a_trusted_proxy_the_first_untrusted_hop_counts() -> None:
    settings = Settings(trusted_proxies="10.0.0.0/8, 192.0.2.1")
    request = request_from("10.1.2.3", "203.0.113.9, 192.0.2.1")
    assert client_address(request, settings) == "203.0.113.9"
    # A forged hop further left does not help: the nearest untrusted one is taken.
    forged = request_from("10.1.2.3", "1.1.1.1, 203.0.113.9")
    assert client_address(forged, settings) == "203.0.113.9"


def test_a_bad_proxy_list_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="BOOKING_TRUSTED_PROXIES"):
        load_settings({"BOOKING_TRUSTED_PROXIES": "10.0.0.0/8, not-an-ip"})
