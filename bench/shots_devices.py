"""Screenshots of the office's devices: the kiosk's sign-in, start, ticket and problem pages,
and the display board with a call on it (a walk-in ticket called by the demo desk user)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from booking.demo import DEMO_PASSWORD


def _call_one(page: Page) -> None:
    """A walk-in at Mitte, called to a desk through the JSON API, as the desk would."""
    kiosk = {"Authorization": "Bearer bkd_demo-kiosk-mitte"}
    page.request.post("/api/v1/kiosk/tickets", data={"service": "personalausweis"}, headers=kiosk)
    me = page.request.post(
        "/api/v1/auth/login",
        data={"email": "schalter.mitte@musterstadt.example", "password": DEMO_PASSWORD},
    ).json()
    csrf = {"X-CSRF-Token": me["csrf_token"]}
    desks: list[dict[str, Any]] = page.request.get("/api/v1/staff/locations/mitte/desks").json()
    page.request.put("/api/v1/staff/locations/mitte/desk", data={"desk_id": desks[0]["id"]},
                     headers=csrf)  # fmt: skip
    page.request.post("/api/v1/staff/locations/mitte/call-next", headers=csrf)


def devices_journey(page: Page, mail: Path, address: str, shot: Any) -> None:
    page.goto("/kiosk/mitte/anmelden?lang=de")
    shot("devices-01-anmelden")
    page.locator("#token").fill("bkd_falsch")
    page.locator("form button[type=submit]").click()
    shot("devices-02-anmelden-fehler")
    page.goto("/kiosk/mitte/anmelden?token=bkd_demo-kiosk-mitte")
    shot("devices-03-kiosk-start")
    page.locator(".kiosk-service").first.click()
    page.wait_for_selector("#ticket-code")
    shot("devices-04-kiosk-nummer")
    page.emulate_media(media="print")
    shot("devices-05-kiosk-nummer-druck")
    page.emulate_media(media="screen")
    page.goto("/kiosk/mitte")
    page.locator("#code").fill("ZZZZZZ")
    page.locator("#checkin button[type=submit]").click()
    shot("devices-06-kiosk-fehler")
    _call_one(page)
    page.goto("/display/mitte/anmelden?token=bkd_demo-display-mitte")
    page.wait_for_selector("#display[data-connected=true]")
    shot("devices-07-anzeigetafel")
    page.goto("/display/mitte?lang=en")
    shot("devices-08-display-board-english")
