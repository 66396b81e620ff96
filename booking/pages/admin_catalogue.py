"""Locations, the service catalogue, and what each location offers, as the API keeps them.

Admins create locations and services and change services (one catalogue for all offices);
location admins change their own locations and decide what those offer. A form shows every
field, but only the fields that changed are sent on, so the audit log says what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking.api import admin_locations as locations_api
from booking.api import admin_services as services_api
from booking.api.admin_common import find_location
from booking.api.admin_locations import LocationIn, LocationPatch
from booking.api.admin_services import OfferIn, ServiceIn, ServicePatch
from booking.api.dependencies import ClockDep, Transaction
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role, Staff
from booking.db import Connection
from booking.db import catalogue as q
from booking.db.catalogue import Location, NewLocation, Service
from booking.errors import BookingError, NotFound
from booking.i18n import N_
from booking.pages.admin_errors import AdminPages
from booking.pages.admin_forms import (
    AnyRequest,
    Problems,
    admin_page,
    attempt,
    changed,
    checkbox,
    converted,
    done,
    present,
    problems_of,
    status_message,
    text_fields,
)

LOCATION_TEXT = (
    "slug", "name_de", "name_en", "street", "postal_code", "city", "phone", "email",
    "time_zone", "grid_minutes", "horizon_days", "min_lead_minutes",
    "cancel_deadline_minutes", "reminder_minutes", "allocation_mode",
)  # fmt: skip
LOCATION_BOXES = ("requires_confirmation", "active")
SERVICE_TEXT = (
    "slug", "name_de", "name_en", "description_de", "description_en", "documents_de",
    "documents_en", "duration_minutes", "leika_id", "queue_prefix",
)  # fmt: skip
Values = dict[str, str]

DONE = {
    "location-created": N_("The location is created. Now add its opening hours and services."),
    "location-saved": N_("The location is saved."),
    "service-created": N_("The service is created. Locations can offer it now."),
    "service-saved": N_("The service is saved."),
    "offer-saved": N_("The offer is saved."),
    "offer-removed": N_("The location no longer offers this service."),
}
_NAME = N_("Enter a name of at most 200 characters.")
_LINE = N_("Enter at most 200 characters, on one line.")
_MINUTES = N_("Enter a number of minutes, from 0 to 527040.")
MESSAGES = {
    "slug": N_("Enter a short name of lowercase letters, digits and hyphens, like buergeramt-ost."),
    "slug:conflict": N_("This short name is in use already. Choose another one."),
    "name_de": _NAME,
    "name_en": _NAME,
    "street": _LINE,
    "postal_code": _LINE,
    "city": _LINE,
    "phone": N_("Enter a telephone number, like +49 30 1234567."),
    "email": N_("Enter an email address, like buergeramt@example.org."),
    "time_zone": N_("Enter a time zone, like Europe/Berlin."),
    "grid_minutes": N_("Enter the slot length in minutes, from 5 to 120."),
    "horizon_days": N_("Enter how many days ahead citizens can book, from 1 to 366."),
    "min_lead_minutes": _MINUTES,
    "cancel_deadline_minutes": _MINUTES,
    "reminder_minutes": _MINUTES,
    "allocation_mode": N_("Choose how waitlist offers are made."),
    "description_de": N_("The description can be at most 5000 characters long."),
    "description_en": N_("The description can be at most 5000 characters long."),
    "documents_de": N_("List at most 30 documents, one per line, each up to 300 characters."),
    "documents_en": N_("List at most 30 documents, one per line, each up to 300 characters."),
    "duration_minutes": N_("Enter a duration in minutes, from 1 to 480."),
    "leika_id": N_("Enter the LeiKa or FIM key: letters, digits, dots, hyphens, underscores."),
    "queue_prefix": N_("Enter one capital letter, like A."),
}


def _location_values(location: NewLocation) -> Values:
    """What the form shows: a stored location, or a new one with the schema's defaults."""
    values = {name: str(getattr(location, name)) for name in LOCATION_TEXT}
    return values | {name: str(getattr(location, name)).lower() for name in LOCATION_BOXES}


def _sent_location(form: Mapping[str, Any]) -> Values:
    return text_fields(form, LOCATION_TEXT) | {
        name: checkbox(form, name) for name in LOCATION_BOXES
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _service_values(service: Service | None) -> Values:
    if service is None:
        return dict.fromkeys(SERVICE_TEXT, "") | {"queue_prefix": "A", "active": "true"}
    values = {name: str(getattr(service, name) or "") for name in SERVICE_TEXT}
    values["documents_de"] = "\n".join(service.documents_de)
    values["documents_en"] = "\n".join(service.documents_en)
    return values | {"active": str(service.active).lower()}


def _sent_service(form: Mapping[str, Any]) -> Values:
    return text_fields(form, SERVICE_TEXT) | {"active": checkbox(form, "active")}


def _service_fields(values: Values) -> dict[str, Any]:
    """The API's field values: documents one per line, an empty LeiKa key none."""
    fields: dict[str, Any] = dict(values)
    fields["documents_de"] = _lines(values["documents_de"])
    fields["documents_en"] = _lines(values["documents_en"])
    fields["leika_id"] = values["leika_id"] or None
    return fields


async def _service(db: Connection, slug: str) -> Service:
    found = next((s for s in await q.all_services(db) if s.slug == slug), None)
    if found is None:
        raise NotFound("No such service.")
    return found


_LOCATION_ADMIN = [requires(Role.LOCATION_ADMIN, location="slug")]
_ADMIN = [requires(Role.ADMIN)]


class LocationPages(AdminPages):
    path = "/locations"

    async def _form(
        self, request: AnyRequest, staff: Staff, location: Location | None, values: Values,
        problems: Problems | None = None,
    ) -> Template:  # fmt: skip
        return admin_page(
            request, "admin/location.html", staff,
            {"location": location, "section": "settings", "values": values,
             "problems": problems or {},
             "done": None if problems else status_message(request, DONE)},
            status=422 if problems else 200,
        )  # fmt: skip

    @get("/new", guards=_ADMIN)
    async def new(self, request: AnyRequest, staff: CurrentStaff) -> Template:
        return await self._form(
            request, staff, None, _location_values(NewLocation(slug="", name_de="", name_en=""))
        )

    @post("/", guards=_ADMIN)
    async def create(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff
    ) -> Template | Redirect:
        values = _sent_location(await request.form())
        try:
            data = converted(LocationIn, present(values) | {"slug": values["slug"]})
            await attempt(db, lambda: locations_api.create_location(db, staff, data))
        except BookingError as error:
            if error.status not in {409, 422}:
                raise
            return await self._form(request, staff, None, values, problems_of(error, MESSAGES))
        return done(f"/admin/locations/{data.slug}", "location-created")

    @get("/{slug:str}", guards=_LOCATION_ADMIN)
    async def settings(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template:
        location = await find_location(db, slug)
        return await self._form(request, staff, location, _location_values(location))

    @post("/{slug:str}", guards=_LOCATION_ADMIN)
    async def save(
        self, request: AnyRequest, db: Transaction, clock: ClockDep, staff: CurrentStaff,
        slug: FromPath[str],
    ) -> Template | Redirect:  # fmt: skip
        location = await find_location(db, slug)
        values = _sent_location(await request.form()) | {"slug": slug}
        try:
            sent = converted(LocationPatch, values)
            patch = LocationPatch(**changed(sent, location))
            await attempt(db, lambda: locations_api.update_location(db, clock, staff, slug, patch))
        except BookingError as error:
            if error.status not in {409, 422}:
                raise
            problems = problems_of(error, MESSAGES)
            return await self._form(request, staff, location, values, problems)
        return done(f"/admin/locations/{slug}", "location-saved")

    @get("/{slug:str}/services", guards=_LOCATION_ADMIN)
    async def offers(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template:
        return await self._offers(request, db, staff, slug)

    async def _offers(
        self, request: AnyRequest, db: Connection, staff: Staff, slug: str, *,
        problems: Problems | None = None, values: Values | None = None,
    ) -> Template:  # fmt: skip
        location = await find_location(db, slug)
        offered = {o.service_slug: o for o in await q.location_services(db, location.id)}
        return admin_page(
            request, "admin/offers.html", staff,
            {"location": location, "section": "offers", "services": await q.all_services(db),
             "offered": offered, "problems": problems or {}, "values": values or {},
             "done": None if problems else status_message(request, DONE)},
            status=422 if problems else 200,
        )  # fmt: skip

    @post("/{slug:str}/services/{service:str}", guards=_LOCATION_ADMIN)
    async def set_offer(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str],
        service: FromPath[str],
    ) -> Template | Redirect:  # fmt: skip
        form = await request.form()
        duration = str(form.get("duration_minutes", "")).strip()
        sent = {"duration_minutes": duration or None,
                "bookable_online": checkbox(form, "bookable_online")}  # fmt: skip
        try:
            data = converted(OfferIn, sent)
            await attempt(db, lambda: services_api.set_offer(db, staff, slug, service, data))
        except BookingError as error:
            if error.status != 422:
                raise
            field = f"duration-{service}"
            problems = {field: MESSAGES["duration_minutes"]}
            return await self._offers(
                request, db, staff, slug, problems=problems, values={field: duration}
            )
        return done(f"/admin/locations/{slug}/services", "offer-saved")

    @post("/{slug:str}/services/{service:str}/remove", guards=_LOCATION_ADMIN)
    async def remove_offer(
        self, db: Transaction, staff: CurrentStaff, slug: FromPath[str], service: FromPath[str]
    ) -> Redirect:
        await services_api.remove_offer(db, staff, slug, service)
        return done(f"/admin/locations/{slug}/services", "offer-removed")


class ServicePages(AdminPages):
    """The catalogue: location admins read it (as in the API), admins change it."""

    path = "/services"

    async def _form(
        self, request: AnyRequest, staff: Staff, service: Service | None, values: Values,
        problems: Problems | None = None,
    ) -> Template:  # fmt: skip
        return admin_page(
            request, "admin/service.html", staff,
            {"service": service, "section": "services", "values": values,
             "problems": problems or {},
             "done": None if problems else status_message(request, DONE)},
            status=422 if problems else 200,
        )  # fmt: skip

    @get("/", guards=[requires(Role.LOCATION_ADMIN)])
    async def services(self, request: AnyRequest, db: Transaction, staff: CurrentStaff) -> Template:
        return admin_page(
            request, "admin/services.html", staff,
            {"services": await q.all_services(db), "section": "services",
             "done": status_message(request, DONE)},
        )  # fmt: skip

    @get("/new", guards=_ADMIN)
    async def new(self, request: AnyRequest, staff: CurrentStaff) -> Template:
        return await self._form(request, staff, None, _service_values(None))

    @post("/", guards=_ADMIN)
    async def create(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff
    ) -> Template | Redirect:
        values = _sent_service(await request.form())
        try:
            fields = _service_fields(values)
            data = converted(ServiceIn, {k: v for k, v in fields.items() if v not in ("", None)})
            await attempt(db, lambda: services_api.create_service(db, staff, data))
        except BookingError as error:
            if error.status not in {409, 422}:
                raise
            return await self._form(request, staff, None, values, problems_of(error, MESSAGES))
        return done("/admin/services", "service-created")

    @get("/{slug:str}", guards=_ADMIN)
    async def edit(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template:
        service = await _service(db, slug)
        return await self._form(request, staff, service, _service_values(service))

    @post("/{slug:str}", guards=_ADMIN)
    async def save(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template | Redirect:
        service = await _service(db, slug)
        values = _sent_service(await request.form()) | {"slug": slug}
        try:
            sent = converted(ServicePatch, _service_fields(values))
            patch = ServicePatch(**changed(sent, service))
            await attempt(db, lambda: services_api.update_service(db, staff, slug, patch))
        except BookingError as error:
            if error.status not in {409, 422}:
                raise
            problems = problems_of(error, MESSAGES)
            return await self._form(request, staff, service, values, problems)
        return done("/admin/services", "service-saved")
