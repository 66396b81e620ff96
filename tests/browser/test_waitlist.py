"""The waitlist as citizens use it in Chromium: join from the form (the proof of work solved
in the page), confirm and leave from the mailed links, and answer an offer that the worker
made when a booking was cancelled. axe-core checks every waitlist page in both languages.

The site is shared and runs on the real clock: each offer test books out a one-desk place of
its own at Nord (the last start of a Monday or Friday weeks ahead), joins the waitlist for
exactly that place, and cancels the blocking booking, so the freed place goes to the list.
Every test ends its own request (left, accepted and cancelled, or declined).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from tests.browser.support import Audit, Site, link_in, text_of

BERLIN = ZoneInfo("Europe/Berlin")
SERVICE = "wohnsitz-ummelden"  # 10 minutes: one unit at Nord
WORDS = {
    "de": {"join": "Auf die Warteliste setzen lassen", "sent": "Bitte bestätigen Sie per E-Mail",
           "confirm_mail": "Bitte bestätigen: Ihre Anfrage", "confirm": "Anfrage bestätigen",
           "waiting": "Sie stehen auf der Warteliste", "leave": "Warteliste verlassen",
           "left": "Sie stehen nicht auf der Warteliste", "offer_mail": "Für Sie frei geworden",
           "offer": "Ein Termin für Sie", "accept": "Termin annehmen", "decline": "Termin ablehnen",
           "really": "Ja, Termin ablehnen", "declined": "Sie haben den Termin abgelehnt",
           "booked": "Ihr Termin ist gebucht", "gone": "Dieses Angebot gilt nicht mehr",
           "problem": "Es gibt ein Problem"},
    "en": {"join": "Join the waitlist", "sent": "Check your email to confirm",
           "confirm_mail": "Please confirm: your waitlist request", "confirm": "Confirm request",
           "waiting": "You are on the waitlist", "leave": "Leave the waitlist",
           "left": "You are not on the waitlist", "offer_mail": "Available for you",
           "offer": "An appointment for you", "accept": "Accept this appointment",
           "decline": "Decline it", "really": "Decline the appointment",
           "declined": "You have declined the appointment", "booked": "Your appointment is booked",
           "gone": "This offer is no longer available", "problem": "There is a problem"},
}  # fmt: skip


async def fill_wishes(
    page: Page, email: str, *, first: date, last: date, weekdays: set[int], times: tuple[str, str]
) -> None:
    """The join form, as a citizen fills it in (services and office came with the link)."""
    await page.locator("#from").fill(first.isoformat())
    await page.locator("#to").fill(last.isoformat())
    for day in range(1, 8):
        await page.locator(f"#weekday-{day}").set_checked(day in weekdays)
    await page.locator("#time_from").fill(times[0])
    await page.locator("#time_until").fill(times[1])
    await page.locator("#email").fill(email)


async def join(page: Page, site: Site, email: str, lang: str, **wishes: Any) -> None:
    """Join from the form with script (the proof of work solved in the page) and confirm
    from the mail: the request is on the waitlist."""
    words = WORDS[lang]
    await fill_wishes(page, email, **wishes)
    await expect(page.locator("[data-proof-solution]")).not_to_have_value("", timeout=20_000)
    await page.get_by_role("button", name=words["join"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["sent"])
    await page.goto(
        site.local(link_in(await site.mail_to(email, words["confirm_mail"]), "/bestaetigen"))
    )
    await page.get_by_role("button", name=words["confirm"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["waiting"])


class Blocker:
    """A booking that takes the only desk of one Nord start, so nothing there is free."""

    def __init__(self, start: datetime, code: str, token: str) -> None:
        self.start, self.code, self.token = start, code, token

    @property
    def times(self) -> tuple[str, str]:
        local = self.start.astimezone(BERLIN)
        return f"{local:%H:%M}", f"{local + timedelta(minutes=10):%H:%M}"


async def block_a_place(page: Page, nth: int) -> Blocker:
    """Book the last start of the ``nth`` one-desk day (Monday afternoon, Friday) at Nord
    five to eight weeks ahead, where the rest of the suite does not book."""
    today = datetime.now(BERLIN).date()
    days = [today + timedelta(days=n) for n in range(35, 58)]
    days = [d for d in days if d.isoweekday() in {1, 5}][nth:]
    for day in days:
        free = await page.request.get(
            f"/api/v1/availability?location=nord&service={SERVICE}&from={day}&to={day}"
        )
        starts = [s for d in (await free.json())["days"] for s in d["starts"]]
        if not starts:
            continue  # a holiday
        answer = await page.request.post("/api/v1/appointments", data={
            "location": "nord", "services": [SERVICE], "start": starts[-1],
            "name": "Bea Blocker", "email": f"blocker-{nth}-{day}@example.org",
        })  # fmt: skip
        assert answer.status == 201, await answer.text()
        booked = await answer.json()
        start = datetime.fromisoformat(starts[-1]).astimezone(UTC)
        return Blocker(start, booked["code"], booked["manage_token"])
    raise AssertionError("no day with a free start at Nord")


async def cancel(page: Page, code: str, token: str) -> None:
    answer = await page.request.post(
        f"/api/v1/appointments/{code}/cancel", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 200, await answer.text()


async def offered(page: Page, site: Site, email: str, lang: str, nth: int) -> tuple[str, str]:
    """A request for one blocked place, the place freed: the offer mail's two links."""
    blocker = await block_a_place(page, nth)
    day = blocker.start.astimezone(BERLIN).date()
    await page.goto(f"/warteliste?service={SERVICE}&location=nord&lang={lang}")
    await join(page, site, email, lang, first=day, last=day, weekdays={day.isoweekday()},
               times=blocker.times)  # fmt: skip
    await cancel(page, blocker.code, blocker.token)
    mail = await site.mail_to(email, WORDS[lang]["offer_mail"], seconds=60)
    links = re.findall(r"https?://\S+/warteliste/angebot/\S+", text_of(mail))
    accept = next(link for link in links if "/ablehnen" not in link)
    decline = next(link for link in links if "/ablehnen" in link)
    return site.local(accept), site.local(decline)


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_join_confirm_and_leave_from_the_mail(
    page: Page, site: Site, email: str, lang: str
) -> None:
    words = WORDS[lang]
    audit = Audit(page)
    # The booking flow leads here with the services chosen: Saturdays only, when offices are
    # shut, so nothing suitable is free and the request is taken.
    await page.goto(f"/zeit?service={SERVICE}&location=mitte&lang={lang}")
    await page.get_by_role("link", name=words["join"]).click()
    await expect(page.locator(f"#service-{SERVICE}")).to_be_checked()
    await expect(page.locator("#location-mitte")).to_be_checked()
    await audit.check("join form")
    await page.locator("#email").fill("")
    await page.get_by_role("button", name=words["join"]).click()
    await expect(page.get_by_role("heading", name=words["problem"])).to_be_visible()
    await audit.check("join form with problems")

    today = datetime.now(BERLIN).date()
    await fill_wishes(page, email, first=today, last=today + timedelta(days=60), weekdays={6},
                      times=("", ""))  # fmt: skip
    await expect(page.locator("[data-proof-solution]")).not_to_have_value("", timeout=20_000)
    await page.get_by_role("button", name=words["join"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["sent"])
    await audit.check("check your email")

    mail = await site.mail_to(email, words["confirm_mail"])
    await page.goto(site.local(link_in(mail, "/bestaetigen")))
    await expect(page.get_by_role("heading", level=1)).not_to_have_text(words["waiting"])
    await expect(page.locator("main")).to_contain_text(
        "Wohnsitz ummelden" if lang == "de" else "Change your address"
    )
    await audit.check("confirm request")
    await page.get_by_role("button", name=words["confirm"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["waiting"])
    await audit.check("on the waitlist")

    await page.goto(site.local(link_in(mail, "/verlassen")))
    await audit.check("leave")
    await page.get_by_role("button", name=words["leave"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["left"])
    await audit.check("left")

    # A link that lapsed or never was: a page that says so, in the page's language.
    wrong = await page.goto("/warteliste/angebot/ABCDEF?token=wrong")
    assert wrong is not None
    assert wrong.status == 404
    await audit.check("offer not found")
    assert not audit.found, "\n".join(audit.found)


async def test_joining_works_without_javascript_too(
    page_without_js: Page, site: Site, email: str
) -> None:
    page = page_without_js
    await page.goto(f"/warteliste?service={SERVICE}&location=kfz")
    # Kfz does not offer this service: the form says which choice is wrong.
    await page.locator("#email").fill(email)
    await page.get_by_role("button", name=WORDS["de"]["join"]).click()
    await expect(page.locator("#locations-error")).to_contain_text("Nicht jeder gewählte Standort")
    await page.locator("#location-kfz").uncheck()
    await page.locator("#location-nord").check()
    today = datetime.now(BERLIN).date()
    await fill_wishes(page, email, first=today, last=today + timedelta(days=30), weekdays={7},
                      times=("", ""))  # fmt: skip
    await page.get_by_role("button", name=WORDS["de"]["join"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(WORDS["de"]["sent"])
    mail = await site.mail_to(email, WORDS["de"]["confirm_mail"])
    # Nothing to keep waiting for: leave the unconfirmed request at once.
    await page.goto(site.local(link_in(mail, "/verlassen")))
    await page.get_by_role("button", name=WORDS["de"]["leave"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(WORDS["de"]["left"])


@pytest.mark.parametrize(("lang", "nth"), [("de", 0), ("en", 1)])
async def test_an_offer_accepted_from_the_mail_is_booked(
    page: Page, site: Site, email: str, lang: str, nth: int
) -> None:
    words = WORDS[lang]
    audit = Audit(page)
    accept, _ = await offered(page, site, email, lang, nth)
    await page.goto(accept)
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["offer"])
    await expect(page.locator("main")).to_contain_text("Lindenallee 42")
    await audit.check("offer")
    await page.get_by_role("link", name=words["decline"]).click()
    await expect(page.get_by_role("button", name=words["really"])).to_be_visible()
    await audit.check("decline offer")
    await page.goto(accept)
    await page.get_by_role("button", name=words["accept"]).click()
    await expect(page).to_have_url(re.compile(r"/termin/[A-Z0-9]+/gebucht\?token="))
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["booked"])
    await audit.check("offer accepted")
    # Given back, so the place is free again for the rest of the suite.
    code = urlparse(page.url).path.split("/")[2]
    await cancel(page, code, parse_qs(urlparse(page.url).query)["token"][0])
    assert not audit.found, "\n".join(audit.found)


@pytest.mark.parametrize(("lang", "nth"), [("de", 2), ("en", 3)])
async def test_an_offer_declined_from_the_mail_ends_the_request(
    page: Page, site: Site, email: str, lang: str, nth: int
) -> None:
    words = WORDS[lang]
    audit = Audit(page)
    accept, decline = await offered(page, site, email, lang, nth)
    await page.goto(decline)
    await page.get_by_role("button", name=words["really"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["declined"])
    await audit.check("declined")
    gone = await page.goto(accept)
    assert gone is not None
    assert gone.status == 410
    await expect(page.get_by_role("heading", level=1)).to_have_text(words["gone"])
    await audit.check("offer gone")
    assert not audit.found, "\n".join(audit.found)
