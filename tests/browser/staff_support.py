"""What the staff and ticket page tests share: an office of their own, and signing in.

Each test opens its own office (``tests.office``) with its own desk staff member, so the
demo offices' queues, which other tests fill, never decide which ticket a test calls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from playwright.async_api import Page, expect

from booking.auth.passwords import hash_password
from booking.db import staff as staff_q
from tests import office
from tests.browser.support import Site

PASSWORD = "richtig-geheim-42"


@dataclass(frozen=True)
class StaffOffice:
    slug: str
    email: str
    display_token: str
    kiosk_token: str


async def staff_office(site: Site, *, role: str = "desk") -> StaffOffice:
    """A fresh office with one desk ("Schalter 3", serving everything) and a staff member
    working there, who signs in with ``PASSWORD``."""
    slug = f"amt-{uuid.uuid4().hex[:8]}"
    email = f"staff-{uuid.uuid4().hex[:8]}@example.org"
    conn = await asyncpg.connect(site.database)
    try:
        made = await office.open_office(conn, slug, {"Schalter 3": office.EVERYTHING})
        user_id = await staff_q.insert_account(
            conn,
            staff_q.NewAccount(
                email=email, display_name="Dana Desk", role=role,
                password_hash=hash_password(PASSWORD),
            ),
        )  # fmt: skip
        await staff_q.set_locations(conn, user_id, [made.location_id])
    finally:
        await conn.close()
    return StaffOffice(slug=slug, email=email, display_token=made.display, kiosk_token=made.kiosk)


async def book_now(site: Site, slug: str, *, minutes_ago: int = 5) -> str:
    """An appointment at the office that started ``minutes_ago``: it can check in now."""
    conn = await asyncpg.connect(site.database)
    try:
        location_id = await conn.fetchval("select id from location where slug = $1", slug)
        services = {
            row["slug"]: row["id"]
            for row in await conn.fetch("select id, slug from service where slug = any($1)",
                                        list(office.SERVICES))
        }  # fmt: skip
        made = office.Office(
            location_id=location_id, slug=slug, services=services, desks={}, kiosk="", display=""
        )
        now = datetime.now(UTC)
        # Today's, as the desk's list shows it: not before the office's midnight.
        start = max(now - timedelta(minutes=minutes_ago), office.day_began(now))
        return await office.appointment(conn, made, "ausweis", start)
    finally:
        await conn.close()


async def kiosk_ticket(page: Page, kiosk_token: str, service: str) -> dict[str, str]:
    """A walk-in ticket as the kiosk prints it: its code and the link its QR code carries."""
    answer = await page.request.post(
        "/api/v1/kiosk/tickets",
        data={"service": service},
        headers={"Authorization": f"Bearer {kiosk_token}"},
    )
    assert answer.ok, await answer.text()
    found = await answer.json()
    return {"code": found["code"], "path": f"/t/{found['public_id']}"}


async def sign_in(page: Page, email: str, password: str = PASSWORD, next_path: str = "") -> None:
    """Through the sign-in page, as a person would."""
    await page.goto("/staff/login" + (f"?next={next_path}" if next_path else ""))
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.locator("form.form button[type=submit]").click()


async def sit_down(page: Page, slug: str) -> None:
    """Signed in: take the office's only desk."""
    await page.goto(f"/staff/{slug}/desks")
    await page.locator("form button[type=submit]").last.click()
    await expect(page.locator("h1")).to_have_text("Schalter 3")
