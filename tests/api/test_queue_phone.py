"""Citizens' phones: joining the queue with the day's QR poster code, following a ticket,
and the one call-ahead mail (real SMTP server on loopback, real arq worker, real Redis).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.embedded import free_port
from booking.settings import Settings
from tests.office import Office, bearer, open_office, seat
from tests.workers.test_notifications import Inbox, run_worker

Client = AsyncTestClient[Litestar]
NOW = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
STAFF = "/api/v1/staff/locations/mitte"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def office(db: asyncpg.Connection) -> Office:
    return await open_office(db, "mitte")


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
async def client(
    mail_settings: Settings, redis: Redis, clock: FixedClock, office: Office
) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(mail_settings, clock)) as test_client:
        yield test_client


async def poster_code(client: Client, office: Office) -> str:
    board = await client.get("/api/v1/locations/mitte/display", headers=bearer(office.display))
    url = urlsplit(board.json()["join_url"])
    assert url.path == "/join/mitte"
    return str(parse_qs(url.query)["code"][0])


async def join(client: Client, code: str, **extra: Any) -> Any:
    body = {"service": "meldung", "code": code, **extra}
    return await client.post("/api/v1/locations/mitte/tickets", json=body)


async def test_joining_needs_todays_poster_code(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    today = await poster_code(client, office)
    joined = await join(client, today)
    assert joined.status_code == 201, joined.text
    assert joined.json()["code"] == "B001"
    assert await db.fetchval("select channel from ticket") == "phone"
    # Typed from the poster in capitals: still the code.
    assert (await join(client, today.upper())).status_code == 201
    wrong = await join(client, "a" * 16)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "poster_code_invalid")
    nord = await open_office(db, "nord")
    nord_code = parse_qs(urlsplit((await client.get(
        "/api/v1/locations/nord/display", headers=bearer(nord.display))).json()["join_url"]
    ).query)["code"][0]  # fmt: skip
    assert nord_code != today
    foreign = await join(client, nord_code)
    assert (foreign.status_code, foreign.json()["code"]) == (403, "poster_code_invalid")

    clock.instant = NOW + timedelta(days=1)
    expired = await join(client, today)
    assert (expired.status_code, expired.json()["code"]) == (403, "poster_code_expired")
    assert (await join(client, await poster_code(client, office))).status_code == 201
    staff = bearer(await seat(db, office, "Schalter 1", NOW))
    poster = (await client.get(f"{STAFF}/poster", headers=staff)).json()
    assert poster["valid_on"] == "2026-11-11"
    assert poster["code"] == await poster_code(client, office)
    assert await db.fetchval("select count(*) from ticket") == 3


@pytest.mark.parametrize(
    "body",
    [{}, {"service": "meldung"}, {"service": "meldung", "code": ""},
     {"service": "meldung", "code": "x" * 65}, {"service": "meldung", "code": "ä" * 16},
     {"service": "meldung", "code": "abc", "call_ahead": {"email": "a@b.de", "minutes": 999}}],
)  # fmt: skip
async def test_bad_join_input_gets_a_4xx(
    client: Client, db: asyncpg.Connection, body: dict[str, Any]
) -> None:
    answer = await client.post("/api/v1/locations/mitte/tickets", json=body)
    assert answer.status_code == 422, answer.text
    unknown = await client.post("/api/v1/locations/atlantis/tickets", json={**body, "code": "x"})
    assert unknown.status_code in {404, 422}
    assert await db.fetchval("select count(*) from ticket") == 0


async def test_joining_is_rate_limited_per_client(client: Client, office: Office) -> None:
    code = await poster_code(client, office)
    answers = [(await join(client, code)).status_code for _ in range(11)]
    assert answers == [201] * 10 + [429]


async def test_following_an_unknown_ticket_is_404(client: Client) -> None:
    for public_id in ("x", "a" * 22, "%00" * 22, "a" * 500):
        answer = await client.get(f"/api/v1/tickets/{public_id}")
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), public_id


async def test_the_call_ahead_mail_comes_once_when_the_turn_is_close(
    *,
    client: Client,
    office: Office,
    db: asyncpg.Connection,
    mail_settings: Settings,
    clock: FixedClock,
    inbox: Inbox,
) -> None:
    code = await poster_code(client, office)
    for _ in range(3):
        await join(client, code)
    wish = {"email": "erika@example.org", "language": "en", "places": 1}
    mine = (await join(client, code, call_ahead=wish)).json()
    assert (mine["position"], mine["call_ahead"]) == (4, {"places": 1, "minutes": None})
    assert "erika" not in str(mine)
    staff = bearer(await seat(db, office, "Schalter 1", NOW))
    for expected_mails in (0, 1, 1):
        called = (await client.post(f"{STAFF}/call-next", headers=staff)).json()["ticket"]
        await client.post(f"{STAFF}/tickets/{called['id']}/complete", headers=staff)
        await run_worker(mail_settings, clock)
        assert len(inbox.messages) == expected_mails
    [mail] = inbox.messages
    assert mail["To"] == "erika@example.org"
    assert mail["Subject"] == "Almost your turn: number B004 \N{EN DASH} Office mitte"
    text = mail.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "Only one person is ahead of your number B004." in body
    assert f"/t/{mine['public_id']}" in body
    # Its turn: the address goes with the ticket.
    called = (await client.post(f"{STAFF}/call-next", headers=staff)).json()["ticket"]
    assert called["code"] == "B004"
    await client.post(f"{STAFF}/tickets/{called['id']}/complete", headers=staff)
    assert await db.fetchval("select count(*) from ticket where email is not null") == 0
    await run_worker(mail_settings, clock)
    assert len(inbox.messages) == 1


async def test_asking_when_already_close_mails_at_once_in_german_by_minutes(
    client: Client,
    office: Office,
    mail_settings: Settings,
    clock: FixedClock,
    inbox: Inbox,
) -> None:
    code = await poster_code(client, office)
    first = (await join(client, code)).json()
    second = (await join(client, code)).json()
    assert second["estimated_minutes"] == 10  # one ahead, 10 catalogue minutes, one desk
    url = f"/api/v1/tickets/{second['public_id']}/call-ahead"
    far = await client.post(url, json={"email": "max@example.org", "minutes": 5})
    assert far.json()["call_ahead"] == {"places": None, "minutes": 5}
    await run_worker(mail_settings, clock)
    assert inbox.messages == []
    asked = await client.post(
        f"/api/v1/tickets/{first['public_id']}/call-ahead", json={"email": "eva@example.org"}
    )
    assert asked.json()["call_ahead"] == {"places": 3, "minutes": None}
    await run_worker(mail_settings, clock)
    [mail] = inbox.messages
    assert mail["To"] == "eva@example.org"
    assert mail["Subject"].startswith("Bald sind Sie dran: Nummer B001")
    text = mail.get_body(("plain",))
    assert text is not None
    assert "Ihre Nummer B001 ist als Nächste an der Reihe." in text.get_content()
    bad = await client.post(url, json={"email": "not-an-address"})
    assert bad.status_code == 422
