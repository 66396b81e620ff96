"""The ticket kiosk: a walk-in number by touching a service, an appointment's number by its
code on the keypad or from a scanner, clear words when check-in cannot be, the ticket's
print layout and its way back to the start; and a kiosk only where its token belongs.

Kiosk tests run at Mitte; each signs in a kiosk device of its own where it revokes one.
"""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.browser.devices_support import appointment_now, demo_token, new_device, revoke, sign_in
from tests.browser.support import Site

SLUG = "mitte"


async def test_a_walk_in_takes_a_number_and_the_kiosk_returns_to_the_start(
    page: Page, site: Site
) -> None:
    await page.clock.install()
    await page.goto(f"/kiosk/{SLUG}/anmelden?token={demo_token('kiosk', SLUG)}")
    await expect(page).to_have_url(re.compile(rf"/kiosk/{SLUG}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wartenummer ziehen")

    await page.get_by_role("button", name=re.compile("^Meldebescheinigung ausstellen")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Wartenummer")
    code = (await page.locator("#ticket-code").inner_text()).strip()
    assert re.fullmatch(r"C\d{3}", code)
    facts = page.locator(".ticket__facts")
    await expect(facts).to_contain_text("Meldebescheinigung ausstellen")
    await expect(facts).to_contain_text("Vor Ihnen")
    await expect(facts).to_contain_text("Geschätzte Wartezeit")
    qr = page.get_by_role("img", name="QR-Code, um Ihre Nummer auf dem Handy zu verfolgen")
    assert (await qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    # Printed once: a reload of the address shown prints nothing again.
    await expect(page).to_have_url(re.compile(r"/ticket/[A-Za-z0-9_-]+$"))

    # On paper: the ticket alone, 80 mm wide.
    await page.emulate_media(media="print")
    await expect(page.locator(".kiosk-result__actions")).to_be_hidden()
    await expect(page.locator(".kiosk-header")).to_be_hidden()
    await expect(page.locator(".ticket__print-only")).to_have_text("Bürgeramt Musterstadt-Mitte")
    width = await page.locator(".ticket").evaluate("e => e.getBoundingClientRect().width")
    assert 270 <= width <= 290  # 74 mm at 96 dpi
    await page.emulate_media(media="screen")

    # Nobody touches it: back to the start by itself, ready for the next person.
    await page.clock.run_for(21_000)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wartenummer ziehen")


async def test_an_appointment_checks_in_by_its_code_on_the_keypad(page: Page, site: Site) -> None:
    booking_code = await appointment_now(site, SLUG, "wohnsitz-anmelden")
    await sign_in(page, "kiosk", SLUG, demo_token("kiosk", SLUG))
    for key in booking_code:
        await page.locator(f".keypad [data-key='{key}']").click()
    await expect(page.get_by_label("Buchungscode")).to_have_value(booking_code)
    await page.get_by_role("button", name="Jetzt anmelden").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Wartenummer")
    assert re.fullmatch(r"B\d{3}", (await page.locator("#ticket-code").inner_text()).strip())
    await expect(page.locator(".ticket__facts")).to_contain_text("Ihr Termin")

    # The same code again, as a scanner sends it (typed, then Enter), in lower case.
    await page.goto(f"/kiosk/{SLUG}")
    await page.keyboard.type(booking_code.lower())
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Das hat nicht geklappt")
    await expect(page.locator("main")).to_contain_text("bereits angemeldet")
    await page.get_by_role("link", name="Zurück zum Anfang").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wartenummer ziehen")


async def test_check_in_says_why_it_cannot_be(page: Page, site: Site) -> None:
    later = await appointment_now(site, SLUG, "wohnsitz-anmelden", minutes=120)
    past = await appointment_now(site, SLUG, "wohnsitz-anmelden", minutes=-60)
    elsewhere = await appointment_now(site, "nord", "wohnsitz-anmelden")
    await sign_in(page, "kiosk", SLUG, demo_token("kiosk", SLUG))
    words = {
        "ZZZZZZ": "Zu diesem Buchungscode gibt es keinen Termin.",
        later: "Für die Anmeldung ist es noch zu früh. Sie ist ab 30 Minuten vor Ihrem Termin",
        past: "Für die Anmeldung zu diesem Termin ist es zu spät.",
        elsewhere: "Dieser Termin ist an einem anderen Standort.",
        "X": "sechs Buchstaben und Ziffern",
    }
    for code, expected in words.items():
        await page.goto(f"/kiosk/{SLUG}")
        await page.get_by_label("Buchungscode").fill(code)
        await page.get_by_role("button", name="Jetzt anmelden").click()
        await expect(page.locator(".kiosk-result__message")).to_contain_text(expected)


async def test_the_kiosk_speaks_english_for_one_person_only(page: Page, site: Site) -> None:
    await sign_in(page, "kiosk", SLUG, demo_token("kiosk", SLUG))
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Take a waiting number")
    await page.get_by_label("Booking code").fill("ZZZZZZ")
    await page.get_by_role("button", name="Check in now").click()
    await expect(page.locator(".kiosk-result__message")).to_contain_text(
        "There is no appointment with this booking code."
    )
    await page.get_by_role("link", name="Back to the start").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wartenummer ziehen")


async def test_a_revoked_kiosk_shows_the_sign_in_form(page: Page, site: Site) -> None:
    device_id, token = await new_device(site, SLUG, "kiosk")
    await sign_in(page, "kiosk", SLUG, token)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wartenummer ziehen")
    await revoke(site, SLUG, device_id)

    # Even a form already on screen issues nothing once the device is revoked.
    await page.get_by_role("button", name=re.compile("^Meldebescheinigung ausstellen")).click()
    await expect(page.get_by_role("alert")).to_contain_text("Dieses Gerät ist nicht angemeldet.")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gerät anmelden")
    answer = await page.goto(f"/kiosk/{SLUG}")
    assert answer is not None
    assert answer.status == 401


async def test_a_kiosk_token_works_only_at_its_own_office(page: Page, site: Site) -> None:
    await page.goto(f"/kiosk/{SLUG}/anmelden")
    await page.get_by_label("Token dieses Geräts").fill(demo_token("kiosk", "nord"))
    await page.get_by_role("button", name="Gerät anmelden").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Dieses Gerät gehört zu einem anderen Standort."
    )
    await page.get_by_label("Token dieses Geräts").fill(demo_token("display", SLUG))
    await page.get_by_role("button", name="Gerät anmelden").click()
    await expect(page.get_by_role("alert")).to_contain_text("kein Token eines Wartenummern")
    # Signed in at Nord, the kiosk is still nobody at Mitte.
    await sign_in(page, "kiosk", "nord", demo_token("kiosk", "nord"))
    answer = await page.goto(f"/kiosk/{SLUG}")
    assert answer is not None
    assert answer.status == 401
    await expect(page.get_by_role("alert")).to_contain_text("Dieses Gerät ist nicht angemeldet.")


async def test_the_kiosk_works_without_script(page_without_js: Page, site: Site) -> None:
    page = page_without_js
    await page.goto(f"/kiosk/{SLUG}/anmelden?token={demo_token('kiosk', SLUG)}")
    await page.get_by_role("button", name=re.compile("^Amtliche Beglaubigung")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Wartenummer")
    refresh = page.locator("meta[http-equiv=refresh]")
    await expect(refresh).to_have_attribute("content", f"20; url=/kiosk/{SLUG}?lang=de")


async def test_the_device_cookie_opens_no_api(page: Page, site: Site) -> None:
    """Only the device's pages (with their CSRF form tokens) take its cookie; the API wants the
    bearer token, so a foreign page cannot make a signed-in kiosk issue tickets."""
    await sign_in(page, "kiosk", SLUG, demo_token("kiosk", SLUG))
    cookie = next(c for c in await page.context.cookies() if c["name"] == "booking_device")
    assert cookie["path"] == f"/kiosk/{SLUG}"
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert "bkd_" not in cookie["value"]
    headers = {"Cookie": f"booking_device={cookie['value']}"}
    async with httpx.AsyncClient(base_url=site.url, headers=headers) as client:
        answer = await client.post("/api/v1/kiosk/tickets", json={"service": "beglaubigung"})
        assert answer.status_code == 401
        # On the page route, a post without the form's CSRF token is refused too.
        answer = await client.post(f"/kiosk/{SLUG}/ticket", data={"service": "beglaubigung"})
        assert answer.status_code == 403
