"""Public transparency figures at Tuesday 10 November 2026, 10:00 in Berlin.

Mitte has a queue being served at two desks, free units tomorrow and a recorded October;
Nord has one walk-in waiting, no desk at work and nothing free online.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.settings import Settings

Client = AsyncTestClient[Litestar]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
NAMES = ("Erika Mustermann", "erika@example.org", "+49 170 1234567", "Max Wartend")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


async def catalogue(db: asyncpg.Connection) -> dict[str, int]:
    """Two offices, four services; ids by slug."""
    await db.execute(
        """
        insert into location (slug, name_de, name_en) values
            ('mitte', 'Bürgeramt Mitte', 'Citizens'' Office Centre'),
            ('nord', 'Bürgeramt Nord', 'Citizens'' Office North'),
            ('alt', 'Altes Amt', 'Old Office');
        update location set active = false where slug = 'alt';
        insert into service (slug, name_de, name_en, duration_minutes) values
            ('kurz', 'Meldebescheinigung', 'Certificate of registration', 10),
            ('lang', 'Reisepass', 'Passport', 30),
            ('vorort', 'Nur vor Ort', 'On site only', 10),
            ('nordisch', 'Nur in Nord', 'North only', 10);
        insert into location_service (location_id, service_id, duration_minutes, bookable_online)
        select l.id, s.id, o.minutes, o.online
          from (values ('mitte', 'kurz', null, true), ('mitte', 'lang', null, true),
                       ('mitte', 'vorort', null, false), ('nord', 'kurz', 15, true),
                       ('nord', 'nordisch', null, true), ('alt', 'kurz', null, true))
               as o(location, service, minutes, online)
          join location l on l.slug = o.location join service s on s.slug = o.service;
        """
    )
    rows = await db.fetch("select slug, id from location union all select slug, id from service")
    return {row["slug"]: row["id"] for row in rows}


async def ticket(
    db: asyncpg.Connection,
    ids: dict[str, int],
    place: str,
    issued: str,
    *,
    status: str = "done",
    times: tuple[str, str, str] | None = None,
    desk: int | None = None,
) -> None:
    """A walk-in of service ``kurz``; ``times`` are called, started and finished."""
    called, started, finished = (local(t) for t in times) if times else (None, None, None)
    await db.execute(
        """
        insert into ticket (public_id, location_id, service_id, day, display_code, status,
                            priority_at, desk_id, citizen_name, issued_at, called_at,
                            started_at, finished_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7, $10, $11, $12)
        """,
        uuid.uuid4().hex, ids[place], ids["kurz"], local(issued).date(),
        f"A{uuid.uuid4().hex[:6]}", status, local(issued), desk, NAMES[3], called, started,
        finished,
    )  # fmt: skip


@pytest.fixture
async def client(settings: Settings, db: asyncpg.Connection, redis: Redis) -> AsyncIterator[Client]:
    ids = await catalogue(db)
    desks = [
        await db.fetchval(
            "insert into desk (location_id, name) values ($1, $2) returning id", ids["mitte"], name
        )
        for name in ("1", "2", "3")
    ]
    # Tomorrow 09:00-10:00 at Mitte, one desk, 09:10 taken: a 10-minute service fits at
    # 09:00, a 30-minute one first at 09:20. Nord has no free unit at all.
    await db.execute(
        """
        insert into slot (location_id, starts_at, window_ends_at, rule_capacity, capacity, booked)
        select $1, $2::timestamptz + make_interval(mins => 10 * n), $2::timestamptz + '1 hour',
               1, 1, (n = 1)::int
          from generate_series(0, 5) as n
        """,
        ids["mitte"], local("2026-11-11 09:00"),
    )  # fmt: skip

    # Today at Mitte: three waiting; service times 6, 8, 10 minutes finished at desks 1
    # and 2 in the last half hour; desk 3 last finished 35 minutes ago; an hour-long
    # service ended before the two-hour window.
    for issued in ("2026-11-10 09:40", "2026-11-10 09:45", "2026-11-10 09:50"):
        await ticket(db, ids, "mitte", issued, status="waiting")
    served = [
        (desks[2], ("2026-11-10 09:15", "2026-11-10 09:19", "2026-11-10 09:25")),
        (desks[0], ("2026-11-10 09:36", "2026-11-10 09:37", "2026-11-10 09:45")),
        (desks[1], ("2026-11-10 09:44", "2026-11-10 09:45", "2026-11-10 09:55")),
        (desks[2], ("2026-11-10 06:55", "2026-11-10 07:00", "2026-11-10 07:50")),
    ]
    for desk, times in served:
        await ticket(db, ids, "mitte", "2026-11-10 06:50", times=times, desk=desk)
    await ticket(db, ids, "nord", "2026-11-10 09:55", status="waiting")

    # October at Mitte: waits 4, 10 and 6 minutes; appointments 2 completed, 1 no-show,
    # 1 checked in, 1 cancelled.
    for issued, called in (("09:00", "09:04"), ("09:00", "09:10"), ("11:00", "11:06")):
        times = (f"2026-10-15 {called}", f"2026-10-15 {called}", f"2026-10-15 {called}")
        await ticket(db, ids, "mitte", f"2026-10-15 {issued}", times=times)
    await ticket(db, ids, "mitte", "2026-09-30 23:30", times=("2026-10-01 01:30",) * 3)
    await db.execute(
        """
        insert into appointment (code, location_id, starts_at, ends_at, status, citizen_name,
                                 email, phone, manage_token_hash)
        select 'OKT' || n, $1, $2::timestamptz + n * interval '1 hour',
               $2::timestamptz + n * interval '1 hour' + interval '10 minutes', status,
               $3, $4, $5, '\\x00'
          from unnest(array['completed', 'completed', 'no_show', 'checked_in', 'cancelled'])
               with ordinality as s(status, n)
        """,
        ids["mitte"], local("2026-10-20 08:00"), *NAMES[:3],
    )  # fmt: skip
    async with AsyncTestClient(app=create_app(settings, FixedClock(NOW))) as test_client:
        yield test_client


MITTE = {
    "as_of": "2026-11-10T09:00:00Z",
    "location": {
        "slug": "mitte",
        "name": {"de": "Bürgeramt Mitte", "en": "Citizens' Office Centre"},
        "time_zone": "Europe/Berlin",
    },
    "next_free": [
        {
            "service": {
                "slug": "kurz",
                "name": {"de": "Meldebescheinigung", "en": "Certificate of registration"},
            },
            "earliest": "2026-11-11T09:00:00+01:00",
        },
        {
            "service": {"slug": "lang", "name": {"de": "Reisepass", "en": "Passport"}},
            "earliest": "2026-11-11T09:20:00+01:00",
        },
    ],
    # 3 waiting x median 8 minutes / 2 desks.
    "current_wait": {
        "waiting": 3,
        "estimated_minutes": 12,
        "service_minutes": 8.0,
        "service_basis": "recent",
        "active_desks": 2,
    },
    "last_month": {
        "first_day": "2026-10-01",
        "last_day": "2026-10-31",
        "waited": 3,
        "median_wait_minutes": 6.0,
        "appointments_due": 4,
        "no_show_rate": 0.25,
    },
}


async def test_a_location_shows_next_free_starts_the_wait_and_last_month(client: Client) -> None:
    answer = await client.get("/api/v1/locations/mitte/transparency")
    assert answer.status_code == 200, answer.text
    assert answer.json() == MITTE
    assert answer.headers["cache-control"] == "max-age=30, public"


async def test_the_overview_lists_every_active_location(client: Client) -> None:
    answer = await client.get("/api/v1/transparency")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["as_of"] == "2026-11-10T09:00:00Z"
    mitte, nord = body["locations"]
    assert mitte == MITTE
    assert [(f["service"]["slug"], f["earliest"]) for f in nord["next_free"]] == [
        ("kurz", None),
        ("nordisch", None),
    ]
    # Nobody served lately: Nord's own 15 minutes for the waiting ticket's service, one desk.
    assert nord["current_wait"] == {"waiting": 1, "estimated_minutes": 15, "service_minutes": 15.0,
                                    "service_basis": "catalogue", "active_desks": 0}  # fmt: skip
    assert nord["last_month"]["median_wait_minutes"] is None
    assert nord["last_month"]["no_show_rate"] is None
    assert answer.headers["cache-control"] == "max-age=30, public"


async def test_no_personal_data_is_published(client: Client) -> None:
    for path in ("/api/v1/transparency", "/api/v1/locations/mitte/transparency"):
        text = (await client.get(path)).text
        for personal in NAMES:
            assert personal not in text
        assert "OKT" not in text  # nor booking codes


@pytest.mark.parametrize("slug", ["mond", "alt", "Mitte%27--"])
async def test_unknown_or_inactive_locations_are_404(client: Client, slug: str) -> None:
    answer = await client.get(f"/api/v1/locations/{slug}/transparency")
    assert answer.status_code == 404, answer.text
    body: dict[str, Any] = answer.json()
    assert (body["status"], body["code"]) == (404, "not_found")
