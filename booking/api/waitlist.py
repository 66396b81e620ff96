"""The waitlist for citizens: join (proof of work), confirm, look, leave; answer an offer;
and the public figures (who waits where, when held-back capacity is released).

The entry's secrets travel like an appointment's: ``Authorization: Bearer`` or ``?token=``.
Accepting an offer takes the confirmation secret from the offer mail, declining the manage
secret of the offered appointment. No GET changes state.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.params import FromPath, JSONBody

from booking import appointments as booking_uc
from booking import notifications
from booking import waitlist as uc
from booking.api.appointments import (
    AltchaHeader,
    AppointmentOut,
    Code,
    Email,
    Language,
    Name,
    Services,
    Slug,
    appointment_out,
)
from booking.api.client import client_address
from booking.api.dependencies import (
    ClockDep,
    LimiterDep,
    ProofOfWorkDep,
    SettingsDep,
    Transaction,
    UnitOfWorkDep,
)
from booking.api.offers import Text
from booking.api.owner import OwnerDep, provide_owner
from booking.appointments import Context
from booking.ratelimit import Limit
from booking.settings import Settings
from booking.waitlist import EntryView, JoinRequest

JOIN_LIMITS = (Limit("waitlist", 5, 60), Limit("waitlist-hour", 20, 3600))
# Per address, against mail-bombing someone else's inbox with confirmation requests.
EMAIL_LIMIT = Limit("waitlist-email", 5, 24 * 3600)
FRESH_SECONDS = 30

Weekday = Annotated[int, msgspec.Meta(ge=1, le=7)]
WallTime = Annotated[time, msgspec.Meta(tz=False)]
EntryId = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]{16}$")]


class WaitlistIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    services: Services
    locations: Annotated[list[Slug], msgspec.Meta(min_length=1, max_length=uc.MAX_LOCATIONS)]
    from_: date = msgspec.field(name="from")
    to: date
    weekdays: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)] = msgspec.field(
        default_factory=lambda: [1, 2, 3, 4, 5, 6, 7]
    )
    # Local wall time at the office; the whole appointment lies between the two.
    time_from: WallTime | None = None
    time_until: WallTime | None = None
    email: Email
    name: Name | None = None
    language: Language = "de"


class Ref(msgspec.Struct, frozen=True):
    slug: str
    name: Text


class WaitlistOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    status: str
    services: list[Ref]
    locations: list[Ref]
    from_: date = msgspec.field(name="from")
    to: date
    weekdays: list[int]
    time_from: time | None
    time_until: time | None
    language: str
    confirm_until: datetime | None
    # Only in the answer that created the request: the secret is shown once.
    manage_token: str | None = None
    leave_url: str | None = None


class ReleasePolicyOut(msgspec.Struct, frozen=True):
    offer_minutes: int
    cooldown_minutes: int
    release_window_minutes: int
    lottery_minutes: int


class LocationWaitlistOut(msgspec.Struct, frozen=True, kw_only=True):
    location: Ref
    allocation_mode: str
    waiting: int
    held_back: int
    release_from: datetime | None
    release_until: datetime | None


class WaitlistOverviewOut(msgspec.Struct, frozen=True):
    as_of: datetime
    policy: ReleasePolicyOut
    locations: list[LocationWaitlistOut]


def _out(view: EntryView, settings: Settings) -> WaitlistOut:
    e = view.entry
    leave_url = None
    if view.manage_token:
        leave_url = notifications.entry_links(settings, e.public_id, e.token_salt).leave_url
    return WaitlistOut(
        id=e.public_id,
        status=e.status,
        services=[Ref(s.slug, Text(s.name_de, s.name_en)) for s in view.services],
        locations=[Ref(p.slug, Text(p.name_de, p.name_en)) for p in view.locations],
        from_=e.earliest_day,
        to=e.latest_day,
        weekdays=e.weekdays,
        time_from=e.time_from,
        time_until=e.time_until,
        language=e.language,
        confirm_until=e.confirm_until,
        manage_token=view.manage_token,
        leave_url=leave_url,
    )


class WaitlistController(Controller):
    path = "/api/v1/waitlist"
    tags = ["waitlist"]  # noqa: RUF012 - Litestar reads a plain class attribute
    dependencies = {"owner": Provide(provide_owner)}  # noqa: RUF012

    @get(cache=FRESH_SECONDS, cache_control=CacheControlHeader(max_age=FRESH_SECONDS, public=True))
    async def overview(
        self, db: Transaction, settings: SettingsDep, clock: ClockDep
    ) -> WaitlistOverviewOut:
        """Open data: who waits where, and between which moments held-back capacity goes public
        (the exact moment is drawn at random within that window)."""
        now = clock.now()
        return WaitlistOverviewOut(
            as_of=now,
            policy=ReleasePolicyOut(
                offer_minutes=settings.waitlist_offer_minutes,
                cooldown_minutes=settings.waitlist_cooldown_minutes,
                release_window_minutes=settings.waitlist_release_window_minutes,
                lottery_minutes=settings.waitlist_lottery_minutes,
            ),
            locations=[
                LocationWaitlistOut(
                    location=Ref(s.location.slug, Text(s.location.name_de, s.location.name_en)),
                    allocation_mode=s.location.allocation_mode,
                    waiting=s.location.waiting,
                    held_back=s.held_back,
                    release_from=s.release_from,
                    release_until=s.release_until,
                )
                for s in await uc.overview(db, settings, now)
            ],
        )

    @post()
    async def join(
        self, *, request: Request[Any, Any, Any], data: JSONBody[WaitlistIn], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep, limiter: LimiterDep, pow: ProofOfWorkDep,
        altcha: AltchaHeader = None,
    ) -> Response[WaitlistOut]:  # fmt: skip
        """Wait for a service set when nothing suitable is free (409 ``starts_available``
        otherwise); 201, and a mail to confirm the address. Needs a solved challenge in the
        ``Altcha`` header, like booking."""
        client = client_address(request, settings)
        for limit in JOIN_LIMITS:
            await limiter.hit(limit, client)
        await limiter.hit(EMAIL_LIMIT, data.email.lower())
        ctx = Context(settings, clock.now())
        await pow.check(altcha, ctx.now, retry_of=None)
        wanted = JoinRequest(
            services=data.services, locations=data.locations, earliest_day=data.from_,
            latest_day=data.to, weekdays=data.weekdays, time_from=data.time_from,
            time_until=data.time_until, email=data.email, name=data.name, language=data.language,
        )  # fmt: skip
        view = await uow.run(lambda conn: uc.join(conn, ctx, wanted), ctx)
        return Response(_out(view, settings), status_code=201)

    @get("/{entry_id:str}")
    async def read(
        self, *, entry_id: FromPath[EntryId], owner: OwnerDep, settings: SettingsDep
    ) -> WaitlistOut:  # fmt: skip
        return _out(await owner.run(uc.read, entry_id), settings)

    @post("/{entry_id:str}/confirm", status_code=200)
    async def confirm(
        self, *, entry_id: FromPath[EntryId], owner: OwnerDep, settings: SettingsDep
    ) -> WaitlistOut:  # fmt: skip
        """Double opt-in with the secret that only the email carries."""
        return _out(await owner.run(uc.confirm, entry_id), settings)

    @delete("/{entry_id:str}")
    async def leave(
        self, *, entry_id: FromPath[EntryId], owner: OwnerDep, settings: SettingsDep
    ) -> None:  # fmt: skip
        """Leave the waitlist (an open offer goes on to the next entry); 204, also when left."""
        await owner.run(uc.leave, entry_id)

    @post("/offers/{code:str}/accept", status_code=200)
    async def accept(
        self, *, code: FromPath[Code], owner: OwnerDep, settings: SettingsDep
    ) -> AppointmentOut:  # fmt: skip
        """Take the offered time (the offer mail's secret): booked, with the usual confirmation."""
        booking = await owner.run(booking_uc.confirm, code)
        return appointment_out(booking, settings, with_secret=False)

    @post("/offers/{code:str}/decline", status_code=200)
    async def decline(
        self, *, code: FromPath[Code], owner: OwnerDep, settings: SettingsDep
    ) -> AppointmentOut:  # fmt: skip
        """Turn the offered time down (its manage secret): it goes to the next entry."""
        booking = await owner.run(booking_uc.decline_offer, code)
        return appointment_out(booking, settings, with_secret=False)
