"""Single sign-on against a real OpenID Connect provider (npm ``oidc-provider``) on loopback.

The test is the browser: httpx follows every redirect between the service (in process) and
the provider (a node process), and posts the provider's own login and consent forms.
"""

from __future__ import annotations

import html
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.auth.oidc import identity_from_claims
from booking.db import catalogue
from booking.db.catalogue import NewLocation
from booking.embedded import free_port
from booking.errors import Forbidden
from booking.settings import Settings

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "oidc"
SERVICE = "http://testserver.local"
Client = AsyncTestClient[Litestar]
CLIENT_ID, CLIENT_SECRET = "booking-tests", "a-client-secret-for-tests-only"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the OIDC provider for these tests needs node and npm (tests/oidc)")
    if not (PROVIDER_DIR / "node_modules").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(PROVIDER_DIR)],
            check=True, timeout=600, capture_output=True,
        )  # fmt: skip
    port = free_port()
    provider = subprocess.Popen(
        [node, "provider.mjs", str(port), CLIENT_ID, CLIENT_SECRET,
         f"{SERVICE}/api/v1/auth/oidc/callback"],
        cwd=PROVIDER_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                assert provider.poll() is None, "the OIDC provider did not start"
                assert time.monotonic() < deadline, "the OIDC provider did not listen in 30 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        provider.terminate()
        provider.wait(10)


@pytest.fixture
async def app(settings: Settings, redis: Redis, db: asyncpg.Connection, issuer: str) -> Litestar:
    for slug in ("mitte", "nord"):
        await catalogue.insert_location(db, NewLocation(slug=slug, name_de=slug, name_en=slug))
    return create_app(
        msgspec.structs.replace(
            settings,
            oidc_issuer=issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_scopes="openid email profile booking",
        )
    )


class Browser:
    """One browser: the service in process, the provider over real HTTP, redirects followed
    across both; each side keeps its own cookies, as a browser's jar would per site."""

    def __init__(self, service: Client, provider: httpx.AsyncClient) -> None:
        self.service, self.provider = service, provider

    def _client(self, url: str) -> Client | httpx.AsyncClient:
        return self.service if url.startswith(SERVICE) else self.provider

    async def go(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for _ in range(20):
            answer = await self._client(url).request(method, url, follow_redirects=False, **kwargs)
            if not answer.is_redirect:
                return answer
            url = str(httpx.URL(url).join(answer.headers["location"]))
            method, kwargs = "GET", {}
        raise AssertionError("too many redirects")


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[Browser]:
    async with (
        AsyncTestClient(app=app, base_url=SERVICE) as service,
        httpx.AsyncClient(timeout=20) as provider,
    ):
        yield Browser(service, provider)


def form(page: httpx.Response) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the first form on a provider page."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert action is not None, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return str(page.url.join(html.unescape(action.group(1)))), hidden


async def sign_in(browser: Browser, login: str, return_to: str) -> httpx.Response:
    """Start at the service, log in and consent at the provider, end where it sends us.

    While the provider still knows the browser, it sends it straight back.
    """
    page = await browser.go(
        "GET", f"{SERVICE}/api/v1/auth/oidc/login", params={"return_to": return_to}
    )
    if str(page.url).startswith(SERVICE):
        return page
    assert page.status_code == 200, page.text
    action, fields = form(page)
    page = await browser.go(
        "POST", action, data={**fields, "login": login, "password": "the dev form takes any"}
    )
    if 'value="consent"' in page.text:
        action, fields = form(page)
        page = await browser.go("POST", action, data=fields)
    return page


async def audit(db: asyncpg.Connection, action: str) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "select actor_id, detail::text as detail from audit_log where action = $1 order by id",
        action,
    )
    return [{"actor_id": r["actor_id"], **msgspec.json.decode(r["detail"])} for r in rows]


async def test_the_code_flow_with_pkce_ends_signed_in_with_the_mapped_role(
    browser: Browser, db: asyncpg.Connection
) -> None:
    me = await sign_in(browser, "lea", "/api/v1/staff/me")
    assert me.status_code == 200, me.text
    assert str(me.url) == f"{SERVICE}/api/v1/staff/me"
    body = me.json()
    # booking_role ["location_admin", "something_else"]; locations ["mitte", "atlantis"].
    assert (body["email"], body["display_name"]) == ("lea@example.org", "Lea Leitung")
    assert (body["role"], body["locations"], body["signed_in_with"]) == (
        "location_admin", ["mitte"], "session",
    )  # fmt: skip
    row = await db.fetchrow(
        "select oidc_subject, password_hash from staff_user where id = $1", body["id"]
    )
    assert row is not None
    assert (row["oidc_subject"], row["password_hash"]) == ("lea", None)
    [login] = await audit(db, "login")
    assert (login["actor_id"], login["method"], login["role"]) == (
        body["id"],
        "oidc",
        "location_admin",
    )

    # The session works like any other: changes need its CSRF token.
    closure = {"first_day": "2026-12-24", "last_day": "2026-12-24"}
    url = f"{SERVICE}/api/v1/admin/locations/mitte/closures"
    assert (await browser.service.post(url, json=closure)).status_code == 403
    made = await browser.service.post(
        url, json=closure, headers={"X-CSRF-Token": body["csrf_token"]}
    )
    assert made.status_code == 201, made.text


async def test_a_verified_email_links_an_existing_account_and_the_role_follows_the_provider(
    browser: Browser, db: asyncpg.Connection, staff_user: Callable[..., Awaitable[int]]
) -> None:
    existing = await staff_user("desk", ["nord"], email="ada@example.org", password="x" * 16)
    me = (await sign_in(browser, "ada", "/api/v1/staff/me")).json()
    assert (me["id"], me["role"], me["locations"]) == (existing, "admin", [])
    browser.service.cookies.clear()  # signed out here, still signed in at the provider
    again = (await sign_in(browser, "ada", "/api/v1/staff/me")).json()
    assert again["id"] == existing
    assert await db.fetchval("select count(*) from staff_user") == 1


async def test_no_role_no_entry(browser: Browser, db: asyncpg.Connection) -> None:
    answer = await sign_in(browser, "nora", "/api/v1/staff/me")
    assert answer.status_code == 403, answer.text
    assert str(answer.url).startswith(f"{SERVICE}/api/v1/auth/oidc/callback")
    assert (await browser.service.get(f"{SERVICE}/api/v1/staff/me")).status_code == 401
    assert await db.fetchval("select count(*) from staff_user") == 0
    assert [e["reason"] for e in await audit(db, "login.failed")] == ["forbidden"]


async def test_a_callback_completes_once_and_only_in_the_browser_that_started(
    browser: Browser, issuer: str
) -> None:
    start = await browser.service.get(f"{SERVICE}/api/v1/auth/oidc/login", follow_redirects=False)
    assert start.status_code == 302
    authorize = httpx.URL(start.headers["location"])
    assert str(authorize).startswith(issuer)
    query = dict(authorize.params)
    assert (query["code_challenge_method"], query["response_type"]) == ("S256", "code")
    assert len(query["state"]) >= 43
    assert len(query["nonce"]) >= 43
    assert "code_verifier" not in query
    pending = browser.service.cookies.get("booking_oidc")
    assert pending

    callback = f"{SERVICE}/api/v1/auth/oidc/callback"
    state = query["state"]
    browser.service.cookies.delete("booking_oidc")
    other_browser = await browser.service.get(callback, params={"code": "x", "state": state})
    assert (other_browser.status_code, other_browser.json()["code"]) == (401, "sso_failed")
    replayed = await browser.service.get(
        callback,
        params={"code": "x", "state": state},
        headers={"Cookie": f"booking_oidc={pending}"},
    )
    assert (replayed.status_code, replayed.json()["code"]) == (401, "sso_failed")  # used up
    made_up = await browser.service.get(callback, params={"code": "x", "state": "made-up"})
    assert made_up.status_code == 401
    refused = await browser.service.get(callback, params={"error": "access_denied", "state": state})
    assert refused.status_code == 422


@pytest.mark.parametrize(
    "return_to", ["//evil.example/", "https://evil.example/", "staff", "/\\evil"]
)
async def test_sign_in_returns_only_to_this_site(browser: Browser, return_to: str) -> None:
    answer = await browser.service.get(
        f"{SERVICE}/api/v1/auth/oidc/login", params={"return_to": return_to}
    )
    assert answer.status_code == 422, answer.text


async def test_without_configuration_there_is_no_single_sign_on(
    settings: Settings, redis: Redis
) -> None:
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path in ("/api/v1/auth/oidc/login", "/api/v1/auth/oidc/callback?code=x&state=y"):
            answer = await client.get(path)
            assert answer.status_code == 404, answer.text


CLAIMS = Settings(oidc_role_claim="realm_access.roles", oidc_locations_claim="offices")


@pytest.mark.parametrize(
    ("claims", "role", "locations"),
    [
        ({"realm_access": {"roles": ["offline_access", "desk"]}, "offices": "mitte, nord"},
         "desk", ["mitte", "nord"]),
        ({"realm_access": {"roles": "desk admin"}, "offices": ["kfz", 7]}, "admin", ["kfz"]),
        ({"realm_access": {"roles": ["location_admin"]}}, "location_admin", []),
    ],
)  # fmt: skip
def test_claims_map_to_the_highest_named_role_and_the_listed_locations(
    claims: dict[str, Any], role: str, locations: list[str]
) -> None:
    identity = identity_from_claims({"sub": "s1", "email": " A@B.example ", **claims}, CLAIMS)
    assert (identity.role.value, identity.locations) == (role, locations)
    assert (identity.email, identity.email_verified) == ("a@b.example", False)


@pytest.mark.parametrize(
    "claims",
    [{}, {"realm_access": "admin"}, {"realm_access": {"roles": ["root", "Admin"]}}],
)
def test_claims_without_a_known_role_grant_nothing(claims: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        identity_from_claims({"sub": "s1", **claims}, CLAIMS)
