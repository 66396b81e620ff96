"""The offices' public pages in Chromium: reached from the footer, showing what the open
data says, and passing axe-core in both languages."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import Audit

TITLES = {"de": ("Unsere Standorte", "Etwa", "Nächste freie Termine"),
          "en": ("Our offices", "About", "Next free appointments")}  # fmt: skip


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_an_office_page_shows_its_open_data(page: Page, lang: str) -> None:
    index_title, _, next_title = TITLES[lang]
    audit = Audit(page)
    await page.goto(f"/?lang={lang}")
    await page.get_by_role("contentinfo").get_by_role("link", name=index_title).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(index_title)
    await audit.check("offices")
    name = "Bürgeramt Musterstadt-Nord" if lang == "de" else "Citizens' Office Musterstadt North"
    await page.get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page.get_by_role("heading", name=next_title)).to_be_visible()
    await audit.check("office")

    figures = await (await page.request.get("/api/v1/locations/nord/transparency")).json()
    main = page.locator("main")
    await expect(main).to_contain_text("Lindenallee 42")
    await expect(main).to_contain_text("+49 1234 567-200")
    for free in figures["next_free"]:
        await expect(main).to_contain_text(free["service"]["name"][lang])
    waiting = figures["current_wait"]["waiting"]
    if waiting:
        await expect(main).to_contain_text(str(waiting))
    # The first service's next free time leads into the booking flow, preselected.
    await main.locator("a[href^='/zeit?']").first.click()
    await expect(page).to_have_url(
        re.compile(r"/zeit\?service=[a-z-]+&location=nord&day=.*&start=")
    )
    await expect(page.locator("input[name=start]:checked")).to_have_count(1)
    assert not audit.found, "\n".join(audit.found)
