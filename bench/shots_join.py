"""Screenshots of the phone-join page the QR poster links to: the form, a wrong address,
the number it gives, a code that does not work, and the form in English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from booking.demo import DEMO_PASSWORD


def _poster_code(page: Page) -> str:
    """Today's code at Mitte, as its desk staff read it for the poster."""
    page.request.post(
        "/api/v1/auth/login",
        data={"email": "schalter.mitte@musterstadt.example", "password": DEMO_PASSWORD},
    )
    poster: dict[str, str] = page.request.get("/api/v1/staff/locations/mitte/poster").json()
    page.context.clear_cookies()  # the citizen's page is seen signed out
    return poster["code"]


def join_journey(page: Page, mail: Path, address: str, shot: Any) -> None:
    code = _poster_code(page)
    page.goto(f"/join/mitte?code={code}&lang=de")
    shot("join-01-formular")
    page.locator("#email").fill("keine-adresse")
    page.locator(".join-service").first.click()
    shot("join-02-formular-fehler")
    page.locator("#email").fill(address)
    page.locator(".join-service").first.click()
    page.wait_for_url(re.compile(r"/t/"))
    shot("join-03-wartenummer")
    page.goto("/join/mitte?code=abgelaufen")
    shot("join-04-code-ungueltig")
    page.goto(f"/join/mitte?code={code}&lang=en")
    shot("join-05-form-english")
