"""Opening rules and closures through the admin API: every change reshapes the slot grid at once.

The clock stands at Monday 1 June 2026, 06:00 in Berlin; test locations use a 30-minute grid
and look 14 days ahead, so the horizon holds the Mondays 1, 8 and 15 June.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from booking.api.app import create_app
from booking.clock import FixedClock
from booking.settings import Settings

Client = AsyncTestClient[Litestar]
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
LOCATION = "/api/v1/admin/locations/mitte"
RULES = f"{LOCATION}/opening-rules"
MONDAY_MORNING = {"weekday": 1, "opens_at": "08:00", "closes_at": "12:00", "desks": 2}
NO_CHANGE = {"created": 0, "changed": 0, "removed": 0}


@pytest.fixture
async def client(
    settings: Settings, redis: Redis, staff_token: Callable[..., Awaitable[str]]
) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings, FixedClock(NOW))) as test_client:
        test_client.headers["Authorization"] = f"Bearer {await staff_token('admin')}"
        created = await test_client.post(
            "/api/v1/admin/locations",
            json={"slug": "mitte", "name_de": "Mitte", "name_en": "Centre", "grid_minutes": 30,
                  "horizon_days": 14},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        yield test_client


async def units_by_day(db: asyncpg.Connection) -> dict[str, int]:
    """Grid units per local day, as citizens of the location would see them."""
    rows = await db.fetch(
        """
        select (starts_at at time zone 'Europe/Berlin')::date as day, count(*) as units
          from slot group by 1 order by 1
        """
    )
    return {row["day"].isoformat(): row["units"] for row in rows}


async def book(db: asyncpg.Connection, code: str, starts_at: datetime, ends_at: datetime) -> None:
    """What a booking leaves behind: the appointment and its units counted as booked."""
    await db.execute(
        """
        insert into appointment (code, location_id, starts_at, ends_at, manage_token_hash)
        select $1, id, $2, $3, '\\x00' from location where slug = 'mitte'
        """,
        code,
        starts_at,
        ends_at,
    )
    await db.execute(
        "update slot set booked = booked + 1 where starts_at >= $1 and starts_at < $2",
        starts_at,
        ends_at,
    )


def counts(report: dict[str, Any]) -> dict[str, int]:
    return {key: report[key] for key in ("created", "changed", "removed")}


async def test_a_rule_opens_units_and_a_closure_takes_its_day_away(
    client: Client, db: asyncpg.Connection
) -> None:
    added = await client.post(RULES, json=MONDAY_MORNING)
    assert added.status_code == 201, added.text
    rule = added.json()["rule"]
    assert rule == {**MONDAY_MORNING, "id": rule["id"], "valid_from": "2000-01-01",
                    "valid_until": None}  # fmt: skip
    assert counts(added.json()["grid"]) == {"created": 24, "changed": 0, "removed": 0}
    assert await units_by_day(db) == {"2026-06-01": 8, "2026-06-08": 8, "2026-06-15": 8}

    closed = await client.post(
        f"{LOCATION}/closures",
        json={"first_day": "2026-06-08", "last_day": "2026-06-08", "reason_de": "Betriebsausflug"},
    )
    assert closed.status_code == 201, closed.text
    closure = closed.json()["closure"]
    assert closure["reason_en"] == ""
    assert counts(closed.json()["grid"]) == {"created": 0, "changed": 0, "removed": 8}
    assert await units_by_day(db) == {"2026-06-01": 8, "2026-06-15": 8}
    assert (await client.get(f"{LOCATION}/closures")).json() == [closure]

    reopened = await client.delete(f"{LOCATION}/closures/{closure['id']}")
    assert reopened.status_code == 200, reopened.text
    assert counts(reopened.json()["grid"]) == {"created": 8, "changed": 0, "removed": 0}
    assert await units_by_day(db) == {"2026-06-01": 8, "2026-06-08": 8, "2026-06-15": 8}
    assert (await client.get(f"{LOCATION}/closures")).json() == []


async def test_regenerating_twice_changes_nothing_the_second_time(
    client: Client, db: asyncpg.Connection
) -> None:
    # A rule written behind the API's back: only an explicit regeneration picks it up.
    await db.execute(
        """
        insert into opening_rule (location_id, weekday, opens_at, closes_at, desks)
        select id, 2, '08:00', '10:00', 1 from location where slug = 'mitte'
        """
    )
    first = await client.post(f"{LOCATION}/grid")
    assert first.status_code == 200, first.text
    assert counts(first.json()) == {"created": 8, "changed": 0, "removed": 0}
    second = await client.post(f"{LOCATION}/grid")
    assert second.json() == {
        "location": "mitte", **NO_CHANGE, "conflict_units": [], "conflicting_appointments": []
    }  # fmt: skip


async def test_shrinking_below_the_bookings_reports_them_and_keeps_their_capacity(
    client: Client, db: asyncpg.Connection
) -> None:
    await client.post(RULES, json=MONDAY_MORNING)
    # 8 June, 09:00-10:00 in Berlin: two appointments fill both desks of the 09:00 unit.
    nine, half_past, ten = (datetime(2026, 6, 8, hour, minute, tzinfo=UTC)
                            for hour, minute in ((7, 0), (7, 30), (8, 0)))  # fmt: skip
    await book(db, "AAAAAA", nine, ten)
    await book(db, "BBBBBB", nine, half_past)

    one_desk = await client.put(RULES, json=[{**MONDAY_MORNING, "desks": 1}])
    assert one_desk.status_code == 200, one_desk.text
    report = one_desk.json()["grid"]
    assert counts(report) == {"created": 0, "changed": 24, "removed": 0}
    assert report["conflict_units"] == [
        {"starts_at": "2026-06-08T07:00:00Z", "rule_capacity": 1, "booked": 2}
    ]
    assert [a["code"] for a in report["conflicting_appointments"]] == ["AAAAAA", "BBBBBB"]
    capacity = await db.fetch(
        "select starts_at, rule_capacity, capacity, booked from slot where booked > 0"
        " order by starts_at"
    )
    assert [tuple(row) for row in capacity] == [(nine, 1, 2, 2), (half_past, 1, 1, 1)]

    # Without any rule the booked units stay, at their bookings, and stay reported.
    [rule] = one_desk.json()["rules"]
    closed = await client.delete(f"{RULES}/{rule['id']}")
    assert counts(closed.json()["grid"]) == {"created": 0, "changed": 2, "removed": 22}
    capacity = await db.fetch("select starts_at, rule_capacity, capacity, booked from slot")
    assert sorted(tuple(row) for row in capacity) == [(nine, 0, 2, 2), (half_past, 0, 1, 1)]
    standing = (await client.get(f"{LOCATION}/grid/conflicts")).json()
    assert counts(standing) == NO_CHANGE
    assert standing["conflict_units"] == [
        {"starts_at": "2026-06-08T07:00:00Z", "rule_capacity": 0, "booked": 2},
        {"starts_at": "2026-06-08T07:30:00Z", "rule_capacity": 0, "booked": 1},
    ]
    assert [a["code"] for a in standing["conflicting_appointments"]] == ["AAAAAA", "BBBBBB"]


async def test_overlapping_windows_are_refused_unless_their_validity_is_apart(
    client: Client, db: asyncpg.Connection
) -> None:
    until_june = {**MONDAY_MORNING, "valid_until": "2026-06-30"}
    assert (await client.post(RULES, json=until_june)).status_code == 201

    overlap = await client.post(RULES, json={**MONDAY_MORNING, "opens_at": "11:30",
                                             "closes_at": "13:00"})  # fmt: skip
    assert overlap.status_code == 422
    body = overlap.json()
    assert body["code"] == "invalid_input"
    assert body["message"] == (
        "Monday 11:30-13:00 (from 2000-01-01, open-ended) overlaps Monday 08:00-12:00"
        " (from 2000-01-01, until 2026-06-30); windows of one weekday must not overlap"
        " while both are valid."
    )
    assert body["details"][0]["field"] == "opens_at"

    afternoon = {**MONDAY_MORNING, "opens_at": "12:00", "closes_at": "16:00"}
    assert (await client.post(RULES, json=afternoon)).status_code == 201  # touching is fine
    july = {**MONDAY_MORNING, "valid_from": "2026-07-01", "desks": 3}
    assert (await client.post(RULES, json=july)).status_code == 201
    june_30 = {**MONDAY_MORNING, "valid_from": "2026-06-30"}
    assert (await client.post(RULES, json=june_30)).status_code == 422
    tuesday = {**MONDAY_MORNING, "weekday": 2}
    assert (await client.post(RULES, json=tuesday)).status_code == 201

    before = (await client.get(RULES)).json()
    assert len(before) == 4
    week = [MONDAY_MORNING, tuesday, {**MONDAY_MORNING, "opens_at": "09:00", "closes_at": "10:00"}]
    refused = await client.put(RULES, json=week)
    assert refused.status_code == 422
    assert refused.json()["details"][0]["field"] == "[2].opens_at"
    assert (await client.get(RULES)).json() == before
    assert await db.fetchval("select count(*) from opening_rule") == 4


async def test_put_replaces_the_whole_week(client: Client, db: asyncpg.Connection) -> None:
    old = (await client.post(RULES, json=MONDAY_MORNING)).json()["rule"]
    week = [
        {"weekday": 4, "opens_at": "10:00", "closes_at": "12:00", "desks": 1},
        {"weekday": 2, "opens_at": "08:00", "closes_at": "09:00", "desks": 2,
         "valid_until": "2026-06-08"},
    ]  # fmt: skip
    replaced = await client.put(RULES, json=week)
    assert replaced.status_code == 200, replaced.text
    rules = replaced.json()["rules"]
    assert [(r["weekday"], r["opens_at"]) for r in rules] == [(2, "08:00"), (4, "10:00")]
    assert old["id"] not in {r["id"] for r in rules}
    assert counts(replaced.json()["grid"]) == {"created": 2 + 8, "changed": 0, "removed": 24}
    assert await units_by_day(db) == {
        "2026-06-02": 2, "2026-06-04": 4, "2026-06-11": 4
    }  # fmt: skip
    assert (await client.get(RULES)).json() == rules
    too_many = await client.put(RULES, json=[MONDAY_MORNING] * 201)
    assert too_many.status_code == 422
    emptied = await client.put(RULES, json=[])
    assert emptied.json()["rules"] == []
    assert await units_by_day(db) == {}


async def test_grid_settings_of_the_location_reshape_the_grid(
    client: Client, db: asyncpg.Connection
) -> None:
    await client.post(RULES, json=MONDAY_MORNING)
    hourly = await client.patch(LOCATION, json={"grid_minutes": 60})
    assert counts(hourly.json()["grid"]) == {"created": 0, "changed": 0, "removed": 12}
    assert await units_by_day(db) == {"2026-06-01": 4, "2026-06-08": 4, "2026-06-15": 4}

    london = await client.patch(LOCATION, json={"time_zone": "Europe/London"})
    assert london.json()["location"]["time_zone"] == "Europe/London"
    # 08:00-12:00 in London is 07:00-11:00 UTC: the 07:00 to 09:00 units close an hour later.
    assert counts(london.json()["grid"]) == {"created": 3, "changed": 9, "removed": 3}
    first = await db.fetchval("select min(starts_at) from slot")
    assert first == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)  # 08:00 in London

    renamed = await client.patch(
        LOCATION, json={"name_de": "Zentrum", "time_zone": "Europe/London"}
    )
    assert renamed.json()["grid"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weekday": 8}, "weekday"),
        ({"weekday": 0}, "weekday"),
        ({"weekday": "Monday"}, "weekday"),
        ({"closes_at": "07:00"}, "closes_at"),
        ({"closes_at": "08:00"}, "closes_at"),
        ({"opens_at": "25:00"}, "opens_at"),
        ({"opens_at": "8:00"}, "opens_at"),
        ({"opens_at": "08:00:00"}, "opens_at"),
        ({"opens_at": ""}, "opens_at"),
        ({"desks": -1}, "desks"),
        ({"desks": 10**20}, "desks"),
        ({"desks": None}, "desks"),
        ({"valid_from": "2026-07-01", "valid_until": "2026-06-30"}, "valid_until"),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"valid_from": None}, "valid_from"),
        ({"room": 7}, "data"),
    ],
)
async def test_bad_rules_are_rejected_and_change_nothing(
    client: Client, db: asyncpg.Connection, change: dict[str, Any], field: str
) -> None:
    answer = await client.post(RULES, json={**MONDAY_MORNING, **change})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_input"
    assert [problem["field"] for problem in answer.json()["details"]] == [field]
    whole_week = await client.put(RULES, json=[{**MONDAY_MORNING, **change}])
    assert whole_week.status_code == 422
    assert await db.fetchval("select count(*) from opening_rule") == 0
    assert await units_by_day(db) == {}


@pytest.mark.parametrize(
    "body",
    [
        {"first_day": "2026-06-09", "last_day": "2026-06-08"},
        {"first_day": "2026-06-08"},
        {"first_day": "08.06.2026", "last_day": "2026-06-08"},
        {"first_day": 20260608, "last_day": "2026-06-08"},
        {"first_day": "2026-06-08", "last_day": "2026-06-08", "reason_de": "a\nb"},
        {"first_day": "2026-06-08", "last_day": "2026-06-08", "reason_en": "x" * 201},
        [],
    ],
)
async def test_bad_closures_are_rejected(
    client: Client, db: asyncpg.Connection, body: object
) -> None:
    answer = await client.post(f"{LOCATION}/closures", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_input"
    assert await db.fetchval("select count(*) from closure") == 0


async def test_unknown_locations_rules_and_closures_are_not_found(client: Client) -> None:
    elsewhere = await client.post(
        "/api/v1/admin/locations", json={"slug": "nord", "name_de": "Nord", "name_en": "North"}
    )
    assert elsewhere.status_code == 201
    nord_rule = (
        await client.post("/api/v1/admin/locations/nord/opening-rules", json=MONDAY_MORNING)
    ).json()["rule"]
    nowhere = "/api/v1/admin/locations/nirgendwo"
    for method, path in [
        ("GET", f"{nowhere}/opening-rules"),
        ("POST", f"{nowhere}/grid"),
        ("GET", f"{nowhere}/grid/conflicts"),
        ("GET", f"{nowhere}/closures"),
        ("DELETE", f"{nowhere}/closures/1"),
        ("DELETE", f"{RULES}/{nord_rule['id']}"),  # another location's rule
        ("DELETE", f"{LOCATION}/closures/424242"),
        ("DELETE", f"{RULES}/not-a-number"),
    ]:
        answer = await client.request(method, path)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["code"] == "not_found"
    posted = await client.post(f"{nowhere}/opening-rules", json=MONDAY_MORNING)
    assert posted.status_code == 404
    huge = await client.delete(f"{RULES}/{10**30}")
    assert huge.status_code == 422  # no id that large can exist, and it is no server error
    assert len((await client.get("/api/v1/admin/locations/nord/opening-rules")).json()) == 1


async def test_hours_in_the_past_leave_past_units_alone(
    client: Client, db: asyncpg.Connection
) -> None:
    # A unit earlier today, already served: regeneration only shapes the future.
    past = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    await db.execute(
        """
        insert into slot (location_id, starts_at, window_ends_at, rule_capacity, capacity, booked)
        select id, $1, $2, 1, 1, 1 from location where slug = 'mitte'
        """,
        past,
        datetime(2026, 6, 1, 4, 0, tzinfo=UTC),
    )
    await client.post(RULES, json={**MONDAY_MORNING, "valid_from": date(2026, 6, 2).isoformat()})
    assert await db.fetchval("select count(*) from slot where starts_at = $1", past) == 1
    assert await units_by_day(db) == {"2026-06-01": 1, "2026-06-08": 8, "2026-06-15": 8}
