"""The offer mail's two links: accept the offered appointment, or decline it.

An offer is a pending appointment that names its waitlist entry. Accepting takes the offer
mail's confirmation secret and runs the booking's own confirmation (so the usual mail with
the invitation goes out), then shows the booked page; declining takes the appointment's
manage secret and hands the time to the next person waiting. The GETs only show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking import appointments as uc
from booking import tokens
from booking.api.dependencies import ClockDep, LimiterDep, SettingsDep, UnitOfWorkDep
from booking.api.unit_of_work import UnitOfWork
from booking.appointments import Context, WrongState
from booking.db import Connection
from booking.errors import NotFound
from booking.i18n import Language
from booking.pages.manage import AppointmentView, _view
from booking.pages.rendering import language, page, url
from booking.pages.waitlist import presented_secret
from booking.ratelimit import RateLimiter
from booking.settings import Settings

AnyRequest = Request[Any, Any, Any]
_MAX_CODE = 20


class _Link(msgspec.Struct, frozen=True):
    """What one of the offer mail's links presents: the code and a secret for ``purpose``."""

    ctx: Context
    code: str
    secret: str
    purpose: tokens.Purpose
    lang: Language

    async def read(self, uow: UnitOfWork) -> AppointmentView:
        return await uow.run(self._offer)

    async def _offer(self, conn: Connection) -> AppointmentView:
        """The offered appointment; any other appointment is "not found" here."""
        if len(self.code) > _MAX_CODE:
            raise NotFound(uc.NOT_FOUND)
        booking = await uc.read(conn, self.ctx, self.code, self.secret, purpose=self.purpose)
        if booking.appointment.waitlist_entry_id is None:
            raise NotFound(uc.NOT_FOUND)
        return await _view(conn, self.ctx, booking, self.lang)


async def _link(
    request: AnyRequest, code: str, purpose: tokens.Purpose, *, settings: Settings,
    now: datetime, limiter: RateLimiter,
) -> _Link:  # fmt: skip
    secret = await presented_secret(request, settings, limiter)
    return _Link(Context(settings, now), code, secret, purpose, language(request))


def _is_open(offer: AppointmentView, now: datetime) -> bool:
    return offer.status == "pending" and (offer.pending_until is None or now < offer.pending_until)


def _offer_page(request: AnyRequest, kind: str, offer: AppointmentView, link: _Link) -> Template:
    """``kind`` is "accept" or "decline". An offer that lapsed or was turned down is 410
    (Gone); one already accepted cannot be declined here any more (409)."""
    is_open = _is_open(offer, link.ctx.now)
    status = 200
    if not is_open and offer.status != ("booked" if kind == "accept" else "cancelled"):
        status = 409 if offer.status == "booked" else 410
    path = f"/warteliste/angebot/{offer.code}" + ("/ablehnen" if kind == "decline" else "")
    wanted = [("service", s.slug) for s in offer.services for _ in range(s.quantity)]
    return page(
        request,
        f"waitlist/{kind}.html",
        {"a": offer, "token": link.secret, "action": path, "open": is_open,
         "decline": url(f"/warteliste/angebot/{offer.code}/ablehnen", [("token", offer.token)]),
         "rejoin": url("/warteliste", [*wanted, ("location", offer.location.slug)])},
        status=status,
        switch=(path, [("token", link.secret)]),
    )  # fmt: skip


class OfferPages(Controller):
    path = "/warteliste/angebot"
    include_in_schema = False

    @get("/{code:str}")
    async def accept_page(
        self, *, request: AnyRequest, code: FromPath[str], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep, limiter: LimiterDep,
    ) -> Template:  # fmt: skip
        """The offered time, how long it is held, and the button that books it."""
        link = await _link(
            request, code, "confirm", settings=settings, now=clock.now(), limiter=limiter
        )
        return _offer_page(request, "accept", await link.read(uow), link)

    @post("/{code:str}")
    async def accept(
        self, *, request: AnyRequest, code: FromPath[str], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep, limiter: LimiterDep,
    ) -> Template | Redirect:  # fmt: skip
        link = await _link(
            request, code, "confirm", settings=settings, now=clock.now(), limiter=limiter
        )
        offer, ctx = await link.read(uow), link.ctx
        try:
            booking = await uow.run(
                lambda conn: uc.confirm(conn, ctx, offer.code, link.secret), ctx
            )
        except WrongState:
            return _offer_page(request, "accept", await link.read(uow), link)
        target = url(f"/termin/{offer.code}/gebucht", [("token", booking.manage_token)])
        return Redirect(target, status_code=303)

    @get("/{code:str}/ablehnen")
    async def decline_page(
        self, *, request: AnyRequest, code: FromPath[str], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep, limiter: LimiterDep,
    ) -> Template:  # fmt: skip
        link = await _link(
            request, code, "manage", settings=settings, now=clock.now(), limiter=limiter
        )
        return _offer_page(request, "decline", await link.read(uow), link)

    @post("/{code:str}/ablehnen")
    async def decline(
        self, *, request: AnyRequest, code: FromPath[str], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep, limiter: LimiterDep,
    ) -> Template | Redirect:  # fmt: skip
        """Declining twice is fine; an offer accepted or lapsed meanwhile is shown as such."""
        link = await _link(
            request, code, "manage", settings=settings, now=clock.now(), limiter=limiter
        )
        offer, ctx = await link.read(uow), link.ctx
        try:
            await uow.run(lambda conn: uc.decline_offer(conn, ctx, offer.code, link.secret), ctx)
        except WrongState:
            return _offer_page(request, "decline", await link.read(uow), link)
        target = url(f"/warteliste/angebot/{offer.code}/ablehnen", [("token", link.secret)])
        return Redirect(target, status_code=303)
