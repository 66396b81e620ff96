"""axe-core finds no serious or critical violation on the staff pages and the ticket page,
in either language: sign-in (also with errors), desk choice, the desk page with a ticket at
the desk, a queue and the day's appointments, a refusal, and the ticket waiting and called."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.staff_support import book_now, kiosk_ticket, sign_in, staff_office
from tests.browser.support import Audit, Site

WORDS = {
    "de": {"sign in": "Anmelden", "sit": "Diesen Schalter besetzen",
           "call": "Nächste Nummer aufrufen", "called": "Sie werden an Schalter 3 aufgerufen."},
    "en": {"sign in": "Sign in", "sit": "Sit at this desk", "call": "Call next",
           "called": "You are being called to Schalter 3."},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_staff_and_ticket_page_passes_axe(
    page: Page, browser: Browser, site: Site, lang: str
) -> None:
    words = WORDS[lang]
    here, other = await staff_office(site), await staff_office(site)
    await book_now(site, here.slug)
    audit = Audit(page)

    await page.goto(f"/staff/login?lang={lang}")
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await audit.check("sign-in")
    await page.get_by_role("button", name=words["sign in"], exact=True).click()
    await audit.check("sign-in, empty")
    await sign_in(page, here.email, "wrong")
    await audit.check("sign-in, wrong password")
    await sign_in(page, here.email)
    await audit.check("desk choice")
    await page.get_by_role("button", name=words["sit"]).click()
    await audit.check("desk, empty queue")

    first = await kiosk_ticket(page, here.kiosk_token, "ausweis")
    await kiosk_ticket(page, here.kiosk_token, "meldung")
    watcher = await browser.new_context(base_url=site.url)
    try:
        phone = await watcher.new_page()
        await phone.goto(f"{first['path']}?lang={lang}")
        phone_audit = Audit(phone)
        await phone_audit.check("ticket, waiting")

        await page.reload()
        await page.get_by_role("button", name=words["call"]).click()
        await expect(page.get_by_role("status")).to_contain_text(first["code"])
        await audit.check("desk, ticket called, queue and appointments")
        await page.goto(f"/staff/{here.slug}?all=1")
        await audit.check("desk, every service")
        await page.goto(f"/staff/{other.slug}")
        await audit.check("another office: refused")

        await expect(phone.get_by_role("alert")).to_contain_text(words["called"], timeout=15_000)
        await phone_audit.check("ticket, called")
        audit.found += phone_audit.found
    finally:
        await watcher.close()
    assert audit.pages == 8
    assert not audit.found, "\n".join(audit.found)
