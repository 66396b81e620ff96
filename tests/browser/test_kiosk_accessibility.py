"""axe-core finds no serious or critical violation on the device pages, in either language:
the sign-in form (empty and refused), the kiosk's start, ticket and problem pages, and the
display board with a call on it."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.devices_support import call_next, demo_token, desk_clerk, walk_in
from tests.browser.support import Audit, Site

TITLES = {"de": ("Wartenummer ziehen", "Jetzt aufgerufen"),
          "en": ("Take a waiting number", "Now calling")}  # fmt: skip


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_device_page_passes_axe(page: Page, site: Site, lang: str) -> None:
    kiosk_title, board_title = TITLES[lang]
    audit = Audit(page)

    await page.goto(f"/kiosk/mitte/anmelden?lang={lang}")
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await audit.check("sign-in")
    await page.locator("#token").fill("bkd_not-a-token")
    await page.locator("form button[type=submit]").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await audit.check("sign-in, refused")
    await page.goto(f"/kiosk/mitte/anmelden?token={demo_token('kiosk', 'mitte')}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(kiosk_title)
    await audit.check("kiosk start")
    await page.locator(".kiosk-service").first.click()
    await expect(page.locator("#ticket-code")).to_be_visible()
    await audit.check("kiosk ticket")
    await page.goto("/kiosk/mitte")
    await page.locator("#code").fill("ZZZZZZ")
    await page.locator("#checkin button[type=submit]").click()
    await expect(page.locator(".kiosk-result__message")).to_be_visible()
    await audit.check("kiosk problem")

    clerk = await desk_clerk(site, "kfz")
    await walk_in(site, "kfz", "fahrzeug-abmelden")
    called = await call_next(site, "kfz", clerk)
    await page.goto(f"/display/kfz/anmelden?token={demo_token('display', 'kfz')}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(board_title)
    await expect(page.locator(f".calls--now tr[data-code='{called['code']}']")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await audit.check("display board")

    assert audit.pages == 6
    assert not audit.found, "\n".join(audit.found)
