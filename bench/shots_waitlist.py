"""Screenshots of the offices' public pages and the waitlist: the office list, one office
with its figures, the join form (empty and with problems), "check your email", and the
pages behind the confirmation mail's two links."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from booking.mailsink import list_mail, read_mail
from tests.browser.support import link_in


def _mailed_link(mail: Path, address: str, path_part: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for stored in list_mail(mail):
            if address in stored.recipients:
                return link_in(read_mail(mail / stored.name), path_part)
        time.sleep(0.3)
    raise SystemExit(f"no waitlist mail to {address}")


def waitlist_journey(page: Page, mail: Path, address: str, shot: Any) -> None:
    page.goto("/standorte?lang=de")
    shot("wl-01-standorte")
    page.goto("/standort/mitte")
    shot("wl-02-standort")
    page.goto("/warteliste?service=wohnsitz-anmelden&location=mitte")
    shot("wl-03-warteliste")
    page.get_by_role("button", name="Auf die Warteliste setzen lassen").click()
    shot("wl-04-warteliste-fehler")
    # Saturdays only: the offices are shut, so nothing suitable is free and the request is taken.
    for day in range(1, 8):
        page.locator(f"#weekday-{day}").set_checked(day == 6)
    page.locator("#email").fill(address)
    page.get_by_role("button", name="Auf die Warteliste setzen lassen").click()
    page.wait_for_url("**/warteliste/gesendet")
    shot("wl-05-gesendet")
    page.goto(_mailed_link(mail, address, "/bestaetigen"))
    shot("wl-06-bestaetigen")
    page.get_by_role("button", name="Anfrage bestätigen").click()
    shot("wl-07-auf-der-warteliste")
    page.goto(_mailed_link(mail, address, "/verlassen"))
    shot("wl-08-verlassen")
    page.get_by_role("button", name="Warteliste verlassen").click()
    shot("wl-09-verlassen-fertig")
    page.goto("/standort/nord?lang=en")
    shot("wl-10-office-english")
