"""The desk page: check in, call, and the ticket page and the display board show it live;
the queue follows new tickets without reload; keyboard shortcuts; refusals explained."""

from __future__ import annotations

import re

import asyncpg
from playwright.async_api import Browser, Page, expect

from tests.browser.staff_support import book_now, kiosk_ticket, sign_in, sit_down, staff_office
from tests.browser.support import Site

LIVE = 15_000  # ms: the ticket page asks every 3 s, the desk page hears within 2 s


async def _public_id(site: Site, slug: str, code: str) -> str:
    """The ticket's link key, as its printed QR code would carry it."""
    conn = await asyncpg.connect(site.database)
    try:
        found: str = await conn.fetchval(
            """select t.public_id from ticket t join location l on l.id = t.location_id
                where l.slug = $1 and t.display_code = $2""",
            slug,
            code,
        )
    finally:
        await conn.close()
    return found


async def _mark_page(page: Page) -> None:
    """A flag only this very document has: still there later means no reload happened."""
    await page.evaluate("document.documentElement.dataset.sameDocument = 'yes'")


async def _same_page(page: Page) -> None:
    await expect(page.locator("html")).to_have_attribute("data-same-document", "yes")


async def test_a_checked_in_call_shows_live_on_the_ticket_page_and_the_board(
    page: Page, browser: Browser, site: Site
) -> None:
    here = await staff_office(site)
    booked = await book_now(site, here.slug)
    await sign_in(page, here.email)
    await sit_down(page, here.slug)

    appointments = page.get_by_role("region", name="Heutige Termine")
    await (
        appointments.get_by_role("row")
        .filter(has_text=booked)
        .get_by_role("button", name="Ankunft erfassen")
        .click()
    )
    await expect(page.get_by_role("status")).to_have_text("Angemeldet: Wartenummer A001.")
    await expect(appointments.get_by_role("row").filter(has_text=booked)).to_contain_text(
        "Angemeldet · A001"
    )

    citizen = await browser.new_context(base_url=site.url)
    board = await browser.new_context(base_url=site.url)
    try:
        phone = await citizen.new_page()
        await phone.goto(f"/t/{await _public_id(site, here.slug, 'A001')}")
        await expect(phone.locator("h1")).to_have_text("Wartenummer A001")
        await expect(phone.locator("#ticket-status")).to_contain_text("Sie sind als Nächstes dran.")
        await _mark_page(phone)

        screen = await board.new_page()
        await screen.goto(f"/display/{here.slug}/anmelden?token={here.display_token}")
        await expect(screen.locator("#display")).to_have_attribute(
            "data-connected", "true", timeout=LIVE
        )
        await _mark_page(screen)

        # Someone draws a number at the kiosk: the desk page's queue shows it by itself.
        await _mark_page(page)
        walk_in = (await kiosk_ticket(page, here.kiosk_token, "meldung"))["code"]
        queue = page.get_by_role("region", name=re.compile("^Wartend"))
        await expect(queue.get_by_role("row").filter(has_text=walk_in)).to_be_visible(timeout=LIVE)
        await expect(queue.get_by_role("heading")).to_have_text("Wartend (2)")
        await _same_page(page)

        # The appointment (booked before the walk-in came) is called first.
        await page.get_by_role("button", name="Nächste Nummer aufrufen").click()
        await expect(page.get_by_role("status")).to_have_text(
            "A001 wird an Ihren Schalter aufgerufen."
        )
        current = page.get_by_role("region", name="An Ihrem Schalter")
        await expect(current).to_contain_text("A001")
        await expect(current).to_contain_text("Erika Mustermann")

        called = phone.get_by_role("alert")
        await expect(called).to_contain_text("Sie werden an Schalter 3 aufgerufen.", timeout=LIVE)
        await _same_page(phone)
        row = screen.locator(".calls--now tr[data-code='A001']")
        await expect(row).to_be_visible(timeout=LIVE)
        await expect(row).to_contain_text("Schalter 3")
        await _same_page(screen)

        # Called again, then served and done: the phone follows to the end.
        await page.get_by_role("button", name="Erneut aufrufen").click()
        await expect(page.get_by_role("status")).to_have_text("A001 wird erneut aufgerufen.")
        await expect(called).to_contain_text("Sie wurden erneut aufgerufen", timeout=LIVE)
        await page.get_by_role("button", name="Bedienung beginnen").click()
        await expect(phone.locator("#ticket-status")).to_contain_text(
            "Sie werden an Schalter 3 bedient.", timeout=LIVE
        )
        await page.get_by_role("button", name="Abschließen").click()
        await expect(page.get_by_role("status")).to_have_text("A001 ist erledigt.")
        await expect(phone.locator("#ticket-status")).to_contain_text(
            "Ihr Anliegen ist erledigt.", timeout=LIVE
        )
        await _same_page(phone)
    finally:
        await citizen.close()
        await board.close()


async def test_shortcut_keys_call_next_and_complete(page: Page, site: Site) -> None:
    here = await staff_office(site)
    await sign_in(page, here.email)
    await sit_down(page, here.slug)
    first = (await kiosk_ticket(page, here.kiosk_token, "kfz"))["code"]
    await page.reload()
    await expect(page.get_by_text("Tastenkürzel")).to_be_visible()

    await page.keyboard.press("n")
    await expect(page.get_by_role("status")).to_have_text(
        f"{first} wird an Ihren Schalter aufgerufen."
    )
    await page.keyboard.press("c")
    await expect(page.get_by_role("status")).to_have_text(f"{first} ist erledigt.")
    await expect(page.get_by_role("region", name="An Ihrem Schalter")).to_contain_text(
        "An Ihrem Schalter ist niemand."
    )
    # Nobody left: the key says so instead of calling anyone.
    await page.keyboard.press("n")
    await expect(page.get_by_role("status")).to_have_text(
        "Für die Dienstleistungen Ihres Schalters wartet niemand."
    )


async def test_refused_actions_say_why_and_transfer_moves_the_ticket(
    page: Page, site: Site
) -> None:
    here = await staff_office(site)
    await sign_in(page, here.email)
    await sit_down(page, here.slug)
    code = (await kiosk_ticket(page, here.kiosk_token, "ausweis"))["code"]
    await page.reload()
    await page.get_by_role("button", name="Nächste Nummer aufrufen").click()
    await expect(page.get_by_role("status")).to_contain_text(code)

    # A second "call next" from an old tab: the desk is busy, the page explains (409).
    answer = await page.request.post(
        f"/staff/{here.slug}/call-next",
        form={"_csrf_token": await page.locator("input[name=_csrf_token]").first.input_value()},
    )
    assert answer.status == 409
    assert "Schließen Sie zuerst die aktuelle Nummer ab" in await answer.text()

    await page.get_by_label("An eine andere Dienstleistung weiterleiten").select_option("meldung")
    await page.get_by_role("button", name="Weiterleiten", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text(
        f"{code} wurde in die Warteschlange einer anderen Dienstleistung verschoben."
    )
    queue = page.get_by_role("region", name=re.compile("^Wartend"))
    await expect(queue.get_by_role("row").filter(has_text=code)).to_contain_text("Meldung")
