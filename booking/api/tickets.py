"""Citizens' tickets: follow one from its link, ask for a call-ahead mail, join from the phone.

The public id in the link (128 random bits) is the only key, so the answers carry no
personal data: neither the call-ahead address nor an appointment's name. Joining from the
phone needs the day's code from the office's QR poster: only people on site have it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta

from booking import queueing
from booking.api.appointments import Email, Language, Slug
from booking.api.client import client_address
from booking.api.dependencies import (
    ClockDep,
    LimiterDep,
    SettingsDep,
    Transaction,
    UnitOfWorkDep,
)
from booking.api.offers import LocationRef, Text
from booking.appointments import Context
from booking.calendar import zone
from booking.db.tickets import QueueLocation
from booking.errors import NotFound
from booking.queueing import CallAhead, TicketStatus
from booking.ratelimit import Limit
from booking.settings import Settings

JOIN_LIMIT = Limit("join", 10, 600)
CALL_AHEAD_LIMIT = Limit("call-ahead", 10, 600)
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")

Places = Annotated[int, Meta(ge=1, le=50)]
Minutes = Annotated[int, Meta(ge=1, le=240)]
PosterCode = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class CallAheadIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Tell me by email once I am ``places`` places or about ``minutes`` minutes away;
    without either, three places."""

    email: Email
    language: Language = "de"
    places: Places | None = None
    minutes: Minutes | None = None

    def wish(self) -> CallAhead:
        return CallAhead(
            email=self.email, language=self.language, places=self.places, minutes=self.minutes
        )


class JoinIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    service: Slug
    code: PosterCode
    call_ahead: CallAheadIn | None = None


class ServiceRef(msgspec.Struct, frozen=True):
    slug: str
    name: Text


class CallAheadOut(msgspec.Struct, frozen=True):
    places: int | None
    minutes: int | None


class TicketOut(msgspec.Struct, frozen=True, kw_only=True):
    """``position`` 1 is next; ``position`` and ``estimated_minutes`` only while waiting,
    ``desk`` once called. A printed ticket's QR code encodes ``follow_url``."""

    public_id: str
    code: str
    status: str
    location: LocationRef
    service: ServiceRef
    issued_at: datetime
    booked_start: datetime | None
    position: int | None
    estimated_minutes: int | None
    desk: str | None
    recalls: int
    call_ahead: CallAheadOut | None
    follow_url: str


def location_ref(location: QueueLocation) -> LocationRef:
    return LocationRef(location.slug, Text(location.name_de, location.name_en), location.time_zone)


def ticket_out(found: TicketStatus, settings: Settings) -> TicketOut:
    t, location = found.ticket, found.location
    asked = t.notify_places is not None or t.notify_minutes is not None
    tz = zone(location.time_zone)  # times as the office's clock shows them
    return TicketOut(
        public_id=t.public_id,
        code=t.display_code,
        status=t.status,
        location=location_ref(location),
        service=ServiceRef(t.service_slug, Text(t.service_name_de, t.service_name_en)),
        issued_at=t.issued_at.astimezone(tz),
        booked_start=None if t.booked_start is None else t.booked_start.astimezone(tz),
        position=None if found.ahead is None else found.ahead + 1,
        estimated_minutes=None if found.wait is None else found.wait.estimated_minutes,
        desk=t.desk_name if t.status in {"called", "serving"} else None,
        recalls=t.recalls,
        call_ahead=CallAheadOut(t.notify_places, t.notify_minutes) if asked else None,
        follow_url=queueing.follow_url(settings, t.public_id),
    )


def checked_public_id(public_id: str) -> str:
    """Anything that cannot be a ticket's id is no ticket: 404 without asking the database."""
    if not _PUBLIC_ID.fullmatch(public_id):
        raise NotFound("No such ticket.")
    return public_id


class TicketController(Controller):
    path = "/api/v1"
    tags = ["queue"]  # noqa: RUF012

    @get("/tickets/{public_id:str}")
    async def status(
        self, db: Transaction, settings: SettingsDep, clock: ClockDep, public_id: FromPath[str]
    ) -> TicketOut:
        """Position, estimated wait, and the desk once the ticket is called."""
        found = await queueing.ticket_status(db, clock.now(), checked_public_id(public_id))
        return ticket_out(found, settings)

    @post("/tickets/{public_id:str}/call-ahead", status_code=200)
    async def call_ahead(
        self, *, request: Request[Any, Any, Any], public_id: FromPath[str],
        data: JSONBody[CallAheadIn], uow: UnitOfWorkDep, settings: SettingsDep, clock: ClockDep,
        limiter: LimiterDep,
    ) -> TicketOut:  # fmt: skip
        """One mail when the turn comes close; the address is erased when the ticket ends."""
        await limiter.hit(CALL_AHEAD_LIMIT, client_address(request, settings))
        ctx = Context(settings, clock.now())
        ticket_id, wish = checked_public_id(public_id), data.wish()
        found = await uow.run(lambda conn: queueing.ask_call_ahead(conn, ctx, ticket_id, wish), ctx)
        return ticket_out(found, settings)

    @post("/locations/{slug:str}/tickets")
    async def join(
        self, *, request: Request[Any, Any, Any], slug: FromPath[str], data: JSONBody[JoinIn],
        uow: UnitOfWorkDep, settings: SettingsDep, clock: ClockDep, limiter: LimiterDep,
    ) -> TicketOut:  # fmt: skip
        """A walk-in ticket from the phone, with the code of today's QR poster on site."""
        await limiter.hit(JOIN_LIMIT, client_address(request, settings))
        ctx = Context(settings, clock.now())
        wish = None if data.call_ahead is None else data.call_ahead.wish()
        found = await uow.run(
            lambda conn: queueing.join_from_phone(
                conn, ctx, slug, service_slug=data.service, code=data.code, call_ahead=wish
            ),
            ctx,
        )
        return ticket_out(found, settings)
