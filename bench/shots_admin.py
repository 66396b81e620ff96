"""Screenshots of the admin pages: the locations, a location's settings, the week editor
(also with an error), closures, services offered, desks, devices with a new token shown once,
failed notifications, statistics, the service catalogue and the staff, at Kfz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from booking.demo import DEMO_PASSWORD


def admin_journey(page: Page, mail: Path, address: str, shot: Any) -> None:
    page.goto("/admin")
    page.locator("#email").fill("admin@musterstadt.example")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/admin")
    shot("admin-01-standorte")
    base = "/admin/locations/kfz"
    page.goto(base)
    shot("admin-02-einstellungen")
    page.goto(f"{base}/hours")
    shot("admin-03-oeffnungszeiten")
    page.locator("#w0-closes_at").fill("06:00")
    page.locator("main > form button[type=submit]").click()
    shot("admin-04-oeffnungszeiten-fehler")
    page.goto(f"{base}/closures")
    shot("admin-05-schliesstage")
    page.goto(f"{base}/services")
    shot("admin-06-angebot")
    page.goto(f"{base}/desks")
    shot("admin-07-schalter")
    page.goto(f"{base}/devices")
    page.locator("#name").fill("Kiosk Eingang")
    page.locator("main > form button[type=submit]").click()
    page.wait_for_selector("#device-token")
    shot("admin-08-geraet-token")
    page.goto(f"{base}/notifications")
    shot("admin-09-nachrichten")
    page.goto(f"{base}/statistics")
    shot("admin-10-statistik")
    page.goto("/admin/services")
    shot("admin-11-dienstleistungen")
    page.goto("/admin/users")
    shot("admin-12-mitarbeitende")
    page.goto(f"{base}/statistics?lang=en")
    shot("admin-13-statistics-english")
