"""Freed capacity goes to the waitlist, through a real arq worker, real Redis and a real SMTP
server: offers and their mails, decline and expiry passing it on, the lottery, the cooldown."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.appointments import Booking
from booking.clock import FixedClock
from booking.db.pool import create_pool
from booking.demo import seed_demo
from booking.embedded import free_port
from booking.grid import regenerate_location_grid
from booking.settings import Settings
from booking.waitlist import allocate, entry_token
from tests.burst import run_burst
from tests.waitlist_support import (
    NOW,
    PASS,
    TUESDAY,
    assert_capacity_is_exact,
    at,
    entry_statuses,
    fill_the_hour,
    minutes,
    offer_token,
    offers,
    unit_state,
    wait,
    wishes,
)
from tests.workers.test_notifications import Inbox

Client = AsyncTestClient[Litestar]
# A time nobody on the list can use at 09:00: 40 minutes do not fit between full units.
TOO_LONG = [*PASS, "reisepass"]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def mail_settings(settings: Settings, inbox: Inbox) -> Settings:
    return msgspec.structs.replace(settings, smtp_port=inbox.port)


@pytest.fixture
async def client(
    mail_settings: Settings, db: asyncpg.Connection, redis: Redis, clock: FixedClock
) -> AsyncIterator[Client]:
    await seed_demo(db, NOW)
    async with AsyncTestClient(app=create_app(mail_settings, clock)) as test_client:
        yield test_client


@dataclass(frozen=True)
class Scene:
    """Tuesday's full hour at mitte, with the API, the database, the clock and the inbox."""

    client: Client
    db: asyncpg.Connection
    settings: Settings
    clock: FixedClock
    inbox: Inbox
    booked: dict[str, list[Booking]]

    async def wait(self, email: str, **changes: Any) -> str:
        return await wait(self.db, self.settings, NOW, email, **changes)

    async def settle(self, rng: random.Random | None = None) -> None:
        await settle(self.settings, self.clock, rng)

    async def match_alone(self) -> None:
        """One matcher run without a worker's start: that also regenerates the grid, and a
        release skips units locked right then (the next run frees them), which a test
        would see as chance."""
        pool = await create_pool(self.settings)
        try:
            await allocate(pool, self.settings, self.clock.now(), random.Random(0))
        finally:
            await pool.close()

    async def cancel(self, start: str, desk: int) -> None:
        booking = self.booked[start][desk]
        answer = await self.client.post(
            f"/api/v1/appointments/{booking.appointment.code}/cancel",
            headers={"Authorization": f"Bearer {booking.manage_token}"},
        )
        assert answer.status_code == 200, answer.text

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.inbox.messages if m["To"].addresses[0].addr_spec == address]


@pytest.fixture
async def scene(
    client: Client, db: asyncpg.Connection, mail_settings: Settings, clock: FixedClock,
    inbox: Inbox,
) -> Scene:  # fmt: skip
    return Scene(client, db, mail_settings, clock, inbox, await fill_the_hour(db, mail_settings))


async def settle(settings: Settings, clock: FixedClock, rng: random.Random | None = None) -> None:
    """Burst workers until the queue is empty; a job queued while the last one finished (the
    matcher woken by an expiry) waits for the next burst, as it would for the next poll."""
    for _ in range(3):
        await run_burst(settings, clock, rng)


def link(message: EmailMessage, path_part: str) -> tuple[str, str]:
    """The path and token of the first link in the mail's text whose path contains
    ``path_part``."""
    body = message.get_body(("plain",))
    assert body is not None
    for line in body.get_content().splitlines():
        if line.startswith("http") and path_part in line:
            parts = urlsplit(line.strip())
            return parts.path, parse_qs(parts.query)["token"][0]
    raise AssertionError(f"no {path_part} link in\n{body.get_content()}")


async def tuesday_starts(client: Client) -> list[str]:
    answer = await client.get(
        f"/api/v1/availability?location=mitte&service=personalausweis&from={TUESDAY}&to={TUESDAY}"
    )
    assert answer.status_code == 200, answer.text
    starts = answer.json()["days"][0]["starts"]
    return [datetime.fromisoformat(s).strftime("%H:%M") for s in starts]


async def book_nine(client: Client, email: str = "schnell@example.org") -> int:
    answer = await client.post(
        "/api/v1/appointments",
        json={"location": "mitte", "services": PASS, "start": at("09:00").isoformat(),
              "name": "Schnell", "email": email},
    )  # fmt: skip
    return answer.status_code


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


async def test_a_cancellation_offers_the_time_to_the_first_matching_entry_once(
    scene: Scene,
) -> None:
    db, client = scene.db, scene.client
    unfit = await scene.wait("unfit@example.org", services=TOO_LONG)
    first = await scene.wait("first@example.org")
    second = await scene.wait("second@example.org")

    await scene.cancel("09:00", 0)
    # Held back: not for the public, even before the worker has looked at it.
    assert await unit_state(db, "09:00") == (4, 3, 1)
    assert "09:00" not in await tuesday_starts(client)
    assert await book_nine(client) == 409

    await scene.settle()
    assert await offers(db) == [(first, at("09:00"), "pending")]
    assert await entry_statuses(db) == {unfit: "active", first: "offered", second: "active"}
    assert await unit_state(db, "09:00") == (4, 4, 0)
    (offer,) = scene.mails_to("first@example.org")
    assert offer["Subject"] == (
        "Für Sie frei geworden: Termin am Dienstag, 1. Dezember 2026, 09:00 Uhr "
        "\N{EN DASH} Bürgeramt Musterstadt-Mitte"
    )
    code, accept_secret = await offer_token(db, scene.settings, first, "confirm")
    assert link(offer, "/warteliste/angebot/") == (f"/warteliste/angebot/{code}", accept_secret)
    assert link(offer, "/ablehnen")[0] == f"/warteliste/angebot/{code}/ablehnen"
    assert "bis Montag, 30. November 2026, 10:00 Uhr für Sie" in text_of(offer)

    await scene.settle()  # again: nothing more to offer, nothing sent twice
    assert len(await offers(db)) == 1
    assert len(scene.mails_to("first@example.org")) == 1
    assert not scene.mails_to("second@example.org")
    await assert_capacity_is_exact(db)


async def test_a_declined_or_lapsed_offer_goes_to_the_next_entry(scene: Scene) -> None:
    db, client = scene.db, scene.client
    first, second, third = [await scene.wait(f"{n}@example.org") for n in ("one", "two", "three")]
    await scene.cancel("09:20", 2)
    await scene.settle()
    assert await offers(db) == [(first, at("09:20"), "pending")]

    code, manage = await offer_token(db, scene.settings, first, "manage")
    declined = await client.post(f"/api/v1/waitlist/offers/{code}/decline?token={manage}")
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "cancelled"
    again = await client.post(f"/api/v1/waitlist/offers/{code}/decline?token={manage}")
    assert again.status_code == 200  # a second click changes nothing
    assert await unit_state(db, "09:20") == (4, 3, 1)  # held back again, not public
    await scene.settle()
    assert await offers(db) == [
        (first, at("09:20"), "cancelled"),
        (second, at("09:20"), "pending"),
    ]

    scene.clock.instant += minutes(scene.settings.waitlist_offer_minutes + 1)  # no answer
    await scene.settle()
    assert await offers(db) == [
        (first, at("09:20"), "cancelled"),
        (second, at("09:20"), "expired"),
        (third, at("09:20"), "pending"),
    ]
    assert await entry_statuses(db) == {first: "cancelled", second: "expired", third: "offered"}

    code, accept = await offer_token(db, scene.settings, third, "confirm")
    accepted = await client.post(f"/api/v1/waitlist/offers/{code}/accept?token={accept}")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "booked"
    assert (await entry_statuses(db))[third] == "fulfilled"
    await scene.settle()
    offer_mail, confirmation = scene.mails_to("three@example.org")
    assert str(offer_mail["Subject"]).startswith("Für Sie frei geworden")
    assert str(confirmation["Subject"]).startswith("Bestätigt: Ihr Termin am Dienstag")
    assert [len(scene.mails_to(f"{n}@example.org")) for n in ("one", "two")] == [1, 1]
    # Ended entries keep no contact data; the appointments keep theirs as long as usual.
    assert await db.fetchval("select count(*) from waitlist_entry where email is not null") == 0
    await assert_capacity_is_exact(db)


async def test_unwanted_capacity_reappears_publicly_only_after_the_cooldown(
    scene: Scene,
) -> None:
    db, client, clock = scene.db, scene.client, scene.clock
    await scene.wait("unfit@example.org", services=TOO_LONG)
    await scene.cancel("09:00", 1)
    await scene.settle()
    assert await offers(db) == []
    cooldown = minutes(scene.settings.waitlist_cooldown_minutes)
    window = minutes(scene.settings.waitlist_release_window_minutes)
    public_at = await db.fetchval(
        "select public_at from slot where starts_at = $1 and quarantined > 0", at("09:00")
    )
    assert NOW + cooldown <= public_at <= NOW + cooldown + window

    public = (await client.get("/api/v1/waitlist")).json()
    mitte = next(loc for loc in public["locations"] if loc["location"]["slug"] == "mitte")
    assert (mitte["waiting"], mitte["held_back"]) == (1, 2)  # two units of one place each
    assert datetime.fromisoformat(mitte["release_from"]) == NOW + cooldown
    assert datetime.fromisoformat(mitte["release_until"]) == NOW + cooldown + window

    clock.instant = NOW + cooldown - timedelta(seconds=1)
    await scene.settle()
    assert await unit_state(db, "09:00") == (4, 3, 1)
    assert "09:00" not in await tuesday_starts(client)
    assert await book_nine(client) == 409

    clock.instant = NOW + cooldown + window + timedelta(seconds=1)
    await scene.match_alone()
    assert await unit_state(db, "09:00") == (4, 3, 0)
    assert "09:00" in await tuesday_starts(client)
    assert await book_nine(client) == 201
    await assert_capacity_is_exact(db)


async def test_the_lottery_collects_then_draws_at_random_not_first_come_first_served(
    scene: Scene,
) -> None:
    db = scene.db
    await db.execute("update location set allocation_mode = 'lottery' where slug = 'mitte'")
    waiting = [await scene.wait(f"los-{n}@example.org") for n in range(8)]
    for desk in range(4):
        await scene.cancel("09:00", desk)
    rng = random.Random(20261130)

    await scene.settle(rng)
    assert await offers(db) == []  # still collecting: being quick gives no edge
    scene.clock.instant += minutes(scene.settings.waitlist_lottery_minutes)
    await scene.settle(rng)
    winners = {public_id for public_id, _, _ in await offers(db)}
    assert len(winners) == 4
    assert winners != set(waiting[:4]), "the first four came first and won: no lottery"
    await assert_capacity_is_exact(db)


async def test_joining_mails_a_confirmation_whose_links_confirm_and_leave(scene: Scene) -> None:
    client = scene.client
    joined = await client.post("/api/v1/waitlist", json=wishes(email="Neu@Example.org"))
    assert joined.status_code == 201, joined.text
    await scene.settle()
    (message,) = scene.mails_to("neu@example.org")
    assert message["Subject"] == "Bitte bestätigen: Ihre Anfrage für die Warteliste"
    text = text_of(message)
    assert "1. Dezember 2026 bis 1. Dezember 2026" in text
    assert "09:00\N{EN DASH}10:00 Uhr" in text
    assert "2 Stunden" in text
    path, token = link(message, "/bestaetigen")
    entry_id = joined.json()["id"]
    assert path == f"/warteliste/{entry_id}/bestaetigen"
    confirmed = await client.post(f"/api/v1/waitlist/{entry_id}/confirm?token={token}")
    assert confirmed.json()["status"] == "active"

    path, token = link(message, "/verlassen")
    assert path == f"/warteliste/{entry_id}/verlassen"
    left = await client.delete(f"/api/v1/waitlist/{entry_id}?token={token}")
    assert left.status_code == 204
    assert (await entry_statuses(scene.db))[entry_id] == "cancelled"


async def test_leaving_with_an_open_offer_passes_it_on(scene: Scene) -> None:
    db = scene.db
    first = await scene.wait("first@example.org")
    second = await scene.wait("second@example.org")
    await scene.cancel("09:40", 3)
    await scene.settle()
    # The leave link's secret, as the confirmation mail carried it.
    salt = await db.fetchval("select token_salt from waitlist_entry where public_id = $1", first)
    token = entry_token(scene.settings, "manage", first, bytes(salt))
    bearer = {"Authorization": f"Bearer {token}"}
    left = await scene.client.delete(f"/api/v1/waitlist/{first}", headers=bearer)
    assert left.status_code == 204
    await scene.settle()
    assert await offers(db) == [
        (first, at("09:40"), "cancelled"),
        (second, at("09:40"), "pending"),
    ]
    await assert_capacity_is_exact(db)


async def test_new_opening_hours_go_to_the_waitlist_before_the_public(scene: Scene) -> None:
    db, client = scene.db, scene.client
    waiting = await scene.wait("waiting@example.org")
    await db.execute(
        """
        update opening_rule set desks = 5
         where location_id = (select id from location where slug = 'mitte')
           and weekday = 2 and opens_at = '08:00'
        """
    )
    mitte = await db.fetchval("select id from location where slug = 'mitte'")
    async with db.transaction():
        await regenerate_location_grid(db, mitte, NOW)
    assert await unit_state(db, "09:00") == (5, 4, 1)  # the fifth desk, held back
    assert await unit_state(db, "11:00") == (5, 0, 1)
    assert "11:00" in await tuesday_starts(client)  # the four desks there were free already
    assert "09:00" not in await tuesday_starts(client)

    await scene.settle()
    assert await offers(db) == [(waiting, at("09:00"), "pending")]
    scene.clock.instant += minutes(
        scene.settings.waitlist_cooldown_minutes + scene.settings.waitlist_release_window_minutes
    ) + timedelta(seconds=1)
    await scene.match_alone()
    assert await unit_state(db, "11:00") == (5, 0, 0)  # nobody wanted it: public now
    assert await unit_state(db, "09:20") == (5, 4, 0)
    assert "09:20" in await tuesday_starts(client)
    await assert_capacity_is_exact(db)
