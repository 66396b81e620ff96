"""``/api/v1/staff/locations/{slug}/...``: desk staff run the queue of their location.

Staff choose their desk once (``PUT /desk``); calling, recalling, starting, completing and
no-shows then act at that desk. The answers name citizens of appointments (staff need the
name to greet them); walk-in tickets are anonymous.
"""

from __future__ import annotations

from datetime import date, datetime
from math import floor
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from booking import queueing
from booking.api.appointments import Code, Slug
from booking.api.at_location import AtLocation, AtLocationDep, provide_at_location
from booking.api.dependencies import ClockDep, SettingsDep, Transaction
from booking.api.tickets import TicketOut, ticket_out
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role
from booking.db.desks import Desk
from booking.db.tickets import DayAppointment, Ticket

Everything = Annotated[bool, QueryParameter(name="all")]
Day = Annotated[date | None, QueryParameter(name="date")]


class DeskOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    active: bool
    services: list[str]
    staffed_by: str | None
    staffed_at: datetime | None


class DeskChoiceIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    desk_id: Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class TransferIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    service: Slug


class AppointmentRef(msgspec.Struct, frozen=True):
    code: str
    start: datetime
    name: str | None


class StaffTicketOut(msgspec.Struct, frozen=True, kw_only=True):
    """``waiting_minutes``: from arrival (a booked start, if later) to the call, or to now."""

    id: int
    code: str
    status: str
    service: str
    channel: str
    priority_at: datetime
    issued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    waiting_minutes: int
    desk: str | None
    recalls: int
    appointment: AppointmentRef | None


class QueueOut(msgspec.Struct, frozen=True):
    desk: DeskOut | None
    tickets: list[StaffTicketOut]


class CalledOut(msgspec.Struct, frozen=True):
    """``ticket`` is null when nobody waits for the desk's services."""

    ticket: StaffTicketOut | None


class TicketRef(msgspec.Struct, frozen=True):
    code: str
    status: str


class DayAppointmentOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    start: datetime
    end: datetime
    status: str
    name: str | None
    services: list[str]
    ticket: TicketRef | None


class PosterOut(msgspec.Struct, frozen=True):
    """Today's QR poster: ``url`` for the QR code; it stops working at midnight."""

    url: str
    code: str
    valid_on: date


def desk_out(desk: Desk) -> DeskOut:
    return msgspec.convert(desk, DeskOut, from_attributes=True)


def staff_ticket_out(t: Ticket, now: datetime) -> StaffTicketOut:
    arrived = max(t.issued_at, t.booked_start or t.issued_at)
    waited = (t.called_at or now) - arrived
    return StaffTicketOut(
        id=t.id,
        code=t.display_code,
        status=t.status,
        service=t.service_slug,
        channel=t.channel,
        priority_at=t.priority_at,
        issued_at=t.issued_at,
        called_at=t.called_at,
        started_at=t.started_at,
        waiting_minutes=max(0, floor(waited.total_seconds() / 60)),
        desk=t.desk_name,
        recalls=t.recalls,
        appointment=None
        if t.appointment_code is None or t.booked_start is None
        else AppointmentRef(t.appointment_code, t.booked_start, t.citizen_name),
    )


def _day_appointment_out(a: DayAppointment) -> DayAppointmentOut:
    return DayAppointmentOut(
        code=a.code,
        start=a.starts_at,
        end=a.ends_at,
        status=a.status,
        name=a.citizen_name,
        services=a.services,
        ticket=None
        if a.ticket_code is None or a.ticket_status is None
        else TicketRef(a.ticket_code, a.ticket_status),
    )


class QueueController(Controller):
    path = "/locations/{slug:str}"
    guards = [requires(Role.DESK, location="slug")]  # noqa: RUF012
    tags = ["queue"]  # noqa: RUF012
    dependencies = {"here": Provide(provide_at_location, sync_to_thread=False)}  # noqa: RUF012

    @get("/desks")
    async def desks(self, db: Transaction, slug: FromPath[str]) -> list[DeskOut]:
        location = await queueing.location_by_slug(db, slug)
        return [desk_out(desk) for desk in await queueing.desks(db, location)]

    @put("/desk")
    async def choose_desk(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        data: JSONBody[DeskChoiceIn],
    ) -> DeskOut:  # fmt: skip
        """Sit down at a desk; whoever sat there before no longer does."""
        location = await queueing.location_by_slug(db, slug)
        return desk_out(await queueing.choose_desk(db, location, staff, data.desk_id, clock.now()))

    @delete("/desk")
    async def leave_desk(self, db: Transaction, staff: CurrentStaff, slug: FromPath[str]) -> None:
        await queueing.location_by_slug(db, slug)
        await queueing.leave_desk(db, staff)

    @get("/queue")
    async def queue(
        self, db: Transaction, clock: ClockDep, staff: CurrentStaff, slug: FromPath[str],
        everything: Everything = False,
    ) -> QueueOut:  # fmt: skip
        """Today's open tickets for the services of my desk (``?all=true``: every service)."""
        now = clock.now()
        location = await queueing.location_by_slug(db, slug)
        found = await queueing.queue_for(db, location, staff, now, everything=everything)
        return QueueOut(
            None if found.desk is None else desk_out(found.desk),
            [staff_ticket_out(t, now) for t in found.tickets],
        )

    @post("/call-next", status_code=200)
    async def call_next(
        self, *, here: AtLocationDep
    ) -> CalledOut:  # fmt: skip
        """The next ticket to my desk; 409 ``desk_busy`` while my desk has one open."""
        called = await here.run(
            lambda conn, ctx, location: queueing.call_next(conn, ctx, location, here.staff)
        )
        return CalledOut(None if called is None else staff_ticket_out(called, here.ctx.now))

    @post("/tickets/{ticket_id:int}/recall", status_code=200)
    async def recall(
        self, *, here: AtLocationDep, ticket_id: FromPath[int]
    ) -> StaffTicketOut:  # fmt: skip
        """Call the ticket to my desk again; the board shows it again."""
        return await _at_desk(here, queueing.recall, ticket_id)

    @post("/tickets/{ticket_id:int}/start", status_code=200)
    async def start(
        self, *, here: AtLocationDep, ticket_id: FromPath[int]
    ) -> StaffTicketOut:  # fmt: skip
        return await _at_desk(here, queueing.start, ticket_id)

    @post("/tickets/{ticket_id:int}/complete", status_code=200)
    async def complete(
        self, *, here: AtLocationDep, ticket_id: FromPath[int]
    ) -> StaffTicketOut:  # fmt: skip
        """Done; an appointment's ticket completes the appointment."""
        return await _at_desk(here, queueing.complete, ticket_id)

    @post("/tickets/{ticket_id:int}/no-show", status_code=200)
    async def no_show(
        self, *, here: AtLocationDep, ticket_id: FromPath[int]
    ) -> StaffTicketOut:  # fmt: skip
        """Called but never came; an appointment's ticket marks the appointment no-show."""
        return await _at_desk(here, queueing.no_show, ticket_id)

    @post("/tickets/{ticket_id:int}/transfer", status_code=200)
    async def transfer(
        self, *, here: AtLocationDep, ticket_id: FromPath[int], data: JSONBody[TransferIn]
    ) -> StaffTicketOut:  # fmt: skip
        """To another service's queue, keeping its number and its place in time: ahead of
        everyone who came after it, behind those who came before."""
        moved = await here.run(
            lambda conn, ctx, location: queueing.transfer(
                conn, ctx, location, here.staff, ticket_id, service_slug=data.service
            )
        )
        return staff_ticket_out(moved, here.ctx.now)

    @get("/appointments")
    async def appointments(
        self, db: Transaction, clock: ClockDep, slug: FromPath[str], day: Day = None
    ) -> list[DayAppointmentOut]:
        """A day's appointments (today by default) and whether they checked in."""
        location = await queueing.location_by_slug(db, slug)
        wanted = day or queueing.local_day(location, clock.now())
        return [
            _day_appointment_out(a) for a in await queueing.day_appointments(db, location, wanted)
        ]

    @post("/appointments/{code:str}/check-in")
    async def check_in(
        self, *, here: AtLocationDep, code: FromPath[Code]
    ) -> TicketOut:  # fmt: skip
        """As at the kiosk, for someone who asks at the counter."""
        found = await here.run(
            lambda conn, ctx, location: queueing.check_in(conn, ctx, location, code)
        )
        return ticket_out(found, here.ctx.settings)

    @post("/appointments/{code:str}/walk-in")
    async def walk_in(
        self, *, here: AtLocationDep, code: FromPath[Code]
    ) -> TicketOut:  # fmt: skip
        """A late arrival (past the check-in window) queues as a walk-in from now."""
        found = await here.run(
            lambda conn, ctx, location: queueing.walk_in_for_late(
                conn, ctx, location, here.staff.actor, code
            )
        )
        return ticket_out(found, here.ctx.settings)

    @get("/poster")
    async def poster(
        self, db: Transaction, settings: SettingsDep, clock: ClockDep, slug: FromPath[str]
    ) -> PosterOut:
        location = await queueing.location_by_slug(db, slug)
        day = queueing.local_day(location, clock.now())
        return PosterOut(
            queueing.join_url(settings, location, day), queueing.poster_code(location, day), day
        )


async def _at_desk(here: AtLocation, action: queueing.DeskAction, ticket_id: int) -> StaffTicketOut:
    ticket = await here.run(
        lambda conn, ctx, location: action(conn, ctx, location, here.staff, ticket_id)
    )
    return staff_ticket_out(ticket, here.ctx.now)
