"""The waitlist pages on a frozen Monday with Tuesday 09:00-10:00 booked out at Mitte
(``tests.waitlist_support``): joining from the form, and the pages behind the mail links,
including the answers people get for lapsed, used and wrong links."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from datetime import time, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking import appointments, waitlist
from booking.api.app import create_app
from booking.appointments import Booking, Context
from booking.clock import FixedClock
from booking.db.pool import create_pool
from booking.demo import seed_demo
from booking.settings import Settings
from tests.challenge import solved_challenge, with_pow
from tests.waitlist_support import NOW, TUESDAY, fill_the_hour, offer_token, wait

Client = AsyncTestClient[Litestar]
WISHES = {
    "service": "personalausweis", "location": "mitte", "from": TUESDAY.isoformat(),
    "to": TUESDAY.isoformat(), "weekday": "2", "time_from": "09:00", "time_until": "10:00",
}  # fmt: skip


class Office:
    """The app on a clock the test can move, and the bookings filling Tuesday's hour."""

    def __init__(self, client: Client, clock: FixedClock, booked: dict[str, list[Booking]]):
        self.client, self.clock, self.booked = client, clock, booked


@pytest.fixture
async def office(settings: Settings, db: asyncpg.Connection, redis: Redis) -> AsyncIterator[Office]:
    await seed_demo(db, NOW)
    booked = await fill_the_hour(db, settings)
    clock = FixedClock(NOW)
    async with AsyncTestClient(app=create_app(settings, clock)) as client:
        yield Office(client, clock, booked)


async def form_token(client: Client, path: str) -> str:
    page = await client.get(path)
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


async def post(client: Client, path: str, fields: dict[str, Any], shown: str | None = None) -> Any:
    data = {"_csrf_token": await form_token(client, shown or path), **fields}
    return await client.post(path, data=data, follow_redirects=False)


async def offered(settings: Settings, db: asyncpg.Connection, office: Office, email: str) -> str:
    """A confirmed entry of ``email`` and the offer of a cancelled 09:20 place; its id."""
    public_id = await wait(db, settings, NOW, email)
    cancelled = office.booked["09:20"][0]
    async with db.transaction():
        await appointments.cancel(
            db, Context(settings, NOW), cancelled.appointment.code, cancelled.manage_token
        )
    pool = await create_pool(settings)
    try:
        await waitlist.allocate(pool, settings, NOW, random.Random(0))
    finally:
        await pool.close()
    return public_id


async def test_the_form_opens_with_the_flows_choice_and_the_public_figures(office: Office) -> None:
    page = await office.client.get("/warteliste?service=personalausweis&location=mitte")
    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert re.search(r'value="personalausweis" checked', page.text)
    assert re.search(r'value="mitte"[^>]*checked', page.text)
    assert not re.search(r'value="nord"[^>]*checked', page.text)
    assert "0 wartende Anfragen" in page.text
    assert 'data-proof="/api/v1/challenge"' in page.text
    # Without an office, every office offering the services is ticked.
    page = await office.client.get("/warteliste?service=fahrzeug-zulassen&lang=en")
    assert re.search(r'value="kfz"[^>]*checked', page.text)
    assert not re.search(r'value="mitte"[^>]*checked', page.text)
    assert "Join the waitlist" in page.text


async def test_joining_from_the_form_leads_to_check_your_email(
    office: Office, db: asyncpg.Connection
) -> None:
    answer = await post(office.client, "/warteliste", {**WISHES, "email": "Wilma@Example.org"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/warteliste/gesendet"
    row = await db.fetchrow("select status, email, language, weekdays from waitlist_entry")
    assert row is not None
    assert dict(row) == {
        "status": "pending", "email": "wilma@example.org", "language": "de", "weekdays": [2]
    }  # fmt: skip
    sent = await office.client.get("/warteliste/gesendet")
    assert "Bitte bestätigen Sie per E-Mail" in sent.text
    assert "innerhalb von 30 Minuten" in sent.text
    assert "wilma" not in sent.text.lower()


async def test_a_form_with_problems_comes_back_with_each_message_and_what_was_typed(
    office: Office, db: asyncpg.Connection
) -> None:
    fields = {**WISHES, "to": "2026-11-01", "time_until": "08:00", "email": "kein-at"}
    del fields["weekday"], fields["location"]
    answer = await post(office.client, "/warteliste", fields)
    assert answer.status_code == 422
    for message in (
        "Wählen Sie mindestens einen Standort.", "Der letzte Tag darf nicht in der Vergangenheit",
        "Wählen Sie mindestens einen Wochentag.", "Das Ende des Zeitraums muss nach",
        "Geben Sie eine E-Mail-Adresse im richtigen Format",
    ):  # fmt: skip
        assert message in answer.text, message
    assert 'value="kein-at"' in answer.text
    assert 'href="#location-mitte"' in answer.text
    assert await db.fetchval("select count(*) from waitlist_entry") == 0


async def test_when_something_suitable_is_free_the_form_says_so_and_links_to_booking(
    office: Office, db: asyncpg.Connection
) -> None:
    fields = {**WISHES, "time_from": "", "time_until": "", "email": "eilig@example.org"}
    answer = await post(office.client, "/warteliste", fields)
    assert answer.status_code == 409
    assert "Passende Termine sind jetzt frei" in answer.text
    assert 'href="/standort?service=personalausweis"' in answer.text
    assert await db.fetchval("select count(*) from waitlist_entry") == 0


async def test_the_proof_of_work_is_checked_when_sent_and_a_bad_one_is_refused(
    settings: Settings, db: asyncpg.Connection, redis: Redis
) -> None:
    await seed_demo(db, NOW)
    await fill_the_hour(db, settings)
    app = create_app(with_pow(settings), FixedClock(NOW))
    async with AsyncTestClient(app=app) as client:
        bad = await post(
            client, "/warteliste", {**WISHES, "email": "a@example.org", "altcha": "eA=="}
        )
        assert bad.status_code == 400
        assert "Sicherheitsprüfung hat nicht geklappt" in bad.text
        proof = (await solved_challenge(client))["Altcha"]
        good = await post(
            client, "/warteliste", {**WISHES, "email": "a@example.org", "altcha": proof}
        )
        assert good.status_code == 303
        # Without script there is no proof: still taken, under a limit of its own.
        plain = await post(client, "/warteliste", {**WISHES, "email": "b@example.org"})
        assert plain.status_code == 303
    assert await db.fetchval("select count(*) from waitlist_entry") == 2


async def test_confirming_from_the_mail_link_puts_the_request_on_the_waitlist(
    office: Office, settings: Settings, db: asyncpg.Connection
) -> None:
    # Tuesday's hour is full: the request is taken (a whole free day would be refused).
    request = waitlist.JoinRequest(
        services=["personalausweis"], locations=["mitte"], earliest_day=TUESDAY,
        latest_day=TUESDAY, weekdays=[2], time_from=time(9), time_until=time(10),
        email="erika@example.org", name=None, language="de",
    )  # fmt: skip
    async with db.transaction():
        joined = await waitlist.join(db, Context(settings, NOW), request)
    public_id = joined.entry.public_id
    token = waitlist.entry_token(settings, "confirm", public_id, joined.entry.token_salt)
    link = f"/warteliste/{public_id}/bestaetigen?token={token}"

    page = await office.client.get(link)
    assert page.status_code == 200
    assert "Bestätigen Sie Ihre Anfrage für die Warteliste" in page.text
    assert "Personalausweis beantragen" in page.text
    assert "Bürgeramt Musterstadt-Mitte" in page.text
    assert "Dienstag, 1. Dezember 2026" in page.text
    assert "zwischen 09:00 und 10:00 Uhr" in page.text
    assert "bis 08:30 Uhr" in page.text  # confirm within 30 minutes of Monday 08:00

    answer = await post(
        office.client, f"/warteliste/{public_id}/bestaetigen", {"token": token}, link
    )
    assert answer.status_code == 303
    assert await db.fetchval("select status from waitlist_entry") == "active"
    done = await office.client.get(answer.headers["location"])
    assert "Sie stehen auf der Warteliste" in done.text

    english = await office.client.get(f"{link}&lang=en")
    assert "You are on the waitlist" in english.text


async def test_a_lapsed_confirmation_link_and_a_wrong_one_get_clear_pages(
    office: Office, settings: Settings, db: asyncpg.Connection
) -> None:
    answer = await post(office.client, "/warteliste", {**WISHES, "email": "spaet@example.org"})
    assert answer.status_code == 303
    row = await db.fetchrow("select public_id, token_salt from waitlist_entry")
    assert row is not None
    token = waitlist.entry_token(settings, "confirm", row["public_id"], bytes(row["token_salt"]))
    office.clock.instant = NOW + timedelta(minutes=31)
    lapsed = await office.client.get(f"/warteliste/{row['public_id']}/bestaetigen?token={token}")
    assert lapsed.status_code == 410
    assert "Dieser Link ist nicht mehr gültig" in lapsed.text
    assert "Erneut auf die Warteliste" in lapsed.text

    wrong = await office.client.get(f"/warteliste/{row['public_id']}/bestaetigen?token=falsch")
    assert wrong.status_code == 404
    assert "nicht gefunden" in wrong.text
    for path in ("/warteliste/kurz/verlassen?token=x", "/warteliste/angebot/ABCDEF?token=x"):
        missing = await office.client.get(f"{path}&lang=en")
        assert missing.status_code == 404
        assert "not found" in missing.text
    assert (await office.client.get(f"/warteliste/{row['public_id']}/verlassen")).status_code == 404


async def test_leaving_from_the_mail_link(
    office: Office, settings: Settings, db: asyncpg.Connection
) -> None:
    public_id = await wait(db, settings, NOW, "geht@example.org")
    row = await db.fetchrow("select token_salt from waitlist_entry where public_id = $1", public_id)
    assert row is not None
    token = waitlist.entry_token(settings, "manage", public_id, bytes(row["token_salt"]))
    link = f"/warteliste/{public_id}/verlassen?token={token}"
    page = await office.client.get(link)
    assert "Warteliste verlassen" in page.text
    assert "Personalausweis beantragen" in page.text
    answer = await post(office.client, f"/warteliste/{public_id}/verlassen", {"token": token}, link)
    assert answer.status_code == 303
    assert await db.fetchval("select status from waitlist_entry") == "cancelled"
    after = await office.client.get(answer.headers["location"])
    assert "Sie stehen nicht auf der Warteliste" in after.text
    assert "Sie haben die Warteliste verlassen" in after.text


async def test_accepting_an_offer_books_it_and_shows_the_booked_page(
    office: Office, settings: Settings, db: asyncpg.Connection
) -> None:
    public_id = await offered(settings, db, office, "angebot@example.org")
    code, token = await offer_token(db, settings, public_id, "confirm")
    link = f"/warteliste/angebot/{code}?token={token}"
    page = await office.client.get(link)
    assert page.status_code == 200
    assert "Ein Termin für Sie" in page.text
    assert "Dienstag, 1. Dezember 2026, 09:20 bis 09:40 Uhr" in page.text
    assert "Rathausplatz 1" in page.text
    assert "Personalausweis beantragen" in page.text
    assert "bis 10:00 Uhr am Montag, 30. November 2026" in page.text  # held 120 minutes

    answer = await post(office.client, f"/warteliste/angebot/{code}", {"token": token}, link)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/termin/{code}/gebucht?token=")
    booked = await office.client.get(answer.headers["location"])
    assert "Ihr Termin ist gebucht" in booked.text
    assert await db.fetchval("select status from appointment where code = $1", code) == "booked"
    assert await db.fetchval("select status from waitlist_entry") == "fulfilled"
    again = await office.client.get(link)
    assert "Sie haben diesen Termin angenommen" in again.text
    # Declining what was accepted is refused, with the way to cancel instead.
    _, manage = await offer_token(db, settings, public_id, "manage")
    late = await office.client.get(f"/warteliste/angebot/{code}/ablehnen?token={manage}")
    assert late.status_code == 409
    assert "Termin verwalten" in late.text


async def test_declining_an_offer_and_an_offer_that_lapsed(
    office: Office, settings: Settings, db: asyncpg.Connection
) -> None:
    public_id = await offered(settings, db, office, "nein@example.org")
    code, manage = await offer_token(db, settings, public_id, "manage")
    link = f"/warteliste/angebot/{code}/ablehnen?token={manage}"
    page = await office.client.get(f"{link}&lang=en")
    assert "Decline this appointment?" in page.text
    answer = await post(
        office.client, f"/warteliste/angebot/{code}/ablehnen", {"token": manage}, link
    )
    assert answer.status_code == 303
    assert await db.fetchval("select status from appointment where code = $1", code) == "cancelled"
    after = await office.client.get(answer.headers["location"])  # English, as remembered
    assert "You have declined the appointment" in after.text
    _, confirm = await offer_token(db, settings, public_id, "confirm")
    gone = await office.client.get(f"/warteliste/angebot/{code}?token={confirm}&lang=de")
    assert gone.status_code == 410
    assert "Dieses Angebot gilt nicht mehr" in gone.text


async def test_an_offer_past_its_time_cannot_be_accepted(
    office: Office, settings: Settings, db: asyncpg.Connection
) -> None:
    public_id = await offered(settings, db, office, "zu-spaet@example.org")
    code, token = await offer_token(db, settings, public_id, "confirm")
    office.clock.instant = NOW + timedelta(minutes=121)
    link = f"/warteliste/angebot/{code}?token={token}"
    page = await office.client.get(link)
    assert page.status_code == 410
    assert "Accept" not in page.text
    answer = await post(
        office.client, f"/warteliste/angebot/{code}", {"token": token}, "/warteliste"
    )
    assert answer.status_code == 410
    assert await db.fetchval("select status from appointment where code = $1", code) == "pending"
