"""The admin forms over HTTP, no browser: bad input is refused next to the field and changes
nothing, good input changes what the API would change and writes the API's audit entries."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking.demo import seed_demo
from tests.conftest import StaffUserFactory

Client = AsyncTestClient[Litestar]
PASSWORD = "a long admin password"
_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
async def admin(client: Client, db: asyncpg.Connection, staff_user: StaffUserFactory) -> Client:
    """``client`` signed in with a session cookie, as a browser would be."""
    await seed_demo(db, datetime.now(UTC))
    await staff_user("admin", email="chef@example.org", password=PASSWORD)
    answer = await client.post(
        "/api/v1/auth/login", json={"email": "chef@example.org", "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return client


async def send(client: Client, page: str, action: str, fields: dict[str, Any]) -> Any:
    """Open ``page`` for its form token, then post ``fields`` to ``action`` as its form."""
    shown = await client.get(page)
    assert shown.status_code == 200, shown.text
    token = _TOKEN.search(shown.text)
    assert token is not None
    return await client.post(
        action, data={"_csrf_token": token.group(1), **fields}, follow_redirects=False
    )


async def _audit(db: asyncpg.Connection, action: str) -> list[asyncpg.Record]:
    return await db.fetch("select * from audit_log where action = $1", action)


async def test_every_admin_page_opens(admin: Client) -> None:
    for path in (
        "/admin", "/admin/locations/new", "/admin/locations/mitte",
        "/admin/locations/mitte/hours", "/admin/locations/mitte/closures",
        "/admin/locations/mitte/services", "/admin/locations/mitte/desks",
        "/admin/locations/mitte/devices", "/admin/locations/mitte/notifications",
        "/admin/services", "/admin/services/new", "/admin/services/reisepass",
        "/admin/users", "/admin/users/new", "/admin/locations/mitte/statistics",
        "/admin/locations/mitte/statistics?from=2026-01-01&to=2026-03-31&lang=en",
    ):  # fmt: skip
        answer = await admin.get(path)
        assert answer.status_code == 200, f"{path}: {answer.text[:2000]}"
        assert answer.headers["cache-control"] == "no-store"


async def test_a_closure_with_its_days_reversed_is_refused_and_nothing_stored(
    admin: Client, db: asyncpg.Connection
) -> None:
    before = await db.fetchval("select count(*) from closure")
    answer = await send(
        admin, "/admin/locations/kfz/closures?lang=en", "/admin/locations/kfz/closures",
        {"first_day": "2031-03-05", "last_day": "2031-03-04", "reason_de": "X", "reason_en": ""},
    )  # fmt: skip
    assert answer.status_code == 422
    assert "Enter a last closed day that is not before the first day." in answer.text
    assert 'value="2031-03-05"' in answer.text  # what was typed stays
    assert await db.fetchval("select count(*) from closure") == before

    answer = await send(
        admin, "/admin/locations/kfz/closures", "/admin/locations/kfz/closures",
        {"first_day": "2031-03-05", "last_day": "2031-03-06", "reason_de": "Schulung",
         "reason_en": "Training"},
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/locations/kfz/closures?done=closure-added"
    assert await db.fetchval("select count(*) from closure") == before + 1
    [entry] = await _audit(db, "closure.create")
    assert entry["actor_kind"] == "staff"


async def test_overlapping_windows_are_refused_and_the_week_stays(
    admin: Client, db: asyncpg.Connection
) -> None:
    rules = await db.fetch("select * from opening_rule order by id")
    fields = {
        "weekday": ["6", "6"], "opens_at": ["09:00", "10:00"], "closes_at": ["11:00", "12:00"],
        "desks": ["1", "1"], "valid_from": ["", ""], "valid_until": ["", ""],
    }  # fmt: skip
    answer = await send(
        admin, "/admin/locations/kfz/hours?lang=en", "/admin/locations/kfz/hours", fields
    )
    assert answer.status_code == 422
    assert "This window overlaps another window of the same weekday." in answer.text
    assert 'id="w1-opens_at"' in answer.text
    assert await db.fetch("select * from opening_rule order by id") == rules
    assert not await _audit(db, "opening_rule.replace")


async def test_a_taken_slug_is_refused_next_to_the_field(admin: Client) -> None:
    answer = await send(
        admin, "/admin/locations/new?lang=en", "/admin/locations",
        {"slug": "mitte", "name_de": "Doppelt", "name_en": "Twice", "time_zone": "Europe/Berlin",
         "grid_minutes": "10", "horizon_days": "60", "min_lead_minutes": "60",
         "cancel_deadline_minutes": "1440", "reminder_minutes": "1440",
         "allocation_mode": "fcfs", "active": "true"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert "This short name is in use already." in answer.text


async def test_a_location_form_sends_only_what_changed(
    admin: Client, db: asyncpg.Connection
) -> None:
    shown = await admin.get("/admin/locations/nord")
    shown_values = re.findall(r'id="(\w+)" name="\w+" type="\w+" value="([^"]*)"', shown.text)
    fields = {name: html.unescape(value) for name, value in shown_values}
    fields |= {"allocation_mode": "fcfs", "requires_confirmation": "true", "active": "true",
               "city": "Neustadt"}  # fmt: skip
    answer = await send(admin, "/admin/locations/nord", "/admin/locations/nord", fields)
    assert answer.status_code == 303, answer.text
    assert await db.fetchval("select city from location where slug = 'nord'") == "Neustadt"
    [entry] = await _audit(db, "location.update")
    assert entry["detail"] == '{"fields": ["city"]}'


async def test_a_device_token_is_shown_once(admin: Client, db: asyncpg.Connection) -> None:
    answer = await send(
        admin,
        "/admin/locations/kfz/devices",
        "/admin/locations/kfz/devices",
        {"kind": "kiosk", "name": "Kiosk Eingang"},
    )
    assert answer.status_code == 303
    assert "bkd_" not in answer.headers["location"]
    shown = await admin.get("/admin/locations/kfz/devices")
    token = re.search(r'id="device-token">(bkd_[^<]+)<', shown.text)
    assert token is not None
    device = await admin.get("/api/v1/kiosk", headers={"Authorization": f"Bearer {token.group(1)}"})
    assert device.status_code == 200
    again = await admin.get("/admin/locations/kfz/devices")
    assert token.group(1) not in again.text
    assert len(await _audit(db, "device.register")) == 1


async def test_a_desk_without_a_name_is_refused_and_none_is_added(
    admin: Client, db: asyncpg.Connection
) -> None:
    before = await db.fetchval("select count(*) from desk")
    answer = await send(
        admin, "/admin/locations/mitte/desks?lang=en", "/admin/locations/mitte/desks",
        {"name": "", "services": ["reisepass", "nothing-here"]},
    )  # fmt: skip
    assert answer.status_code == 422
    assert 'id="new-name"' in answer.text
    assert "Enter a name of at most 200 characters, like Schalter 5." in answer.text
    assert await db.fetchval("select count(*) from desk") == before


async def test_a_location_admin_cannot_make_an_admin(
    client: Client, db: asyncpg.Connection, staff_user: StaffUserFactory
) -> None:
    await seed_demo(db, datetime.now(UTC))
    await staff_user("location_admin", ["mitte"], email="lena@example.org", password=PASSWORD)
    answer = await client.post(
        "/api/v1/auth/login", json={"email": "lena@example.org", "password": PASSWORD}
    )
    assert answer.status_code == 200
    before = await db.fetchval("select count(*) from staff_user")
    answer = await send(
        client, "/admin/users/new?lang=en", "/admin/users",
        {"email": "new@example.org", "display_name": "New", "role": "admin",
         "locations": ["mitte"], "password": ""},
    )  # fmt: skip
    assert answer.status_code == 403
    assert "You cannot grant this role or these locations" in answer.text
    assert 'value="new@example.org"' in answer.text
    assert await db.fetchval("select count(*) from staff_user") == before
    assert (await client.get("/admin/services/new")).status_code == 403
    assert (await client.get("/admin/locations/nord")).status_code == 403


async def test_a_saved_week_is_audited_as_the_api_audits_it(
    admin: Client, db: asyncpg.Connection
) -> None:
    fields = {
        "weekday": ["1", "3"], "opens_at": ["08:00", "08:00"], "closes_at": ["12:00", "12:00"],
        "desks": ["2", "2"], "valid_from": ["", "2030-01-01"], "valid_until": ["", ""],
    }  # fmt: skip
    answer = await send(admin, "/admin/locations/kfz/hours", "/admin/locations/kfz/hours", fields)
    assert answer.status_code == 303
    [entry] = await _audit(db, "opening_rule.replace")
    assert entry["detail"] == '{"rules": 2}'
    rules = await db.fetch(
        "select weekday, valid_from from opening_rule r join location l on l.id = r.location_id"
        " where l.slug = 'kfz' order by weekday"
    )
    assert [(r["weekday"], str(r["valid_from"])) for r in rules] == [
        (1, "2000-01-01"),
        (3, "2030-01-01"),
    ]
