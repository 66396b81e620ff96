"""Citizens' searches against the demo catalogue, at a frozen Monday morning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.demo import seed_demo
from booking.grid import regenerate_location_grid
from booking.settings import Settings

# Monday 30 November 2026, 08:00 in Berlin: offices have just opened.
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
PASS_AND_MOVE = "service=personalausweis&service=wohnsitz-anmelden"


@pytest.fixture
async def client(
    settings: Settings, db: asyncpg.Connection, redis: Redis
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    await seed_demo(db, NOW)
    async with AsyncTestClient(app=create_app(settings, FixedClock(NOW))) as test_client:
        yield test_client


def times(day: dict[str, object]) -> list[str]:
    starts = day["starts"]
    assert isinstance(starts, list)
    return [datetime.fromisoformat(s).strftime("%H:%M") for s in starts]


def every(first: str, last: str, minutes: int = 10) -> list[str]:
    start = datetime.combine(date.min, time.fromisoformat(first))
    end = datetime.combine(date.min, time.fromisoformat(last))
    count = int((end - start) / timedelta(minutes=minutes)) + 1
    return [(start + timedelta(minutes=minutes * n)).strftime("%H:%M") for n in range(count)]


async def test_service_set_durations_add_up_and_fit_inside_each_window(
    client: AsyncTestClient[Litestar],
) -> None:
    answer = await client.get(
        f"/api/v1/availability?location=mitte&{PASS_AND_MOVE}&from=2026-11-30&to=2026-12-01"
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["duration_minutes"] == 35  # 20 + 15, four 10-minute units
    monday, tuesday = body["days"]
    # Lead time 60 min from 08:00; 08:00-12:30 and 13:30-16:00 windows, never over the break.
    assert times(monday) == every("09:00", "11:50") + every("13:30", "15:20")
    assert times(tuesday) == every("08:00", "11:50")
    assert monday["starts"][0] == "2026-11-30T09:00:00+01:00"


async def test_per_location_durations_are_honoured(client: AsyncTestClient[Litestar]) -> None:
    body = (
        await client.get(
            f"/api/v1/availability?location=nord&{PASS_AND_MOVE}&from=2026-12-01&to=2026-12-01"
        )
    ).json()
    assert body["duration_minutes"] == 45  # Nord takes 30 minutes for an identity card
    assert times(body["days"][0]) == every("08:00", "11:40")


async def test_the_long_thursday_and_holidays(client: AsyncTestClient[Litestar]) -> None:
    body = (
        await client.get(
            "/api/v1/availability?location=mitte&service=meldebescheinigung"
            "&from=2026-12-23&to=2026-12-27"
        )
    ).json()
    by_day = {day["date"]: times(day) for day in body["days"]}
    assert by_day["2026-12-23"] == every("08:00", "11:50")  # Wednesday morning only
    assert by_day["2026-12-24"] == []  # Heiligabend, a Thursday, closed
    assert by_day["2026-12-25"] == []
    assert by_day["2026-12-26"] == by_day["2026-12-27"] == []  # weekend
    thursday = (
        await client.get(
            "/api/v1/availability?location=mitte&service=meldebescheinigung"
            "&from=2026-12-03&to=2026-12-03"
        )
    ).json()
    assert times(thursday["days"][0]) == every("10:00", "18:50")


async def test_the_horizon_ends_the_search(client: AsyncTestClient[Litestar]) -> None:
    body = (
        await client.get(
            "/api/v1/availability?location=mitte&service=meldebescheinigung"
            "&from=2027-01-28&to=2027-01-30"
        )
    ).json()
    by_day = {day["date"]: times(day) for day in body["days"]}
    # Horizon 60 days from 30 November is Friday 29 January.
    assert by_day["2027-01-28"] == every("10:00", "18:50")
    assert by_day["2027-01-29"] == every("08:00", "11:50")
    assert by_day["2027-01-30"] == []


async def test_a_full_unit_blocks_every_start_that_needs_it(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    await db.execute(
        """
        update slot set booked = capacity
         where location_id = (select id from location where slug = 'mitte')
           and starts_at = '2026-12-01 10:00+01'
        """
    )
    body = (
        await client.get(
            f"/api/v1/availability?location=mitte&{PASS_AND_MOVE}&from=2026-12-01&to=2026-12-01"
        )
    ).json()
    # A 40-minute span starting 09:30..10:00 would need the full 10:00 unit.
    assert times(body["days"][0]) == every("08:00", "09:20") + every("10:10", "11:50")


async def test_earliest_start_per_location_earliest_first(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    # Fill Mitte completely until Wednesday so that Nord is earlier.
    await db.execute(
        """
        update slot set booked = capacity
         where location_id = (select id from location where slug = 'mitte')
           and starts_at < '2026-12-02 10:00+01'
        """
    )
    body = (await client.get(f"/api/v1/availability/earliest?{PASS_AND_MOVE}")).json()
    assert [
        (e["location"]["slug"], e["earliest"], e["duration_minutes"]) for e in body["locations"]
    ] == [
        ("nord", "2026-11-30T09:00:00+01:00", 45),
        ("mitte", "2026-12-02T10:00:00+01:00", 35),
    ]  # the vehicle office does not offer these services and is not listed
    only_mitte = (
        await client.get(f"/api/v1/availability/earliest?{PASS_AND_MOVE}&location=mitte")
    ).json()
    assert [e["location"]["slug"] for e in only_mitte["locations"]] == ["mitte"]


async def test_earliest_is_null_where_nothing_is_free(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection
) -> None:
    await db.execute(
        "update slot set booked = capacity"
        " where location_id = (select id from location where slug = 'kfz')"
    )
    body = (await client.get("/api/v1/availability/earliest?service=fahrzeug-zulassen")).json()
    assert body["locations"] == [
        {
            "location": {
                "slug": "kfz",
                "name": {
                    "de": "Kfz-Zulassungsstelle Musterstadt",
                    "en": "Vehicle Registration Office Musterstadt",
                },
                "time_zone": "Europe/Berlin",
            },
            "duration_minutes": 30,
            "earliest": None,
        }
    ]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("location=mitte&service=raketenstart", "service", "unknown service: raketenstart"),
        ("location=mond&service=beglaubigung", "location", "unknown location: mond"),
        ("location=kfz&service=beglaubigung", "service", "does not offer all"),
        ("location=mitte&service=beglaubigung&from=2026-12-10&to=2026-12-01", "to", "before"),
        ("location=mitte&service=beglaubigung&from=2026-12-01&to=2027-03-04", "to", "93 days"),
        ("location=mitte&service=beglaubigung&from=2026-02-30", "from", "from: Invalid"),
        ("location=mitte&service=Beglaubigung%27--", "service", ""),
        ("location=mitte" + "&service=beglaubigung" * 6, "service", "at most 5"),
        ("location=mitte", "service", "service"),
    ],
)
async def test_bad_searches_get_a_clear_422_and_no_500(
    client: AsyncTestClient[Litestar], query: str, field: str, message: str
) -> None:
    answer = await client.get(f"/api/v1/availability?{query}")
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "invalid_input"
    assert message in body["message"]
    assert field in body["message"]


async def test_a_search_range_of_exactly_93_days_is_fine(
    client: AsyncTestClient[Litestar],
) -> None:
    answer = await client.get(
        "/api/v1/availability?location=mitte&service=beglaubigung&from=2026-12-01&to=2027-03-03"
    )
    assert answer.status_code == 200
    assert len(answer.json()["days"]) == 93


async def test_catalogue_lists_offices_and_services_in_both_languages(
    client: AsyncTestClient[Litestar],
) -> None:
    locations = (await client.get("/api/v1/locations")).json()
    assert [loc["slug"] for loc in locations] == ["mitte", "nord", "kfz"]
    nord = locations[1]
    assert nord["address"] == {
        "street": "Lindenallee 42", "postal_code": "12349", "city": "Musterstadt"
    }  # fmt: skip
    assert {"slug": "personalausweis", "duration_minutes": 30} in nord["services"]
    services = {svc["slug"]: svc for svc in (await client.get("/api/v1/services")).json()}
    assert len(services) == 10
    ausweis = services["personalausweis"]
    assert ausweis["name"] == {
        "de": "Personalausweis beantragen",
        "en": "Apply for an identity card",
    }
    assert "Ein aktuelles biometrisches Passfoto" in ausweis["documents"]["de"]
    assert [loc["slug"] for loc in ausweis["locations"]] == ["mitte", "nord"]


async def test_regeneration_is_idempotent(db: asyncpg.Connection) -> None:
    await seed_demo(db, NOW)
    mitte = await db.fetchval("select id from location where slug = 'mitte'")
    before = await db.fetch("select starts_at, capacity from slot where location_id = $1", mitte)
    report = await regenerate_location_grid(db, mitte, NOW)
    after = await db.fetch("select starts_at, capacity from slot where location_id = $1", mitte)
    assert (report.created, report.changed, report.removed) == (0, 0, 0)
    assert before == after
    assert len(after) > 1000


@pytest.mark.parametrize(
    ("first", "last"), [("0001-01-01", "0001-01-03"), ("9999-12-29", "9999-12-31")]
)
async def test_dates_far_outside_the_horizon_are_empty_not_errors(
    client: AsyncTestClient[Litestar], first: str, last: str
) -> None:
    answer = await client.get(
        f"/api/v1/availability?location=mitte&service=beglaubigung&from={first}&to={last}"
    )
    assert answer.status_code == 200
    assert [day["starts"] for day in answer.json()["days"]] == [[], [], []]
