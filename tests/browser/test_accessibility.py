"""axe-core finds no serious or critical violation on any citizen page, in either language.

One walk per language visits every page, error states included, and checks each with axe;
all findings are reported together.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import Audit, Site, later_in_next_month, link_in

WORDS = {
    "de": {"continue": "Weiter", "book": "Termin verbindlich buchen", "manage": "Termin verwalten",
           "move": "Termin verschieben", "cancel": "Termin absagen", "confirm": "Bitte bestätigen"},
    "en": {"continue": "Continue", "book": "Book this appointment",
           "manage": "Manage your appointment", "move": "Choose another time",
           "cancel": "Cancel appointment", "confirm": "Please confirm"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_citizen_page_passes_axe(page: Page, site: Site, email: str, lang: str) -> None:
    words = WORDS[lang]
    audit = Audit(page)
    proceed = page.get_by_role("button", name=words["continue"], exact=True)

    await page.goto(f"/?lang={lang}")
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await audit.check("services")
    await proceed.click()
    await audit.check("services, nothing chosen")
    await page.locator("#service-wohnsitz-anmelden").check()
    await proceed.click()
    await audit.check("location")
    await page.locator("#location-nord").check()
    await proceed.click()
    await audit.check("day and time")
    await later_in_next_month(page)
    await proceed.click()
    await audit.check("details")
    await proceed.click()
    await audit.check("details, with errors")
    await page.locator("#name").fill("Alex Example")
    await page.locator("#email").fill(email)
    await proceed.click()
    await audit.check("review")
    await page.get_by_role("button", name=words["book"]).click()
    await expect(page).to_have_url(re.compile("/gebucht"))
    await audit.check("booked, to be confirmed")

    confirm = link_in(await site.mail_to(email, words["confirm"]), "/bestaetigen")
    await page.goto(site.local(confirm))
    await audit.check("confirm")
    await page.locator("form button").click()
    await expect(page).to_have_url(re.compile("/gebucht"))
    await audit.check("booked")
    await page.get_by_role("link", name=words["manage"]).click()
    await audit.check("manage")
    await page.get_by_role("link", name=words["move"]).click()
    await audit.check("reschedule")
    await page.go_back()
    await page.get_by_role("link", name=words["cancel"]).click()
    await audit.check("cancel")
    await page.locator("form button").click()
    await audit.check("manage, cancelled")
    await page.goto("/termin/ABCDEF?token=wrong")
    await audit.check("not found")

    assert audit.pages == 15
    assert not audit.found, "\n".join(audit.found)
