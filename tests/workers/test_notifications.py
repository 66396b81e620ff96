"""Mail from booking to inbox: real SMTP server on loopback, real arq worker, real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from icalendar import Calendar
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.demo import seed_demo
from booking.embedded import EmbeddedRedis, free_port
from booking.settings import Settings
from tests.burst import run_burst
from tests.reliability import record

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


class Inbox:
    """A real SMTP server that keeps what it accepts, and can refuse some recipients."""

    def __init__(self, port: int, refuse: str = "") -> None:
        self.port = port
        self.refuse = refuse
        self.defer = 0  # how many more deliveries to put off with a 451 (greylisting)
        self.messages: list[EmailMessage] = []
        self._controller: Controller | None = None

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse and address == self.refuse:
            return "550 5.1.1 mailbox unavailable"
        if self.defer:
            self.defer -= 1
            return "451 4.7.1 greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 accepted"

    def start(self) -> None:
        # A stopped controller cannot start again: each start is a fresh server, same port.
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture
def mail_settings(settings: Settings, inbox: Inbox) -> Settings:
    return msgspec.structs.replace(settings, smtp_port=inbox.port)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def client(
    mail_settings: Settings, db: asyncpg.Connection, redis: Redis, clock: FixedClock
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    await seed_demo(db, NOW)
    async with AsyncTestClient(app=create_app(mail_settings, clock)) as test_client:
        yield test_client


async def run_worker(settings: Settings, clock: FixedClock) -> None:
    await run_burst(settings, clock)


def calendar_of(message: EmailMessage) -> tuple[str, Any]:
    """The text/calendar part's method= parameter and its parsed VEVENT."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            cal = Calendar.from_ical(part.get_content())
            assert str(cal["METHOD"]) == part.get_param("method")
            return str(part.get_param("method")), cal.walk("VEVENT")[0]
    raise AssertionError("no text/calendar part")


BOOKING = {
    "location": "mitte",
    "services": ["personalausweis"],
    "start": "2026-12-01T09:00:00+01:00",
    "name": "Erika Mustermann",
    "email": "erika@example.org",
}


async def test_booking_rescheduling_and_cancelling_send_matching_invitations(
    client: AsyncTestClient[Litestar], mail_settings: Settings, clock: FixedClock, inbox: Inbox
) -> None:
    booked = (await client.post("/api/v1/appointments", json=BOOKING)).json()
    auth = {"Authorization": f"Bearer {booked['manage_token']}"}
    await run_worker(mail_settings, clock)
    await client.post(
        f"/api/v1/appointments/{booked['code']}/reschedule",
        json={"start": "2026-12-02T10:00:00+01:00"},
        headers=auth,
    )
    await run_worker(mail_settings, clock)
    await client.post(f"/api/v1/appointments/{booked['code']}/cancel", headers=auth)
    await run_worker(mail_settings, clock)

    assert [m["To"] for m in inbox.messages] == ["Erika Mustermann <erika@example.org>"] * 3
    (m1, e1), (m2, e2), (m3, e3) = (calendar_of(m) for m in inbox.messages)
    assert (m1, m2, m3) == ("REQUEST", "REQUEST", "CANCEL")
    assert e1["UID"] == e2["UID"] == e3["UID"]
    assert [int(e["SEQUENCE"]) for e in (e1, e2, e3)] == [0, 1, 2]
    assert e1.decoded("DTSTART") == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert e2.decoded("DTSTART") == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert str(e3["STATUS"]) == "CANCELLED"
    assert booked["code"] in inbox.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert len(set(inbox.ids())) == 3


async def test_times_are_right_across_the_change_to_summer_time(
    settings: Settings, db: asyncpg.Connection, redis: Redis, inbox: Inbox
) -> None:
    before_change = datetime(2027, 3, 22, 7, 0, tzinfo=UTC)
    await seed_demo(db, before_change)
    mail_settings = msgspec.structs.replace(settings, smtp_port=inbox.port)
    clock = FixedClock(before_change)
    async with AsyncTestClient(app=create_app(mail_settings, clock)) as client:
        for start in ("2027-03-26T09:00:00+01:00", "2027-03-30T09:00:00+02:00"):
            answer = await client.post(
                "/api/v1/appointments",
                json={**BOOKING, "start": start, "services": ["beglaubigung"]},
            )
            assert answer.status_code == 201, answer.text
    await run_worker(mail_settings, clock)
    starts = sorted(calendar_of(m)[1].decoded("DTSTART") for m in inbox.messages)
    assert starts == [
        datetime(2027, 3, 26, 8, 0, tzinfo=UTC),  # 09:00 CET
        datetime(2027, 3, 30, 7, 0, tzinfo=UTC),  # 09:00 CEST
    ]


async def test_smtp_down_then_up_sends_once_after_retrying(
    client: AsyncTestClient[Litestar],
    mail_settings: Settings,
    clock: FixedClock,
    inbox: Inbox,
    db: asyncpg.Connection,
) -> None:
    inbox.stop()
    await client.post("/api/v1/appointments", json=BOOKING)
    await run_worker(mail_settings, clock)
    row = await db.fetchrow("select attempts, sent_at, last_error, not_before from outbox")
    assert row is not None
    assert (row["attempts"], row["sent_at"]) == (1, None)
    assert row["last_error"]
    inbox.start()
    await run_worker(mail_settings, clock)  # not due yet: backing off
    assert inbox.messages == []
    clock.instant = row["not_before"] + timedelta(seconds=1)
    await run_worker(mail_settings, clock)
    await run_worker(mail_settings, clock)
    assert len(inbox.messages) == 1
    assert await db.fetchval("select sent_at is not null from outbox")
    record("smtp_down", faults=1, bookings_checked=1, messages_checked=1, lost=0)


async def test_smtp_refusing_for_a_while_is_retried_until_it_accepts(
    client: AsyncTestClient[Litestar],
    mail_settings: Settings,
    clock: FixedClock,
    inbox: Inbox,
    db: asyncpg.Connection,
) -> None:
    """A server that is up but says "later" (4xx): retried with backoff, sent once, not failed."""
    inbox.defer = 2
    await client.post("/api/v1/appointments", json=BOOKING)
    for _ in range(3):
        await run_worker(mail_settings, clock)
        row = await db.fetchrow("select not_before, sent_at, failed_at, attempts from outbox")
        assert row is not None
        assert row["failed_at"] is None
        clock.instant = row["not_before"] + timedelta(seconds=1)
    assert row is not None
    assert (row["attempts"], row["sent_at"] is not None) == (3, True)
    await run_worker(mail_settings, clock)
    assert len(inbox.messages) == 1
    record("smtp_refusing", faults=2, bookings_checked=1, messages_checked=1, lost=0)


async def test_a_refused_recipient_is_marked_failed_with_the_reason(
    client: AsyncTestClient[Litestar],
    mail_settings: Settings,
    clock: FixedClock,
    inbox: Inbox,
    db: asyncpg.Connection,
) -> None:
    inbox.refuse = "erika@example.org"
    await client.post("/api/v1/appointments", json=BOOKING)
    await run_worker(mail_settings, clock)
    row = await db.fetchrow("select failed_at, last_error from outbox")
    assert row is not None
    assert row["failed_at"] is not None
    assert "550" in row["last_error"]
    await run_worker(mail_settings, clock)
    assert inbox.messages == []


async def test_a_booking_while_redis_is_down_is_mailed_once_redis_is_back(
    mail_settings: Settings,
    db: asyncpg.Connection,
    clock: FixedClock,
    inbox: Inbox,
    tmp_path: Path,
) -> None:
    await seed_demo(db, NOW)
    own_redis = EmbeddedRedis(tmp_path / "redis", persist=False)
    settings = msgspec.structs.replace(mail_settings, redis_url=own_redis.url())
    async with AsyncTestClient(app=create_app(settings, clock)) as client:
        own_redis.stop()
        answer = await client.post("/api/v1/appointments", json=BOOKING)
    assert answer.status_code == 201  # the booking does not depend on the queue
    back = EmbeddedRedis(tmp_path / "redis2", persist=False)
    try:
        await run_worker(msgspec.structs.replace(settings, redis_url=back.url()), clock)
    finally:
        back.stop()
    assert len(inbox.messages) == 1


async def test_two_workers_on_one_outbox_send_each_message_once(
    client: AsyncTestClient[Litestar], mail_settings: Settings, clock: FixedClock, inbox: Inbox
) -> None:
    starts = [f"2026-12-0{day}T{hour:02d}:00:00+01:00" for day in (1, 2) for hour in (8, 9, 10, 11)]
    for n, start in enumerate(starts):
        answer = await client.post(
            "/api/v1/appointments", json={**BOOKING, "start": start, "email": f"p{n}@example.org"}
        )
        assert answer.status_code == 201, answer.text
    await asyncio.gather(run_worker(mail_settings, clock), run_worker(mail_settings, clock))
    assert sorted(inbox.ids()) == sorted(set(inbox.ids()))
    assert len(inbox.messages) == len(starts)


async def test_admins_see_a_refused_mail_and_can_send_it_again(
    client: AsyncTestClient[Litestar],
    mail_settings: Settings,
    clock: FixedClock,
    inbox: Inbox,
    staff_token: Any,
) -> None:
    inbox.refuse = "erika@example.org"
    booked = (await client.post("/api/v1/appointments", json=BOOKING)).json()
    await run_worker(mail_settings, clock)
    admin = {"Authorization": f"Bearer {await staff_token('location_admin', ['mitte'])}"}
    failed = (await client.get("/api/v1/admin/locations/mitte/outbox", headers=admin)).json()
    assert [(m["kind"], m["appointment"]) for m in failed] == [("confirmation", booked["code"])]
    assert "550" in failed[0]["last_error"]
    other = {"Authorization": f"Bearer {await staff_token('location_admin', ['nord'])}"}
    refused = await client.get("/api/v1/admin/locations/mitte/outbox", headers=other)
    assert refused.status_code == 403
    inbox.refuse = ""
    retry = await client.post(
        f"/api/v1/admin/locations/mitte/outbox/{failed[0]['id']}/retry", headers=admin
    )
    assert retry.status_code == 204
    await run_worker(mail_settings, clock)
    assert len(inbox.messages) == 1
    again = (await client.get("/api/v1/admin/locations/mitte/outbox", headers=admin)).json()
    assert again == []


async def test_a_mail_that_cannot_be_built_is_retried_alone_and_the_others_go_out(
    client: AsyncTestClient[Litestar],
    mail_settings: Settings,
    clock: FixedClock,
    inbox: Inbox,
    db: asyncpg.Connection,
) -> None:
    earliest = (
        await client.get("/api/v1/availability/earliest", params={"service": "beglaubigung"})
    ).json()["locations"]
    for slug in ("mitte", "nord"):
        start = next(e["earliest"] for e in earliest if e["location"]["slug"] == slug)
        booking = {**BOOKING, "location": slug, "services": ["beglaubigung"], "start": start}
        assert (await client.post("/api/v1/appointments", json=booking)).status_code == 201
    # A time zone that vanished from the system: Nord's times cannot be written any more.
    await db.execute("update location set time_zone = 'Mars/Olympus' where slug = 'nord'")
    await run_worker(mail_settings, clock)
    assert len(inbox.messages) == 1
    assert "Mitte" in inbox.messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    row = await db.fetchrow(
        """
        select o.attempts, o.sent_at, o.failed_at, o.last_error, o.not_before
          from outbox o join appointment a on a.id = o.appointment_id
          join location l on l.id = a.location_id
         where l.slug = 'nord'
        """
    )
    assert row is not None
    assert (row["attempts"], row["sent_at"], row["failed_at"]) == (1, None, None)
    assert row["last_error"] == "could not build the mail: ZoneInfoNotFoundError"
    assert row["not_before"] > clock.now()
