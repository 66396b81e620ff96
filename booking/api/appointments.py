"""Citizens' appointments: holds, booking with Idempotency-Key, and the owner's changes.

The owner proves ownership with the manage token (``Authorization: Bearer`` or ``?token=``);
the confirmation token from the email is the only thing that confirms. No GET changes state.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath, HeaderParameter, JSONBody

from booking import appointments as uc
from booking import calendar, tokens
from booking import pow as pow_
from booking.api.client import client_address
from booking.api.dependencies import (
    ClockDep,
    LimiterDep,
    SettingsDep,
    UnitOfWorkDep,
    provide_unit_of_work,
    rush,
)
from booking.api.offers import Text
from booking.api.owner import OwnerDep, provide_owner
from booking.appointments import Booking, BookingRequest, Context, HoldRequest
from booking.db import Connection
from booking.db import appointments as q
from booking.db.appointments import Hold
from booking.errors import InvalidInput
from booking.ratelimit import Limit
from booking.settings import Settings

BOOKING_LIMITS = (Limit("book", 10, 60), Limit("book-hour", 40, 3600))
HOLD_LIMIT = Limit("hold", 20, 60)

_SLUG = msgspec.Meta(pattern="^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)
_LINE = "^[^\\x00-\\x1f\\x7f]*$"
Slug = Annotated[str, _SLUG]
Services = Annotated[list[Slug], msgspec.Meta(min_length=1, max_length=5)]
Start = Annotated[datetime, msgspec.Meta(tz=True)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_LINE)]
Email = Annotated[
    str,
    msgspec.Meta(max_length=254, pattern="^[^@\\s\\x00-\\x1f]+@[^@\\s\\x00-\\x1f]+\\.[^@\\s]+$"),
]
Phone = Annotated[str, msgspec.Meta(max_length=30, pattern="^\\+?[0-9 ()/-]{3,30}$")]
Language = Literal["de", "en"]
Code = Annotated[str, msgspec.Meta(min_length=4, max_length=20)]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", max_length=255, pattern="^[\\x21-\\x7e]+$"),
]
AltchaHeader = Annotated[
    str | None,
    HeaderParameter(
        name=pow_.HEADER, max_length=2000, description="solution of GET /api/v1/challenge"
    ),
]


class HoldIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    location: Slug
    services: Services
    start: Start


class HoldOut(msgspec.Struct, frozen=True):
    id: uuid.UUID
    start: datetime
    end: datetime
    expires_at: datetime
    extended: bool


class BookingIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    location: Slug
    services: Services
    start: Start
    name: Name
    email: Email
    phone: Phone | None = None
    language: Language = "de"
    hold: uuid.UUID | None = None


class RescheduleIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    start: Start


class LocationRef(msgspec.Struct, frozen=True):
    slug: str
    name: Text


class ServiceRef(msgspec.Struct, frozen=True):
    slug: str
    name: Text
    quantity: int


class AppointmentOut(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    status: str
    location: LocationRef
    services: list[ServiceRef]
    start: datetime
    end: datetime
    pending_until: datetime | None
    name: str | None
    email: str | None
    phone: str | None
    language: str
    # Only in the answer that created the appointment: the secret is shown once.
    manage_token: str | None = None
    manage_url: str | None = None


def appointment_out(booking: Booking, settings: Settings, *, with_secret: bool) -> AppointmentOut:
    a, location = booking.appointment, booking.location
    zone = calendar.zone(location.time_zone)
    return AppointmentOut(
        code=a.code,
        status=a.status,
        location=LocationRef(location.slug, Text(location.name_de, location.name_en)),
        services=[
            ServiceRef(s.slug, Text(s.name_de, s.name_en), s.quantity) for s in booking.services
        ],
        start=a.starts_at.astimezone(zone),
        end=a.ends_at.astimezone(zone),
        pending_until=a.pending_until,
        name=a.citizen_name,
        email=a.email,
        phone=a.phone,
        language=a.language,
        manage_token=booking.manage_token if with_secret else None,
        manage_url=manage_url(settings, a.code, booking.manage_token) if with_secret else None,
    )


def manage_url(settings: Settings, code: str, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/termin/{code}?token={token}"


def _hold_out(hold: Hold) -> HoldOut:
    return HoldOut(hold.id, hold.starts_at, hold.ends_at, hold.expires_at, hold.extended)


class HoldController(Controller):
    path = "/api/v1/holds"
    tags = ["booking"]  # noqa: RUF012

    @post()
    async def place(
        self, *, request: Request[Any, Any, Any], data: JSONBody[HoldIn], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep, limiter: LimiterDep,
    ) -> HoldOut:  # fmt: skip
        """Keep a start for a few minutes while the citizen fills in the form."""
        client = client_address(request, settings)
        await limiter.hit(HOLD_LIMIT, client)
        ctx = Context(settings, clock.now())
        wanted = HoldRequest(location=data.location, services=data.services, start=data.start)
        client_key = hold_client_key(settings, client)
        hold = await uow.run(lambda conn: uc.place_hold(conn, ctx, wanted, client_key), ctx)
        return _hold_out(hold)

    @post("/{hold_id:uuid}/extend", status_code=200)
    async def extend(
        self, *, hold_id: FromPath[uuid.UUID], uow: UnitOfWorkDep, settings: SettingsDep,
        clock: ClockDep,
    ) -> HoldOut:  # fmt: skip
        """Once, so that someone who needs more time to type keeps the start (WCAG 2.2.1)."""
        ctx = Context(settings, clock.now())
        return _hold_out(await uow.run(lambda conn: uc.extend_hold(conn, ctx, hold_id), ctx))

    @delete("/{hold_id:uuid}")
    async def release(self, *, hold_id: FromPath[uuid.UUID], uow: UnitOfWorkDep) -> None:
        await uow.run(lambda conn: uc.release_hold(conn, hold_id))


class AppointmentController(Controller):
    path = "/api/v1/appointments"
    tags = ["booking"]  # noqa: RUF012
    dependencies = {"owner": Provide(provide_owner)}  # noqa: RUF012

    @post()
    async def create(
        self, *, request: Request[Any, Any, State], data: JSONBody[BookingIn],
        idempotency_key: IdempotencyKey = None, altcha: AltchaHeader = None,
    ) -> Response[AppointmentOut]:  # fmt: skip
        """Book a held or a free start: 201, or 409 when any needed unit is taken.

        Needs a solved ``GET /api/v1/challenge`` in the ``Altcha`` header (one per request;
        an Idempotency-Key retry may repeat it)."""
        state = request.app.state
        app, uow = rush(state), provide_unit_of_work(state)
        client = client_address(request, app.settings)
        await app.limiter.hit_all(BOOKING_LIMITS, client)
        ctx = Context(app.settings, app.clock.now())
        await app.pow.check(altcha, ctx.now, retry_of=idempotency_key)
        answer = await uow.run(lambda conn: book_once(conn, ctx, data, idempotency_key), ctx)
        return Response(answer, status_code=201)

    @get("/{code:str}")
    async def read(
        self, *, code: FromPath[Code], owner: OwnerDep, settings: SettingsDep
    ) -> AppointmentOut:  # fmt: skip
        booking = await owner.run(uc.read, code)
        return appointment_out(booking, settings, with_secret=False)

    @post("/{code:str}/confirm", status_code=200)
    async def confirm(
        self, *, code: FromPath[Code], owner: OwnerDep, settings: SettingsDep
    ) -> AppointmentOut:  # fmt: skip
        """Double opt-in with the secret that only the email carries."""
        booking = await owner.run(uc.confirm, code)
        return appointment_out(booking, settings, with_secret=False)

    @post("/{code:str}/cancel", status_code=200)
    async def cancel(
        self, *, code: FromPath[Code], owner: OwnerDep, settings: SettingsDep
    ) -> AppointmentOut:  # fmt: skip
        booking = await owner.run(uc.cancel, code)
        return appointment_out(booking, settings, with_secret=False)

    @post("/{code:str}/reschedule", status_code=200)
    async def reschedule(
        self, *, code: FromPath[Code], data: JSONBody[RescheduleIn], owner: OwnerDep,
        settings: SettingsDep,
    ) -> AppointmentOut:  # fmt: skip
        """Move to another free start atomically: the old time is kept if the new one fails."""
        booking = await owner.run(
            lambda conn, ctx, key, secret: uc.reschedule(conn, ctx, key, secret, data.start), code
        )
        return appointment_out(booking, settings, with_secret=False)

    @get("/{code:str}/calendar.ics", media_type="text/calendar; charset=utf-8")
    async def ics(
        self, *, code: FromPath[Code], owner: OwnerDep, settings: SettingsDep
    ) -> Response[bytes]:  # fmt: skip
        booking = await owner.run(uc.read, code)
        body = calendar.invitation(booking, settings, owner.ctx.now, method=None)
        name = f"termin-{booking.appointment.code}.ics"
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


async def book_once(
    conn: Connection, ctx: Context, data: BookingIn, idempotency_key: str | None
) -> AppointmentOut:
    """Book, or with an Idempotency-Key already used answer the first booking again.

    The booking pages call this too, with a key per rendered form, so a double submit books once.
    """
    body_hash = hashlib.sha256(msgspec.json.encode(data)).digest()
    if idempotency_key and not await q.claim_idempotency_key(conn, idempotency_key, body_hash):
        return await _replay(conn, ctx.settings, idempotency_key, body_hash)
    wanted = BookingRequest(
        location=data.location, services=data.services, start=data.start, name=data.name,
        email=data.email, phone=data.phone, language=data.language, hold=data.hold,
    )  # fmt: skip
    booking = await uc.book(conn, ctx, wanted)
    answer = appointment_out(booking, ctx.settings, with_secret=True)
    if idempotency_key:
        # Stored without the secret; a replay derives it again from code and salt.
        public = msgspec.structs.replace(answer, manage_token=None, manage_url=None)
        await q.store_answer(conn, idempotency_key, 201, msgspec.json.encode(public))
    return answer


def hold_client_key(settings: Settings, client: str) -> str:
    """Who owns a hold (one live hold per client), without storing the address."""
    return hashlib.sha256(f"{settings.secret_key}\0{client}".encode()).hexdigest()


async def _replay(
    conn: Connection, settings: Settings, key: str, body_hash: bytes
) -> AppointmentOut:
    stored = await q.stored_answer(conn, key)
    assert stored is not None
    if stored.request_hash != body_hash:
        raise InvalidInput.field(
            "Idempotency-Key", "this key was already used for a different request"
        )
    first = msgspec.json.decode(stored.response, type=AppointmentOut)
    appointment = await q.appointment_by_code(conn, first.code)
    assert appointment is not None
    token = tokens.derive_token(settings.secret_key, "manage", first.code, appointment.token_salt)
    return msgspec.structs.replace(
        first, manage_token=token, manage_url=manage_url(settings, first.code, token)
    )
