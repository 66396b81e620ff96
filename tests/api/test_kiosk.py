"""The kiosk: walk-in tickets numbered per office, prefix and day; appointment check-in
with its time window; and a device that acts only for its own office and as its own kind.

Tuesday 10 November 2026, 09:00 in Berlin, on a clock the tests move by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.settings import Settings
from tests.office import Office, appointment, bearer, open_office

Client = AsyncTestClient[Litestar]
NOW = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def office(db: asyncpg.Connection) -> Office:
    return await open_office(db, "mitte")


@pytest.fixture
async def client(
    settings: Settings, redis: Redis, clock: FixedClock, office: Office
) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings, clock)) as test_client:
        yield test_client


async def take(client: Client, office: Office, service: str) -> dict[str, Any]:
    answer = await client.post(
        "/api/v1/kiosk/tickets", json={"service": service}, headers=bearer(office.kiosk)
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def check_in(client: Client, office: Office, code: str) -> Any:
    return await client.post(
        "/api/v1/kiosk/check-in", json={"code": code}, headers=bearer(office.kiosk)
    )


async def test_numbers_count_per_office_prefix_and_day(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    nord = await open_office(db, "nord")
    codes = [(await take(client, office, s))["code"] for s in ("ausweis", "ausweis", "meldung")]
    assert codes == ["A001", "A002", "B001"]
    assert (await take(client, nord, "ausweis"))["code"] == "A001"
    clock.instant = NOW + timedelta(days=1)
    assert (await take(client, office, "ausweis"))["code"] == "A001"
    # The day is the office's: 23:30 UTC is already tomorrow in Berlin.
    clock.instant = datetime(2026, 11, 11, 23, 30, tzinfo=UTC)
    assert (await take(client, office, "ausweis"))["code"] == "A001"


async def test_a_ticket_answers_with_position_wait_and_a_link_to_follow_it(
    client: Client, office: Office, settings: Settings
) -> None:
    first = await take(client, office, "ausweis")
    second = await take(client, office, "ausweis")
    assert first["status"] == "waiting"
    assert (first["position"], second["position"]) == (1, 2)
    # Nobody served yet today: the catalogue's 20 minutes for the one ahead, one desk.
    assert (first["estimated_minutes"], second["estimated_minutes"]) == (0, 20)
    assert second["follow_url"] == f"{settings.public_url}/t/{second['public_id']}"
    assert len(second["public_id"]) >= 22  # 128 random bits
    followed = (await client.get(f"/api/v1/tickets/{second['public_id']}")).json()
    assert followed == second
    assert second["location"]["slug"] == "mitte"
    assert second["service"] == {"slug": "ausweis", "name": {"de": "Ausweis", "en": "Ausweis"}}


async def test_check_in_is_open_from_30_minutes_before_to_15_after_the_booked_start(
    client: Client, office: Office, db: asyncpg.Connection, clock: FixedClock
) -> None:
    start = NOW + timedelta(minutes=40)
    code = await appointment(db, office, "meldung", start)
    early = await check_in(client, office, code)
    assert (early.status_code, early.json()["code"]) == (409, "too_early")
    assert "09:10" in early.json()["message"]  # local time in Berlin

    clock.instant = start - timedelta(minutes=30)
    # Typed by hand: lower case, with a space and a dash.
    typed = f"{code[:3].lower()} -{code[3:]}"
    checked = await check_in(client, office, typed)
    assert checked.status_code == 201, checked.text
    ticket = checked.json()
    assert ticket["code"] == "B001"
    assert ticket["booked_start"] == "2026-11-10T09:40:00+01:00"  # the office's wall time
    assert "Erika" not in checked.text  # a booking code alone reveals no personal data
    status = await db.fetchval("select status from appointment where code = $1", code)
    assert status == "checked_in"

    twice = await check_in(client, office, code)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_checked_in")

    late_code = await appointment(db, office, "meldung", NOW - timedelta(minutes=16))
    clock.instant = NOW
    late = await check_in(client, office, late_code)
    assert (late.status_code, late.json()["code"]) == (409, "too_late")
    assert await db.fetchval("select count(*) from ticket") == 1


async def test_check_in_of_other_appointments_is_refused_clearly(
    client: Client, office: Office, db: asyncpg.Connection
) -> None:
    nord = await open_office(db, "nord")
    elsewhere = await appointment(db, nord, "meldung", NOW)
    cancelled = await appointment(db, office, "meldung", NOW, status="cancelled")
    pending = await appointment(db, office, "meldung", NOW, status="pending")
    for code, expected in ((elsewhere, "other_location"), (cancelled, "wrong_state"),
                           (pending, "wrong_state")):  # fmt: skip
        answer = await check_in(client, office, code)
        assert (answer.status_code, answer.json()["code"]) == (409, expected), code
    unknown = await check_in(client, office, "ZZZZZZ")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert await db.fetchval("select count(*) from ticket") == 0


async def test_a_kiosk_acts_only_for_its_office_and_a_display_is_no_kiosk(
    client: Client, office: Office, db: asyncpg.Connection
) -> None:
    nord = await open_office(db, "nord")
    code = await appointment(db, office, "meldung", NOW)
    body = {"service": "ausweis", "location": "mitte"}
    here = await client.post("/api/v1/kiosk/tickets", json=body, headers=bearer(office.kiosk))
    assert here.status_code == 201
    check_in_body = {"code": code, "location": "mitte"}
    for path, payload in (
        ("/api/v1/kiosk/tickets", body),
        ("/api/v1/kiosk/check-in", check_in_body),
    ):
        foreign = await client.post(path, json=payload, headers=bearer(nord.kiosk))
        assert (foreign.status_code, foreign.json()["code"]) == (403, "wrong_location")
        board = await client.post(path, json=payload, headers=bearer(office.display))
        assert (board.status_code, board.json()["code"]) == (403, "wrong_device")
        nobody = await client.post(path, json=payload)
        assert nobody.status_code == 401
    # Without naming a location, nord's kiosk issues nord's tickets: never mitte's.
    own = await client.post("/api/v1/kiosk/tickets", json={"service": "ausweis"},
                            headers=bearer(nord.kiosk))  # fmt: skip
    assert own.json()["location"]["slug"] == "nord"
    not_there = await check_in(client, nord, code)
    assert (not_there.status_code, not_there.json()["code"]) == (409, "other_location")
    kiosk_board = await client.get("/api/v1/locations/mitte/display", headers=bearer(office.kiosk))
    assert (kiosk_board.status_code, kiosk_board.json()["code"]) == (403, "wrong_device")
    other_board = await client.get("/api/v1/locations/mitte/display", headers=bearer(nord.display))
    assert (other_board.status_code, other_board.json()["code"]) == (403, "wrong_location")
    rows = await db.fetch("select l.slug from ticket t join location l on l.id = t.location_id")
    assert sorted(r["slug"] for r in rows) == ["mitte", "nord"]


async def test_the_kiosk_offers_only_services_some_desk_serves(
    settings: Settings, redis: Redis, clock: FixedClock, db: asyncpg.Connection
) -> None:
    office = await open_office(db, "sued", {"Schalter 1": ["ausweis"]})
    async with AsyncTestClient(app=create_app(settings, clock)) as client:
        menu = (await client.get("/api/v1/kiosk", headers=bearer(office.kiosk))).json()
        assert [s["slug"] for s in menu["services"]] == ["ausweis"]
        assert menu["services"][0] | {"name": None} == {
            "slug": "ausweis", "name": None, "prefix": "A", "waiting": 0, "estimated_minutes": 0,
        }  # fmt: skip
        refused = await client.post(
            "/api/v1/kiosk/tickets", json={"service": "kfz"}, headers=bearer(office.kiosk)
        )
        assert (refused.status_code, refused.json()["code"]) == (409, "not_served")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/kiosk/tickets", {}),
        ("/api/v1/kiosk/tickets", {"service": "Ausweis!"}),
        ("/api/v1/kiosk/tickets", {"service": "nirgends"}),
        ("/api/v1/kiosk/tickets", {"service": "ausweis", "extra": 1}),
        ("/api/v1/kiosk/tickets", {"service": "ausweis", "call_ahead": {"email": "x"}}),
        ("/api/v1/kiosk/tickets", {"service": "ausweis",
                                   "call_ahead": {"email": "a@b.de", "places": 0}}),
        ("/api/v1/kiosk/check-in", {"code": ""}),
        ("/api/v1/kiosk/check-in", {"code": "A\x00BCDEF"}),
        ("/api/v1/kiosk/check-in", {"code": "x" * 500}),
        ("/api/v1/kiosk/check-in", [1, 2]),
    ],
)  # fmt: skip
async def test_bad_kiosk_input_gets_a_4xx_and_changes_nothing(
    client: Client, office: Office, db: asyncpg.Connection, path: str, body: Any
) -> None:
    answer = await client.post(path, json=body, headers=bearer(office.kiosk))
    assert 400 <= answer.status_code < 500, answer.text
    assert set(answer.json()) == {"status", "code", "message", "details"}
    assert await db.fetchval("select count(*) from ticket") == 0
