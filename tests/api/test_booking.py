"""Booking as a citizen does it, over the API, against the demo offices on a frozen Monday."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from icalendar import Calendar
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking import appointments, tokens
from booking.api.app import create_app
from booking.clock import FixedClock
from booking.demo import seed_demo
from booking.settings import Settings

# Monday 30 November 2026, 08:00 in Berlin.
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
TUESDAY_9 = "2026-12-01T09:00:00+01:00"
Client = AsyncTestClient[Litestar]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def client(
    settings: Settings, db: asyncpg.Connection, redis: Redis, clock: FixedClock
) -> AsyncIterator[Client]:
    await seed_demo(db, NOW)
    async with AsyncTestClient(app=create_app(settings, clock)) as test_client:
        yield test_client


def order(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": "mitte",
        "services": ["personalausweis"],
        "start": TUESDAY_9,
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "phone": "+49 170 1234567",
        "language": "de",
    }
    body.update(changes)
    return body


async def booked_units(db: asyncpg.Connection, location: str, since: str, until: str) -> list[int]:
    rows = await db.fetch(
        """
        select booked from slot
         where location_id = (select id from location where slug = $1)
           and starts_at >= $2::timestamptz and starts_at < $3::timestamptz
         order by starts_at
        """,
        location,
        datetime.fromisoformat(since),
        datetime.fromisoformat(until),
    )
    return [r["booked"] for r in rows]


async def outbox(db: asyncpg.Connection) -> list[tuple[str, int]]:
    rows = await db.fetch("select kind, (payload->>'sequence')::int as seq from outbox order by id")
    return [(r["kind"], r["seq"]) for r in rows]


def bearer(answer: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer['manage_token']}"}


async def test_booking_takes_the_units_and_writes_its_messages(
    client: Client, db: asyncpg.Connection, settings: Settings
) -> None:
    answer = await client.post("/api/v1/appointments", json=order())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "booked"
    assert (body["start"], body["end"]) == (TUESDAY_9, "2026-12-01T09:20:00+01:00")
    assert set(body["code"]) <= set(tokens.CODE_ALPHABET)
    assert len(body["manage_token"]) >= 22  # >= 128 bits
    assert body["manage_url"] == (
        f"{settings.public_url}/termin/{body['code']}?token={body['manage_token']}"
    )
    assert await booked_units(db, "mitte", "2026-12-01T08:50+01", "2026-12-01T09:30+01") == [
        0, 1, 1, 0,
    ]  # fmt: skip
    assert await outbox(db) == [("confirmation", 0)]
    stored = bytes(
        await db.fetchval("select manage_token_hash from appointment where code = $1", body["code"])
    )
    assert body["manage_token"].encode() not in stored
    assert tokens.token_matches(body["manage_token"], stored)


async def test_a_full_unit_gives_409_and_changes_nothing(
    client: Client, db: asyncpg.Connection
) -> None:
    await db.execute(
        "update slot set booked = capacity where starts_at = '2026-12-01 09:10+01'"
        " and location_id = (select id from location where slug = 'mitte')"
    )
    answer = await client.post("/api/v1/appointments", json=order())
    assert answer.status_code == 409
    assert answer.json()["code"] == "not_available"
    assert await db.fetchval("select count(*) from appointment") == 0
    assert await booked_units(db, "mitte", "2026-12-01T09:00+01", "2026-12-01T09:10+01") == [0]
    assert await outbox(db) == []


async def test_an_idempotent_retry_returns_the_first_answer_and_books_nothing_more(
    client: Client, db: asyncpg.Connection
) -> None:
    key = {"Idempotency-Key": "3f1c2a9e-retry"}
    first = await client.post("/api/v1/appointments", json=order(), headers=key)
    again = await client.post("/api/v1/appointments", json=order(), headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()  # the manage token too
    assert await db.fetchval("select count(*) from appointment") == 1
    changed = await client.post(
        "/api/v1/appointments", json=order(start="2026-12-01T10:00:00+01:00"), headers=key
    )
    assert changed.status_code == 422
    assert "different request" in changed.json()["message"]
    stored = await db.fetchval("select response from idempotency_key")
    assert first.json()["manage_token"].encode() not in bytes(stored)


async def test_double_opt_in_only_the_emailed_secret_confirms(
    client: Client, db: asyncpg.Connection, settings: Settings
) -> None:
    # Nord requires email confirmation; an identity card takes 30 minutes there.
    answer = await client.post("/api/v1/appointments", json=order(location="nord"))
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "pending"
    assert body["pending_until"] == "2026-11-30T07:30:00Z"
    assert await outbox(db) == [("confirmation_request", 0)]
    code = body["code"]
    manage_cannot = await client.post(f"/api/v1/appointments/{code}/confirm", headers=bearer(body))
    assert manage_cannot.status_code == 404
    salt = await db.fetchval("select token_salt from appointment where code = $1", code)
    emailed = tokens.derive_token(settings.secret_key, "confirm", code, bytes(salt))
    confirmed = await client.post(f"/api/v1/appointments/{code}/confirm?token={emailed}")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "booked"
    twice = await client.post(f"/api/v1/appointments/{code}/confirm?token={emailed}")
    assert twice.json()["status"] == "booked"
    assert await outbox(db) == [("confirmation_request", 0), ("confirmation", 0)]


async def test_an_unconfirmed_appointment_expires_and_frees_its_units(
    client: Client, db: asyncpg.Connection, clock: FixedClock, settings: Settings
) -> None:
    body = (await client.post("/api/v1/appointments", json=order(location="nord"))).json()
    span = ("2026-12-01T09:00+01", "2026-12-01T09:30+01")
    assert await booked_units(db, "nord", *span) == [1, 1, 1]
    clock.instant += timedelta(minutes=31)
    async with db.transaction():
        counts = await appointments.release_expired(db, clock.now())
    assert counts.pending == 1
    assert await booked_units(db, "nord", *span) == [0, 0, 0]
    status = await db.fetchval("select status from appointment where code = $1", body["code"])
    assert status == "expired"
    salt = await db.fetchval("select token_salt from appointment where code = $1", body["code"])
    late = tokens.derive_token(settings.secret_key, "confirm", body["code"], bytes(salt))
    refused = await client.post(f"/api/v1/appointments/{body['code']}/confirm?token={late}")
    assert refused.status_code == 409


async def test_a_hold_keeps_the_start_and_the_booking_uses_it(
    client: Client, db: asyncpg.Connection, clock: FixedClock
) -> None:
    span = ("2026-12-01T09:00+01", "2026-12-01T09:20+01")
    hold = await client.post(
        "/api/v1/holds", json={"location": "mitte", "services": ["personalausweis"],
                               "start": TUESDAY_9}
    )  # fmt: skip
    assert hold.status_code == 201
    assert hold.json()["expires_at"] == "2026-11-30T07:05:00Z"
    assert await booked_units(db, "mitte", *span) == [1, 1]
    clock.instant += timedelta(minutes=4)  # the page warned; the citizen asks for more time
    extended = await client.post(f"/api/v1/holds/{hold.json()['id']}/extend")
    assert extended.json()["expires_at"] == "2026-11-30T07:09:00Z"
    again = await client.post(f"/api/v1/holds/{hold.json()['id']}/extend")
    assert again.status_code == 409  # once only
    booked = await client.post("/api/v1/appointments", json=order(hold=hold.json()["id"]))
    assert booked.status_code == 201
    assert await booked_units(db, "mitte", *span) == [1, 1]  # the hold's units, not twice
    assert await db.fetchval("select count(*) from hold") == 0


async def test_a_new_hold_replaces_the_clients_previous_one_and_expiry_frees_it(
    client: Client, db: asyncpg.Connection, clock: FixedClock
) -> None:
    def at(start: str) -> dict[str, Any]:
        return {"location": "mitte", "services": ["beglaubigung"], "start": start}

    await client.post("/api/v1/holds", json=at(TUESDAY_9))
    await client.post("/api/v1/holds", json=at("2026-12-01T10:00:00+01:00"))
    assert await booked_units(db, "mitte", "2026-12-01T09:00+01", "2026-12-01T09:10+01") == [0]
    assert await booked_units(db, "mitte", "2026-12-01T10:00+01", "2026-12-01T10:10+01") == [1]
    clock.instant += timedelta(minutes=6)
    async with db.transaction():
        counts = await appointments.release_expired(db, clock.now())
    assert counts.holds == 1
    assert await booked_units(db, "mitte", "2026-12-01T10:00+01", "2026-12-01T10:10+01") == [0]


async def test_cancel_frees_the_units_until_the_deadline(
    client: Client, db: asyncpg.Connection, clock: FixedClock
) -> None:
    body = (await client.post("/api/v1/appointments", json=order())).json()
    code = body["code"]
    clock.instant = datetime(2026, 11, 30, 8, 1, tzinfo=UTC)  # 24 h 59 min before: too late
    late = await client.post(f"/api/v1/appointments/{code}/cancel", headers=bearer(body))
    assert late.status_code == 409
    assert late.json()["code"] == "deadline_passed"
    clock.instant = NOW
    cancelled = await client.post(f"/api/v1/appointments/{code}/cancel", headers=bearer(body))
    assert cancelled.json()["status"] == "cancelled"
    assert await booked_units(db, "mitte", "2026-12-01T09:00+01", "2026-12-01T09:20+01") == [0, 0]
    assert await outbox(db) == [("confirmation", 0), ("cancellation", 1)]
    twice = await client.post(f"/api/v1/appointments/{code}/cancel", headers=bearer(body))
    assert twice.status_code == 409


async def test_reschedule_is_all_or_nothing(client: Client, db: asyncpg.Connection) -> None:
    body = (await client.post("/api/v1/appointments", json=order())).json()
    code = body["code"]
    await db.execute(
        "update slot set booked = capacity where starts_at = '2026-12-01 11:10+01'"
        " and location_id = (select id from location where slug = 'mitte')"
    )
    refused = await client.post(
        f"/api/v1/appointments/{code}/reschedule",
        json={"start": "2026-12-01T11:00:00+01:00"},
        headers=bearer(body),
    )
    assert refused.status_code == 409
    assert await booked_units(db, "mitte", "2026-12-01T09:00+01", "2026-12-01T09:20+01") == [1, 1]
    assert await booked_units(db, "mitte", "2026-12-01T11:00+01", "2026-12-01T11:10+01") == [0]
    moved = await client.post(
        f"/api/v1/appointments/{code}/reschedule",
        json={"start": "2026-12-01T09:10:00+01:00"},  # overlaps its own old time
        headers=bearer(body),
    )
    assert moved.status_code == 200
    assert moved.json()["start"] == "2026-12-01T09:10:00+01:00"
    assert await booked_units(db, "mitte", "2026-12-01T09:00+01", "2026-12-01T09:30+01") == [
        0, 1, 1,
    ]  # fmt: skip
    assert await outbox(db) == [("confirmation", 0), ("reschedule", 1)]
    ics = await client.get(f"/api/v1/appointments/{code}/calendar.ics", headers=bearer(body))
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 1
    assert event["UID"] == f"appointment-{code}@testserver.local"
    assert event.decoded("DTSTART") == datetime(2026, 12, 1, 8, 10, tzinfo=UTC)


async def test_one_address_may_hold_only_so_many_appointments_per_service_set(
    client: Client,
) -> None:
    for start in (TUESDAY_9, "2026-12-01T10:00:00+01:00"):
        assert (
            await client.post("/api/v1/appointments", json=order(start=start))
        ).status_code == 201
    third = await client.post(
        "/api/v1/appointments",
        json=order(start="2026-12-01T11:00:00+01:00", email="ERIKA@example.org"),
    )
    assert third.status_code == 409
    assert third.json()["code"] == "limit_reached"
    other_set = await client.post(
        "/api/v1/appointments", json=order(services=["beglaubigung"], start=TUESDAY_9)
    )
    assert other_set.status_code == 201


async def test_an_unknown_code_and_a_wrong_token_look_the_same(client: Client) -> None:
    body = (await client.post("/api/v1/appointments", json=order())).json()
    wrong_token = await client.get(
        f"/api/v1/appointments/{body['code']}", headers={"Authorization": "Bearer nope"}
    )
    unknown = await client.get(
        "/api/v1/appointments/ZZZZZZ", headers={"Authorization": "Bearer nope"}
    )
    no_token = await client.get(f"/api/v1/appointments/{body['code']}")
    assert wrong_token.status_code == unknown.status_code == no_token.status_code == 404
    assert wrong_token.json() == unknown.json() == no_token.json()
    mine = await client.get(
        f"/api/v1/appointments/{body['code'].lower()}?token={body['manage_token']}"
    )
    assert mine.json()["email"] == "erika@example.org"
    assert "manage_token" not in mine.json() or mine.json()["manage_token"] is None


async def test_too_many_bookings_from_one_client_get_429(client: Client) -> None:
    answers = [
        await client.post(
            "/api/v1/appointments",
            json=order(services=["beglaubigung"], email=f"b{n}@example.org"),
        )
        for n in range(11)
    ]
    assert [a.status_code for a in answers[:10]].count(429) == 0
    assert answers[10].status_code == 429
    assert int(answers[10].headers["Retry-After"]) >= 1
    assert answers[10].json()["code"] == "too_many_requests"


@pytest.mark.parametrize(
    "change",
    [
        {"email": "not-an-address"},
        {"start": "2026-12-01T09:00:00"},  # no time zone
        {"start": "soon"},
        {"services": []},
        {"services": ["beglaubigung"] * 6},
        {"services": ["raketenstart"]},
        {"location": "mond"},
        {"name": ""},
        {"name": "x" * 201},
        {"phone": "call me maybe"},
        {"language": "fr"},
        {"surprise": True},
        {"hold": "not-a-uuid"},
        {"start": "9999-12-31T23:59:59+14:00"},
    ],
)
async def test_bad_input_is_a_422_and_books_nothing(
    client: Client, db: asyncpg.Connection, change: dict[str, Any]
) -> None:
    answer = await client.post("/api/v1/appointments", json=order(**change))
    assert answer.status_code in {409, 422}, answer.text
    assert answer.json()["code"] in {"invalid_input", "not_available"}
    assert await db.fetchval("select count(*) from appointment") == 0


async def test_starts_that_are_not_offered_are_409(client: Client) -> None:
    for start in (
        "2026-11-30T08:30:00+01:00",  # inside the lead time
        "2026-12-01T09:05:00+01:00",  # off the grid
        "2026-12-01T12:20:00+01:00",  # would run into the lunch break
        "2026-12-24T09:00:00+01:00",  # Christmas Eve, closed
        "2027-03-01T09:00:00+01:00",  # beyond the horizon
    ):
        answer = await client.post("/api/v1/appointments", json=order(start=start))
        assert answer.status_code == 409, (start, answer.text)
        assert answer.json()["code"] == "not_available"


async def test_staff_book_without_email_and_without_opt_in(
    client: Client, db: asyncpg.Connection, staff_token: Callable[..., Awaitable[str]]
) -> None:
    admin = {"Authorization": f"Bearer {await staff_token('admin')}"}
    answer = await client.post(
        "/api/v1/admin/locations/nord/appointments",
        json={"services": ["personalausweis"], "start": TUESDAY_9, "name": "Otto Normal"},
        headers=admin,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "booked"
    assert await outbox(db) == []  # no address, no mail
    cancelled = await client.post(
        f"/api/v1/admin/appointments/{answer.json()['code']}/cancel", headers=admin
    )
    assert cancelled.json()["status"] == "cancelled"
    assert await booked_units(db, "nord", "2026-12-01T09:00+01", "2026-12-01T09:30+01") == [0, 0, 0]
