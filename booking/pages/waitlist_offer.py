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
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, SkipValidation
from litestar.response import Redirect, Template

from booking import appointments as uc
from booking import tokens
from booking.api.dependencies import ClockDep, LimiterDep, SettingsDep, UnitOfWorkDep
from booking.api.unit_of_work import UnitOfWork
from booking.appointments import Context, WrongState
from booking.db import Connection
from booking.errors import NotFound
from booking.pages.link_secret import MailLink, mail_link
from booking.pages.manage import AppointmentView, appointment_view
from booking.pages.rendering import page, url

AnyRequest = Request[Any, Any, Any]
_MAX_CODE = 20


class _Link(msgspec.Struct, frozen=True):
    """One of the offer mail's links: accept carries the confirmation secret, decline the
    manage secret (the route's ``purpose``)."""

    link: MailLink
    purpose: tokens.Purpose

    @property
    def ctx(self) -> Context:
        return self.link.ctx

    @property
    def secret(self) -> str:
        return self.link.secret

    async def read(self, uow: UnitOfWork) -> AppointmentView:
        return await uow.run(self._offer)

    async def _offer(self, conn: Connection) -> AppointmentView:
        """The offered appointment; any other appointment is "not found" here."""
        code = self.link.key
        if len(code) > _MAX_CODE:
            raise NotFound(uc.NOT_FOUND)
        booking = await uc.read(conn, self.ctx, code, self.secret, purpose=self.purpose)
        if booking.appointment.waitlist_entry_id is None:
            raise NotFound(uc.NOT_FOUND)
        return await appointment_view(conn, self.ctx, booking, self.link.lang)


async def provide_offer_link(
    *, request: AnyRequest, code: FromPath[str], settings: SettingsDep, clock: ClockDep,
    limiter: LimiterDep,
) -> _Link:  # fmt: skip
    purpose: tokens.Purpose = request.route_handler.opt["purpose"]
    return _Link(await mail_link(request, code, settings, clock.now(), limiter), purpose)


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


OfferLinkDep = NamedDependency[SkipValidation[_Link]]
ACCEPT: dict[str, object] = {"purpose": "confirm"}
DECLINE: dict[str, object] = {"purpose": "manage"}


class OfferPages(Controller):
    path = "/warteliste/angebot"
    dependencies = {"link": Provide(provide_offer_link)}  # noqa: RUF012
    include_in_schema = False

    @get("/{code:str}", opt=ACCEPT)
    async def accept_page(
        self, *, request: AnyRequest, link: OfferLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        """The offered time, how long it is held, and the button that books it."""
        return _offer_page(request, "accept", await link.read(uow), link)

    @post("/{code:str}", opt=ACCEPT)
    async def accept(
        self, *, request: AnyRequest, link: OfferLinkDep, uow: UnitOfWorkDep
    ) -> Template | Redirect:  # fmt: skip
        offer, ctx = await link.read(uow), link.ctx
        try:
            booking = await uow.run(
                lambda conn: uc.confirm(conn, ctx, offer.code, link.secret), ctx
            )
        except WrongState:
            return _offer_page(request, "accept", await link.read(uow), link)
        target = url(f"/termin/{offer.code}/gebucht", [("token", booking.manage_token)])
        return Redirect(target, status_code=303)

    @get("/{code:str}/ablehnen", opt=DECLINE)
    async def decline_page(
        self, *, request: AnyRequest, link: OfferLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        return _offer_page(request, "decline", await link.read(uow), link)

    @post("/{code:str}/ablehnen", opt=DECLINE)
    async def decline(
        self, *, request: AnyRequest, link: OfferLinkDep, uow: UnitOfWorkDep
    ) -> Template | Redirect:  # fmt: skip
        """Declining twice is fine; an offer accepted or lapsed meanwhile is shown as such."""
        offer, ctx = await link.read(uow), link.ctx
        try:
            await uow.run(lambda conn: uc.decline_offer(conn, ctx, offer.code, link.secret), ctx)
        except WrongState:
            return _offer_page(request, "decline", await link.read(uow), link)
        target = url(f"/warteliste/angebot/{offer.code}/ablehnen", [("token", link.secret)])
        return Redirect(target, status_code=303)
