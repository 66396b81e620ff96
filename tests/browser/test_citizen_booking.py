"""A citizen books through the pages as people do: with a mouse, without JavaScript, and with
the keyboard alone; then manages the appointment from the links in the emails."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.support import (
    Site,
    book,
    choose_first_time,
    choose_location,
    choose_services,
    link_in,
    text_of,
)

ID_CARD, REGISTER = "Personalausweis beantragen", "Wohnsitz anmelden"
MITTE, NORD = "Bürgeramt Musterstadt-Mitte", "Bürgeramt Musterstadt-Nord"


async def test_book_two_services_and_get_the_confirmation_mail(
    page: Page, site: Site, email: str
) -> None:
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await expect(page.get_by_text("Schritt 1 von 4")).to_be_visible()
    # The live filter narrows the list as one types; ticked services stay.
    await page.get_by_label(ID_CARD, exact=True).check()
    await page.get_by_label("Leistungen durchsuchen").fill("wohnsitz")
    await expect(page.get_by_label("Reisepass beantragen", exact=True)).to_be_hidden()
    await expect(page.get_by_label(ID_CARD, exact=True)).to_be_visible()
    await page.get_by_label(REGISTER, exact=True).check()
    await page.get_by_role("button", name="Weiter").click()

    await choose_location(page, MITTE)
    when = await choose_first_time(page)
    await expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"noch \d:\d\d"))
    await page.get_by_label("Vor- und Nachname").fill("Erika Mustermann")
    await page.get_by_label("E-Mail-Adresse").fill(email)
    await page.get_by_label("Telefonnummer (freiwillig)").fill("030 1234567")
    await page.get_by_role("button", name="Weiter").click()

    await expect(page.get_by_text("Schritt 4 von 4")).to_be_visible()
    summary = page.locator("dl.summary").first
    await expect(summary).to_contain_text(ID_CARD)
    await expect(summary).to_contain_text(REGISTER)
    await expect(summary).to_contain_text(when)
    # The proof of work is solved in the page while the citizen reads.
    await expect(page.locator("[data-proof-solution]")).not_to_have_value("", timeout=20_000)
    await page.get_by_role("button", name="Termin verbindlich buchen").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Termin ist gebucht")
    code = (await page.locator(".code--large").inner_text()).strip()
    await expect(page.get_by_role("img", name=f"QR-Code des Buchungscodes {code}")).to_be_visible()
    ics = page.get_by_role("link", name="Kalenderdatei herunterladen (.ics)")
    calendar = await page.request.get(await ics.get_attribute("href") or "")
    assert b"BEGIN:VEVENT" in await calendar.body()

    mail = await site.mail_to(email, "Bestätigt")
    assert code in text_of(mail)
    await page.goto(site.local(link_in(mail, f"/termin/{code}?token=")))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Ihr Termin")
    await expect(page.locator(".tag")).to_have_text("Gebucht")


async def test_book_without_javascript_keeping_what_was_typed(
    page_without_js: Page, site: Site, email: str
) -> None:
    page = page_without_js
    await page.goto("/")
    await page.get_by_role("button", name="Weiter").click()
    await expect(page.get_by_role("heading", name="Es gibt ein Problem")).to_be_visible()
    await expect(page.locator("#services-error")).to_contain_text("mindestens eine Leistung")

    await page.get_by_label("Leistungen durchsuchen").fill("ausweis")
    await page.get_by_role("button", name="Suchen").click()
    await expect(page.get_by_text("Leistungen passen zu „ausweis“")).to_be_visible()
    await expect(page.get_by_label(REGISTER, exact=True)).to_have_count(0)
    await page.get_by_label(ID_CARD, exact=True).check()
    await page.get_by_role("button", name="Suchen").click()  # the ticked one stays ticked
    await page.get_by_role("link", name="Alle Leistungen zeigen").click()
    await page.get_by_label(REGISTER, exact=True).check()
    await page.get_by_role("button", name="Weiter").click()
    await choose_location(page, MITTE)
    await choose_first_time(page)

    # Errors sit next to their fields, are tied to them, and nothing typed is lost.
    await page.get_by_label("Vor- und Nachname").fill("Max Mustermann")
    await page.get_by_label("E-Mail-Adresse").fill("kein-at-zeichen")
    await page.get_by_role("button", name="Weiter", exact=True).click()
    field = page.get_by_label("E-Mail-Adresse")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_attribute("aria-describedby", re.compile("email-error"))
    await expect(page.locator("#email-error")).to_contain_text("im richtigen Format")
    await expect(page.get_by_label("Vor- und Nachname")).to_have_value("Max Mustermann")
    assert (await page.title()).startswith("Fehler:")

    # Without script the hold's expiry is stated, and one extension keeps the typing too.
    await expect(page.locator("#hold")).to_contain_text("für Sie frei")
    await page.get_by_role("button", name="Reservierung verlängern").first.click()
    await expect(page.get_by_text("etwas länger für Sie frei")).to_be_visible()
    await expect(page.get_by_label("Vor- und Nachname")).to_have_value("Max Mustermann")
    await expect(page.get_by_role("button", name="Reservierung verlängern")).to_have_count(0)

    await page.get_by_label("E-Mail-Adresse").fill(email)
    await page.get_by_role("button", name="Weiter").click()
    await page.get_by_role("button", name="Termin verbindlich buchen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Termin ist gebucht")
    code = (await page.locator(".code--large").inner_text()).strip()
    assert code in text_of(await site.mail_to(email, "Bestätigt"))


async def test_the_hold_warns_a_minute_before_it_ends_and_extends_once(page: Page) -> None:
    await choose_services(page, REGISTER)
    await choose_location(page, MITTE)
    await page.clock.install()
    await choose_first_time(page)
    await page.get_by_label("Vor- und Nachname").fill("Tim Zeit")
    warning = page.get_by_role("alert").filter(has_text="weniger als einer Minute")
    await expect(warning).to_be_hidden()

    await page.clock.fast_forward("04:05")
    await expect(warning).to_be_visible()
    await warning.get_by_role("button", name="Reservierung verlängern").click()
    await expect(warning).to_be_hidden()
    await expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"noch [45]:\d\d"))
    # Extended once: no button offers it again, and what was typed is still there.
    await expect(page.get_by_role("button", name="Reservierung verlängern")).to_have_count(0)
    await expect(page.get_by_label("Vor- und Nachname")).to_have_value("Tim Zeit")

    await page.clock.fast_forward("05:00")
    await expect(page.locator("#hold [role=alert]")).to_contain_text("abgelaufen")


async def test_book_with_the_keyboard_alone(page: Page, site: Site, email: str) -> None:
    await page.goto("/")
    await page.keyboard.press("Tab")
    assert await _focused(page) == "Zum Inhalt springen"
    await _tab_to(page, ID_CARD)
    await page.keyboard.press("Space")
    await _tab_to(page, REGISTER)
    await page.keyboard.press("Space")
    await _tab_to(page, "Weiter")
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(re.compile("/standort"))
    await _tab_to(page, "Weiter")  # the office with the earliest time is preselected
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile("/zeit"))
    await _tab_to(page, "Weiter")  # the first free time is preselected
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(re.compile("/angaben"))
    await _tab_to(page, "Vor- und Nachname")
    await page.keyboard.type("Kim Tastatur")
    await page.keyboard.press("Tab")
    assert await _focused(page) == "E-Mail-Adresse"
    await page.keyboard.type(email)
    await _tab_to(page, "Weiter")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Angaben prüfen")
    await _tab_to(page, "Termin verbindlich buchen")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Termin ist gebucht")
    code = (await page.locator(".code--large").inner_text()).strip()
    assert code in text_of(await site.mail_to(email, "Bestätigt"))


async def test_reschedule_and_cancel_from_the_manage_link(
    page: Page, site: Site, email: str
) -> None:
    code = await book(page, email, MITTE, REGISTER, next_month=True)
    mail = await site.mail_to(email, "Bestätigt")
    await page.goto(site.local(link_in(mail, f"/termin/{code}?token=")))

    await page.get_by_role("link", name="Termin verschieben").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Termin verschieben")
    current = page.locator("a.day--free[aria-current=date]")
    other = page.locator("a.day--free:not([aria-current])").first
    await (other if await other.count() else current).click()
    await page.get_by_role("radio").last.check()
    await page.get_by_role("button", name="Termin verschieben").click()
    await expect(page.get_by_text("Ihr Termin wurde verschoben")).to_be_visible()
    assert code in text_of(await site.mail_to(email, "Verschoben"))

    await page.get_by_role("link", name="Termin absagen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Termin absagen?")
    await page.get_by_role("button", name="Ja, Termin absagen").click()
    await expect(page.locator(".tag")).to_have_text("Abgesagt")
    assert code in text_of(await site.mail_to(email, "Abgesagt"))


async def test_confirm_a_double_opt_in_booking_from_the_emailed_link(
    page: Page, site: Site, email: str
) -> None:
    await choose_services(page, REGISTER)
    await choose_location(page, NORD)
    await choose_first_time(page)
    await page.get_by_label("Vor- und Nachname").fill("Nora Nord")
    await page.get_by_label("E-Mail-Adresse").fill(email)
    await page.get_by_role("button", name="Weiter").click()
    await expect(page.get_by_text("bestätigen Sie per E-Mail")).to_be_visible()
    await page.get_by_role("button", name="Termin verbindlich buchen").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Bitte bestätigen")

    link = site.local(link_in(await site.mail_to(email, "Bitte bestätigen"), "/bestaetigen"))
    # Opening the link twice (a mail scanner, then the citizen) changes nothing.
    for _ in range(2):
        await page.goto(link)
        await expect(page.get_by_role("button", name="Termin bestätigen")).to_be_visible()
    await page.get_by_role("button", name="Termin bestätigen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Termin ist gebucht")
    await site.mail_to(email, "Bestätigt")
    await page.goto(link)
    await expect(page.get_by_text("Dieser Termin ist bestätigt.")).to_be_visible()


async def _focused(page: Page) -> str:
    """The accessible name of the focused element, as far as the tests need it."""
    name: str = await page.evaluate(
        """() => {
            const el = document.activeElement;
            if (el.labels && el.labels.length) return el.labels[0].innerText.trim();
            return (el.innerText || el.value || "").trim();
        }"""
    )
    return name


async def _tab_to(page: Page, name: str, limit: int = 80) -> None:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await _focused(page) == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")
