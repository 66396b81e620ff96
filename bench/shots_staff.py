"""Screenshots of the staff desk pages and the citizen's ticket page: sign-in (also with an
error), the admin's location choice, the desk choice, the desk page before and after a call,
and the ticket page waiting and called, at Nord (the devices journey works at Mitte)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from booking.demo import DEMO_PASSWORD

_KIOSK = {"Authorization": "Bearer bkd_demo-kiosk-nord"}


def _ticket_path(page: Page, service: str) -> str:
    """A walk-in ticket at Nord, drawn as the kiosk does; the path of its ticket page."""
    found = page.request.post("/api/v1/kiosk/tickets", data={"service": service}, headers=_KIOSK)
    return f"/t/{found.json()['public_id']}"


def _sign_in(page: Page, password: str) -> None:
    page.locator("#email").fill("admin@musterstadt.example")
    page.locator("#password").fill(password)
    page.locator("form.form button[type=submit]").click()


def staff_journey(page: Page, mail: Path, address: str, shot: Any) -> None:
    page.goto("/staff/login?lang=de")
    shot("staff-01-anmelden")
    _sign_in(page, "falsch")
    shot("staff-02-anmelden-fehler")
    _sign_in(page, DEMO_PASSWORD)
    page.wait_for_url("**/staff")
    shot("staff-03-standort")
    page.goto("/staff/nord/desks")
    shot("staff-04-schalter-waehlen")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/staff/nord?**")
    finish = page.get_by_role("button", name="Abschließen")
    if finish.count():  # the other width's run left a ticket at the desk
        finish.click()
    first = _ticket_path(page, "personalausweis")
    waiting = _ticket_path(page, "wohnsitz-anmelden")
    page.goto("/staff/nord")
    shot("staff-05-schalter")
    page.get_by_role("button", name="Nächste Nummer aufrufen").click()
    page.wait_for_url("**/staff/nord?**")
    shot("staff-06-aufgerufen")
    page.goto(waiting)
    shot("staff-07-nummer-wartet")
    page.goto(first)
    shot("staff-08-nummer-aufgerufen")
    page.goto("/staff/nord?lang=en")
    shot("staff-09-desk-english")
