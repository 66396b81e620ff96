"""Open data for the public: next free appointments, the wait in the office, last month.

No login and no personal data: only counts, durations and free starts. Answers may be
up to ``FRESH_SECONDS`` old twice over (server cache, then browsers and proxies), which
is fine for figures that move by the minute and keeps a popular page off the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath

from booking import statistics
from booking.api.dependencies import ClockDep, Transaction
from booking.api.offers import LocationRef, Text
from booking.db import Connection
from booking.statistics import CurrentWait, LocationTransparency, MonthFigures

FRESH_SECONDS = 30


class ServiceRef(msgspec.Struct, frozen=True):
    slug: str
    name: Text


class NextFreeOut(msgspec.Struct, frozen=True):
    service: ServiceRef
    earliest: datetime | None


class LocationTransparencyOut(msgspec.Struct, frozen=True, kw_only=True):
    as_of: datetime
    location: LocationRef
    next_free: list[NextFreeOut]
    current_wait: CurrentWait
    last_month: MonthFigures


class TransparencyOut(msgspec.Struct, frozen=True):
    as_of: datetime
    locations: list[LocationTransparencyOut]


def _out(found: LocationTransparency, as_of: datetime) -> LocationTransparencyOut:
    location = found.location
    return LocationTransparencyOut(
        as_of=as_of,
        location=LocationRef(
            location.slug, Text(location.name_de, location.name_en), location.time_zone
        ),
        next_free=[
            NextFreeOut(
                ServiceRef(free.service.slug, Text(free.service.name_de, free.service.name_en)),
                free.earliest,
            )
            for free in found.next_free
        ],
        current_wait=found.current_wait,
        last_month=found.last_month,
    )


async def _transparency(
    db: Connection, slug: str | None, as_of: datetime
) -> list[LocationTransparencyOut]:
    return [_out(found, as_of) for found in await statistics.transparency(db, slug, as_of)]


def _path(request: Request[Any, Any, Any]) -> str:
    return request.url.path


class TransparencyController(Controller):
    path = "/api/v1"
    tags = ["transparency"]  # noqa: RUF012 - Litestar reads a plain class attribute
    cache_control = CacheControlHeader(max_age=FRESH_SECONDS, public=True)

    # Keyed by the path alone: made-up query parameters must not grow the cache.
    @get("/transparency", cache=FRESH_SECONDS, cache_key_builder=_path)
    async def overview(self, db: Transaction, clock: ClockDep) -> TransparencyOut:
        """Every active location, for open-data portals."""
        as_of = clock.now()
        return TransparencyOut(as_of, await _transparency(db, None, as_of))

    @get("/locations/{slug:str}/transparency", cache=FRESH_SECONDS, cache_key_builder=_path)
    async def location(
        self, db: Transaction, clock: ClockDep, slug: FromPath[str]
    ) -> LocationTransparencyOut:
        [found] = await _transparency(db, slug, clock.now())
        return found
