"""The pages' rules at the HTTP level, no browser needed: GETs change nothing, POSTs need the
form token, the language sticks, errors are pages, and nothing inline breaks the CSP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking import appointments as uc
from booking import search, tokens
from booking.appointments import Booking, BookingRequest, Context, Unbookable
from booking.demo import seed_demo
from booking.pages import CSRF_COOKIE
from booking.settings import Settings

_INLINE = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.fixture
async def pending(db: asyncpg.Connection, settings: Settings) -> Booking:
    """A booking at Nord, which asks for email confirmation: pending until confirmed."""
    now = datetime.now(UTC)
    await seed_demo(db, now)
    # A few days ahead, so that it can still be changed online.
    found = await search.availability(
        db, location_slug="nord", service_slugs=["wohnsitz-anmelden"],
        first_day=now.date() + timedelta(days=3), last_day=now.date() + timedelta(days=20),
        now=now,
    )  # fmt: skip
    wanted = BookingRequest(
        location="nord", services=["wohnsitz-anmelden"],
        start=next(start for day in found.days for start in day.starts),
        name="Pia Pending", email="pia@example.org",
    )  # fmt: skip
    async with db.transaction():
        return await uc.book(db, Context(settings, now), wanted)


async def _status(db: asyncpg.Connection, code: str) -> str | None:
    found: str | None = await db.fetchval("select status from appointment where code = $1", code)
    return found


async def test_opening_the_emailed_links_changes_nothing(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings,
    pending: Booking,
) -> None:  # fmt: skip
    a = pending.appointment
    confirm = tokens.derive_token(settings.secret_key, "confirm", a.code, a.token_salt)
    links = [
        f"/termin/{a.code}/bestaetigen?token={confirm}",
        f"/termin/{a.code}/absagen?token={pending.manage_token}",
        f"/termin/{a.code}/verschieben?token={pending.manage_token}",
        f"/termin/{a.code}?token={pending.manage_token}",
    ]
    for link in links * 2:
        answer = await client.get(link)
        assert answer.status_code == 200, link
        assert answer.headers["cache-control"] == "no-store"
        assert not _INLINE.search(answer.text), link
    assert await _status(db, a.code) == "pending"


async def test_a_post_without_the_form_token_is_refused_with_a_page(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, pending: Booking
) -> None:
    a = pending.appointment
    answer = await client.post(f"/termin/{a.code}/absagen", data={"token": pending.manage_token})
    assert answer.status_code == 403
    assert "Dieses Formular ist abgelaufen" in answer.text
    assert await _status(db, a.code) == "pending"

    page = await client.get(f"/termin/{a.code}/absagen?token={pending.manage_token}")
    form_token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert form_token is not None
    answer = await client.post(
        f"/termin/{a.code}/absagen",
        data={"token": pending.manage_token, "_csrf_token": form_token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert await _status(db, a.code) == "cancelled"


async def test_the_json_api_needs_no_form_token(
    client: AsyncTestClient[Litestar], pending: Booking
) -> None:
    answer = await client.post(
        f"/api/v1/appointments/{pending.appointment.code}/cancel",
        headers={"Authorization": f"Bearer {pending.manage_token}"},
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"


async def test_the_language_is_asked_once_and_remembered(
    client: AsyncTestClient[Litestar], pending: Booking
) -> None:
    german = await client.get("/")
    assert '<html lang="de">' in german.text
    assert "Welche Leistungen brauchen Sie?" in german.text
    english = await client.get("/?lang=en")
    assert '<html lang="en">' in english.text
    assert "Which services do you need?" in english.text
    assert "lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in (await client.get("/standort?service=reisepass")).text
    assert '<html lang="de">' in (await client.get("/?lang=de")).text


async def test_wrong_links_and_bad_input_get_pages_not_json(
    client: AsyncTestClient[Litestar], pending: Booking
) -> None:
    code = pending.appointment.code
    for link in (f"/termin/{code}?token=wrong", f"/termin/{code}", "/termin/ZZZZZZ?token=x"):
        answer = await client.get(link)
        assert answer.status_code == 404, link
        assert "Termin oder Seite nicht gefunden" in answer.text
    answer = await client.get("/zeit?service=NOT%20A%20SLUG&location=mitte")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")


async def test_too_many_lookups_get_a_page_that_says_to_wait(
    client: AsyncTestClient[Litestar], pending: Booking
) -> None:
    link = f"/termin/{pending.appointment.code}?token={pending.manage_token}"
    answers = [await client.get(link) for _ in range(31)]
    assert [a.status_code for a in answers[:30]] == [200] * 30
    assert answers[30].status_code == 429
    assert "Zu viele Anfragen" in answers[30].text
    assert int(answers[30].headers["retry-after"]) > 0


async def test_a_time_taken_meanwhile_offers_other_times_and_keeps_the_details(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings,
    pending: Booking,
) -> None:  # fmt: skip
    taken = pending.appointment.starts_at
    for n in range(10):  # others take the rest of that time, however many desks it has
        again = BookingRequest(
            location="nord", services=["wohnsitz-anmelden"], start=taken, name="B",
            email=f"b{n}@x.org",
        )  # fmt: skip
        try:
            async with db.transaction():
                await uc.book(db, Context(settings, datetime.now(UTC)), again)
        except Unbookable:
            break
    else:
        raise AssertionError("the time never filled up")
    await client.get("/")  # sets the form token's cookie, which the form sends back
    answer = await client.post(
        "/buchen",
        data={
            "_csrf_token": client.cookies[CSRF_COOKIE], "location": "nord",
            "service": "wohnsitz-anmelden", "start": taken.isoformat(), "name": "Rita Rot",
            "email": "rita@example.org", "phone": "", "request": "a" * 32,
        },
    )  # fmt: skip
    assert answer.status_code == 409
    assert "Andere freie Uhrzeiten" in answer.text
    assert answer.text.count('name="start"') > 1
    assert 'value="Rita Rot"' in answer.text
    assert 'value="rita@example.org"' in answer.text
