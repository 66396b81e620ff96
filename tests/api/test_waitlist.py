"""The waitlist over the API with proof of work switched on: joining, the rules that refuse
a request, confirming, leaving, the public and the admins' figures, and the proof of work on
booking as well."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.demo import seed_demo
from booking.settings import Settings
from booking.waitlist import entry_token
from tests.challenge import solved_challenge, with_pow
from tests.waitlist_support import NOW, PASS, at, fill_the_hour, wait, wishes

Client = AsyncTestClient[Litestar]
StaffTokenFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def pow_settings(settings: Settings) -> Settings:
    return with_pow(settings)


@pytest.fixture
async def client(
    pow_settings: Settings, db: asyncpg.Connection, redis: Redis
) -> AsyncIterator[Client]:
    await seed_demo(db, NOW)
    await fill_the_hour(db, pow_settings)
    async with AsyncTestClient(app=create_app(pow_settings, FixedClock(NOW))) as test_client:
        yield test_client


async def join(client: Client, **changes: Any) -> Any:
    return await client.post(
        "/api/v1/waitlist", json=wishes(**changes), headers=await solved_challenge(client)
    )


def error(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert isinstance(body["details"], list)
    return body


async def test_joining_answers_with_the_request_and_writes_its_confirmation_mail(
    client: Client, db: asyncpg.Connection, pow_settings: Settings
) -> None:
    answer = await join(client, email="Wilma@Example.org")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "pending"
    assert (body["from"], body["to"], body["weekdays"]) == ("2026-12-01", "2026-12-01", [2])
    assert (body["time_from"], body["time_until"]) == ("09:00:00", "10:00:00")
    assert [s["slug"] for s in body["services"]] == PASS
    assert body["locations"][0]["name"]["de"] == "Bürgeramt Musterstadt-Mitte"
    assert body["confirm_until"] == "2026-11-30T07:30:00Z"
    assert body["leave_url"] == (
        f"{pow_settings.public_url}/warteliste/{body['id']}/verlassen?token={body['manage_token']}"
    )
    row = await db.fetchrow(
        "select email, manage_token_hash, status from waitlist_entry where public_id = $1",
        body["id"],
    )
    assert row is not None
    assert row["email"] == "wilma@example.org"
    assert body["manage_token"].encode() not in bytes(row["manage_token_hash"])
    kinds = await db.fetch(
        "select kind from outbox where waitlist_entry_id is not null and appointment_id is null"
    )
    assert [k["kind"] for k in kinds] == ["waitlist_confirmation"]

    mine = await client.get(
        f"/api/v1/waitlist/{body['id']}",
        headers={"Authorization": f"Bearer {body['manage_token']}"},
    )
    assert mine.status_code == 200
    assert mine.json()["manage_token"] is None  # shown once


async def test_a_request_without_or_with_a_spent_proof_of_work_is_refused(
    client: Client, db: asyncpg.Connection
) -> None:
    error(await client.post("/api/v1/waitlist", json=wishes()), 400, "pow_required")
    error(
        await client.post("/api/v1/waitlist", json=wishes(), headers={"Altcha": "bm9wZQ=="}),
        400,
        "pow_invalid",
    )
    proof = await solved_challenge(client)
    first = await client.post("/api/v1/waitlist", json=wishes(email="a@example.org"), headers=proof)
    assert first.status_code == 201
    again = await client.post("/api/v1/waitlist", json=wishes(email="b@example.org"), headers=proof)
    error(again, 400, "pow_replayed")
    assert await db.fetchval("select count(*) from waitlist_entry") == 1


async def test_booking_needs_a_fresh_proof_of_work_too_and_a_retry_may_repeat_it(
    client: Client, db: asyncpg.Connection
) -> None:
    order = {
        "location": "mitte", "services": PASS, "start": at("11:00").isoformat(),
        "name": "Erika", "email": "erika@example.org",
    }  # fmt: skip
    error(await client.post("/api/v1/appointments", json=order), 400, "pow_required")
    proof = await solved_challenge(client)
    retry = {**proof, "Idempotency-Key": "pow-retry-1"}
    first = await client.post("/api/v1/appointments", json=order, headers=retry)
    assert first.status_code == 201, first.text
    repeated = await client.post("/api/v1/appointments", json=order, headers=retry)
    assert repeated.json() == first.json()  # the same request again: the first answer
    other = {**order, "start": at("11:20").isoformat()}
    error(await client.post("/api/v1/appointments", json=other, headers=proof), 400, "pow_replayed")
    assert await db.fetchval("select count(*) from appointment where starts_at >= $1", at("11:00"))
    challenge = await client.get("/api/v1/challenge")
    assert challenge.headers["cache-control"] == "no-store"


async def test_nobody_waits_for_what_is_free(client: Client) -> None:
    body = error(
        await join(client, time_from="10:00:00", time_until="11:00:00"), 409, "starts_available"
    )
    assert "mitte" in body["message"]


async def test_one_waiting_request_per_confirmed_address(
    client: Client, db: asyncpg.Connection, pow_settings: Settings
) -> None:
    first = (await join(client, email="twice@example.org")).json()
    second = (await join(client, email="twice@example.org")).json()  # unconfirmed: fine
    for made in (first, second):
        salt = await db.fetchval(
            "select token_salt from waitlist_entry where public_id = $1", made["id"]
        )
        made["confirm"] = entry_token(pow_settings, "confirm", made["id"], bytes(salt))
    confirmed = await client.post(
        f"/api/v1/waitlist/{first['id']}/confirm?token={first['confirm']}"
    )
    assert confirmed.json()["status"] == "active"
    twice = await client.post(f"/api/v1/waitlist/{first['id']}/confirm?token={first['confirm']}")
    assert twice.json()["status"] == "active"
    error(
        await client.post(f"/api/v1/waitlist/{second['id']}/confirm?token={second['confirm']}"),
        409,
        "already_waiting",
    )
    error(await join(client, email="TWICE@example.org"), 409, "already_waiting")
    manage = await client.post(
        f"/api/v1/waitlist/{second['id']}/confirm?token={second['manage_token']}"
    )
    error(manage, 404, "not_found")  # the manage secret does not confirm


async def test_leaving_ends_the_request_and_forgets_the_address(
    client: Client, db: asyncpg.Connection
) -> None:
    body = (await join(client)).json()
    auth = {"Authorization": f"Bearer {body['manage_token']}"}
    error(await client.delete(f"/api/v1/waitlist/{body['id']}"), 404, "not_found")
    error(
        await client.delete(
            f"/api/v1/waitlist/{body['id']}", headers={"Authorization": "Bearer x"}
        ),
        404,
        "not_found",
    )
    assert (await client.delete(f"/api/v1/waitlist/{body['id']}", headers=auth)).status_code == 204
    assert (await client.delete(f"/api/v1/waitlist/{body['id']}", headers=auth)).status_code == 204
    row = await db.fetchrow(
        "select status, email from waitlist_entry where public_id = $1", body["id"]
    )
    assert row is not None
    assert (row["status"], row["email"]) == ("cancelled", None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"services": ["no-such-service"]}, "service"),
        ({"services": []}, "services"),
        ({"locations": ["atlantis"]}, "locations"),
        ({"locations": ["kfz"]}, "locations"),  # does not offer identity cards
        ({"locations": []}, "locations"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"from": "2026-11-01", "to": "2026-11-20"}, "to"),  # over already
        ({"from": "2026-12-01", "to": "2027-06-01"}, "to"),  # longer than 93 days
        ({"from": "2028-01-01", "to": "2028-01-02"}, "from"),
        ({"from": "not a date"}, "from"),
        ({"weekdays": [8]}, "weekdays"),
        ({"weekdays": []}, "weekdays"),
        ({"time_from": "10:00:00", "time_until": "09:00:00"}, "time_until"),
        ({"time_from": "09:00:00+01:00"}, "time_from"),
        ({"time_from": "25:00:00"}, "time_from"),
        ({"email": "no address"}, "email"),
        ({"language": "fr"}, "language"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_bad_input_is_a_clear_422_and_changes_nothing(
    client: Client, db: asyncpg.Connection, changes: dict[str, Any], field: str
) -> None:
    body = error(await join(client, **changes), 422, "invalid_input")
    assert field in body["message"]
    assert await db.fetchval("select count(*) from waitlist_entry") == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/waitlist/short?token=x"),
        ("get", "/api/v1/waitlist/%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00?token=x"),
        ("post", "/api/v1/waitlist/AAAAAAAAAAAAAAAA/confirm"),
        ("post", "/api/v1/waitlist/AAAAAAAAAAAAAAAA/confirm?token="),
        ("delete", "/api/v1/waitlist/AAAAAAAAAAAAAAAA?token=x"),
        ("post", "/api/v1/waitlist/offers/NOPE42/accept?token=x"),
        ("post", "/api/v1/waitlist/offers/x/decline?token=x"),
        ("post", "/api/v1/waitlist/offers/NOPE42/decline"),
    ],
)
async def test_strangers_get_a_4xx_never_a_500(client: Client, method: str, path: str) -> None:
    answer = await getattr(client, method)(path)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["status"] == answer.status_code


async def test_declining_what_is_no_offer_is_refused(
    client: Client, db: asyncpg.Connection
) -> None:
    order = {
        "location": "mitte", "services": PASS, "start": at("11:00").isoformat(),
        "name": "Erika", "email": "erika@example.org",
    }  # fmt: skip
    booked = await client.post(
        "/api/v1/appointments", json=order, headers=await solved_challenge(client)
    )
    code, token = booked.json()["code"], booked.json()["manage_token"]
    error(
        await client.post(f"/api/v1/waitlist/offers/{code}/decline?token={token}"),
        409,
        "wrong_state",
    )


async def test_the_public_sees_who_waits_where_and_the_release_rules(
    client: Client, db: asyncpg.Connection, pow_settings: Settings
) -> None:
    await wait(db, pow_settings, NOW, "one@example.org")
    await wait(db, pow_settings, NOW, "two@example.org", services=[*PASS, "reisepass"])
    await join(client, email="unconfirmed@example.org")
    answer = await client.get("/api/v1/waitlist")
    assert answer.status_code == 200
    assert "public" in answer.headers["cache-control"]
    body = answer.json()
    assert body["policy"] == {
        "offer_minutes": 120, "cooldown_minutes": 15, "release_window_minutes": 30,
        "lottery_minutes": 5,
    }  # fmt: skip
    waiting = {loc["location"]["slug"]: loc["waiting"] for loc in body["locations"]}
    assert waiting == {"mitte": 2, "nord": 0, "kfz": 0}
    assert {loc["held_back"] for loc in body["locations"]} == {0}
    assert "email" not in answer.text


async def test_admins_see_waiting_and_offers_per_service(
    client: Client, db: asyncpg.Connection, pow_settings: Settings, staff_token: StaffTokenFactory
) -> None:
    await wait(db, pow_settings, NOW, "one@example.org")
    await wait(db, pow_settings, NOW, "two@example.org", services=[*PASS, "reisepass"])
    path = "/api/v1/admin/locations/mitte/waitlist"
    assert (await client.get(path)).status_code == 401
    desk = {"Authorization": f"Bearer {await staff_token('desk', ['mitte'])}"}
    assert (await client.get(path, headers=desk)).status_code == 403
    admin = {"Authorization": f"Bearer {await staff_token('location_admin', ['mitte'])}"}
    answer = await client.get(path, headers=admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["location"], body["allocation_mode"], body["waiting"]) == ("mitte", "fcfs", 2)
    assert body["offers"] == {"open": 0, "accepted": 0, "declined": 0, "lapsed": 0}
    per_service = {s["slug"]: s["waiting"] for s in body["services"]}
    assert per_service["personalausweis"] == 2
    assert per_service["reisepass"] == 1
    assert per_service["beglaubigung"] == 0
    assert msgspec.json.decode(answer.content)  # plain JSON, counts only
    assert "example.org" not in answer.text
