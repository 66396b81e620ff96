"""The offices' public pages show the open-data figures of ``tests/api/test_transparency.py``
(Tuesday 10 November 2026, 10:00 in Berlin) as people read them, plus hours and contact."""

from __future__ import annotations

import re

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.test_transparency import client  # noqa: F401 - the figures' set-up, as a fixture

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def hours(db: asyncpg.Connection, client: Client) -> None:  # noqa: F811 - after its set-up
    """Mitte opens Wednesdays 09:00-10:00 and 09:30-12:00, and is shut on Thursday the 12th."""
    await db.execute(
        """
        insert into opening_rule (location_id, weekday, opens_at, closes_at, desks)
        select id, 3, w.opens, w.closes, 1 from location,
               (values (time '09:00', time '10:00'), (time '09:30', time '12:00')) w(opens, closes)
         where slug = 'mitte';
        insert into opening_rule (location_id, weekday, opens_at, closes_at, desks)
        select id, 4, time '08:00', time '12:00', 1 from location where slug = 'mitte';
        insert into closure (location_id, first_day, last_day, reason_de, reason_en)
        select id, date '2026-11-12', date '2026-11-12', 'Betriebsausflug', 'Staff outing'
          from location where slug = 'mitte';
        update location set phone = '+49 30 123', email = 'mitte@example.org',
                            street = 'Markt 1', postal_code = '10115', city = 'Berlin'
         where slug = 'mitte';
        """
    )


def text_of(html: str) -> str:
    """The page's words without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.usefixtures("hours")
async def test_the_page_shows_the_figures_the_open_data_gives(client: Client) -> None:  # noqa: F811
    page = await client.get("/standort/mitte")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Bürgeramt Mitte" in shown
    assert "Markt 1 10115 Berlin" in shown
    assert 'href="tel:+4930123"' in page.text
    assert 'href="mailto:mitte@example.org"' in page.text
    # Hours of the next seven days: merged windows, the closure with its reason.
    assert "Mittwoch, 11. November 2026 09:00\u201312:00" in shown
    assert "Donnerstag, 12. November 2026 Geschlossen (Betriebsausflug)" in shown
    assert "Freitag, 13. November 2026 Geschlossen" in shown
    # Next free start per service, each a link into the booking flow at that time.
    assert "Meldebescheinigung Mi., 11. Nov., 09:00 Uhr" in shown
    assert "Reisepass Mi., 11. Nov., 09:20 Uhr" in shown
    start = "start=2026-11-11T09%3A00%3A00%2B01%3A00"
    assert f"/zeit?service=kurz&amp;location=mitte&amp;day=2026-11-11&amp;{start}" in page.text
    # Now: 3 waiting x 8 minutes / 2 desks; October: waits 4, 6, 10; 1 no-show of 4 due.
    assert "Wartende jetzt 3" in shown
    assert "Geschätzte Wartezeit ohne Termin etwa 12 Minuten" in shown
    assert "Letzter Monat: Oktober 2026" in shown
    assert "(Median) 6 Minuten (3 Personen aufgerufen)" in shown
    assert "nicht wahrgenommener Termine 25 % (von 4 fälligen Terminen)" in shown
    assert "0 wartende Anfragen" in shown
    assert "in der Reihenfolge der Anfragen" in shown
    assert 'href="/api/v1/locations/mitte/transparency"' in page.text
    for personal in ("Erika", "Max Wartend", "OKT"):
        assert personal not in page.text

    english = text_of((await client.get("/standort/mitte?lang=en")).text)
    assert "Estimated wait without an appointment about 12 minutes" in english
    assert "Share of appointments missed 25% (of 4 appointments due)" in english
    assert "Thursday 12 November 2026 Office closed (Staff outing)" in english


async def test_nothing_measured_and_nothing_free_are_said_plainly(client: Client) -> None:  # noqa: F811
    shown = text_of((await client.get("/standort/nord")).text)
    assert "Meldebescheinigung Zurzeit ist nichts frei. Auf die Warteliste" in shown
    assert "keine Wartezeiten gemessen" in shown
    assert "es waren keine Termine fällig" in shown
    assert "Geschätzte Wartezeit ohne Termin etwa 15 Minuten" in shown


async def test_the_index_lists_active_offices_and_unknown_ones_are_404(client: Client) -> None:  # noqa: F811
    index = await client.get("/standorte")
    assert index.status_code == 200
    assert 'href="/standort/mitte"' in index.text
    assert 'href="/standort/nord"' in index.text
    assert "/standort/alt" not in index.text
    for slug in ("alt", "mond", "x" * 300):
        missing = await client.get(f"/standort/{slug}")
        assert missing.status_code == 404
        assert "nicht gefunden" in missing.text
