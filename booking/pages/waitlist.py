"""The waitlist pages: the join form, "check your email", and the two links of its mail
(confirm the request, leave the waitlist).

Joining runs the JSON API's use case under the API's limits and proof of work; like the
booking form, a form sent without script (so without a proof) is still taken, under a
stricter limit of its own. The links' GETs only show; their buttons POST with the secret
in a hidden field, since mail scanners open every link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking import tokens
from booking import waitlist as uc
from booking.api.client import client_address
from booking.api.dependencies import (
    ClockDep,
    LimiterDep,
    ProofOfWorkDep,
    SettingsDep,
    Transaction,
    UnitOfWorkDep,
)
from booking.api.waitlist import EMAIL_LIMIT, JOIN_LIMITS
from booking.appointments import Context, LimitReached, WrongState
from booking.db import Connection, offers
from booking.db.offers import PublicLocation, PublicService
from booking.errors import InvalidInput, NotFound, TooManyRequests
from booking.i18n import N_
from booking.pages import waitlist_form
from booking.pages.link_secret import MailLink, MailLinkDep, mail_link
from booking.pages.rendering import language, page, url
from booking.pages.waitlist_form import WishesForm
from booking.pow import ProofExpired, ProofInvalid, ProofReplayed, ProofRequired
from booking.ratelimit import Limit
from booking.settings import Settings
from booking.waitlist import AlreadyWaiting, EntryView, LocationStatus, StartsAvailable

AnyRequest = Request[Any, Any, Any]
# Without JavaScript there is no proof of work: such requests are taken, but few per client.
UNPROVEN_JOIN_LIMIT = Limit("waitlist-unproven", 5, 3600)
PROOF_ERRORS = (ProofRequired, ProofInvalid, ProofExpired, ProofReplayed)
# Dates on the form are the offices' local days; every office is in one zone in practice,
# and the use case checks again in each office's own zone.
_FORM_ZONE = ZoneInfo("Europe/Berlin")
_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")
# Statuses in which the request still waits (or waits for its confirmation).
OPEN = frozenset({"pending", "active", "offered"})
_CONFIRMED = frozenset({"active", "offered", "fulfilled"})


class JoinChoices(msgspec.Struct, frozen=True):
    """What the join form offers: services, offices, and the public waitlist figures."""

    services: list[PublicService]
    locations: list[PublicLocation]
    figures: dict[str, LocationStatus]


async def _choices(conn: Connection, settings: Settings, now: datetime) -> JoinChoices:
    figures = {s.location.slug: s for s in await uc.overview(conn, settings, now)}
    return JoinChoices(
        services=[s for s in await offers.public_services(conn) if s.locations],
        locations=await offers.public_locations(conn),
        figures=figures,
    )


def _join_page(
    request: AnyRequest,
    form: WishesForm,
    choices: JoinChoices,
    settings: Settings,
    *,
    problems: dict[str, str] | None = None,
    problem: str | None = None,
    available: bool = False,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    switch = ("/warteliste", [*form.service_params(), *(("location", s) for s in form.locations)])
    # A group's message in the summary leads to its first box.
    first = {
        "services": f"service-{choices.services[0].slug}" if choices.services else "services",
        "locations": f"location-{choices.locations[0].slug}" if choices.locations else "locations",
        "weekdays": "weekday-1",
    }
    summary = {first.get(field, field): message for field, message in (problems or {}).items()}
    return page(
        request,
        "waitlist/join.html",
        {"form": form, "choices": choices, "settings": settings, "problems": problems or {},
         "summary": summary,
         "problem": problem, "available": available},
        status=status,
        switch=switch,
        headers=headers,
    )  # fmt: skip


async def provide_link(
    *, request: AnyRequest, entry_id: FromPath[str], settings: SettingsDep, clock: ClockDep,
    limiter: LimiterDep,
) -> MailLink:  # fmt: skip
    """The link of a waitlist request: its public id."""
    return await mail_link(request, entry_id, settings, clock.now(), limiter)


class WaitlistPages(Controller):
    path = "/warteliste"
    dependencies = {"link": Provide(provide_link)}  # noqa: RUF012
    include_in_schema = False

    @get("/")
    async def join_form(
        self, request: AnyRequest, db: Transaction, settings: SettingsDep, clock: ClockDep
    ) -> Template:
        """The form, with the services (and office) chosen in the booking flow ticked."""
        params = request.query_params
        services = waitlist_form.read(params).services
        locations = waitlist_form.read(params).locations
        if services and not locations:
            offering = await offers.locations_offering(db, services, None)
            locations = [found.slug for found in offering]
        today = clock.now().astimezone(_FORM_ZONE).date()
        form = waitlist_form.blank(services, locations, today)
        return _join_page(request, form, await _choices(db, settings, clock.now()), settings)

    @post("/")
    async def join(
        self, *, request: AnyRequest, uow: UnitOfWorkDep, settings: SettingsDep,
        clock: ClockDep, limiter: LimiterDep, pow: ProofOfWorkDep,
    ) -> Template | Redirect:  # fmt: skip
        fields = await request.form()
        form = waitlist_form.read(fields)
        ctx = Context(settings, clock.now())
        again = await _again(request, uow, settings, form, ctx.now)
        if problems := waitlist_form.problems(form, ctx.now.astimezone(_FORM_ZONE).date()):
            return again(problems=problems, status=422)
        client = client_address(request, settings)
        wanted = waitlist_form.join_request(form, language(request))
        try:
            for limit in JOIN_LIMITS:
                await limiter.hit(limit, client)
            await limiter.hit(EMAIL_LIMIT, form.email.lower())
            proof = fields.get("altcha")
            if proof:
                await pow.check(str(proof), ctx.now, retry_of=None)
            else:
                await limiter.hit(UNPROVEN_JOIN_LIMIT, client)
            await uow.run(lambda conn: uc.join(conn, ctx, wanted), ctx)
        except _REFUSALS as exc:
            return again(**_refusal(exc))
        return Redirect("/warteliste/gesendet", status_code=303)

    @get("/gesendet")
    async def sent(self, request: AnyRequest, settings: SettingsDep) -> Template:
        """After joining: the address is not shown again (it never travels in a URL)."""
        return page(request, "waitlist/sent.html", {"settings": settings})

    @get("/{entry_id:str}/bestaetigen")
    async def confirm_page(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        """Double opt-in: this page shows the request; only its button confirms."""
        view = await uow.run(lambda conn: _read(conn, link, "confirm"))
        gone = not _confirmable(view, link.ctx.now) and view.entry.status not in _CONFIRMED
        return _entry_page(request, "confirm", view, link.secret, gone=gone)

    @post("/{entry_id:str}/bestaetigen")
    async def confirm(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template | Redirect:  # fmt: skip
        entry_id, secret, ctx = link.key, link.secret, link.ctx
        _checked_id(entry_id)
        try:
            await uow.run(lambda conn: uc.confirm(conn, ctx, entry_id, secret), ctx)
        except (WrongState, AlreadyWaiting) as exc:
            view = await uow.run(lambda conn: _read(conn, link, "confirm"))
            if isinstance(exc, AlreadyWaiting):
                problem = N_("This email address is on the waitlist already with another request.")
                return _entry_page(request, "confirm", view, secret, problem=problem, status=409)
            return _entry_page(request, "confirm", view, secret, gone=True)
        target = url(f"/warteliste/{entry_id}/bestaetigen", [("token", secret)])
        return Redirect(target, status_code=303)

    @get("/{entry_id:str}/verlassen")
    async def leave_page(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Template:  # fmt: skip
        view = await uow.run(lambda conn: _read(conn, link, "manage"))
        return _entry_page(request, "leave", view, link.secret)

    @post("/{entry_id:str}/verlassen")
    async def leave(
        self, *, request: AnyRequest, link: MailLinkDep, uow: UnitOfWorkDep
    ) -> Redirect:  # fmt: skip
        """Leaving twice is fine: the page then says the request has ended."""
        entry_id, secret, ctx = link.key, link.secret, link.ctx
        _checked_id(entry_id)
        await uow.run(lambda conn: uc.leave(conn, ctx, entry_id, secret), ctx)
        target = url(f"/warteliste/{entry_id}/verlassen", [("token", secret)])
        return Redirect(target, status_code=303)


_REFUSALS = (StartsAvailable, AlreadyWaiting, LimitReached, InvalidInput, TooManyRequests,
             *PROOF_ERRORS)  # fmt: skip


def _refusal(exc: Exception) -> dict[str, Any]:
    """Why joining was refused, as the form shows it (and with the API's status)."""
    if isinstance(exc, StartsAvailable):
        return {"available": True, "status": 409}
    if isinstance(exc, AlreadyWaiting):
        message = N_("This email address is on the waitlist already. To change your request, "
                     "leave the waitlist first with the link in our email.")  # fmt: skip
        return {"problems": {"email": message}, "status": 409}
    if isinstance(exc, LimitReached):
        message = N_("This email address has too many unconfirmed requests. Confirm one with "
                     "the link in our email first.")  # fmt: skip
        return {"problems": {"email": message}, "status": 409}
    if isinstance(exc, InvalidInput):
        return {"problems": waitlist_form.refused_field(exc), "status": 422}
    if isinstance(exc, TooManyRequests):
        message = N_("Too many requests from your connection. Wait a few minutes, then send "
                     "the form again.")  # fmt: skip
        return {"problem": message, "status": 429, "headers": exc.headers}
    return {"problem": N_("The automatic security check did not work. Send the form again."),
            "status": 400}  # fmt: skip


async def _again(
    request: AnyRequest, uow: UnitOfWorkDep, settings: Settings, form: WishesForm, now: datetime
) -> Callable[..., Template]:
    """The form again as it was sent, with what went wrong."""
    choices = await uow.run(lambda conn: _choices(conn, settings, now))

    def render(**reason: Any) -> Template:
        return _join_page(request, form, choices, settings, **reason)

    return render


def _checked_id(entry_id: str) -> None:
    if not _ENTRY_ID.match(entry_id):
        raise NotFound(uc.NOT_FOUND)


async def _read(conn: Connection, link: MailLink, purpose: tokens.Purpose) -> EntryView:
    """The request as the link's secret shows it: the confirmation or the manage secret."""
    _checked_id(link.key)
    # The use case's own check of id and secret (one answer for a wrong one of either).
    entry = await uc.owned_entry(conn, link.ctx.settings, link.key, link.secret, purpose)
    return await uc.view(conn, entry)


def _confirmable(view: EntryView, now: datetime) -> bool:
    until = view.entry.confirm_until
    return view.entry.status == "pending" and (until is None or now < until)


def _entry_page(
    request: AnyRequest,
    kind: str,
    view: EntryView,
    secret: str,
    *,
    problem: str | None = None,
    gone: bool = False,
    status: int = 200,
) -> Template:
    """One request as its mail links show it; ``kind`` is "confirm" or "leave".

    ``gone``: the confirmation link can do nothing any more (410, Gone).
    """
    e = view.entry
    path = f"/warteliste/{e.public_id}/{'bestaetigen' if kind == 'confirm' else 'verlassen'}"
    zone = ZoneInfo(view.locations[0].time_zone) if view.locations else _FORM_ZONE
    rejoin = [("service", s.slug) for s in view.services] + [
        ("location", p.slug) for p in view.locations
    ]
    return page(
        request,
        f"waitlist/{kind}.html",
        {"view": view, "entry": e, "token": secret, "action": path, "problem": problem,
         "open": e.status in OPEN, "gone": gone,
         "confirm_until": e.confirm_until.astimezone(zone) if e.confirm_until else None,
         "rejoin": url("/warteliste", rejoin)},
        status=410 if gone else status,
        switch=(path, [("token", secret)]),
    )  # fmt: skip
