"""Public catalogue and availability: what citizens can book, and when."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromQuery, QueryParameter

from booking.api.dependencies import Transaction, rush
from booking.db import offers
from booking.db.offers import OfferedService, SetLocation

_SLUG = msgspec.Meta(pattern="^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)


class Text(msgspec.Struct, frozen=True):
    de: str
    en: str


class Texts(msgspec.Struct, frozen=True):
    de: list[str]
    en: list[str]


class Address(msgspec.Struct, frozen=True):
    street: str
    postal_code: str
    city: str


class LocationOut(msgspec.Struct, frozen=True):
    slug: str
    name: Text
    address: Address
    phone: str
    email: str
    time_zone: str
    grid_minutes: int
    horizon_days: int
    min_lead_minutes: int
    requires_confirmation: bool
    services: list[OfferedService]


class ServiceOut(msgspec.Struct, frozen=True):
    slug: str
    name: Text
    description: Text
    documents: Texts
    duration_minutes: int
    leika_id: str | None
    locations: list[OfferedService]


class LocationRef(msgspec.Struct, frozen=True):
    slug: str
    name: Text
    time_zone: str


class DayOut(msgspec.Struct, frozen=True):
    date: date
    starts: list[datetime]


class AvailabilityOut(msgspec.Struct, frozen=True):
    location: LocationRef
    services: list[str]
    duration_minutes: int
    from_: date = msgspec.field(name="from")
    to: date = msgspec.field(name="to")
    days: list[DayOut] = msgspec.field(default_factory=list)


class EarliestOut(msgspec.Struct, frozen=True):
    location: LocationRef
    duration_minutes: int
    earliest: datetime | None


class EarliestListOut(msgspec.Struct, frozen=True):
    services: list[str]
    locations: list[EarliestOut]


def _ref(location: SetLocation) -> LocationRef:
    return LocationRef(location.slug, Text(location.name_de, location.name_en), location.time_zone)


ServiceParam = Annotated[
    list[Annotated[str, _SLUG]],
    QueryParameter(name="service", description="service slug; repeat for a service set"),
]
LocationsParam = Annotated[
    list[Annotated[str, _SLUG]] | None,
    QueryParameter(name="location", description="limit to these locations (repeatable)"),
]


class CatalogueController(Controller):
    path = "/api/v1"
    tags = ["catalogue"]  # noqa: RUF012 - Litestar reads a plain class attribute

    @get("/locations")
    async def locations(self, db: Transaction) -> list[LocationOut]:
        return [
            LocationOut(
                slug=loc.slug,
                name=Text(loc.name_de, loc.name_en),
                address=Address(loc.street, loc.postal_code, loc.city),
                phone=loc.phone,
                email=loc.email,
                time_zone=loc.time_zone,
                grid_minutes=loc.grid_minutes,
                horizon_days=loc.horizon_days,
                min_lead_minutes=loc.min_lead_minutes,
                requires_confirmation=loc.requires_confirmation,
                services=loc.services,
            )
            for loc in await offers.public_locations(db)
        ]

    @get("/services")
    async def services(self, db: Transaction) -> list[ServiceOut]:
        return [
            ServiceOut(
                slug=svc.slug,
                name=Text(svc.name_de, svc.name_en),
                description=Text(svc.description_de, svc.description_en),
                documents=Texts(svc.documents_de, svc.documents_en),
                duration_minutes=svc.duration_minutes,
                leika_id=svc.leika_id,
                locations=svc.locations,
            )
            for svc in await offers.public_services(db)
        ]

    @get("/availability")
    async def availability(
        self,
        *,
        state: State,
        location: FromQuery[Annotated[str, _SLUG]],
        service: ServiceParam,
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
    ) -> AvailabilityOut:
        """Free start times per local day for one service set at one location."""
        app = rush(state)
        found = await app.searches.availability(
            None,
            location_slug=location,
            service_slugs=service,
            first_day=from_,
            last_day=to,
            now=app.clock.now(),
        )
        return AvailabilityOut(
            location=_ref(found.location),
            services=service,
            duration_minutes=found.location.total_minutes,
            from_=found.first_day,
            to=found.last_day,
            days=[DayOut(day.day, day.starts) for day in found.days],
        )

    @get("/availability/earliest")
    async def earliest(
        self,
        state: State,
        service: ServiceParam,
        location: LocationsParam = None,
    ) -> EarliestListOut:
        """The earliest free start at every location offering the whole service set."""
        app = rush(state)
        found = await app.searches.earliest_starts(None, service, location, app.clock.now())
        return EarliestListOut(
            services=service,
            locations=[
                EarliestOut(_ref(e.location), e.location.total_minutes, e.earliest) for e in found
            ],
        )
