"""Admins' view of one location's waitlist: who waits for which service, and what became of
the offers made (accepted, declined, lapsed, still open). Counts only, no personal data."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from booking.api.admin_common import find_location
from booking.api.dependencies import Transaction
from booking.api.offers import Text
from booking.auth.guards import requires
from booking.auth.principals import Role
from booking.db import waitlist as q


class OffersOut(msgspec.Struct, frozen=True):
    open: int
    accepted: int
    declined: int
    lapsed: int


class ServiceWaitlistOut(msgspec.Struct, frozen=True):
    slug: str
    name: Text
    # Entries waiting for a set that includes this service.
    waiting: int
    offers: OffersOut


class WaitlistFiguresOut(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    allocation_mode: str
    waiting: int
    offers: OffersOut
    services: list[ServiceWaitlistOut]


def _offers(figures: q.Figures) -> OffersOut:
    return OffersOut(figures.offers_open, figures.accepted, figures.declined, figures.lapsed)


class WaitlistFiguresController(Controller):
    path = "/locations/{slug:str}/waitlist"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @get()
    async def figures(self, *, db: Transaction, slug: FromPath[str]) -> WaitlistFiguresOut:
        """Waiting entries and offer outcomes, in total and per service offered online here."""
        location = await find_location(db, slug)
        total = await q.location_figures(db, location.id)
        return WaitlistFiguresOut(
            location=location.slug,
            allocation_mode=location.allocation_mode,
            waiting=total.waiting,
            offers=_offers(total),
            services=[
                ServiceWaitlistOut(s.slug, Text(s.name_de, s.name_en), s.waiting, _offers(s))
                for s in await q.service_figures(db, location.id)
            ],
        )
