"""The ticket kiosk ``/kiosk/{slug}``: a walk-in number by touching a service, or an
appointment's number by its booking code (typed on the keypad or read by a scanner, which
types it and presses Enter).

Both are HTML forms posting to page routes (CSRF form token, device cookie, see
``device_signin``) that run the kiosk API's use cases through the unit of work, then
redirect to the ticket (a reload prints nothing twice). The ticket page prints on 80 mm
paper and goes back to the start by itself, in German: a meta refresh without script,
``frontend/static/kiosk.js`` with it (which also adds the keypad and printing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking import queueing
from booking.api.dependencies import ClockDep, SettingsDep, Transaction, UnitOfWorkDep
from booking.api.unit_of_work import UnitOfWork
from booking.appointments import Context
from booking.auth.guards import CurrentDevice, requires_device
from booking.auth.principals import DeviceKind
from booking.calendar import zone
from booking.db import Connection
from booking.db.tickets import QueueLocation, Ticket
from booking.errors import BookingError, InvalidInput, NotFound
from booking.i18n import N_
from booking.pages.device_signin import DeviceSignIn, home, not_signed_in
from booking.pages.manage import qr_data_uri
from booking.pages.rendering import page, url
from booking.queueing import TicketStatus

AnyRequest = Request[Any, Any, Any]
# Seconds a ticket or an error stays on screen before the kiosk is ready for the next person.
RETURN_SECONDS = 20
_MAX_CODE = 40

# What the person at the kiosk reads, by the use case's error code.
_PROBLEMS = {
    "not_found": N_("There is no appointment with this booking code. Check the code in your "
                    "confirmation email."),
    "invalid_input": N_("Enter the booking code from your confirmation email: six letters "
                        "and digits."),
    "too_early": N_("It is too early to check in. Check-in opens %(minutes)s minutes before "
                    "your appointment."),
    "too_late": N_("It is too late to check in for this appointment. Please take a waiting "
                   "number or ask at reception."),
    "other_location": N_("This appointment is at another office. Check the address in your "
                         "confirmation email."),
    "already_checked_in": N_("You have already checked in for this appointment. Please wait "
                             "until your number is called."),
    "wrong_state": N_("This appointment cannot be checked in, for example because it was "
                      "cancelled. Please ask at reception."),
    "not_served": N_("No desk serves this service right now. Please ask at reception."),
}  # fmt: skip
_OTHER_PROBLEM = N_("Sorry, that did not work. Please ask at reception.")


class TicketView(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket as the kiosk shows and prints it, in the office's local time."""

    code: str
    ticket: Ticket
    location: QueueLocation
    issued_at: datetime
    booked_start: datetime | None
    ahead: int | None
    minutes: int | None
    follow_url: str
    qr: str


def _view(found: TicketStatus, follow_url: str) -> TicketView:
    t, tz = found.ticket, zone(found.location.time_zone)
    return TicketView(
        code=t.display_code,
        ticket=t,
        location=found.location,
        issued_at=t.issued_at.astimezone(tz),
        booked_start=None if t.booked_start is None else t.booked_start.astimezone(tz),
        ahead=found.ahead,
        minutes=None if found.wait is None else found.wait.estimated_minutes,
        follow_url=follow_url,
        qr=qr_data_uri(follow_url),
    )


def _start(slug: str) -> str:
    """Back to the start, and to German: the next person may not read English."""
    return url(home(DeviceKind.KIOSK, slug), [("lang", "de")])


class KioskSignIn(DeviceSignIn):
    path = "/kiosk/{slug:str}"
    kind = DeviceKind.KIOSK


class KioskPages(Controller):
    path = "/kiosk/{slug:str}"
    guards = [requires_device(DeviceKind.KIOSK, location="slug")]  # noqa: RUF012
    exception_handlers = not_signed_in(DeviceKind.KIOSK)
    include_in_schema = False

    @get("/")
    async def start(
        self, request: AnyRequest, db: Transaction, clock: ClockDep, device: CurrentDevice
    ) -> Template:
        """The services some desk serves, each with its wait, and the booking code entry."""
        location = await queueing.location_by_id(db, device.location_id)
        queues = await queueing.service_queues(db, location, clock.now())
        return page(
            request,
            "kiosk/start.html",
            {"location": location, "queues": queues, "slug": location.slug},
            switch=(home(DeviceKind.KIOSK, location.slug), []),
        )

    @post("/ticket")
    async def issue(
        self, *, request: AnyRequest, uow: UnitOfWorkDep, settings: SettingsDep,
        clock: ClockDep, device: CurrentDevice,
    ) -> Template | Redirect:  # fmt: skip
        """A walk-in number for the service touched."""
        service = str((await request.form()).get("service", ""))[:_MAX_CODE]
        ctx = Context(settings, clock.now())

        async def work(conn: Connection) -> TicketStatus:
            location = await queueing.location_by_id(conn, device.location_id)
            return await queueing.issue(conn, ctx, location, service, channel="kiosk")

        return await _ticket_or_problem(request, uow, ctx, device.location_slug, work)

    @post("/check-in")
    async def check_in(
        self, *, request: AnyRequest, uow: UnitOfWorkDep, settings: SettingsDep,
        clock: ClockDep, device: CurrentDevice,
    ) -> Template | Redirect:  # fmt: skip
        """The appointment's number, by its booking code."""
        code = str((await request.form()).get("code", "")).strip()
        ctx = Context(settings, clock.now())

        async def work(conn: Connection) -> TicketStatus:
            if not 4 <= len(code) <= _MAX_CODE:
                raise InvalidInput.field("code", "not a booking code")
            location = await queueing.location_by_id(conn, device.location_id)
            return await queueing.check_in(conn, ctx, location, code)

        return await _ticket_or_problem(request, uow, ctx, device.location_slug, work)

    @get("/ticket/{public_id:str}")
    async def ticket(
        self, *, request: AnyRequest, db: Transaction, settings: SettingsDep, clock: ClockDep,
        device: CurrentDevice, public_id: FromPath[str],
    ) -> Template:  # fmt: skip
        """The ticket, big, ready to print; another office's ticket is no ticket here."""
        found = await queueing.ticket_status(db, clock.now(), public_id[:64])
        if found.ticket.location_id != device.location_id:
            raise NotFound("No such ticket.")
        ticket = _view(found, queueing.follow_url(settings, found.ticket.public_id))
        return page(
            request,
            "kiosk/ticket.html",
            {"t": ticket, "slug": device.location_slug, "start": _start(device.location_slug),
             "seconds": RETURN_SECONDS, "print": request.query_params.get("print") == "1"},
        )  # fmt: skip


async def _ticket_or_problem(
    request: AnyRequest,
    uow: UnitOfWork,
    ctx: Context,
    slug: str,
    work: Callable[[Connection], Awaitable[TicketStatus]],
) -> Template | Redirect:
    """The new ticket (redirected to, to be printed), or why there is none, in words."""
    try:
        found = await uow.run(work, ctx)
    except BookingError as exc:
        return page(
            request,
            "kiosk/problem.html",
            {"problem": _PROBLEMS.get(exc.code, _OTHER_PROBLEM), "slug": slug,
             "minutes": ctx.settings.check_in_early_minutes, "start": _start(slug),
             "seconds": RETURN_SECONDS},
            status=exc.status,
            switch=(home(DeviceKind.KIOSK, slug), []),
        )  # fmt: skip
    target = f"{home(DeviceKind.KIOSK, slug)}/ticket/{found.ticket.public_id}"
    return Redirect(url(target, [("print", "1")]), status_code=303)
