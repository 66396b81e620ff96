"""``/join/{slug}``: a waiting number on the phone, from the office's QR poster.

The poster links here with the day's code (``queueing.join_url``); the form carries it on
in a hidden field. Sending runs the JSON API's use case (``queueing.join_from_phone``) under
the API's limit, then redirects to the ticket's own page ``/t/{public_id}``. A code of
another day (or none) gets a page that says to scan the poster again, not the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking import queueing
from booking.api.client import client_address
from booking.api.dependencies import (
    ClockDep,
    LimiterDep,
    SettingsDep,
    Transaction,
    UnitOfWorkDep,
)
from booking.api.tickets import JOIN_LIMIT, CallAheadIn
from booking.appointments import Context
from booking.db import Connection
from booking.db.tickets import QueueLocation
from booking.errors import InvalidInput, NotFound, TooManyRequests
from booking.i18n import N_
from booking.pages.rendering import language, page
from booking.queueing import (
    CallAhead,
    NotServed,
    PosterCodeExpired,
    PosterCodeInvalid,
    ServiceQueue,
)

AnyRequest = Request[Any, Any, Any]
_MAX_FIELD = 64  # longer than any poster code or service slug
_MAX_EMAIL = 500

# Why the form is not shown, by the use case's error code (the poster code, the office).
_BAD_LINK = {
    PosterCodeExpired.code: N_("This code is from another day. Please scan the poster in the "
                               "office again."),
    PosterCodeInvalid.code: N_("This code is not valid for this office. Please scan the poster "
                               "in the office again."),
    NotFound.code: N_("We do not know this office. Please scan the poster in the office again."),
}  # fmt: skip
_TOO_MANY = N_("Too many requests from your connection. Wait a few minutes, then send the form "
               "again.")  # fmt: skip
_NOT_SERVED = N_("No desk serves this service right now. Please ask at reception.")


class JoinForm(msgspec.Struct, frozen=True):
    """What the form sent, kept to show it again as it was."""

    code: str
    service: str = ""
    email: str = ""


def _read(fields: Mapping[str, Any]) -> JoinForm:
    return JoinForm(
        code=str(fields.get("code", "")).strip()[:_MAX_FIELD],
        service=str(fields.get("service", "")).strip()[:_MAX_FIELD],
        email=str(fields.get("email", "")).strip()[:_MAX_EMAIL],
    )


def _call_ahead(form: JoinForm, lang: str) -> CallAhead | None:
    """The API's own check of the address; raises ``msgspec.ValidationError``."""
    if not form.email:
        return None
    return msgspec.convert({"email": form.email, "language": lang}, CallAheadIn).wish()


async def _office(
    conn: Connection, slug: str, now: datetime
) -> tuple[QueueLocation, list[ServiceQueue]]:
    """The office and the services some desk serves there: what its kiosk offers."""
    location = await queueing.location_by_slug(conn, slug[:_MAX_FIELD])
    return location, await queueing.service_queues(conn, location, now)


def _form_page(
    request: AnyRequest,
    location: QueueLocation,
    queues: list[ServiceQueue],
    form: JoinForm,
    *,
    problems: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Template:
    return page(
        request,
        "join/form.html",
        {"location": location, "queues": queues, "form": form, "problems": problems or {},
         "problem": problem, "places": queueing.DEFAULT_CALL_AHEAD_PLACES},
        status=status,
        switch=(f"/join/{location.slug}", [("code", form.code)]),
        headers=headers,
    )  # fmt: skip


def _bad_link(request: AnyRequest, code: str, location: QueueLocation | None) -> Template:
    """403 for a code of another day or office, 404 for an office that does not exist."""
    return page(
        request,
        "join/bad_link.html",
        {"location": location, "message": _BAD_LINK[code]},
        status=NotFound.status if code == NotFound.code else PosterCodeInvalid.status,
    )


class JoinPages(Controller):
    path = "/join/{slug:str}"
    include_in_schema = False

    @get("/")
    async def form(
        self, request: AnyRequest, db: Transaction, clock: ClockDep, slug: FromPath[str]
    ) -> Template:
        """The services as big buttons, after checking the poster's code: a stale one
        would only be refused after the citizen has chosen."""
        try:
            location, queues = await _office(db, slug, clock.now())
        except NotFound:
            return _bad_link(request, NotFound.code, None)
        form = _read(request.query_params)
        try:
            queueing.check_poster_code(
                location, form.code, queueing.local_day(location, clock.now())
            )
        except (PosterCodeExpired, PosterCodeInvalid) as exc:
            return _bad_link(request, exc.code, location)
        return _form_page(request, location, queues, form)

    @post("/")
    async def join(
        self, *, request: AnyRequest, slug: FromPath[str], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep, limiter: LimiterDep,
    ) -> Template | Redirect:  # fmt: skip
        form = _read(await request.form())
        ctx = Context(settings, clock.now())
        problems: dict[str, str] = {}
        problem, status, headers = None, 422, {}
        try:
            wish = _call_ahead(form, language(request))
        except msgspec.ValidationError:
            problems["email"] = N_(
                "Enter an email address in the correct format, like name@example.org."
            )
        else:
            try:
                await limiter.hit(JOIN_LIMIT, client_address(request, settings))
                found = await uow.run(
                    lambda conn: queueing.join_from_phone(
                        conn, ctx, slug, service_slug=form.service, code=form.code,
                        call_ahead=wish,
                    ),
                    ctx,
                )  # fmt: skip
            except NotFound:
                return _bad_link(request, NotFound.code, None)
            except (PosterCodeExpired, PosterCodeInvalid) as exc:
                location, _ = await uow.run(lambda conn: _office(conn, slug, ctx.now))
                return _bad_link(request, exc.code, location)
            except TooManyRequests as exc:
                problem, status, headers = _TOO_MANY, exc.status, exc.headers
            except NotServed as exc:
                problem, status = _NOT_SERVED, exc.status
            except InvalidInput:  # a service this office does not offer
                problem = N_("Choose one of the services below.")
            else:
                return Redirect(f"/t/{found.ticket.public_id}", status_code=303)
        location, queues = await uow.run(lambda conn: _office(conn, slug, ctx.now))
        return _form_page(
            request, location, queues, form, problems=problems, problem=problem,
            status=status, headers=headers,
        )  # fmt: skip
