"""Privacy: the public page on what is kept and for how long, and admins' export and erasure
of one citizen's data on request (DSGVO Art. 15 and 17).

The citizen is named by email address in the request body, never in the URL (URLs end up in
proxy logs). The audit log records who exported or erased and how much, not whose data:
it holds no citizen's personal data either.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.response import Template

from booking import privacy
from booking.api.appointments import Email
from booking.api.dependencies import ClockDep, SettingsDep, UnitOfWorkDep
from booking.appointments import Context
from booking.auth.guards import CurrentStaff, requires
from booking.auth.principals import Role
from booking.db import Connection
from booking.db.audit import record
from booking.db.privacy import CitizenData, ErasedCounts
from booking.workers.tasks import IDEMPOTENCY_KEY_DAYS

# The longest rate-limit window (the waitlist's per-address day); counters expire with it.
RATE_LIMIT_HOURS: Final = 24


class CitizenIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email


class AppointmentRecordOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    status: str
    location: str
    services: list[str]
    starts_at: datetime
    ends_at: datetime
    citizen_name: str | None
    email: str | None
    phone: str | None
    language: str
    booked_by: str
    created_at: datetime


class TicketRecordOut(msgspec.Struct, frozen=True, kw_only=True):
    display_code: str
    location: str
    day: date
    status: str
    citizen_name: str | None
    email: str | None
    issued_at: datetime
    appointment_code: str | None


class WaitlistRecordOut(msgspec.Struct, frozen=True, kw_only=True):
    public_id: str
    status: str
    earliest_day: date
    latest_day: date
    citizen_name: str | None
    email: str | None
    language: str
    created_at: datetime


class MessageRecordOut(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    appointment_code: str | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None


class CitizenDataOut(msgspec.Struct, frozen=True, kw_only=True):
    """Everything kept under the address, to hand to the citizen (Art. 15)."""

    appointments: list[AppointmentRecordOut]
    tickets: list[TicketRecordOut]
    waitlist_entries: list[WaitlistRecordOut]
    messages: list[MessageRecordOut]


class ErasedOut(msgspec.Struct, frozen=True, kw_only=True):
    """How many records lost their personal data; upcoming appointments are also cancelled."""

    appointments: int
    tickets: int
    waitlist_entries: int


def _counts(found: CitizenData) -> dict[str, int]:
    return {
        "appointments": len(found.appointments),
        "tickets": len(found.tickets),
        "waitlist_entries": len(found.waitlist_entries),
    }


class CitizenDataController(Controller):
    """On the admin router; admins only, as one address may have booked at any location."""

    path = "/privacy"
    guards = [requires(Role.ADMIN)]  # noqa: RUF012 - Litestar's layered attribute

    @post("/export", status_code=200)
    async def export(
        self, *, data: JSONBody[CitizenIn], uow: UnitOfWorkDep, staff: CurrentStaff
    ) -> CitizenDataOut:
        """All data kept under the email address (any case)."""

        async def work(conn: Connection) -> CitizenData:
            found = await privacy.export(conn, data.email)
            await record(conn, staff.actor, "citizen.export", "citizen", None, None,
                         _counts(found))  # fmt: skip
            return found

        return msgspec.convert(await uow.run(work), CitizenDataOut, from_attributes=True)

    @post("/erase", status_code=200)
    async def erase(
        self, *, data: JSONBody[CitizenIn], uow: UnitOfWorkDep, staff: CurrentStaff,
        settings: SettingsDep, clock: ClockDep,
    ) -> ErasedOut:  # fmt: skip
        """Erase name, email and phone everywhere; upcoming appointments are cancelled and
        open waitlist entries withdrawn, without a mail to the erased address."""
        ctx = Context(settings, clock.now())

        async def work(conn: Connection) -> ErasedCounts:
            erased = await privacy.erase(conn, ctx, data.email)
            await record(conn, staff.actor, "citizen.erase", "citizen", None, None,
                         msgspec.structs.asdict(erased))  # fmt: skip
            return erased

        return msgspec.convert(await uow.run(work, ctx), ErasedOut, from_attributes=True)


class PrivacyPageController(Controller):
    include_in_schema = False

    @get("/datenschutz", sync_to_thread=False)
    def page(self, settings: SettingsDep) -> Template:
        """What is kept and for how long, in German and English, from the running settings."""
        return Template(
            template_name="privacy.html",
            context={
                "retention_days": settings.retention_days,
                "hold_minutes": settings.hold_minutes,
                "confirmation_minutes": settings.confirmation_minutes,
                "idempotency_days": IDEMPOTENCY_KEY_DAYS,
                "rate_limit_hours": RATE_LIMIT_HOURS,
                "session_idle_minutes": settings.session_idle_minutes,
                "session_max_hours": settings.session_max_hours,
            },
        )
