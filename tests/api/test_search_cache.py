"""Searches answered from memory for a moment: fast for a rush, never a way to overbook."""

from __future__ import annotations

import re
from datetime import UTC, datetime

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

# Monday 30 November 2026, 08:00 in Berlin.
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
TUESDAY = (
    "/api/v1/availability?location=mitte&service=personalausweis&from=2026-12-01&to=2026-12-01"
)
Client = AsyncTestClient[Litestar]


async def app_client(settings: Settings, seconds: int) -> AsyncTestClient[Litestar]:
    cached = msgspec.structs.replace(settings, availability_cache_seconds=seconds)
    return AsyncTestClient(app=create_app(cached, FixedClock(NOW)))


@pytest.fixture
async def seeded(db: asyncpg.Connection, redis: Redis) -> asyncpg.Connection:
    await seed_demo(db, NOW)
    return db


async def fill(db: asyncpg.Connection, start: str) -> None:
    """Everybody else books the start: its units are full from now on."""
    await db.execute(
        "update slot set booked = capacity where starts_at = $1::timestamptz",
        datetime.fromisoformat(start),
    )


async def tuesday_starts(client: Client, query: str = TUESDAY) -> list[str]:
    answer = await client.get(query)
    assert answer.status_code == 200, answer.text
    starts: list[str] = answer.json()["days"][0]["starts"]
    return starts


async def offered_then_taken(client: Client, seeded: asyncpg.Connection) -> str:
    """The first Tuesday start as the search offers it, then filled by others meanwhile."""
    first = (await tuesday_starts(client))[0]
    await fill(seeded, first)
    return first


async def test_a_cached_start_that_has_gone_is_refused_when_booked(
    settings: Settings, seeded: asyncpg.Connection
) -> None:
    async with await app_client(settings, 60) as client:
        first = await offered_then_taken(client, seeded)
        # The next citizen within the cache's time still sees it offered ...
        assert first in await tuesday_starts(client)
        answer = await client.post(
            "/api/v1/appointments",
            json={
                "location": "mitte",
                "services": ["personalausweis"],
                "start": first,
                "name": "Erika Mustermann",
                "email": "erika@example.org",
                "language": "de",
            },
        )
        # ... but booking decides on the database: nobody gets a place that is not there.
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == "not_available"
        assert await seeded.fetchval("select count(*) from appointment") == 0


async def test_without_the_cache_a_taken_start_disappears_at_once(
    settings: Settings, seeded: asyncpg.Connection
) -> None:
    async with await app_client(settings, 0) as client:
        first = await offered_then_taken(client, seeded)
        assert first not in await tuesday_starts(client)


async def test_the_answer_follows_the_question_not_the_noise_around_it(
    settings: Settings, seeded: asyncpg.Connection
) -> None:
    async with await app_client(settings, 60) as client:
        before = await tuesday_starts(client)
        await fill(seeded, before[0])
        # Extra parameters change nothing, so they get the same (cached) answer.
        assert await tuesday_starts(client, TUESDAY + "&nocache=1") == before
        # Another window or service set is another question, answered fresh.
        wider = TUESDAY.replace("to=2026-12-01", "to=2026-12-02")
        assert before[0] not in await tuesday_starts(client, wider)
        both = await client.get(
            "/api/v1/availability?location=mitte&service=wohnsitz-anmelden"
            "&service=personalausweis&from=2026-12-01&to=2026-12-01"
        )
        assert both.json()["services"] == ["wohnsitz-anmelden", "personalausweis"]
        assert before[0] not in both.json()["days"][0]["starts"]


async def test_errors_are_never_kept(settings: Settings, seeded: asyncpg.Connection) -> None:
    async with await app_client(settings, 60) as client:
        unknown = TUESDAY.replace("mitte", "nirgendwo")
        assert (await client.get(unknown)).status_code == 422
        await seeded.execute("update location set slug = 'nirgendwo' where slug = 'mitte'")
        assert (await client.get(unknown)).status_code == 200


async def form_token(client: Client, path: str) -> str:
    page = await client.get(path)
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def test_the_time_page_browses_the_cache_but_a_conflict_shows_the_database(
    settings: Settings, seeded: asyncpg.Connection
) -> None:
    """A citizen who loses a time is never offered it again in the same breath."""
    time_page = "/zeit?service=personalausweis&location=mitte&day=2026-12-01&lang=en"
    async with await app_client(settings, 60) as client:
        first = (await tuesday_starts(client))[0]
        label = datetime.fromisoformat(first).strftime("%H:%M")
        assert f'value="{first}"' in (await client.get(time_page)).text
        await fill(seeded, first)
        assert f'value="{first}"' in (await client.get(time_page)).text  # still the cached month
        taken = await client.post(
            "/zeit",
            data={
                "_csrf_token": await form_token(client, time_page),
                "service": "personalausweis",
                "location": "mitte",
                "start": first,
            },
            follow_redirects=False,
        )
        assert taken.status_code == 409
        assert "just been taken" in taken.text
        assert f'value="{first}"' not in taken.text, label
