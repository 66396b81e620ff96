"""``/api/v1/kiosk``: the ticket terminal issues walk-in tickets and checks in appointments.

A kiosk acts for the location of its device token only. The kiosk page may name its
location in the body as well; a different one is refused rather than silently ignored, so a
terminal set up with the wrong token shows up at once.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody

from booking import queueing
from booking.api.appointments import Code, Slug
from booking.api.dependencies import ClockDep, SettingsDep, Transaction, UnitOfWorkDep
from booking.api.offers import LocationRef, Text
from booking.api.tickets import CallAheadIn, TicketOut, location_ref, ticket_out
from booking.appointments import Context
from booking.auth.guards import CurrentDevice, WrongLocation, requires_device
from booking.auth.principals import DeviceKind
from booking.db import Connection
from booking.db.devices import Device
from booking.queueing import ServiceQueue

DEVICE_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


class KioskTicketIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    service: Slug
    location: Slug | None = None
    call_ahead: CallAheadIn | None = None


class CheckInIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``code``: the booking code as typed or scanned (case, spaces and dashes do not matter)."""

    code: Code
    location: Slug | None = None


class ServiceWaitOut(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: Text
    prefix: str
    waiting: int
    estimated_minutes: int


class KioskOut(msgspec.Struct, frozen=True):
    location: LocationRef
    services: list[ServiceWaitOut]


def service_waits(queues: list[ServiceQueue]) -> list[ServiceWaitOut]:
    return [
        ServiceWaitOut(
            slug=q.service.slug,
            name=Text(q.service.name_de, q.service.name_en),
            prefix=q.service.queue_prefix,
            waiting=q.wait.waiting,
            estimated_minutes=q.wait.estimated_minutes,
        )
        for q in queues
    ]


def _own(device: Device, named: str | None) -> None:
    if named is not None and named != device.location_slug:
        raise WrongLocation("This kiosk belongs to another location.")


class KioskController(Controller):
    path = "/api/v1/kiosk"
    guards = [requires_device(DeviceKind.KIOSK)]  # noqa: RUF012
    security = DEVICE_SECURITY
    tags = ["kiosk"]  # noqa: RUF012

    @get()
    async def services(self, db: Transaction, clock: ClockDep, device: CurrentDevice) -> KioskOut:
        """What the terminal offers: services with a desk, their queue and estimated wait."""
        location = await queueing.location_by_id(db, device.location_id)
        queues = await queueing.service_queues(db, location, clock.now())
        return KioskOut(location_ref(location), service_waits(queues))

    @post("/tickets")
    async def issue(
        self, *, device: CurrentDevice, data: JSONBody[KioskTicketIn], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep,
    ) -> TicketOut:  # fmt: skip
        """A walk-in ticket; it queues from now."""
        _own(device, data.location)
        ctx = Context(settings, clock.now())
        wish = None if data.call_ahead is None else data.call_ahead.wish()

        async def work(conn: Connection) -> queueing.TicketStatus:
            location = await queueing.location_by_id(conn, device.location_id)
            return await queueing.issue(
                conn, ctx, location, data.service, channel="kiosk", call_ahead=wish
            )

        return ticket_out(await uow.run(work, ctx), settings)

    @post("/check-in")
    async def check_in(
        self, *, device: CurrentDevice, data: JSONBody[CheckInIn], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep,
    ) -> TicketOut:  # fmt: skip
        """The appointment's ticket: called at its booked time, ahead of later walk-ins.

        409 ``too_early``, ``too_late`` (staff can give a walk-in ticket), ``already_checked_in``,
        ``other_location`` or ``wrong_state``; 404 for an unknown code.
        """
        _own(device, data.location)
        ctx = Context(settings, clock.now())

        async def work(conn: Connection) -> queueing.TicketStatus:
            location = await queueing.location_by_id(conn, device.location_id)
            return await queueing.check_in(conn, ctx, location, data.code)

        return ticket_out(await uow.run(work, ctx), settings)
