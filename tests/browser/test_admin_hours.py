"""Opening hours changed on the admin pages are what citizens can book."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from tests.browser.admin_support import ADMIN, sign_in

# Kfz is closed on weekends; no other test books there on a Saturday.
CITIZEN_MONTH = "/zeit?service=fahrzeug-abmelden&location=kfz&month={month}"


def _a_saturday() -> date:
    """A Saturday well inside the booking horizon, past the lead time, and no holiday."""
    day = datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=8)
    day += timedelta(days=(5 - day.weekday()) % 7)
    while (day.month, day.day) in {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1)}:
        day += timedelta(days=7)
    return day


async def _free_on(page: Page, day: date) -> int:
    await page.goto(CITIZEN_MONTH.format(month=day.strftime("%Y-%m")))
    return await page.locator(f"a.day--free[href*='day={day.isoformat()}']").count()


async def test_a_saturday_window_opens_saturdays_for_booking(page: Page) -> None:
    saturday = _a_saturday()
    assert await _free_on(page, saturday) == 0

    await sign_in(page, ADMIN)
    await page.goto("/admin/locations/kfz/hours")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Öffnungszeiten")
    week = page.locator("fieldset[data-weekday='6']")
    try:
        await week.get_by_role("button", name="Zeitfenster hinzufügen").click()
        window = week.locator("[data-window]").last
        await window.get_by_label("Öffnet").fill("09:00")
        await window.get_by_label("Schließt").fill("12:00")
        await window.get_by_label("Schalter").fill("2")
        await page.get_by_role("button", name="Öffnungszeiten speichern").click()
        await expect(page.get_by_role("status")).to_contain_text("gespeichert")
        await expect(week.locator("[data-window] input[name=opens_at]")).to_have_value("09:00")

        assert await _free_on(page, saturday) == 1
        await page.locator(f"a.day--free[href*='day={saturday.isoformat()}']").click()
        await expect(page.get_by_text("09:00", exact=True)).to_be_visible()
    finally:
        await page.goto("/admin/locations/kfz/hours")
        week = page.locator("fieldset[data-weekday='6']")
        removes = week.get_by_role("button", name=re.compile("^Zeitfenster entfernen"))
        for remove in await removes.all():
            await remove.click()
        await page.get_by_role("button", name="Öffnungszeiten speichern").click()
        await expect(page.get_by_role("status")).to_contain_text("gespeichert")
    assert await _free_on(page, saturday) == 0


async def test_wrong_hours_are_refused_next_to_the_field_and_nothing_changes(page: Page) -> None:
    await sign_in(page, ADMIN)
    await page.goto("/admin/locations/kfz/hours?lang=en")
    monday = page.locator("fieldset[data-weekday='1']")
    first = monday.locator("[data-window]").first
    await first.get_by_label("Closes").fill("07:00")  # before it opens at 07:30
    await page.get_by_role("button", name="Save opening hours").click()

    await expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    error = first.locator(".error-message")
    await expect(error).to_contain_text("later than the opening time")
    await expect(first.get_by_label("Closes")).to_have_value("07:00")  # kept as typed
    await expect(first.get_by_label("Closes")).to_have_attribute("aria-invalid", "true")

    await page.goto("/admin/locations/kfz/hours?lang=en")
    first = page.locator("fieldset[data-weekday='1'] [data-window]").first
    await expect(first.get_by_label("Closes")).to_have_value("12:30")  # nothing saved
