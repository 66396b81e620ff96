"""The offices' public pages (issue 6): where, when open, how to reach them, and the open-data
figures: the next free appointment per service, the wait in the office now, last month's
median wait and no-show rate, and how the waitlist hands out freed appointments.

The figures come from the same use cases as the JSON (``statistics.transparency``,
``waitlist.overview``), so the page and ``/api/v1/locations/{slug}/transparency`` agree.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from babel.numbers import format_decimal, format_percent
from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from booking import statistics
from booking import waitlist as wl
from booking.api.dependencies import ClockDep, SettingsDep, Transaction
from booking.db import catalogue, offers
from booking.db.catalogue import Closure, OpeningRule
from booking.errors import NotFound
from booking.i18n import Language
from booking.pages.rendering import language, page, url

AnyRequest = Request[Any, Any, Any]
WEEK = 7
_LOCALES = {"de": "de_DE", "en": "en_GB"}


class DayHours(msgspec.Struct, frozen=True):
    """One local day: its opening windows (merged where they touch), or the closure."""

    day: date
    windows: list[tuple[time, time]]
    closure: Closure | None = None


def opening_week(rules: list[OpeningRule], closures: list[Closure], first: date) -> list[DayHours]:
    """The opening hours of ``first`` and the six days after it, closures included."""
    week = []
    for offset in range(WEEK):
        day = first + timedelta(days=offset)
        closure = next((c for c in closures if c.first_day <= day <= c.last_day), None)
        valid = sorted(
            (r.opens_at, r.closes_at)
            for r in rules
            if r.weekday == day.isoweekday()
            and r.valid_from <= day
            and (r.valid_until is None or day <= r.valid_until)
        )
        windows: list[tuple[time, time]] = []
        for opens, closes in [] if closure else valid:
            if windows and opens <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], closes))
            else:
                windows.append((opens, closes))
        week.append(DayHours(day, windows, closure))
    return week


class NextFree(msgspec.Struct, frozen=True):
    """A service with its next free start (local time) and where the link leads."""

    slug: str
    name_de: str
    name_en: str
    earliest: datetime | None
    link: str


def _next_free(found: statistics.LocationTransparency, zone: ZoneInfo) -> list[NextFree]:
    slug = found.location.slug
    shown = []
    for free in found.next_free:
        wanted = [("service", free.service.slug), ("location", slug)]
        if free.earliest is None:
            link = url("/warteliste", wanted)
            earliest = None
        else:
            earliest = free.earliest.astimezone(zone)
            link = url("/zeit", [*wanted, ("day", earliest.date().isoformat()),
                                 ("start", free.earliest.isoformat())])  # fmt: skip
        shown.append(NextFree(free.service.slug, free.service.name_de, free.service.name_en,
                              earliest, link))  # fmt: skip
    return shown


class Numbers(msgspec.Struct, frozen=True):
    """Last month's figures written for the page's language ("6,5", "12 %")."""

    median_wait: str | None
    no_show_rate: str | None


def _numbers(month: statistics.MonthFigures, lang: Language) -> Numbers:
    locale = _LOCALES[lang]
    median = month.median_wait_minutes
    rate = month.no_show_rate
    return Numbers(
        median_wait=None if median is None else format_decimal(median, "#,##0.#", locale=locale),
        no_show_rate=None if rate is None else format_percent(rate, locale=locale),
    )


class LocationPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/standorte")
    async def index(self, request: AnyRequest, db: Transaction) -> Template:
        """Every office, with its address: the way to each office's own page."""
        return page(
            request, "location/index.html", {"locations": await offers.public_locations(db)}
        )

    @get("/standort/{slug:str}")
    async def show(
        self, request: AnyRequest, slug: FromPath[str], db: Transaction, settings: SettingsDep,
        clock: ClockDep,
    ) -> Template:  # fmt: skip
        location = await catalogue.location_by_slug(db, slug[:63])
        if location is None or not location.active:
            raise NotFound("No such location.")
        now = clock.now()
        zone = ZoneInfo(location.time_zone)
        [found] = await statistics.transparency(db, location.slug, now)
        waitlist = next(
            (s for s in await wl.overview(db, settings, now) if s.location.slug == slug), None
        )
        week = opening_week(
            await catalogue.opening_rules(db, location.id),
            await catalogue.closures(db, location.id),
            now.astimezone(zone).date(),
        )
        return page(
            request,
            "location/show.html",
            {"location": location, "figures": found, "next_free": _next_free(found, zone),
             "numbers": _numbers(found.last_month, language(request)), "week": week,
             "waitlist": waitlist, "settings": settings, "zone": zone,
             "as_of": now.astimezone(zone)},
        )  # fmt: skip
