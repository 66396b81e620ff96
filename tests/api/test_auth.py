"""Staff sign-in with a password: cookies, sessions, CSRF, brute force, tokens, audit.

The clock stands still at Monday 1 June 2026, 10:00 in Berlin, until a test moves it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.db import catalogue
from booking.db.catalogue import NewLocation
from booking.settings import Settings, SettingsError, load_settings

Client = AsyncTestClient[Litestar]
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
LEA = "lea@example.org"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/staff/me"
TOKENS = "/api/v1/staff/tokens"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def client(settings: Settings, redis: Redis, clock: FixedClock) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings, clock)) as test_client:
        yield test_client


@pytest.fixture
async def lea(db: asyncpg.Connection, staff_user: Callable[..., Awaitable[int]]) -> int:
    """A location admin of Mitte who signs in with a password."""
    for slug in ("mitte", "nord"):
        await catalogue.insert_location(db, NewLocation(slug=slug, name_de=slug, name_en=slug))
    return await staff_user("location_admin", ["mitte"], email=LEA, password=PASSWORD)


async def sign_in(client: Client, email: str = LEA, password: str = PASSWORD) -> dict[str, Any]:
    answer = await client.post(LOGIN, json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def session_cookie(client: Client) -> str:
    value = client.cookies.get("booking_session")
    assert value
    return value


async def me_with(client: Client, session_id: str) -> int:
    """The status of /staff/me with this session cookie instead of the client's own."""
    answer = await client.get(ME, headers={"Cookie": f"booking_session={session_id}"})
    return answer.status_code


async def audit(db: asyncpg.Connection, action: str) -> list[asyncpg.Record]:
    return await db.fetch(
        """
        select actor_kind, actor_id, object_id, detail::text as detail
          from audit_log where action = $1 order by id
        """,
        action,
    )


async def test_sign_in_sets_an_http_only_same_site_cookie_and_tells_who_signed_in(
    client: Client, lea: int
) -> None:
    answer = await client.post(LOGIN, json={"email": "  Lea@Example.ORG ", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("booking_session=")
    assert {"HttpOnly", "Path=/", "SameSite=lax"} <= {p.strip() for p in cookie.split(";")}
    assert "Secure" not in cookie  # the public URL of the tests is plain http
    me = answer.json()
    assert me["id"] == lea
    assert (me["email"], me["role"], me["locations"]) == (LEA, "location_admin", ["mitte"])
    assert me["signed_in_with"] == "session"
    assert len(me["csrf_token"]) >= 40
    assert (await client.get(ME)).json() == me


async def test_behind_https_the_cookie_is_secure(
    settings: Settings, redis: Redis, lea: int
) -> None:
    https = msgspec.structs.replace(settings, public_url="https://termine.example.org")
    async with AsyncTestClient(app=create_app(https)) as client:
        answer = await client.post(LOGIN, json={"email": LEA, "password": PASSWORD})
    assert "Secure" in {part.strip() for part in answer.headers["set-cookie"].split(";")}


async def test_signing_in_always_makes_a_new_session_id(
    client: Client, lea: int, redis: Redis
) -> None:
    """No session fixation: an id planted before sign-in, or an older session, is worthless."""
    client.cookies.set("booking_session", "planted-by-an-attacker", domain="testserver.local")
    await sign_in(client)
    first = session_cookie(client)
    assert first != "planted-by-an-attacker"
    assert await me_with(client, "planted-by-an-attacker") == 401

    await sign_in(client)
    second = session_cookie(client)
    assert second != first
    assert await me_with(client, first) == 401
    assert await me_with(client, second) == 200
    # Redis keeps sessions under the hash of their id, never the id itself.
    keys = [key.decode() for key in await redis.keys("session:*")]
    assert keys == ["session:" + hashlib.sha256(second.encode()).hexdigest()]


async def test_cookie_authenticated_changes_need_the_csrf_token(client: Client, lea: int) -> None:
    me = await sign_in(client)
    missing = await client.post(TOKENS, json={"name": "laptop"})
    assert missing.status_code == 403
    assert missing.json()["code"] == "csrf_failed"
    wrong = await client.post(TOKENS, json={"name": "laptop"}, headers={"X-CSRF-Token": "guess"})
    assert wrong.json()["code"] == "csrf_failed"
    assert (await client.get(TOKENS)).json() == []  # reading needs no token, nothing was made
    right = await client.post(
        TOKENS, json={"name": "laptop"}, headers={"X-CSRF-Token": me["csrf_token"]}
    )
    assert right.status_code == 201, right.text

    assert (await client.post("/api/v1/auth/logout")).json()["code"] == "csrf_failed"
    out = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": me["csrf_token"]})
    assert out.status_code == 204
    assert (await client.get(ME)).status_code == 401


async def test_the_public_api_is_no_csrf_target_even_with_a_session_cookie(
    client: Client, lea: int
) -> None:
    """Citizens' JSON API uses no cookies; a staff cookie in the jar changes nothing there."""
    await sign_in(client)
    for path in ("/api/v1/holds", "/api/v1/appointments"):
        answer = await client.post(path, json={})
        assert answer.status_code == 422, (path, answer.text)


async def test_bearer_tokens_need_no_csrf_token_and_never_mint_more(
    client: Client, lea: int, db: asyncpg.Connection
) -> None:
    me = await sign_in(client)
    made = await client.post(
        TOKENS, json={"name": "script"}, headers={"X-CSRF-Token": me["csrf_token"]}
    )
    token = made.json()["token"]
    assert re.fullmatch(r"bkt_[A-Za-z0-9_-]{43}", token)  # 256 random bits
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    me_by_token = (await client.get(ME, headers=bearer)).json()
    assert (me_by_token["signed_in_with"], me_by_token["csrf_token"]) == ("token", None)
    closure = {"first_day": "2026-12-24", "last_day": "2026-12-24"}
    added = await client.post(
        "/api/v1/admin/locations/mitte/closures", json=closure, headers=bearer
    )
    assert added.status_code == 201, added.text
    again = await client.post(TOKENS, json={"name": "more"}, headers=bearer)
    assert (again.status_code, again.json()["code"]) == (403, "session_required")

    # Stored as its SHA-256 only; listed without the secret.
    row = await db.fetchrow("select token_hash from api_token where id = $1", made.json()["id"])
    assert row is not None
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert token not in str(await db.fetch("select * from api_token"))
    listed = (await client.get(TOKENS, headers=bearer)).json()
    assert [(t["name"], "token" in t) for t in listed] == [("script", False)]

    revoked = await client.delete(f"{TOKENS}/{made.json()['id']}", headers=bearer)
    assert revoked.status_code == 204
    assert (await client.get(ME, headers=bearer)).status_code == 401


async def test_someone_elses_token_cannot_be_revoked(
    client: Client, lea: int, staff_token: Callable[..., Awaitable[str]], db: asyncpg.Connection
) -> None:
    other = await staff_token("desk", ["mitte"])
    other_id = await db.fetchval("select max(id) from api_token")
    mine = {"Authorization": f"Bearer {await staff_token('desk', ['mitte'])}"}
    assert (await client.delete(f"{TOKENS}/{other_id}", headers=mine)).status_code == 404
    assert (await client.get(ME, headers={"Authorization": f"Bearer {other}"})).status_code == 200


async def test_every_failed_sign_in_looks_the_same_and_is_audited_without_the_password(
    client: Client, lea: int, db: asyncpg.Connection
) -> None:
    unknown = await client.post(LOGIN, json={"email": "who@example.org", "password": "secret-1"})
    wrong = await client.post(LOGIN, json={"email": LEA, "password": "secret-2"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert wrong.json()["code"] == "login_failed"
    await sign_in(client)

    failed = await audit(db, "login.failed")
    assert [(r["actor_kind"], r["object_id"]) for r in failed] == [
        ("anonymous", None),
        ("anonymous", str(lea)),
    ]
    assert [msgspec.json.decode(r["detail"])["reason"] for r in failed] == [
        "unknown_account",
        "password",
    ]
    [signed_in] = await audit(db, "login")
    assert (signed_in["actor_kind"], signed_in["actor_id"]) == ("staff", lea)
    everything = str(await db.fetch("select * from audit_log"))
    assert "secret-1" not in everything
    assert "secret-2" not in everything
    assert "who@example.org" not in everything


async def test_repeated_failures_lock_the_account_for_a_while(
    client: Client, lea: int, db: asyncpg.Connection, clock: FixedClock
) -> None:
    for _ in range(5):
        answer = await client.post(LOGIN, json={"email": LEA, "password": "wrong guess"})
        assert answer.status_code == 401
    locked = await client.post(LOGIN, json={"email": LEA, "password": PASSWORD})
    assert locked.status_code == 401  # even the right password, while locked
    locked_until = await db.fetchval("select locked_until from staff_user where id = $1", lea)
    assert locked_until == NOW + timedelta(minutes=15)
    reasons = [msgspec.json.decode(r["detail"]) for r in await audit(db, "login.failed")]
    assert [r.get("locked") for r in reasons[:5]] == [False] * 4 + [True]
    assert reasons[5]["reason"] == "locked"

    clock.instant = NOW + timedelta(minutes=16)
    await sign_in(client)
    row = await db.fetchrow("select failed_logins, locked_until from staff_user where id = $1", lea)
    assert row is not None
    assert (row["failed_logins"], row["locked_until"]) == (0, None)


async def test_one_client_is_rate_limited_across_accounts(client: Client, redis: Redis) -> None:
    answers = []
    for attempt in range(22):
        answer = await client.post(
            LOGIN, json={"email": f"guess{attempt}@example.org", "password": "x"}
        )
        answers.append(answer)
        if answer.status_code == 429:
            break
    codes = [answer.status_code for answer in answers]
    # Ten a minute (a window may turn over during the test and start the count again).
    assert codes[-1] == 429
    assert codes[:10] == [401] * 10
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert answers[-1].json()["code"] == "too_many_requests"
    keys = [key.decode() for key in await redis.keys("rl:login:*")]
    assert keys
    assert not any("testclient" in key for key in keys)  # the address is hashed


async def test_sessions_end_when_idle_and_at_the_latest_after_the_maximum(
    client: Client, lea: int, clock: FixedClock
) -> None:
    await sign_in(client)
    for minutes in (29, 58):
        clock.instant = NOW + timedelta(minutes=minutes)
        assert (await client.get(ME)).status_code == 200  # each request restarts the idle time
    clock.instant = NOW + timedelta(minutes=58 + 31)
    assert (await client.get(ME)).status_code == 401

    clock.instant = NOW
    await sign_in(client)
    for minutes in range(25, 10 * 60, 25):
        clock.instant = NOW + timedelta(minutes=minutes)
        assert (await client.get(ME)).status_code == 200, minutes
    clock.instant = NOW + timedelta(hours=10)
    assert (await client.get(ME)).status_code == 401


async def test_signing_out_without_a_session_is_harmless(client: Client) -> None:
    answer = await client.post("/api/v1/auth/logout")
    assert answer.status_code == 204
    assert "booking_session=" in answer.headers["set-cookie"]


async def test_a_deactivated_or_password_less_account_cannot_sign_in(
    client: Client, lea: int, db: asyncpg.Connection, staff_user: Callable[..., Awaitable[int]]
) -> None:
    await staff_user("desk", ["mitte"], email="sso-only@example.org")
    answer = await client.post(LOGIN, json={"email": "sso-only@example.org", "password": "x" * 12})
    assert answer.status_code == 401
    await db.execute("update staff_user set active = false where id = $1", lea)
    assert (await client.post(LOGIN, json={"email": LEA, "password": PASSWORD})).status_code == 401
    reasons = [msgspec.json.decode(r["detail"])["reason"] for r in await audit(db, "login.failed")]
    assert reasons == ["no_password", "inactive"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"email": LEA}, 422),
        ({"email": 1, "password": PASSWORD}, 422),
        ({"email": LEA, "password": PASSWORD, "remember": True}, 422),
        ({"email": LEA, "password": "p" * 5000}, 422),
        ({"email": "", "password": PASSWORD}, 422),
        ([LEA, PASSWORD], 422),
        ("not json", 400),
    ],
)
async def test_bad_sign_in_input_gets_a_4xx_in_the_error_format(
    client: Client, lea: int, body: object, status: int
) -> None:
    content = body.encode() if isinstance(body, str) else msgspec.json.encode(body)
    answer = await client.post(LOGIN, content=content, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"status", "code", "message", "details"}


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Token abc", "Bearer " + "x" * 5000, "bearer  spaced  out"],
)
async def test_malformed_authorization_headers_get_401(client: Client, authorization: str) -> None:
    answer = await client.get(ME, headers={"Authorization": authorization})
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BOOKING_SESSION_IDLE_MINUTES", "0", "must be between 1 and 1440"),
        ("BOOKING_SESSION_MAX_HOURS", "1000", "must be between 1 and 168"),
        ("BOOKING_LOGIN_MAX_FAILURES", "many", "expected `int`"),
        ("BOOKING_OIDC_ISSUER", "idp.example.org", "must start with one of"),
    ],
)
def test_sign_in_settings_are_checked_at_start(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        load_settings({variable: value})
    assert variable in str(raised.value)


def test_single_sign_on_needs_issuer_and_client_id() -> None:
    assert not load_settings({"BOOKING_OIDC_CLIENT_ID": "booking"}).oidc_enabled
    both = {"BOOKING_OIDC_ISSUER": "https://idp.example.org", "BOOKING_OIDC_CLIENT_ID": "booking"}
    assert load_settings(both).oidc_enabled
