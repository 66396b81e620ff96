"""The display board's state: who is being called to which desk, the last calls, and the
queue and estimated wait of every service, as of an event id the stream goes on from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.settings import Settings
from tests.office import Office, bearer, open_office, seat

Client = AsyncTestClient[Litestar]
NOW = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
STAFF = "/api/v1/staff/locations/mitte"
BOARD = "/api/v1/locations/mitte/display"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def office(db: asyncpg.Connection) -> Office:
    return await open_office(db, "mitte", {"Schalter 1": ["ausweis", "meldung"],
                                           "Schalter 2": ["meldung"]})  # fmt: skip


@pytest.fixture
async def client(
    settings: Settings, redis: Redis, clock: FixedClock, office: Office
) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings, clock)) as test_client:
        yield test_client


async def test_the_board_shows_calls_and_the_queue_per_service(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    empty = (await client.get(BOARD, headers=bearer(office.display))).json()
    assert (empty["last_event_id"], empty["calling"], empty["recent"]) == (0, [], [])
    assert [(s["slug"], s["waiting"]) for s in empty["services"]] == [("ausweis", 0),
                                                                    ("meldung", 0)]  # fmt: skip
    for service in ("ausweis", "meldung", "meldung", "meldung"):
        await client.post("/api/v1/kiosk/tickets", json={"service": service},
                          headers=bearer(office.kiosk))  # fmt: skip
    one = bearer(await seat(db, office, "Schalter 1", NOW))
    two = bearer(await seat(db, office, "Schalter 2", NOW))
    first = (await client.post(f"{STAFF}/call-next", headers=one)).json()["ticket"]
    clock.instant = NOW + timedelta(minutes=1)
    await client.post(f"{STAFF}/call-next", headers=two)
    clock.instant = NOW + timedelta(minutes=2)
    await client.post(f"{STAFF}/tickets/{first['id']}/recall", headers=one)
    await client.post(f"{STAFF}/tickets/{first['id']}/start", headers=one)

    board = (await client.get(BOARD, headers=bearer(office.display))).json()
    assert board["last_event_id"] == 3
    assert [(c["code"], c["desk"]) for c in board["calling"]] == [("B001", "Schalter 2")]
    assert [(e["id"], e["kind"], e["code"], e["desk"]) for e in board["recent"]] == [
        (3, "recall", "A001", "Schalter 1"), (2, "call", "B001", "Schalter 2"),
        (1, "call", "A001", "Schalter 1"),
    ]  # fmt: skip
    waits = {s["slug"]: (s["waiting"], s["estimated_minutes"]) for s in board["services"]}
    # Two "meldung" waiting, 10 catalogue minutes each, both desks serving it active.
    assert waits == {"ausweis": (0, 0), "meldung": (2, 10)}
    assert board["join_url"].startswith("http://testserver.local/join/mitte?code=")
    assert "Erika" not in str(board)
