"""Staff booking on behalf of a citizen without internet, and staff cancellation.

Same capacity and rules as online booking; email is optional, there is no double opt-in
(staff saw the person) and no per-address limit (staff judge that themselves).
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, post
from litestar.params import FromPath, JSONBody

from booking import appointments as uc
from booking.api.appointments import (
    AppointmentOut,
    Email,
    Language,
    Name,
    Phone,
    Services,
    Start,
    appointment_out,
)
from booking.api.dependencies import ClockDep, SettingsDep, UnitOfWorkDep
from booking.appointments import BookingRequest, Context
from booking.auth.guards import requires
from booking.auth.principals import Role


class StaffBookingIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    services: Services
    start: Start
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    language: Language = "de"


class StaffAppointmentController(Controller):
    tags = ["admin"]  # noqa: RUF012

    # Front-desk staff book for walk-ins and callers; cancelling by code stays admin-only
    # (the router's default) until it checks the appointment's location.
    @post("/locations/{slug:str}/appointments", guards=[requires(Role.DESK, location="slug")])
    async def book_for_citizen(
        self, *, slug: FromPath[str], data: JSONBody[StaffBookingIn], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep,
    ) -> Response[AppointmentOut]:  # fmt: skip
        ctx = Context(settings, clock.now())
        wanted = BookingRequest(
            location=slug, services=data.services, start=data.start, name=data.name,
            email=data.email, phone=data.phone, language=data.language,
        )  # fmt: skip
        booking = await uow.run(lambda conn: uc.book(conn, ctx, wanted, by_staff=True), ctx)
        return Response(appointment_out(booking, settings, with_secret=True), status_code=201)

    @post("/appointments/{code:str}/cancel", status_code=200)
    async def cancel_for_citizen(
        self, *, code: FromPath[str], uow: UnitOfWorkDep, settings: SettingsDep, clock: ClockDep
    ) -> AppointmentOut:
        ctx = Context(settings, clock.now())
        booking = await uow.run(lambda conn: uc.cancel_by_staff(conn, ctx, code), ctx)
        return appointment_out(booking, settings, with_secret=False)
