"""Invariant 7 and DSGVO: the privacy page, export and erasure on request, the daily erasure,
and logs that never carry what a citizen typed."""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking import tokens
from booking.api.app import create_app
from booking.clock import FixedClock
from booking.db.privacy import erase_personal_data_before
from booking.demo import seed_demo
from booking.log_config import JsonFormatter
from booking.settings import Settings
from tests.burst import run_burst
from tests.processes import Inbox

Client = AsyncTestClient[Litestar]
StaffTokenFactory = Callable[..., Awaitable[str]]
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
EXPORT, ERASE = "/api/v1/admin/privacy/export", "/api/v1/admin/privacy/erase"
ERIKA = {
    "location": "mitte",
    "services": ["personalausweis"],
    "start": "2026-12-01T09:00:00+01:00",
    "name": "Erika Mustermann",
    "email": "Erika.Mustermann@example.org",
    "phone": "+49 170 1234567",
}
MAX = {**ERIKA, "name": "Max Muster", "email": "max@example.org", "phone": None}
# What must never appear in a log line, in any case.
SECRETS_OF_ERIKA = ("erika", "mustermann", "1234567")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def office(
    settings: Settings, db: asyncpg.Connection, redis: Redis, clock: FixedClock
) -> AsyncIterator[Client]:
    await seed_demo(db, NOW)
    async with AsyncTestClient(app=create_app(settings, clock)) as client:
        yield client


@pytest.fixture
async def admin(staff_token: StaffTokenFactory) -> dict[str, str]:
    return {"Authorization": f"Bearer {await staff_token('admin')}"}


async def book(client: Client, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    answer = await client.post("/api/v1/appointments", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    booked: dict[str, Any] = answer.json()
    return booked


async def ids(db: asyncpg.Connection) -> tuple[int, int]:
    """Mitte's and the identity card service's ids."""
    location: int = await db.fetchval("select id from location where slug = 'mitte'")
    service: int = await db.fetchval("select id from service where slug = 'personalausweis'")
    return location, service


async def erikas_records(db: asyncpg.Connection, appointment_code: str) -> None:
    """A past appointment, a ticket of it, a waitlist entry, a failed mail with her address."""
    location, service = await ids(db)
    past = await db.fetchval(
        """
        insert into appointment (code, location_id, starts_at, ends_at, status, citizen_name,
                                 email, phone, manage_token_hash)
        values ('PAST22', $1, $2::timestamptz - interval '20 minutes', $2, 'completed',
                'Erika Mustermann', 'erika.mustermann@example.org', '+49 170 1234567', '\\x00')
        returning id
        """,
        location, NOW - timedelta(days=20),
    )  # fmt: skip
    await db.execute(
        """
        insert into ticket (public_id, location_id, service_id, appointment_id, day,
                            display_code, status, priority_at, citizen_name, issued_at)
        values ('t-past', $1, $2, $3, $4, 'A001', 'done', $5, 'Erika Mustermann', $5)
        """,
        location, service, past, (NOW - timedelta(days=20)).date(), NOW - timedelta(days=20),
    )  # fmt: skip
    await db.execute(
        """
        insert into waitlist_entry (public_id, email, citizen_name, service_ids, location_ids,
                                    earliest_day, latest_day, status, manage_token_hash)
        values ('w-erika', 'erika.mustermann@example.org', 'Erika Mustermann', array[$2::bigint],
                array[$1::bigint], $3::date, $3::date + 30, 'active', '\\x00')
        """,
        location, service, NOW.date(),
    )  # fmt: skip
    await db.execute(
        "update outbox set last_error = '451 <erika.mustermann@example.org> try later'"
        " where appointment_id = (select id from appointment where code = $1)",
        appointment_code,
    )


async def test_the_privacy_page_says_what_is_kept_and_how_long_from_the_settings(
    settings: Settings, redis: Redis
) -> None:
    changed = msgspec.structs.replace(settings, retention_days=5, hold_minutes=7)
    async with AsyncTestClient(app=create_app(changed)) as client:
        answer = await client.get("/datenschutz")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "Datenschutz" in page
    assert 'lang="en"' in page
    assert "bis 5 Tage nach dem Termin" in page
    assert "until 5 days after the appointment" in page
    assert "7 Minuten" in page
    assert "7 minutes" in page
    assert "<script" not in page
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_an_admin_exports_everything_kept_under_an_address_and_it_is_audited(
    office: Client, admin: dict[str, str], db: asyncpg.Connection
) -> None:
    booked = await book(office, ERIKA, **{"Idempotency-Key": "erika-1"})
    await book(office, MAX)
    await erikas_records(db, booked["code"])

    answer = await office.post(
        EXPORT, json={"email": "ERIKA.mustermann@EXAMPLE.org"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert sorted(a["code"] for a in found["appointments"]) == sorted([booked["code"], "PAST22"])
    assert {a["phone"] for a in found["appointments"]} == {"+49 170 1234567"}
    assert [t["display_code"] for t in found["tickets"]] == ["A001"]
    assert [w["public_id"] for w in found["waitlist_entries"]] == ["w-erika"]
    assert [m["kind"] for m in found["messages"]] == ["confirmation"]

    entry = await db.fetchrow("select object_id, detail::text as detail from audit_log "
                              "where action = 'citizen.export'")  # fmt: skip
    assert entry is not None
    assert entry["object_id"] is None
    assert msgspec.json.decode(entry["detail"]) == {
        "appointments": 2, "tickets": 1, "waitlist_entries": 1
    }  # fmt: skip


async def test_erasing_an_address_blanks_it_everywhere_and_frees_what_lies_ahead(
    office: Client, admin: dict[str, str], db: asyncpg.Connection
) -> None:
    booked = await book(office, ERIKA, **{"Idempotency-Key": "erika-1"})
    other = await book(office, MAX)
    await erikas_records(db, booked["code"])
    held = (
        "select booked from slot where starts_at = $1::timestamptz"
        " and location_id = (select id from location where slug = 'mitte')"
    )
    start = datetime.fromisoformat(str(ERIKA["start"]))
    assert await db.fetchval(held, start) == 2
    messages_before = await db.fetchval("select count(*) from outbox")

    answer = await office.post(ERASE, json={"email": "erika.mustermann@example.org"}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"appointments": 2, "tickets": 1, "waitlist_entries": 1}

    rows = await db.fetch(
        "select code, status, citizen_name, email, phone, personal_data_erased_at"
        " from appointment order by id"
    )
    assert len(rows) == 3  # the records stay, for statistics
    erased = {r["code"]: r for r in rows if r["code"] != other["code"]}
    for row in erased.values():
        assert (row["citizen_name"], row["email"], row["phone"]) == (None, None, None)
        assert row["personal_data_erased_at"] is not None
    assert erased[booked["code"]]["status"] == "cancelled"  # ahead: its desk is free again
    assert erased["PAST22"]["status"] == "completed"  # history stays as it was
    assert await db.fetchval(held, start) == 1  # Max's place only
    assert await db.fetchval("select count(*) from outbox") == messages_before  # no mail to her
    assert await db.fetchval("select citizen_name from ticket") is None
    entry = await db.fetchrow("select email, citizen_name, status from waitlist_entry")
    assert entry is not None
    assert tuple(entry) == (None, None, "cancelled")
    assert await db.fetchval("select count(*) from outbox where last_error is not null") == 0
    assert await db.fetchval("select count(*) from idempotency_key") == 0
    assert (await db.fetchval("select email from appointment where code = $1", other["code"])
            == MAX["email"])  # fmt: skip

    again = await office.post(EXPORT, json={"email": ERIKA["email"]}, headers=admin)
    assert again.json() == {"appointments": [], "tickets": [], "waitlist_entries": [],
                            "messages": []}  # fmt: skip
    audit = await db.fetch("select action, object_id, detail::text as detail from audit_log"
                           " where action like 'citizen.%' order by id")  # fmt: skip
    assert [a["action"] for a in audit] == ["citizen.erase", "citizen.export"]
    assert not any("erika" in (a["detail"] + str(a["object_id"])).lower() for a in audit)


async def test_only_admins_export_or_erase(office: Client, staff_token: StaffTokenFactory) -> None:
    location_admin = {"Authorization": f"Bearer {await staff_token('location_admin', ['mitte'])}"}
    for path in (EXPORT, ERASE):
        answer = await office.post(path, json={"email": "a@example.org"}, headers=location_admin)
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "role_required"


async def test_the_daily_erasure_covers_every_place_and_keeps_the_counts(
    db: asyncpg.Connection,
) -> None:
    """Appointments, tickets (name and call-ahead address), waitlist entries whatever their
    status, and the SMTP reasons kept with their messages."""
    today = datetime.now(UTC)
    await seed_demo(db, today)
    location, service = await ids(db)
    for code, ended, status in (("OLD222", 5, "completed"), ("OLD333", 4, "no_show"),
                                ("NEW222", 1, "booked")):  # fmt: skip
        appointment = await db.fetchval(
            """
            insert into appointment (code, location_id, starts_at, ends_at, status,
                                     citizen_name, email, phone, manage_token_hash)
            values ($1, $2, $3::timestamptz - interval '20 minutes', $3, $4, 'Erika',
                    'erika@example.org', '0170 1234567', '\\x00')
            returning id
            """,
            code, location, today - timedelta(days=ended), status,
        )  # fmt: skip
        await db.execute(
            "insert into outbox (kind, appointment_id, message_id, last_error)"
            " values ('confirmation', $1, $2, '550 <erika@example.org>')",
            appointment, f"<{code}@test>",
        )  # fmt: skip
    await db.execute(
        """
        insert into ticket (public_id, location_id, service_id, day, display_code, status,
                            priority_at, citizen_name, email, issued_at)
        values ('t-old', $1, $2, $3, 'A001', 'done', $4, 'Erika', 'erika@example.org', $4)
        """,
        location, service, (today - timedelta(days=5)).date(), today - timedelta(days=5),
    )  # fmt: skip
    for public_id, status in (("w-never-confirmed", "pending"), ("w-done", "fulfilled")):
        await db.execute(
            """
            insert into waitlist_entry (public_id, email, citizen_name, service_ids,
                                        location_ids, earliest_day, latest_day, status,
                                        manage_token_hash)
            values ($1, 'erika@example.org', 'Erika', array[$3::bigint], array[$2::bigint],
                    $4, $4, $5, '\\x00')
            """,
            public_id, location, service, today.date() - timedelta(days=10), status,
        )  # fmt: skip
    by_status = "select status, count(*) from appointment group by status order by status"
    counts_before = await db.fetch(by_status)

    erased = await erase_personal_data_before(db, 2)

    assert (erased.appointments, erased.tickets, erased.waitlist_entries) == (2, 1, 2)
    left = await db.fetch(
        "select code from appointment where email is not null or citizen_name is not null"
        " or phone is not null"
    )
    assert [r["code"] for r in left] == ["NEW222"]
    assert await db.fetchval("select email is null and citizen_name is null from ticket")
    assert await db.fetchval("select count(*) from waitlist_entry where email is not null") == 0
    reasons = await db.fetch("select message_id from outbox where last_error is not null")
    assert [r["message_id"] for r in reasons] == ["<NEW222@test>"]
    assert await db.fetch(by_status) == counts_before


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """Every record the service's loggers write at DEBUG, as the JSON lines production gets.

    The test's own HTTP client (httpx) and SMTP server (aiosmtpd's "mail.log") are not the
    service: they log the URLs and addresses they handle, as they should.
    """
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(lambda r: not r.name.startswith(("httpx", "httpcore", "mail.log")))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield sink
    root.setLevel(level)
    root.removeHandler(handler)


async def test_no_personal_data_and_no_token_reaches_the_logs(
    *,
    settings: Settings,
    db: asyncpg.Connection,
    redis: Redis,
    clock: FixedClock,
    admin: dict[str, str],
    server_log: io.StringIO,
) -> None:
    await seed_demo(db, NOW)
    with Inbox() as inbox:
        mail = msgspec.structs.replace(settings, smtp_port=inbox.port)

        async def deliver() -> None:
            await run_burst(mail, clock)

        async with AsyncTestClient(app=create_app(mail, clock)) as client:
            # Nord asks for email confirmation (double opt-in): every step of the flow.
            days = await client.get("/api/v1/availability", params={
                "location": "nord", "service": "personalausweis", "from": "2026-12-01",
                "to": "2026-12-10"})  # fmt: skip
            first, later = [s for day in days.json()["days"] for s in day["starts"]][:2]
            wanted = {**ERIKA, "location": "nord", "start": first}
            hold = await client.post("/api/v1/holds", json={
                k: wanted[k] for k in ("location", "services", "start")})  # fmt: skip
            assert hold.status_code == 201, hold.text
            key = {"Idempotency-Key": secrets.token_hex(8)}
            booked = await book(client, {**wanted, "hold": hold.json()["id"]}, **key)
            await book(client, {**wanted, "hold": hold.json()["id"]}, **key)  # a replay
            refused = await client.post(
                "/api/v1/appointments", json={**wanted, "name": "Erika\x00"}, headers=key
            )
            assert refused.status_code == 422
            code, manage = booked["code"], booked["manage_token"]
            salt = await db.fetchval("select token_salt from appointment where code = $1", code)
            confirm = tokens.derive_token(settings.secret_key, "confirm", code, salt)
            url = f"/api/v1/appointments/{code}"
            assert (await client.get(url, params={"token": manage})).status_code == 200
            assert (await client.post(f"{url}/confirm", params={"token": confirm})).is_success
            await deliver()
            moved = await client.post(f"{url}/reschedule", json={"start": later},
                                      headers={"Authorization": f"Bearer {manage}"})  # fmt: skip
            assert moved.status_code == 200, moved.text
            await deliver()
            assert (await client.post(EXPORT, json={"email": ERIKA["email"]},
                                      headers=admin)).status_code == 200  # fmt: skip
            assert (await client.post(ERASE, json={"email": ERIKA["email"]},
                                      headers=admin)).status_code == 200  # fmt: skip
            await deliver()
    assert len(inbox.received) >= 2  # the confirmation and the reschedule, at least

    logged = server_log.getvalue()
    assert '"logger":"booking.access"' in logged
    assert '"request_id":"' in logged
    for secret in (*SECRETS_OF_ERIKA, manage.lower(), confirm.lower()):
        assert secret not in logged.lower(), f"{secret!r} was logged"
