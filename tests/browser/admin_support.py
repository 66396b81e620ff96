"""What the admin page tests share: signing in as a demo login."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from booking.demo import DEMO_PASSWORD

ADMIN = "admin@musterstadt.example"
LOCATION_ADMIN = "leitung.mitte@musterstadt.example"
DESK = "schalter.mitte@musterstadt.example"


async def sign_in(page: Page, email: str) -> None:
    """Through the staff login page, which the admin pages send a signed-out browser to."""
    await page.goto("/admin")
    await expect(page).to_have_url(re.compile(r"/staff/login\?next=%2Fadmin$"))
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(DEMO_PASSWORD)
    await page.locator("main form button[type=submit]").click()
    await expect(page).not_to_have_url(re.compile("/staff/login"))
