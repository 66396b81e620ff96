"""What the kiosk and display board tests share: signing a device in, and the office's
people and appointments, set up straight in the site's database where no page makes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Page, expect

from booking import tokens
from booking.auth.tokens import issue_api_token, register_device
from booking.db import appointments as appointment_q
from booking.db import catalogue
from booking.db import desks as desk_q
from booking.db import devices as device_q
from booking.db import staff as staff_q
from booking.db.appointments import NewAppointment
from booking.db.audit import SYSTEM
from tests.browser.support import Site


def demo_token(kind: str, slug: str) -> str:
    return f"bkd_demo-{kind}-{slug}"


async def sign_in(page: Page, kind: str, slug: str, token: str) -> None:
    """Through the form, as an administrator setting a device up would."""
    await page.goto(f"/{kind}/{slug}/anmelden")
    await page.locator("#token").fill(token)
    await page.locator("form button[type=submit]").click()
    await expect(page).to_have_url(f"{page.url.split('/' + kind)[0]}/{kind}/{slug}")


async def new_device(site: Site, slug: str, kind: str) -> tuple[int, str]:
    """A device of its own (the demo ones are shared): its id and token."""
    conn = await asyncpg.connect(site.database)
    try:
        location_id = (await staff_q.location_ids(conn, [slug]))[slug]
        device, token = await register_device(conn, SYSTEM, location_id, kind, f"test {kind}")
    finally:
        await conn.close()
    return device.id, token


async def revoke(site: Site, slug: str, device_id: int) -> None:
    conn = await asyncpg.connect(site.database)
    try:
        location_id = (await staff_q.location_ids(conn, [slug]))[slug]
        assert await device_q.revoke_device(conn, location_id, device_id, datetime.now(UTC))
    finally:
        await conn.close()


async def desk_clerk(site: Site, slug: str) -> str:
    """A desk member of staff of their own, sitting at a desk of their own; their API token."""
    conn = await asyncpg.connect(site.database)
    try:
        async with conn.transaction():
            location_id = (await staff_q.location_ids(conn, [slug]))[slug]
            offered = await catalogue.location_services(conn, location_id)
            services = [await catalogue.service_id(conn, s.service_slug) for s in offered]
            desk_id = await desk_q.insert_desk(conn, location_id, f"Test {uuid.uuid4().hex[:4]}")
            await desk_q.set_desk_services(conn, desk_id, [s for s in services if s is not None])
            user_id = await staff_q.insert_account(
                conn,
                staff_q.NewAccount(
                    email=f"desk-{uuid.uuid4().hex[:10]}@example.org",
                    display_name="Test Desk",
                    role="desk",
                    password_hash=None,
                ),
            )
            await staff_q.set_locations(conn, user_id, [location_id])
            assert await desk_q.sit_at(conn, location_id, desk_id, user_id, datetime.now(UTC))
            _, token = await issue_api_token(conn, SYSTEM, user_id, "tests")
    finally:
        await conn.close()
    return token


async def appointment_now(site: Site, slug: str, service: str, *, minutes: int = 5) -> str:
    """A booked appointment starting ``minutes`` from now, so it can check in now; its code."""
    conn = await asyncpg.connect(site.database)
    try:
        async with conn.transaction():
            location_id = (await staff_q.location_ids(conn, [slug]))[slug]
            service_id = await catalogue.service_id(conn, service)
            assert service_id is not None
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)
            code = tokens.new_code()
            inserted = await appointment_q.insert_appointment(
                conn,
                NewAppointment(
                    code=code, location_id=location_id, starts_at=start,
                    ends_at=start + timedelta(minutes=10), status="booked",
                    citizen_name="Erika Mustermann", email=None, phone=None, language="de",
                    manage_token_hash=b"\0" * 32, confirm_token_hash=None,
                    token_salt=tokens.new_salt(), pending_until=None,
                    service_key=str(service_id), booked_by="staff",
                ),
            )  # fmt: skip
            assert inserted is not None
            await appointment_q.insert_appointment_services(conn, inserted.id, [(service_id, 1)])
    finally:
        await conn.close()
    return code


def api(site: Site, token: str) -> httpx.AsyncClient:
    """The JSON API with a bearer token, from a client address of its own."""
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.77"}
    return httpx.AsyncClient(base_url=site.url, headers=headers, timeout=30)


async def walk_in(site: Site, slug: str, service: str) -> dict[str, Any]:
    async with api(site, demo_token("kiosk", slug)) as kiosk:
        answer = await kiosk.post("/api/v1/kiosk/tickets", json={"service": service})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def call_next(site: Site, slug: str, clerk: str) -> dict[str, Any]:
    """The clerk's desk calls its next ticket."""
    async with api(site, clerk) as desk:
        answer = await desk.post(f"/api/v1/staff/locations/{slug}/call-next")
    assert answer.status_code == 200, answer.text
    called: dict[str, Any] = answer.json()["ticket"]
    assert called is not None
    return called


async def no_show(site: Site, slug: str, clerk: str, ticket_id: int) -> None:
    """The desk gives up on its called ticket, so it may call the next."""
    async with api(site, clerk) as desk:
        answer = await desk.post(f"/api/v1/staff/locations/{slug}/tickets/{ticket_id}/no-show")
    assert answer.status_code == 200, answer.text
