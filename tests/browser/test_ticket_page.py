"""The citizen's ticket page ``/t/{public_id}``: position and wait, the call-ahead mail,
an unknown link, and the page without JavaScript."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.staff_support import kiosk_ticket, staff_office
from tests.browser.support import Site, link_in


async def test_position_wait_and_call_ahead_mail(page: Page, site: Site, email: str) -> None:
    here = await staff_office(site)
    await kiosk_ticket(page, here.kiosk_token, "ausweis")
    mine = await kiosk_ticket(page, here.kiosk_token, "ausweis")
    await page.goto(mine["path"])
    await expect(page.locator("h1")).to_have_text(f"Wartenummer {mine['code']}")
    status = page.locator("#ticket-status")
    await expect(status).to_contain_text("Sie sind Nr. 2 in der Warteschlange.")
    await expect(status).to_contain_text(re.compile(r"Geschätzte Wartezeit: etwa \d+ Minuten\."))

    await page.get_by_label("E-Mail-Adresse").fill("kein-at-zeichen")
    await page.get_by_role("button", name="E-Mail senden lassen").click()
    await expect(page.locator("#email-error")).to_contain_text("im richtigen Format")

    await page.get_by_label("E-Mail-Adresse").fill(email)
    await page.get_by_label("E-Mail, wenn so viele Personen vor mir sind").select_option("1")
    await page.get_by_role("button", name="E-Mail senden lassen").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Erledigt: Wir schreiben Ihnen, sobald Sie bald dran sind."
    )
    # One ahead, and one was asked for: the mail goes at once, linking back to this page.
    sent = await site.mail_to(email, f"Bald sind Sie dran: Nummer {mine['code']}")
    assert site.local(link_in(sent, "/t/")).endswith(mine["path"])


async def test_an_unknown_ticket_is_a_clear_404(page: Page) -> None:
    answer = await page.goto("/t/AAAAAAAAAAAAAAAAAAAAAA?lang=en")
    assert answer is not None
    assert answer.status == 404
    await expect(page.locator("h1")).to_have_text("Appointment or page not found")


async def test_without_javascript_the_page_refreshes_itself(
    page: Page, page_without_js: Page, site: Site
) -> None:
    here = await staff_office(site)
    mine = await kiosk_ticket(page, here.kiosk_token, "meldung")
    await page_without_js.goto(mine["path"] + "?lang=en")
    await expect(page_without_js.locator("#ticket-status")).to_contain_text("You are next.")
    await expect(page_without_js.get_by_role("link", name="Refresh now")).to_be_visible()
    refresh = page_without_js.locator("noscript meta[http-equiv=refresh]")
    assert await refresh.count() == 1
