"""axe-core finds no serious or critical violation on any admin page, in either language,
with every form also shown with its errors."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.admin_support import ADMIN, sign_in
from tests.browser.support import Audit


async def _send_empty(page: Page, audit: Audit, name: str, form: str, fill: dict[str, str]) -> None:
    """Fill ``fill`` (selector -> text) in ``form``, send it, and check the page with errors."""
    target = page.locator(form)
    for selector, text in fill.items():
        target = target.filter(has=page.locator(selector))
        await page.locator(selector).fill(text)
    await target.locator("button[type=submit]").click()
    await expect(page.locator(".error-summary")).to_be_visible()
    await audit.check(name)


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_admin_page_passes_axe(page: Page, lang: str) -> None:
    await sign_in(page, ADMIN)
    audit = Audit(page)
    base = "/admin/locations/kfz"
    await page.goto(f"/admin?lang={lang}")
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await audit.check("dashboard")

    await page.goto(base)
    await audit.check("location settings")
    await _send_empty(
        page,
        audit,
        "location settings, errors",
        "main > form",
        {"#time_zone": "Mars/Olympus", "#grid_minutes": "1"},
    )
    await page.goto("/admin/locations/new")
    await audit.check("new location")
    await _send_empty(page, audit, "new location, errors", "main > form", {"#slug": "Not A Slug"})

    await page.goto(f"{base}/hours")
    await audit.check("opening hours")
    await _send_empty(
        page, audit, "opening hours, errors", "main > form", {"#w0-closes_at": "06:00"}
    )
    await page.goto(f"{base}/closures")
    await audit.check("closures")
    await _send_empty(page, audit, "closures, errors", "main > form", {})

    await page.goto(f"{base}/services")
    await audit.check("services offered")
    await _send_empty(
        page,
        audit,
        "services offered, errors",
        "form.offer-form",
        {"#duration-fahrzeug-zulassen": "9999"},
    )

    await page.goto(f"{base}/desks")
    await audit.check("desks")
    await _send_empty(page, audit, "desks, errors", "main > form", {})

    await page.goto(f"{base}/devices")
    await audit.check("devices")
    await _send_empty(page, audit, "devices, errors", "main > form", {})
    await page.locator("#name").fill(f"Axe kiosk {lang}")
    await page.locator("main > form button[type=submit]").click()
    await expect(page.locator("#device-token")).to_be_visible()
    await audit.check("devices, new token")

    await page.goto(f"{base}/notifications")
    await audit.check("failed notifications")
    await page.goto(f"{base}/statistics")
    await audit.check("statistics")
    await _send_empty(
        page,
        audit,
        "statistics, errors",
        "main > form",
        {"#from": "2026-05-01", "#to": "2026-04-01"},
    )

    await page.goto("/admin/services")
    await audit.check("services")
    await page.goto("/admin/services/new")
    await audit.check("new service")
    await _send_empty(page, audit, "new service, errors", "main > form", {"#queue_prefix": "ab"})
    await page.goto("/admin/services/reisepass")
    await audit.check("change service")

    await page.goto("/admin/users")
    await audit.check("staff")
    await page.goto("/admin/users/new")
    await audit.check("new staff member")
    await _send_empty(page, audit, "new staff member, errors", "main > form", {"#email": "nope"})
    await page.goto("/admin/users")
    await page.locator("main table a").first.click()
    await audit.check("change staff member")

    await page.goto("/admin/locations/nowhere/hours")
    await audit.check("not found")

    assert audit.pages == 28
    assert not audit.found, "\n".join(audit.found)
