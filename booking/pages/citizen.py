"""The citizen's booking pages: services, then place and time, details, review, and booked.

Choosing is GET (bookmarkable, changes nothing); taking a hold and booking are POSTs that run
the JSON API's use cases through the unit of work, so the outbox mails are queued after
commit. Every step works without JavaScript; ``frontend/static/booking.js`` adds a live
service filter, the hold countdown and the proof of work.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template

from booking import appointments as uc
from booking import search
from booking.api.appointments import (
    BOOKING_LIMITS,
    HOLD_LIMIT,
    BookingIn,
    book_once,
    hold_client_key,
)
from booking.api.client import client_address
from booking.api.dependencies import (
    ClockDep,
    LimiterDep,
    ProofOfWorkDep,
    SettingsDep,
    Transaction,
    UnitOfWorkDep,
    rush,
)
from booking.api.unit_of_work import UnitOfWork
from booking.appointments import Context, HoldRequest, LimitReached
from booking.availability import units_needed
from booking.db import Connection, offers
from booking.db import appointments as q
from booking.db.offers import PublicService, SetLocation
from booking.errors import Conflict, InvalidInput, TooManyRequests
from booking.i18n import N_
from booking.pages import forms
from booking.pages.forms import Contact, Selection
from booking.pages.month import TimeChoice, time_choice
from booking.pages.rendering import language, page, url
from booking.pow import ProofExpired, ProofInvalid, ProofReplayed, ProofRequired
from booking.ratelimit import Limit
from booking.settings import Settings

AnyRequest = Request[Any, Any, Any]
STEPS = 4
MAX_ALTERNATIVES = 8
# Without JavaScript there is no proof of work: such bookings are allowed, but few per client.
UNPROVEN_BOOKING_LIMIT = Limit("book-unproven", 5, 3600)
_PROOF_ERRORS = (ProofRequired, ProofInvalid, ProofExpired, ProofReplayed)


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """The chosen appointment as the details and review pages show it, in local time."""

    location: SetLocation
    services: list[PublicService]
    start: datetime
    end: datetime
    hold_expires: datetime | None
    hold_extended: bool
    # For the countdown: seconds left by the server's clock, so a wrong client clock is harmless.
    hold_seconds: int


def _service_params(services: list[str]) -> list[tuple[str, str]]:
    return [("service", s) for s in services]


async def _catalogue(conn: Connection) -> list[PublicService]:
    """Services someone offers online, in catalogue order."""
    return [s for s in await offers.public_services(conn) if s.locations]


def _chosen(catalogue: list[PublicService], slugs: list[str]) -> list[PublicService]:
    by_slug = {s.slug: s for s in catalogue}
    return [by_slug[s] for s in slugs if s in by_slug]


def _sort_key(name: str) -> str:
    """Alphabetical as people expect it: "Änderung" beside "Anmeldung", not after "Z"."""
    return unicodedata.normalize("NFKD", name).casefold()


def _matches(service: PublicService, query: str) -> bool:
    text = " ".join(
        (service.name_de, service.name_en, service.description_de, service.description_en)
    )
    return query.casefold() in text.casefold()


async def _summary(conn: Connection, chosen: Selection, now: datetime) -> Summary:
    found = await offers.locations_offering(conn, chosen.services, [chosen.location])
    if not found:
        await search.checked_services(conn, chosen.services)  # says which slug is wrong
        raise InvalidInput.field("location", "does not offer these services online")
    location = found[0]
    zone = ZoneInfo(location.time_zone)
    start = chosen.start.astimezone(zone)
    minutes = units_needed(location.total_minutes, location.grid_minutes) * location.grid_minutes
    hold = await q.live_hold(conn, chosen.hold, now) if chosen.hold else None
    return Summary(
        location=location,
        services=_chosen(await _catalogue(conn), chosen.services),
        start=start,
        end=start + timedelta(minutes=minutes),
        hold_expires=hold.expires_at.astimezone(zone) if hold else None,
        hold_extended=hold.extended if hold else False,
        hold_seconds=int((hold.expires_at - now).total_seconds()) if hold else 0,
    )


async def _alternatives(conn: Connection, chosen: Selection, now: datetime) -> list[datetime]:
    """Other free starts from the wanted day on, for when the wanted one was taken."""
    day = chosen.start.date()
    found = await search.availability(
        conn, location_slug=chosen.location, service_slugs=chosen.services, first_day=day,
        last_day=day + timedelta(days=13), now=now,
    )  # fmt: skip
    starts = [s for d in found.days for s in d.starts if s != chosen.start]
    return starts[:MAX_ALTERNATIVES]


class CitizenPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def services(self, request: AnyRequest, db: Transaction) -> Template | Redirect:
        """Step 1. "Continue" comes back here to be checked, so an empty choice says why."""
        params = request.query_params
        catalogue = await _catalogue(db)
        chosen = [s.slug for s in _chosen(catalogue, params.getall("service", []))]
        query = str(params.get("q", "")).strip()[:100]
        problem = None
        if "next" in params:
            if not chosen:
                problem = N_("Choose at least one service.")
            elif len(chosen) > search.MAX_SERVICES:
                problem = N_("Choose at most 5 services for one appointment.")
            else:
                return Redirect(url("/standort", _service_params(chosen)), status_code=303)
        lang = language(request)
        shown = sorted(
            (s for s in catalogue if s.slug in chosen or _matches(s, query)),
            key=lambda s: _sort_key(getattr(s, f"name_{lang}")),
        )
        return page(
            request,
            "citizen/services.html",
            {"step": 1, "steps": STEPS, "services": shown, "chosen": chosen, "query": query,
             "chosen_params": _service_params(chosen), "total": len(catalogue),
             "problem": problem},
            status=422 if problem else 200,
        )  # fmt: skip

    @get("/standort")
    async def location(
        self, request: AnyRequest, state: State, db: Transaction
    ) -> Template | Redirect:
        """Step 2a: each office offering the whole set with its earliest free time."""
        app = rush(state)  # the rush's browsing pages: see dependencies.Rush
        params = request.query_params
        services = forms.services(params)
        chosen = params.get("location")
        if "next" in params and chosen:
            target = [*_service_params(services), ("location", forms.location(params))]
            return Redirect(url("/zeit", target), status_code=303)
        found = await app.searches.earliest_starts(db, services, None, app.clock.now())
        return page(
            request,
            "citizen/location.html",
            {"step": 2, "steps": STEPS, "services": _chosen(await _catalogue(db), services),
             "service_params": _service_params(services), "locations": found,
             "earliest": next((e for e in found if e.earliest), None),
             "chosen": chosen or (found[0].location.slug if found else None),
             "problem": N_("Choose a location.") if "next" in params else None},
            status=422 if "next" in params else 200,
        )  # fmt: skip

    @get("/zeit")
    async def time(self, request: AnyRequest, state: State, db: Transaction) -> Template:
        """Step 2b: a month of days with free times, and the free times of one day."""
        app = rush(state)
        params = request.query_params
        services, location = forms.services(params), forms.location(params)
        choice = await time_choice(
            db, app.clock.now(), location_slug=location, services=services,
            month=forms.optional_month(params), day=forms.optional_date(params, "day"),
            searches=app.searches,
        )  # fmt: skip
        names = _chosen(await _catalogue(db), services)
        return _time_page(request, choice, services, names, forms.optional_start(params))

    @post("/zeit")
    async def take(
        self, *, request: AnyRequest, uow: UnitOfWorkDep, settings: SettingsDep,
        clock: ClockDep, limiter: LimiterDep,
    ) -> Template | Redirect:  # fmt: skip
        """Hold the chosen time while the citizen types (the API's hold, same limits)."""
        form = await request.form()
        services, location = forms.services(form), forms.location(form)
        start = forms.optional_start(form)
        problem, status = N_("Choose a time."), 422
        if start is not None:
            client = client_address(request, settings)
            await limiter.hit(HOLD_LIMIT, client)
            ctx = Context(settings, clock.now())
            wanted = HoldRequest(location=location, services=services, start=start)
            key = hold_client_key(settings, client)
            try:
                hold = await uow.run(lambda conn: uc.place_hold(conn, ctx, wanted, key), ctx)
            except Conflict:
                problem, status = N_("Sorry, this time has just been taken. Choose another."), 409
            else:
                chosen = Selection(location=location, services=services, start=start, hold=hold.id)
                return Redirect(url("/angaben", chosen.params()), status_code=303)
        now = clock.now()

        async def again(conn: Connection) -> tuple[TimeChoice, list[PublicService]]:
            choice = await time_choice(
                conn, now, location_slug=location, services=services, month=None,
                day=start.date() if start else None,
            )  # fmt: skip
            return choice, _chosen(await _catalogue(conn), services)

        choice, names = await uow.run(again)
        switch = ("/zeit", [*_service_params(services), ("location", location)])
        return _time_page(
            request, choice, services, names, None, problem=problem, status=status, switch=switch
        )

    @get("/angaben")
    async def details(
        self, request: AnyRequest, db: Transaction, settings: SettingsDep, clock: ClockDep
    ) -> Template:
        """Step 3: name, email and phone, with the privacy notice and the hold's expiry."""
        draft = Draft(forms.selection(request.query_params), Contact())
        summary = await _summary(db, draft.selection, clock.now())
        return _details_page(request, draft, summary, settings=settings)

    @post("/angaben")
    async def check(
        self, *, request: AnyRequest, uow: UnitOfWorkDep, settings: SettingsDep,
        clock: ClockDep,
    ) -> Template:  # fmt: skip
        """Step 3 sent: extend the hold, go back to edit, or check and show the review."""
        form = await request.form()
        draft = Draft(forms.selection(form), forms.contact(form))
        ctx = Context(settings, clock.now())
        action = form.get("action")
        notice = None
        if action == "extend" and draft.selection.hold is not None:
            hold_id = draft.selection.hold
            try:
                await uow.run(lambda conn: uc.extend_hold(conn, ctx, hold_id), ctx)
                notice = N_("We are keeping this time for you a little longer.")
            except uc.WrongState:
                notice = N_("The reservation could not be extended again.")
        summary = await uow.run(lambda conn: _summary(conn, draft.selection, ctx.now))
        problems = forms.contact_problems(draft.contact)
        if action == "extend" and form.get("view") == "review" and not problems:
            return _review_page(request, draft, summary, settings=settings, notice=notice)
        if action in {"extend", "edit"}:
            return _details_page(request, draft, summary, settings=settings, notice=notice)
        if problems:
            return _details_page(
                request, draft, summary, settings=settings, problems=problems, status=422
            )
        return _review_page(request, draft, summary, settings=settings)

    @post("/buchen")
    async def book(
        self, *, request: AnyRequest, uow: UnitOfWorkDep, settings: SettingsDep,
        clock: ClockDep, limiter: LimiterDep, pow: ProofOfWorkDep,
    ) -> Template | Redirect:  # fmt: skip
        """Step 4 sent: book once per rendered form (its request id is the Idempotency-Key)."""
        form = await request.form()
        draft = Draft(forms.selection(form), forms.contact(form))
        key = forms.request_id(form)
        chosen, given = draft.selection, draft.contact
        ctx = Context(settings, clock.now())
        if problems := forms.contact_problems(given):
            summary = await uow.run(lambda conn: _summary(conn, chosen, ctx.now))
            return _details_page(
                request, draft, summary, settings=settings, problems=problems, status=422
            )
        client = client_address(request, settings)
        data = BookingIn(
            location=chosen.location, services=chosen.services, start=chosen.start,
            name=given.name, email=given.email, phone=given.phone or None,
            language=language(request), hold=chosen.hold,
        )  # fmt: skip
        again = partial(_retry_review, request, draft, uow=uow, settings=settings, now=ctx.now)
        try:
            for limit in BOOKING_LIMITS:
                await limiter.hit(limit, client)
            proof = form.get("altcha")
            if proof:
                await pow.check(str(proof), ctx.now, retry_of=key)
            else:
                await limiter.hit(UNPROVEN_BOOKING_LIMIT, client)
            answer = await uow.run(lambda conn: book_once(conn, ctx, data, key), ctx)
        except LimitReached:
            summary = await uow.run(lambda conn: _summary(conn, chosen, ctx.now))
            problems = {"email": N_("This email address already has the most open "
                                    "appointments allowed for these services. Cancel one "
                                    "first.")}  # fmt: skip
            return _details_page(
                request, draft, summary, settings=settings, problems=problems, status=409
            )
        except Conflict:
            problem = N_("Sorry, this time has just been taken. Choose another one below.")
            return await again(status=409, problem=problem, alternatives=True)
        except TooManyRequests as exc:
            problem = N_("Too many bookings from your connection. Wait a few minutes, then "
                         "send the form again.")  # fmt: skip
            return await again(status=429, problem=problem, headers=exc.headers)
        except _PROOF_ERRORS:
            problem = N_("The automatic security check did not work. Send the form again.")
            return await again(status=400, problem=problem)
        assert answer.manage_token is not None
        target = url(f"/termin/{answer.code}/gebucht", [("token", answer.manage_token)])
        return Redirect(target, status_code=303)


class Draft(msgspec.Struct, frozen=True):
    """What the details and review forms carry: the chosen start and the contact typed."""

    selection: Selection
    contact: Contact


def _time_page(
    request: AnyRequest,
    choice: TimeChoice,
    services: list[str],
    names: list[PublicService],
    chosen: datetime | None,
    *,
    problem: str | None = None,
    status: int = 200,
    switch: tuple[str, list[tuple[str, str]]] | None = None,
) -> Template:
    base = [*_service_params(services), ("location", choice.location.slug)]
    if chosen not in choice.starts:
        chosen = choice.starts[0] if choice.starts else None
    return page(
        request,
        "citizen/time.html",
        {"step": 2, "steps": STEPS, "choice": choice, "services": names, "base": base,
         "chosen": chosen, "problem": problem, "back": url("/standort", _service_params(services))},
        status=status,
        switch=switch,
    )  # fmt: skip


def _details_page(
    request: AnyRequest,
    draft: Draft,
    summary: Summary,
    *,
    settings: Settings,
    problems: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    chosen = draft.selection
    back = [*_service_params(chosen.services), ("location", chosen.location),
            ("day", summary.start.date().isoformat()),
            ("start", chosen.start.isoformat())]  # fmt: skip
    return page(
        request,
        "citizen/details.html",
        {"step": 3, "steps": STEPS, "selection": chosen, "summary": summary,
         "contact": draft.contact, "problems": problems or {}, "notice": notice,
         "settings": settings, "back": url("/zeit", back)},
        status=status,
        switch=("/angaben", chosen.params()),
    )  # fmt: skip


def _review_page(
    request: AnyRequest,
    draft: Draft,
    summary: Summary,
    *,
    settings: Settings,
    problem: str | None = None,
    notice: str | None = None,
    alternatives: list[datetime] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    return page(
        request,
        "citizen/review.html",
        {"step": 4, "steps": STEPS, "selection": draft.selection, "summary": summary,
         "contact": draft.contact, "request_id": forms.new_request_id(), "problem": problem,
         "notice": notice, "alternatives": alternatives, "settings": settings},
        status=status,
        switch=("/angaben", draft.selection.params()),
        headers=headers,
    )  # fmt: skip


async def _retry_review(
    request: AnyRequest,
    draft: Draft,
    *,
    uow: UnitOfWork,
    settings: Settings,
    now: datetime,
    status: int,
    problem: str,
    alternatives: bool = False,
    headers: dict[str, str] | None = None,
) -> Template:
    """The review again with what was typed, a reason, and other times when this one is gone."""
    if alternatives:
        # The hold is spent or gone once the time was taken; a new choice books free units.
        draft = Draft(msgspec.structs.replace(draft.selection, hold=None), draft.contact)
    chosen = draft.selection

    async def load(conn: Connection) -> tuple[Summary, list[datetime] | None]:
        others = await _alternatives(conn, chosen, now) if alternatives else None
        return await _summary(conn, chosen, now), others

    summary, others = await uow.run(load)
    return _review_page(
        request, draft, summary, settings=settings, problem=problem, alternatives=others,
        status=status, headers=headers,
    )  # fmt: skip
