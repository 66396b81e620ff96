"""The display board: signed in from a set-up link, it shows a desk's call without reload,
says when its connection is lost, catches up on the call it missed once back, and sends a
revoked device to the sign-in form.

The board is at the vehicle office (kfz), with a desk and a clerk of the test's own.
"""

from __future__ import annotations

import re

from playwright.async_api import BrowserContext, Page, expect

from tests.browser.devices_support import (
    call_next,
    demo_token,
    desk_clerk,
    new_device,
    no_show,
    revoke,
    sign_in,
    walk_in,
)
from tests.browser.support import Site

SLUG = "kfz"
SERVICE = "fahrzeug-zulassen"


async def test_a_call_shows_live_and_a_missed_one_after_reconnecting(
    page: Page, context: BrowserContext, site: Site
) -> None:
    clerk = await desk_clerk(site, SLUG)
    await page.goto(f"/display/{SLUG}/anmelden?token={demo_token('display', SLUG)}")
    # Signed in, and the token is out of the address bar.
    await expect(page).to_have_url(re.compile(rf"/display/{SLUG}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Jetzt aufgerufen")
    display = page.locator("#display")
    await expect(display).to_have_attribute("data-connected", "true", timeout=15_000)

    await walk_in(site, SLUG, SERVICE)
    first = await call_next(site, SLUG, clerk)
    row = page.locator(f".calls--now tr[data-code='{first['code']}']")
    await expect(row).to_be_visible(timeout=10_000)
    await expect(row).to_have_class(re.compile("is-new"))
    await expect(row).to_contain_text(first["desk"])
    await expect(page.locator("#announcer")).to_have_text(
        f"Nummer {first['code']}, bitte zu {first['desk']}."
    )
    await expect(page.locator(".calls--recent")).to_contain_text(first["code"])

    # The network goes; the board notices (at the latest when its stream ends by design).
    await page.route("**/live/stream*", lambda route: route.abort())
    await context.set_offline(True)
    await expect(display).to_have_attribute("data-connected", "false", timeout=40_000)
    await expect(page.get_by_role("status")).to_have_text(
        "Verbindung unterbrochen. Neuer Versuch läuft …", timeout=10_000
    )
    await no_show(site, SLUG, clerk, first["id"])
    await walk_in(site, SLUG, SERVICE)
    second = await call_next(site, SLUG, clerk)

    await context.set_offline(False)
    await page.unroute("**/live/stream*")
    row = page.locator(f".calls--now tr[data-code='{second['code']}']")
    await expect(row).to_be_visible(timeout=40_000)
    await expect(row).to_have_class(re.compile("is-new"))
    await expect(page.get_by_role("status")).to_be_hidden()
    # The no-show left the board; the recent calls keep both.
    await expect(page.locator(f".calls--now tr[data-code='{first['code']}']")).to_have_count(0)
    await expect(page.locator(".calls--recent")).to_contain_text(first["code"])


async def test_the_board_follows_the_language_asked_for(page: Page, site: Site) -> None:
    await sign_in(page, "display", SLUG, demo_token("display", SLUG))
    await page.goto(f"/display/{SLUG}?lang=en")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Now calling")
    await page.get_by_role("link", name="Deutsch").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Jetzt aufgerufen")


async def test_a_revoked_board_shows_the_sign_in_form(page: Page, site: Site) -> None:
    device_id, token = await new_device(site, SLUG, "display")
    await sign_in(page, "display", SLUG, token)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Jetzt aufgerufen")
    await revoke(site, SLUG, device_id)

    answer = await page.reload()
    assert answer is not None
    assert answer.status == 401
    await expect(page.get_by_role("alert")).to_contain_text("Dieses Gerät ist nicht angemeldet.")
    await expect(page.get_by_label("Token dieses Geräts")).to_be_visible()
    # The old token does not sign in again either.
    await page.get_by_label("Token dieses Geräts").fill(token)
    await page.get_by_role("button", name="Gerät anmelden").click()
    await expect(page.get_by_role("alert")).to_contain_text("unbekannt oder wurde widerrufen")


async def test_a_board_follows_only_its_own_office(page: Page, site: Site) -> None:
    await page.goto(f"/display/{SLUG}/anmelden?token={demo_token('display', 'nord')}")
    await expect(page.get_by_role("alert")).to_contain_text(
        "Dieses Gerät gehört zu einem anderen Standort."
    )
    await page.goto(f"/display/{SLUG}/anmelden?token={demo_token('kiosk', SLUG)}")
    await expect(page.get_by_role("alert")).to_contain_text("kein Token einer Anzeigetafel")
    answer = await page.goto(f"/display/{SLUG}")
    assert answer is not None
    assert answer.status == 401
