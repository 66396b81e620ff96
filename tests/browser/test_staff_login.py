"""Signing in on ``/staff/login``: errors by the field, lockout, rate limit, ``next``, sign-out,
and who may open which staff page."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.browser.staff_support import sign_in, staff_office
from tests.browser.support import Site


async def test_a_signed_out_visit_goes_to_sign_in_and_comes_back(page: Page, site: Site) -> None:
    here = await staff_office(site)
    await page.goto(f"/staff/{here.slug}")
    await expect(page).to_have_url(re.compile(rf"/staff/login\?next=%2Fstaff%2F{here.slug}$"))
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await expect(page.locator("h1")).to_have_text("Anmelden")

    await page.locator("#email").fill(here.email)
    await page.locator("#password").fill("falsch")
    await page.get_by_role("button", name="Anmelden", exact=True).click()
    error = page.locator("#password-error")
    await expect(error).to_contain_text("E-Mail oder Passwort ist falsch")
    await expect(page.locator("#password")).to_have_attribute("aria-describedby", "password-error")
    await expect(page.locator("#email")).to_have_value(here.email)

    await page.locator("#password").fill("richtig-geheim-42")
    await page.get_by_role("button", name="Anmelden", exact=True).click()
    # Back where the visit began; without a desk yet, at the desk choice.
    await expect(page).to_have_url(re.compile(rf"/staff/{here.slug}/desks$"))
    await expect(page.locator("h1")).to_have_text("Schalter wählen")

    await page.get_by_role("button", name="Abmelden").click()
    await expect(page.get_by_role("status")).to_have_text("Sie haben sich abgemeldet.")
    await page.goto(f"/staff/{here.slug}")
    await expect(page).to_have_url(re.compile(r"/staff/login\?next="))


async def test_empty_fields_are_named_in_english_too(page: Page) -> None:
    await page.goto("/staff/login?lang=en")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.locator(".error-summary")).to_contain_text("Enter your email address.")
    await expect(page.locator("#password-error")).to_contain_text("Enter your password.")


async def test_too_many_failures_lock_the_account_then_the_device_must_wait(
    page: Page, site: Site
) -> None:
    here = await staff_office(site)
    for _ in range(5):
        await sign_in(page, here.email, "falsch")
        await expect(page.locator("#password-error")).to_be_visible()
    # Locked: the right password does not help now, and the page says why that may be.
    await sign_in(page, here.email)
    await expect(page).to_have_url(re.compile(r"/staff/login"))
    await expect(page.locator("#password-error")).to_contain_text(
        "nach zu vielen Fehlversuchen für 15 Minuten gesperrt"
    )
    # This device has tried too often (more than 10 in a minute of the clock; 21 attempts
    # within two such minutes make sure of it): it is asked to wait.
    refused = page.get_by_role("alert")
    for _ in range(21):
        await sign_in(page, here.email, "falsch")
        if await refused.count():
            break
    await expect(refused).to_contain_text("Zu viele Anmeldeversuche")


async def test_next_only_leads_to_pages_of_this_site(page: Page, site: Site) -> None:
    here = await staff_office(site)
    await sign_in(page, here.email, next_path="//evil.example/staff")
    await expect(page).to_have_url(re.compile(rf"^{re.escape(site.url)}/staff/{here.slug}/desks$"))


async def test_staff_of_another_office_get_a_clear_refusal(page: Page, site: Site) -> None:
    mine, theirs = await staff_office(site), await staff_office(site)
    await sign_in(page, mine.email)
    await expect(page.locator("h1")).to_have_text("Schalter wählen")
    answer = await page.goto(f"/staff/{theirs.slug}")
    assert answer is not None
    assert answer.status == 403
    await expect(page.locator("h1")).to_have_text("Sie können diese Seite nicht öffnen")
