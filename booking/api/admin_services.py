"""Admin API for services and for which location offers them, with what duration.

Services are one catalogue for all locations, so only admins create and change them;
location admins read it and decide what their own locations offer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, Meta, UnsetType

from booking.api.admin_common import (
    LINE_PATTERN,
    Name,
    Paragraph,
    Slug,
    find_location,
    given,
)
from booking.api.dependencies import Transaction
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role, Staff
from booking.db import Connection
from booking.db import catalogue as q
from booking.db.audit import record
from booking.db.catalogue import LocationService, NewService, Service
from booking.errors import NotFound

Duration = Annotated[int, Meta(ge=1, le=480, description="minutes")]
Document = Annotated[str, Meta(min_length=1, max_length=300, pattern=LINE_PATTERN)]
Documents = Annotated[list[Document], Meta(max_length=30)]
LeikaId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z._-]+$")]
QueuePrefix = Annotated[str, Meta(pattern=r"^[A-Z]$", description="first letter of ticket codes")]


class ServicePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every field optional: a PATCH changes exactly the fields it sends (null clears leika_id)."""

    slug: Slug | UnsetType = UNSET
    name_de: Name | UnsetType = UNSET
    name_en: Name | UnsetType = UNSET
    description_de: Paragraph | UnsetType = UNSET
    description_en: Paragraph | UnsetType = UNSET
    documents_de: Documents | UnsetType = UNSET
    documents_en: Documents | UnsetType = UNSET
    duration_minutes: Duration | UnsetType = UNSET
    leika_id: LeikaId | UnsetType | None = UNSET
    queue_prefix: QueuePrefix | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class ServiceIn(ServicePatch, frozen=True, kw_only=True, forbid_unknown_fields=True):
    slug: Slug
    name_de: Name
    name_en: Name
    duration_minutes: Duration


class ServiceOut(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name_de: str
    name_en: str
    description_de: str
    description_en: str
    documents_de: list[str]
    documents_en: list[str]
    duration_minutes: int
    leika_id: str | None
    queue_prefix: str
    active: bool
    created_at: datetime


class OfferIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How one location offers a service; PUT replaces it whole."""

    duration_minutes: Duration | None = None
    bookable_online: bool = True


class OfferOut(msgspec.Struct, frozen=True, kw_only=True):
    """``duration_minutes`` is this location's own duration, null where the default applies."""

    service: str
    duration_minutes: int | None
    default_duration_minutes: int
    bookable_online: bool


def _service_out(service: Service) -> ServiceOut:
    return msgspec.convert(service, ServiceOut, from_attributes=True)


def _offer_out(offer: LocationService) -> OfferOut:
    return OfferOut(
        service=offer.service_slug,
        duration_minutes=offer.duration_minutes,
        default_duration_minutes=offer.default_duration_minutes,
        bookable_online=offer.bookable_online,
    )


async def _service_id(db: Connection, slug: str) -> int:
    found = await q.service_id(db, slug)
    if found is None:
        raise NotFound("No such service.")
    return found


async def create_service(db: Connection, staff: Staff, data: ServiceIn) -> Service:
    """Shared by the API and the admin pages, as are the functions below."""
    service = await q.insert_service(db, NewService(**given(data)))
    await record(db, staff.actor, "service.create", "service", service.id, None)
    return service


async def update_service(db: Connection, staff: Staff, slug: str, data: ServicePatch) -> Service:
    current = await q.lock_service(db, slug)
    if current is None:
        raise NotFound("No such service.")
    fields = given(data)
    merged = await q.update_service(db, msgspec.structs.replace(current, **fields))
    await record(
        db, staff.actor, "service.update", "service", merged.id, None,
        {"fields": sorted(fields)},
    )  # fmt: skip
    return merged


async def set_offer(
    db: Connection, staff: Staff, slug: str, service_slug: str, data: OfferIn
) -> LocationService:
    location = await find_location(db, slug)
    service_id = await _service_id(db, service_slug)
    offer = await q.set_location_service(
        db, location.id, service_id, data.duration_minutes, data.bookable_online
    )
    await record(db, staff.actor, "offer.set", "service", service_id, location.id)
    return offer


async def remove_offer(db: Connection, staff: Staff, slug: str, service_slug: str) -> None:
    location = await find_location(db, slug)
    service_id = await _service_id(db, service_slug)
    if not await q.delete_location_service(db, location.id, service_id):
        raise NotFound("This location does not offer that service.")
    await record(db, staff.actor, "offer.remove", "service", service_id, location.id)


class ServiceController(Controller):
    path = "/services"

    @get(guards=[requires(Role.LOCATION_ADMIN)])
    async def list_services(self, db: Transaction) -> list[ServiceOut]:
        return [_service_out(service) for service in await q.all_services(db)]

    @post(guards=[requires(Role.ADMIN)])
    async def create_service(
        self, db: Transaction, staff: CurrentStaff, data: JSONBody[ServiceIn]
    ) -> ServiceOut:
        return _service_out(await create_service(db, staff, data))

    @patch("/{slug:str}", guards=[requires(Role.ADMIN)])
    async def update_service(
        self, db: Transaction, staff: CurrentStaff, slug: FromPath[str],
        data: JSONBody[ServicePatch],
    ) -> ServiceOut:  # fmt: skip
        return _service_out(await update_service(db, staff, slug, data))


class OfferController(Controller):
    """Durations change which starts are free, not the grid, so nothing is regenerated here."""

    path = "/locations/{slug:str}/services"
    guards = [requires(Role.LOCATION_ADMIN, location="slug")]  # noqa: RUF012

    @get()
    async def list_offers(self, db: Transaction, slug: FromPath[str]) -> list[OfferOut]:
        location = await find_location(db, slug)
        return [_offer_out(offer) for offer in await q.location_services(db, location.id)]

    @put("/{service_slug:str}")
    async def set_offer(
        self,
        db: Transaction,
        staff: CurrentStaff,
        slug: FromPath[str],
        service_slug: FromPath[str],
        data: JSONBody[OfferIn],
    ) -> OfferOut:
        return _offer_out(await set_offer(db, staff, slug, service_slug, data))

    @delete("/{service_slug:str}")
    async def remove_offer(
        self, db: Transaction, staff: CurrentStaff, slug: FromPath[str],
        service_slug: FromPath[str],
    ) -> None:  # fmt: skip
        await remove_offer(db, staff, slug, service_slug)
