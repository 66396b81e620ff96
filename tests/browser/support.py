"""What the browser tests share: the site, its mails, and a citizen's way through the pages."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect

from booking.mailsink import list_mail, read_mail

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
_LINK = re.compile(r"https?://[^\s<>\"]+")


def chromium_path() -> str | None:
    """Debian's Chromium (``apt-get install chromium``), or None where there is none."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass(frozen=True)
class Site:
    url: str
    public_url: str
    mail: Path
    # The site's database, for a test that must set up what no page can (an appointment now).
    database: str = ""

    def local(self, link: str) -> str:
        """A link from a mail, pointed at the test server."""
        return link.replace(self.public_url, self.url)

    async def mail_to(self, address: str, subject: str, seconds: float = 30) -> EmailMessage:
        """The first mail to ``address`` whose subject contains ``subject``, once it arrived."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for stored in reversed(list_mail(self.mail)):
                if address in stored.recipients and subject in stored.subject:
                    return read_mail(self.mail / stored.name)
            await asyncio.sleep(0.2)
        seen = [(m.recipients, m.subject) for m in list_mail(self.mail)]
        raise AssertionError(f"no mail to {address} about {subject!r} within {seconds} s: {seen}")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, path_part: str) -> str:
    """The link in the mail's text whose path contains ``path_part``."""
    for link in _LINK.findall(text_of(message)):
        if path_part in link:
            return str(link)
    raise AssertionError(f"no link with {path_part!r} in the mail")


async def choose_services(page: Page, *names: str) -> None:
    await page.goto("/")
    for name in names:
        await page.get_by_label(name, exact=True).check()
    await page.get_by_role("button", name="Weiter").click()


async def choose_location(page: Page, name: str) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wo möchten Sie hingehen?")
    await page.get_by_label(name, exact=True).check()
    await page.get_by_role("button", name="Weiter").click()


async def choose_first_time(page: Page, *, next_month: bool = False) -> str:
    """Keep the preselected first free time, or with ``next_month`` the first of next
    month's last free day: far enough ahead to change it (the 1st may be tomorrow); the
    chosen start as the page labels it."""
    await expect(page.get_by_role("heading", level=1)).to_have_text("Tag und Uhrzeit wählen")
    if next_month:
        await later_in_next_month(page)
    chosen = page.locator("input[name=start]:checked")
    label = await page.locator(f"label[for='{await chosen.get_attribute('id')}']").inner_text()
    await page.get_by_role("button", name="Weiter").click()
    return label


async def later_in_next_month(page: Page) -> None:
    """On the month page: next month, then its last free day."""
    await page.get_by_role("link", name=re.compile(r"^(Nächster Monat|Next month)")).click()
    await page.locator("a.day--free").last.click()


async def enter_details(page: Page, name: str, email: str, phone: str = "") -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ihre Angaben")
    await page.get_by_label("Vor- und Nachname").fill(name)
    await page.get_by_label("E-Mail-Adresse").fill(email)
    await page.get_by_label("Telefonnummer (freiwillig)").fill(phone)
    await page.get_by_role("button", name="Weiter").click()


async def book(
    page: Page, email: str, location: str, *services: str, next_month: bool = False
) -> str:
    """A whole booking through the pages; the booking code shown at the end."""
    await choose_services(page, *services)
    await choose_location(page, location)
    await choose_first_time(page, next_month=next_month)
    await enter_details(page, "Erika Mustermann", email)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Angaben prüfen")
    await page.get_by_role("button", name="Termin verbindlich buchen").click()
    await expect(page).to_have_url(re.compile(r"/termin/[A-Z0-9]+/gebucht\?token="))
    return (await page.locator(".code--large").inner_text()).strip()


SERIOUS = frozenset({"serious", "critical"})


class Audit:
    """axe-core over each page visited; serious and critical findings collect in ``found``."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.axe = Axe()
        self.found: list[str] = []
        self.pages = 0

    async def check(self, name: str) -> None:
        results = await self.axe.run(self.page)
        violations: list[dict[str, Any]] = results.response["violations"]
        self.pages += 1
        for v in violations:
            if v["impact"] in SERIOUS:
                targets = [node["target"] for node in v["nodes"]][:3]
                self.found.append(f"{name}: {v['id']} ({v['impact']}) {v['help']} at {targets}")
