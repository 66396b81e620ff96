"""The phone-join page ``/join/{slug}`` the office's QR poster links to: a waiting number
with an optional call-ahead mail, a stale or foreign code, the API's limit, no JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from playwright.async_api import Page, expect

from booking import queueing
from tests.browser.staff_support import staff_office
from tests.browser.support import Audit, Site, link_in

TICKET_PAGE = re.compile(r"/t/[A-Za-z0-9_-]{16,64}$")


async def poster_link(site: Site, slug: str, *, days_ago: int = 0) -> str:
    """The address on the office's QR poster of ``days_ago`` days ago, as the site's path."""
    conn = await asyncpg.connect(site.database)
    try:
        location = await queueing.location_by_slug(conn, slug)
    finally:
        await conn.close()
    day = queueing.local_day(location, datetime.now(UTC)) - timedelta(days=days_ago)
    return f"/join/{slug}?code={queueing.poster_code(location, day)}"


async def stored(site: Site, public_id: str) -> tuple[str, str | None, str, int | None]:
    """The ticket's channel and its call-ahead wish: address, language, places."""
    conn = await asyncpg.connect(site.database)
    try:
        row = await conn.fetchrow(
            "select channel, email, language, notify_places from ticket where public_id = $1",
            public_id,
        )
    finally:
        await conn.close()
    assert row is not None
    return row["channel"], row["email"], row["language"], row["notify_places"]


async def tickets_at(site: Site, slug: str) -> int:
    conn = await asyncpg.connect(site.database)
    try:
        found = await conn.fetchval(
            "select count(*) from ticket t join location l on l.id = t.location_id"
            " where l.slug = $1",
            slug,
        )
    finally:
        await conn.close()
    return int(found)


async def test_a_number_from_the_poster_with_a_call_ahead_mail(
    page: Page, site: Site, email: str
) -> None:
    here = await staff_office(site)
    await page.goto(await poster_link(site, here.slug))
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await expect(page.locator("h1")).to_have_text("Wartenummer ziehen")
    await expect(page.locator(".join-office")).to_have_text(f"Bürgeramt {here.slug}")
    await expect(page.locator("main")).to_contain_text("auf Ihrem Handy")

    await page.get_by_label("E-Mail-Adresse (freiwillig)").fill(email)
    await page.get_by_role("button", name=re.compile("^Ausweis")).click()

    await expect(page).to_have_url(TICKET_PAGE)
    await expect(page.locator("h1")).to_have_text("Wartenummer A001")
    public_id = page.url.rsplit("/", 1)[1]
    places = queueing.DEFAULT_CALL_AHEAD_PLACES
    assert await stored(site, public_id) == ("phone", email, "de", places)
    # Nobody is ahead, so the turn is close already: the mail goes at once, to this ticket.
    sent = await site.mail_to(email, "Nummer A001")
    assert site.local(link_in(sent, "/t/")).endswith(f"/t/{public_id}")


async def test_without_an_email_and_without_javascript(page_without_js: Page, site: Site) -> None:
    here = await staff_office(site)
    await page_without_js.goto(await poster_link(site, here.slug) + "&lang=en")
    await expect(page_without_js.locator("h1")).to_have_text("Take a waiting number")
    await page_without_js.get_by_role("button", name=re.compile("^Meldung")).click()
    await expect(page_without_js).to_have_url(TICKET_PAGE)
    await expect(page_without_js.locator("h1")).to_contain_text("B001")
    public_id = page_without_js.url.rsplit("/", 1)[1]
    assert await stored(site, public_id) == ("phone", None, "de", None)


async def test_a_wrong_email_is_shown_next_to_the_field_and_nothing_is_lost(
    page: Page, site: Site
) -> None:
    here = await staff_office(site)
    join = await poster_link(site, here.slug)
    await page.goto(join)
    field = page.get_by_label("E-Mail-Adresse (freiwillig)")
    await field.fill("kein-at-zeichen")
    # Enter in the field draws no number for whichever service comes first: nothing is sent.
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.method))
    await field.press("Enter")
    await page.wait_for_timeout(500)
    assert "POST" not in sent
    assert page.url.endswith(join)
    await page.get_by_role("button", name=re.compile("^Kfz")).click()

    await expect(page.locator("#email-error")).to_contain_text("im richtigen Format")
    await expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_value("kein-at-zeichen")
    await expect(page.locator(".error-summary a")).to_have_attribute("href", "#email")
    assert await tickets_at(site, here.slug) == 0

    await field.fill("call-me@example.org")
    await page.get_by_role("button", name=re.compile("^Kfz")).click()  # the code came along
    await expect(page).to_have_url(TICKET_PAGE)
    await expect(page.locator("h1")).to_contain_text("K001")


async def test_the_apis_limit_counts_and_the_form_says_so(page: Page, site: Site) -> None:
    here = await staff_office(site)
    join = await poster_link(site, here.slug)
    for _ in range(10):
        await page.goto(join)
        await page.get_by_role("button", name=re.compile("^Meldung")).click()
        await expect(page).to_have_url(TICKET_PAGE)
    await page.goto(join + "&lang=en")
    await page.locator("#email").fill("patient@example.org")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.get_by_role("button", name=re.compile("^Meldung")).click()
    assert (await posted.value).status == 429
    await expect(page.get_by_role("alert")).to_contain_text("Too many requests")
    await expect(page.locator("#email")).to_have_value("patient@example.org")
    assert await tickets_at(site, here.slug) == 10


async def test_yesterdays_code_and_an_unknown_office(page: Page, site: Site) -> None:
    here = await staff_office(site)
    answer = await page.goto(await poster_link(site, here.slug, days_ago=1))
    assert answer is not None
    assert answer.status == 403
    await expect(page.locator("h1")).to_have_text("Dieser Link funktioniert nicht")
    await expect(page.locator("main")).to_contain_text(
        "Dieser Code ist von einem anderen Tag. Bitte scannen Sie das Plakat im Amt erneut."
    )
    answer = await page.goto(f"/join/{here.slug}?code=abc&lang=en")
    assert answer is not None
    assert answer.status == 403
    await expect(page.locator("main")).to_contain_text("This code is not valid for this office.")
    answer = await page.goto("/join/no-such-office?code=abc")
    assert answer is not None
    assert answer.status == 404
    await expect(page.locator("main")).to_contain_text("We do not know this office.")


async def test_a_form_left_open_overnight_is_refused(page: Page, site: Site) -> None:
    here = await staff_office(site)
    await page.goto(await poster_link(site, here.slug) + "&lang=en")
    yesterday = (await poster_link(site, here.slug, days_ago=1)).split("code=")[1]
    hidden = page.locator("input[name=code]")
    await hidden.evaluate("(field, code) => field.value = code", yesterday)
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.get_by_role("button", name=re.compile("^Ausweis")).click()
    assert (await posted.value).status == 403
    await expect(page.locator("main")).to_contain_text("This code is from another day.")
    assert await tickets_at(site, here.slug) == 0


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_the_join_pages_pass_axe(page: Page, site: Site, lang: str) -> None:
    here = await staff_office(site)
    audit = Audit(page)
    await page.goto(await poster_link(site, here.slug) + f"&lang={lang}")
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await audit.check("join")
    await page.locator("#email").fill("not-an-address")
    await page.locator(".join-service").first.click()
    await expect(page.locator("#email-error")).to_be_visible()
    await audit.check("join, wrong email")
    await page.goto(await poster_link(site, here.slug, days_ago=1))
    await audit.check("join, yesterday's code")
    await page.goto("/join/no-such-office")
    await audit.check("join, unknown office")
    assert audit.pages == 4
    assert not audit.found, "\n".join(audit.found)
