"""``make screenshots``: every page at phone and desktop width, for a design review.

Starts ``booking dev`` on a fresh data folder (embedded PostgreSQL and Redis, the demo
catalogue, the mail sink), walks through the pages in Chromium as a citizen would, and writes
one full-page PNG per page and width to ``bench/results/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

from bench.shots_admin import admin_journey
from bench.shots_devices import devices_journey
from bench.shots_join import join_journey
from bench.shots_staff import staff_journey
from bench.shots_waitlist import waitlist_journey
from booking.embedded import free_port
from booking.mailsink import list_mail, read_mail
from tests.browser.support import CHROMIUM_ARGS, chromium_path, link_in

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
OUT = Path(__file__).parent / "results" / "screenshots"


@contextmanager
def dev_server(data: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
    # Each journey comes as a client of its own (X-Forwarded-For), so the rate limits count
    # per journey as they would per citizen, not for the whole walk at once.
    env["BOOKING_TRUSTED_PROXIES"] = "127.0.0.1"
    log = (data / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "booking", "dev", "--data", str(data), "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/readyz", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"booking dev did not start; see {data / 'dev.log'}") from None
                time.sleep(0.5)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        log.close()


def confirm_link(mail: Path, address: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for stored in list_mail(mail):
            if address in stored.recipients:
                return link_in(read_mail(mail / stored.name), "/bestaetigen")
        time.sleep(0.3)
    raise SystemExit(f"no confirmation mail to {address}")


def citizen_journey(page: Page, mail: Path, address: str, shot: Shot) -> None:
    """Every page once, in the order a citizen meets them (at Nord: with the confirm page)."""
    proceed = page.get_by_role("button", name="Weiter", exact=True)
    page.goto("/?lang=de")
    shot("01-leistungen")
    proceed.click()
    shot("02-leistungen-fehler")
    page.locator("#service-personalausweis").check()
    page.locator("#service-wohnsitz-anmelden").check()
    proceed.click()
    shot("03-standort")
    page.locator("#location-nord").check()
    proceed.click()
    shot("04-tag-und-zeit")
    page.get_by_role("link", name="Nächster Monat").click()
    proceed.click()
    shot("05-angaben")
    page.locator("#email").fill("keine-adresse")
    proceed.click()
    shot("06-angaben-fehler")
    page.locator("#name").fill("Erika Mustermann")
    page.locator("#email").fill(address)
    proceed.click()
    shot("07-pruefen")
    page.get_by_role("button", name="Termin verbindlich buchen").click()
    page.wait_for_url("**/gebucht?**")
    shot("08-gebucht-noch-bestaetigen")
    page.goto(confirm_link(mail, address))
    shot("09-bestaetigen")
    page.get_by_role("button", name="Termin bestätigen").click()
    page.wait_for_url("**/gebucht?**")
    shot("10-gebucht")
    page.get_by_role("link", name="Termin verwalten").click()
    shot("11-verwalten")
    page.get_by_role("link", name="Termin verschieben").click()
    shot("12-verschieben")
    page.go_back()
    page.get_by_role("link", name="Termin absagen").click()
    shot("13-absagen")
    page.get_by_role("button", name="Ja, Termin absagen").click()
    shot("14-abgesagt")
    page.goto("/termin/ABCDEF?token=falsch")
    shot("15-nicht-gefunden")
    page.goto("/?lang=en")
    shot("16-services-english")


class Shot:
    def __init__(self, page: Page, size: str) -> None:
        self.page = page
        self.size = size
        self.taken = 0

    def __call__(self, name: str) -> None:
        self.page.screenshot(path=OUT / f"{name}-{self.size}.png", full_page=True)
        self.taken += 1


# Each area's walk through its pages, in this order, one browser context each.
Journey = Callable[[Page, Path, str, "Shot"], None]
JOURNEYS: tuple[Journey, ...] = (
    citizen_journey,
    devices_journey,
    staff_journey,
    waitlist_journey,
    join_journey,
    admin_journey,
)


def main() -> None:
    executable = chromium_path()
    if executable is None:
        raise SystemExit("screenshots need Chromium: apt-get install chromium")
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        dev_server(Path(folder)) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        for size, (width, height) in SIZES.items():
            taken = 0
            for number, journey in enumerate(JOURNEYS):
                viewport = ViewportSize(width=width, height=height)
                client = {"X-Forwarded-For": f"198.51.100.{10 * number + len(size)}"}
                context = browser.new_context(
                    base_url=url,
                    viewport=viewport,
                    extra_http_headers=client,
                )
                shot = Shot(context.new_page(), size)
                address = f"screenshots-{number}-{size}@example.org"
                journey(shot.page, Path(folder) / "mail", address, shot)
                context.close()
                taken += shot.taken
            print(f"{taken} pages at {size} width ({width}x{height})")
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
