"""Staff accounts through the admin API: who manages whom, and what a change does at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking.db import catalogue
from booking.db.catalogue import NewLocation

Client = AsyncTestClient[Litestar]
USERS = "/api/v1/admin/users"
PASSWORD = "a long and secret passphrase"
Token = Callable[..., Awaitable[str]]


@pytest.fixture
async def locations(db: asyncpg.Connection) -> None:
    for slug in ("mitte", "nord"):
        await catalogue.insert_location(db, NewLocation(slug=slug, name_de=slug, name_en=slug))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create(client: Client, who: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = await client.post(USERS, json=body, headers=who)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def signs_in(client: Client, email: str, password: str = PASSWORD) -> bool:
    answer = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    client.cookies.clear()
    return answer.status_code == 200


@pytest.mark.usefixtures("locations")
async def test_an_admin_creates_a_login_stored_as_an_argon2_hash(
    client: Client, staff_token: Token, db: asyncpg.Connection
) -> None:
    admin = bearer(await staff_token("admin"))
    user = await create(
        client, admin, email="Lea@Example.org", display_name="Lea", role="location_admin",
        locations=["nord", "mitte"], password=PASSWORD,
    )  # fmt: skip
    assert user["email"] == "lea@example.org"
    assert (user["role"], user["locations"], user["active"]) == (
        "location_admin", ["mitte", "nord"], True,
    )  # fmt: skip
    assert (user["has_password"], user["sso"], "password" in user) == (True, False, False)
    stored = await db.fetchval("select password_hash from staff_user where id = $1", user["id"])
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert await signs_in(client, "LEA@example.org")
    assert (await client.get(f"{USERS}/{user['id']}", headers=admin)).json() == user


@pytest.mark.usefixtures("locations")
async def test_a_location_admin_manages_only_the_staff_of_their_own_locations(
    client: Client, staff_token: Token
) -> None:
    admin = bearer(await staff_token("admin"))
    mitte_admin = bearer(await staff_token("location_admin", ["mitte"]))
    desk = await create(
        client, mitte_admin, email="d@example.org", role="desk", locations=["mitte"]
    )
    shared = await create(
        client, admin, email="s@example.org", role="desk", locations=["mitte", "nord"]
    )
    elsewhere = await create(client, admin, email="n@example.org", role="desk", locations=["nord"])

    refusals = [
        {"email": "x@example.org", "role": "desk", "locations": ["nord"]},
        {"email": "x@example.org", "role": "admin", "locations": ["mitte"]},
    ]
    for body in refusals:
        answer = await client.post(USERS, json=body, headers=mitte_admin)
        assert answer.status_code == 403, (body, answer.text)
    no_location = await client.post(
        USERS, json={"email": "x@example.org", "role": "desk"}, headers=mitte_admin
    )
    assert no_location.status_code == 422

    listed = (await client.get(USERS, headers=mitte_admin)).json()
    assert {u["email"] for u in listed} >= {"d@example.org", "s@example.org"}
    assert "n@example.org" not in {u["email"] for u in listed}
    assert all("mitte" in u["locations"] for u in listed)
    assert (await client.get(f"{USERS}/{elsewhere['id']}", headers=mitte_admin)).status_code == 404
    # Someone who also works at Nord is the admin's to change, not Mitte's location admin's.
    patch = await client.patch(
        f"{USERS}/{shared['id']}", json={"display_name": "S"}, headers=mitte_admin
    )
    assert patch.status_code == 403
    promoted = await client.patch(
        f"{USERS}/{desk['id']}", json={"role": "location_admin"}, headers=mitte_admin
    )
    assert promoted.json()["role"] == "location_admin"
    moved = await client.patch(
        f"{USERS}/{desk['id']}", json={"locations": ["nord"]}, headers=mitte_admin
    )
    assert moved.status_code == 403


@pytest.mark.usefixtures("locations")
async def test_deactivation_and_password_reset_end_sessions_and_tokens_at_once(
    client: Client, staff_token: Token, db: asyncpg.Connection
) -> None:
    admin = bearer(await staff_token("admin"))
    user = await create(
        client, admin, email="d@example.org", role="desk", locations=["mitte"], password=PASSWORD
    )
    me = (await client.post("/api/v1/auth/login", json={"email": "d@example.org",
                                                         "password": PASSWORD})).json()  # fmt: skip
    made = await client.post(
        "/api/v1/staff/tokens", json={"name": "t"}, headers={"X-CSRF-Token": me["csrf_token"]}
    )
    token = bearer(made.json()["token"])

    off = await client.patch(f"{USERS}/{user['id']}", json={"active": False}, headers=admin)
    assert off.json()["active"] is False
    assert (await client.get("/api/v1/staff/me")).status_code == 401
    assert (await client.get("/api/v1/staff/me", headers=token)).status_code == 401
    assert not await signs_in(client, "d@example.org")

    await client.patch(f"{USERS}/{user['id']}", json={"active": True}, headers=admin)
    me = (await client.post("/api/v1/auth/login", json={"email": "d@example.org",
                                                         "password": PASSWORD})).json()  # fmt: skip
    assert (await client.get("/api/v1/staff/me", headers=token)).status_code == 200
    await db.execute("update staff_user set failed_logins = 3 where id = $1", user["id"])
    reset = await client.post(f"{USERS}/{user['id']}/password", json={}, headers=admin)
    assert reset.status_code == 200, reset.text
    new_password = reset.json()["password"]
    assert len(new_password) >= 16
    assert (await client.get("/api/v1/staff/me")).status_code == 401  # the session ended
    assert (await client.get("/api/v1/staff/me", headers=token)).status_code == 401
    assert not await signs_in(client, "d@example.org")
    assert await signs_in(client, "d@example.org", new_password)
    assert await db.fetchval("select failed_logins from staff_user where id = $1", user["id"]) == 0

    chosen = await client.post(
        f"{USERS}/{user['id']}/password", json={"password": "my own new passphrase"},
        headers=admin,
    )  # fmt: skip
    assert chosen.json() == {"password": None}  # a chosen password is never echoed
    assert await signs_in(client, "d@example.org", "my own new passphrase")


@pytest.mark.usefixtures("locations")
async def test_nobody_demotes_or_deactivates_themselves(client: Client, staff_token: Token) -> None:
    token = await staff_token("admin")
    me = (await client.get("/api/v1/staff/me", headers=bearer(token))).json()
    for change in ({"role": "desk"}, {"active": False}):
        answer = await client.patch(f"{USERS}/{me['id']}", json=change, headers=bearer(token))
        assert answer.status_code == 403, change
    renamed = await client.patch(
        f"{USERS}/{me['id']}", json={"display_name": "Chief"}, headers=bearer(token)
    )
    assert renamed.json()["display_name"] == "Chief"
    other = bearer(await staff_token("admin"))
    demoted = await client.patch(f"{USERS}/{me['id']}", json={"role": "desk",
                                                              "locations": ["mitte"]},
                                 headers=other)  # fmt: skip
    assert demoted.json()["role"] == "desk"


@pytest.mark.usefixtures("locations")
@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"email": "not-an-email", "role": "desk", "locations": ["mitte"]}, 422, "email"),
        ({"email": "a@example.org", "role": "superuser"}, 422, "role"),
        ({"email": "a@example.org", "role": "desk", "locations": ["atlantis"]}, 422, "locations"),
        ({"email": "a@example.org", "role": "desk", "locations": ["Mitte!"]}, 422, None),
        ({"email": "a@example.org", "role": "admin", "password": "short"}, 422, "password"),
        ({"email": "a@example.org", "role": "admin", "is_root": True}, 422, None),
        ({"email": "taken@example.org", "role": "admin"}, 409, "email"),
        ({"email": "a@example.org", "role": "admin", "display_name": "a\nb"}, 422, None),
    ],
)
async def test_bad_user_input_gets_a_4xx_and_changes_nothing(
    *, client: Client, staff_token: Token, db: asyncpg.Connection,
    body: dict[str, Any], status: int, field: str | None,
) -> None:  # fmt: skip
    admin = bearer(await staff_token("admin"))
    await create(client, admin, email="taken@example.org", role="admin")
    before = await db.fetchval("select count(*) from staff_user")
    answer = await client.post(USERS, json=body, headers=admin)
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert set(error) == {"status", "code", "message", "details"}
    if field is not None:
        assert field in [d["field"] for d in error["details"]], error
    assert await db.fetchval("select count(*) from staff_user") == before


@pytest.mark.usefixtures("locations")
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", f"{USERS}/999999", 404),
        ("GET", f"{USERS}/99999999999999999999999", 422),
        ("GET", f"{USERS}/-1", 404),
        ("PATCH", f"{USERS}/999999", 404),
        ("POST", f"{USERS}/999999/password", 404),
        ("GET", f"{USERS}?role=root", 422),
        ("GET", f"{USERS}?active=maybe", 422),
    ],
)
async def test_unknown_users_and_bad_filters_are_4xx(
    client: Client, staff_token: Token, method: str, path: str, status: int
) -> None:
    answer = await client.request(method, path, json={}, headers=bearer(await staff_token()))
    assert answer.status_code == status, answer.text
    assert answer.json()["status"] == status


@pytest.mark.usefixtures("locations")
async def test_staff_changes_and_catalogue_changes_are_in_the_audit_log(
    client: Client, staff_token: Token
) -> None:
    admin = bearer(await staff_token("admin"))
    admin_id = (await client.get("/api/v1/staff/me", headers=admin)).json()["id"]
    user = await create(client, admin, email="d@example.org", role="desk", locations=["mitte"])
    await client.patch(f"{USERS}/{user['id']}", json={"display_name": "D"}, headers=admin)
    await client.post(
        "/api/v1/admin/locations/mitte/closures",
        json={"first_day": "2026-12-24", "last_day": "2026-12-26"}, headers=admin,
    )  # fmt: skip

    page = (await client.get("/api/v1/admin/audit?action=staff", headers=admin)).json()
    assert [(e["action"], e["object_id"]) for e in page["entries"]] == [
        ("staff.update", str(user["id"])),
        ("staff.create", str(user["id"])),
    ]
    assert page["entries"][0]["detail"] == {"fields": ["display_name"]}
    assert {(e["actor_kind"], e["actor_id"]) for e in page["entries"]} == {("staff", admin_id)}
    assert page["entries"][0]["actor_name"].endswith("@example.org")

    at_mitte = (await client.get("/api/v1/admin/audit?location=mitte", headers=admin)).json()
    assert [e["action"] for e in at_mitte["entries"]] == ["closure.create"]
    assert at_mitte["entries"][0]["location"] == "mitte"

    first = (await client.get("/api/v1/admin/audit?limit=2", headers=admin)).json()
    assert len(first["entries"]) == 2
    rest = (
        await client.get(f"/api/v1/admin/audit?limit=50&before={first['next_before']}",
                         headers=admin)
    ).json()  # fmt: skip
    ids = [e["id"] for e in first["entries"] + rest["entries"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)
    assert rest["next_before"] is None


@pytest.mark.usefixtures("locations")
@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "since=yesterday", "location=atlantis", "actor_kind=robot",
     "before=x", "since=2026-01-01T00:00:00"],
)  # fmt: skip
async def test_bad_audit_filters_are_4xx(client: Client, staff_token: Token, query: str) -> None:
    answer = await client.get(f"/api/v1/admin/audit?{query}", headers=bearer(await staff_token()))
    assert 400 <= answer.status_code < 500, (query, answer.text)
    assert answer.json()["status"] == answer.status_code
