"""A location's desks, kiosk and display devices, and mails that could not be delivered.

Desks change through the queue's use cases, devices and retries through the API's own
functions, so the audit log reads the same whichever way an admin took. A new device token is
shown once: the registering POST hands it to the next page in a short-lived cookie for that
page only, which the page deletes as it shows the token: never in a URL, never stored on
the server, gone on reload.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking import queueing
from booking.api import admin_devices as devices_api
from booking.api import admin_outbox as outbox_api
from booking.api.admin_common import find_location
from booking.api.admin_desks import DeskIn, DeskPatch
from booking.api.admin_devices import DeviceIn
from booking.api.dependencies import ClockDep, SettingsDep, Transaction
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import DeviceKind, Role, Staff
from booking.db import Connection, outbox
from booking.db import desks as desk_q
from booking.db import devices as device_q
from booking.errors import BookingError
from booking.i18n import N_
from booking.pages.admin_errors import AdminPages
from booking.pages.admin_forms import (
    AnyRequest,
    Problems,
    admin_page,
    attempt,
    checkbox,
    converted,
    done,
    problems_of,
    status_message,
)

TOKEN_COOKIE = "admin_new_device"  # noqa: S105 - a cookie name, not a secret
_TOKEN_SECONDS = 300
# As many failed mails as the API lists at once.
_MESSAGES = 200

DONE = {
    "desk-created": N_("The desk is created."),
    "desk-saved": N_("The desk is saved."),
    "device-registered": N_("The device is registered."),
    "device-revoked": N_("The device is revoked. Its token no longer works."),
    "retried": N_("The message will be sent again in a moment."),
}
DESK_MESSAGES = {
    "name": N_("Enter a name of at most 200 characters, like Schalter 5."),
    "name:conflict": N_("This location has a desk of that name already."),
    "services": N_("Choose services this location offers."),
}
DEVICE_MESSAGES = {
    "name": N_("Enter a name of at most 200 characters, like Kiosk entrance."),
    "kind": N_("Choose the kind of device."),
}
Values = dict[str, Any]


def _desk_fields(form: Any, prefix: str) -> Values:
    return {
        "name": str(form.get("name", "")).strip(),
        "services": [str(s) for s in form.getall("services", [])],
        **({"active": checkbox(form, "active")} if prefix != "new" else {}),
    }


_LOCATION_ADMIN = [requires(Role.LOCATION_ADMIN, location="slug")]


class OfficePages(AdminPages):
    path = "/locations/{slug:str}"

    async def _desks(
        self, request: AnyRequest, db: Connection, staff: Staff, slug: str, *,
        problems: Problems | None = None, sent: tuple[str, Values] | None = None,
    ) -> Template:  # fmt: skip
        location = await find_location(db, slug)
        queue_location = await queueing.location_by_slug(db, slug)
        return admin_page(
            request, "admin/desks.html", staff,
            {"location": location, "section": "desks",
             "desks": await queueing.desks(db, queue_location),
             "services": await desk_q.queue_services(db, location.id),
             "problems": problems or {}, "sent": sent,
             "done": None if problems else status_message(request, DONE)},
            status=422 if problems else 200,
        )  # fmt: skip

    @get("/desks", guards=_LOCATION_ADMIN)
    async def desks(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template:
        return await self._desks(request, db, staff, slug)

    @post("/desks", guards=_LOCATION_ADMIN)
    async def create_desk(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template | Redirect:
        sent = _desk_fields(await request.form(), "new")
        try:
            data = converted(DeskIn, sent)
            location = await queueing.location_by_slug(db, slug)
            await attempt(
                db,
                lambda: queueing.create_desk(db, staff.actor, location, data.name, data.services),
            )
        except BookingError as error:
            if error.status not in {409, 422}:
                raise
            problems = {f"new-{k}": v for k, v in problems_of(error, DESK_MESSAGES).items()}
            return await self._desks(
                request, db, staff, slug, problems=problems, sent=("new", sent)
            )
        return done(f"/admin/locations/{slug}/desks", "desk-created")

    @post("/desks/{desk_id:int}", guards=_LOCATION_ADMIN)
    async def change_desk(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str],
        desk_id: FromPath[int],
    ) -> Template | Redirect:  # fmt: skip
        sent = _desk_fields(await request.form(), str(desk_id))
        try:
            data = converted(DeskPatch, sent)
            location = await queueing.location_by_slug(db, slug)
            changes = {name: getattr(data, name) for name in ("name", "active", "services")}
            await attempt(
                db, lambda: queueing.change_desk(db, staff.actor, location, desk_id, changes)
            )
        except BookingError as error:
            if error.status not in {409, 422}:
                raise
            problems = {f"d{desk_id}-{k}": v for k, v in problems_of(error, DESK_MESSAGES).items()}
            return await self._desks(
                request, db, staff, slug, problems=problems, sent=(str(desk_id), sent)
            )
        return done(f"/admin/locations/{slug}/desks", "desk-saved")

    async def _devices(
        self, request: AnyRequest, db: Connection, staff: Staff, slug: str, *,
        problems: Problems | None = None, values: Values | None = None,
        token: str | None = None,
    ) -> Template:  # fmt: skip
        location = await find_location(db, slug)
        return admin_page(
            request, "admin/devices.html", staff,
            {"location": location, "section": "devices",
             "devices": await device_q.devices_at(db, location.id), "kinds": list(DeviceKind),
             "problems": problems or {}, "values": values or {"kind": "kiosk", "name": ""},
             "token": token, "done": None if problems else status_message(request, DONE)},
            status=422 if problems else 200,
        )  # fmt: skip

    @get("/devices", guards=_LOCATION_ADMIN)
    async def devices(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template:
        token = request.cookies.get(TOKEN_COOKIE)
        answer = await self._devices(request, db, staff, slug, token=token)
        if token:
            answer.delete_cookie(TOKEN_COOKIE, path=request.url.path)
        return answer

    @post("/devices", guards=_LOCATION_ADMIN)
    async def register_device(
        self, request: AnyRequest, db: Transaction, settings: SettingsDep, staff: CurrentStaff,
        slug: FromPath[str],
    ) -> Template | Redirect:  # fmt: skip
        form = await request.form()
        values = {"kind": str(form.get("kind", "")), "name": str(form.get("name", "")).strip()}
        try:
            data = converted(DeviceIn, values)
            _, token = await attempt(db, lambda: devices_api.register(db, staff, slug, data))
        except BookingError as error:
            if error.status != 422:
                raise
            problems = problems_of(error, DEVICE_MESSAGES)
            return await self._devices(request, db, staff, slug, problems=problems, values=values)
        page = f"/admin/locations/{slug}/devices"
        answer = done(page, "device-registered")
        kept = Cookie(
            key=TOKEN_COOKIE, value=token, path=page, max_age=_TOKEN_SECONDS, httponly=True,
            secure=settings.secure_cookies, samesite="strict",
        )  # fmt: skip
        answer.cookies.append(kept)
        return answer

    @post("/devices/{device_id:int}/revoke", guards=_LOCATION_ADMIN)
    async def revoke_device(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        device_id: FromPath[int],
    ) -> Redirect:  # fmt: skip
        await devices_api.revoke(db, clock, staff, slug, device_id)
        return done(f"/admin/locations/{slug}/devices", "device-revoked")

    @get("/notifications", guards=_LOCATION_ADMIN)
    async def notifications(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template:
        """Mails refused for good or given up on, newest first, as the API lists them."""
        location = await find_location(db, slug)
        found = await outbox.location_messages(db, location.id, failed=True, limit=_MESSAGES)
        return admin_page(
            request, "admin/notifications.html", staff,
            {"location": location, "section": "notifications", "messages": found,
             "done": status_message(request, DONE)},
        )  # fmt: skip

    @post("/notifications/{message_id:int}/retry", guards=_LOCATION_ADMIN)
    async def retry(
        self, db: Transaction, clock: ClockDep, slug: FromPath[str], message_id: FromPath[int]
    ) -> Redirect:
        await outbox_api.retry(db, clock, slug, message_id)
        return done(f"/admin/locations/{slug}/notifications", "retried")
