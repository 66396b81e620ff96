"""``/t/{public_id}``: the citizen follows a waiting number on the phone.

The link from the printed ticket's QR code or the phone-join answer is the only key (128
random bits), so the page shows no personal data, like ``GET /api/v1/tickets/{public_id}``
whose answer it renders. ``frontend/static/ticket.js`` reloads the status part every few
seconds; without JavaScript the page refreshes itself. The call-ahead mail is a form.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Router, get, post
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
from booking.api.tickets import (
    CALL_AHEAD_LIMIT,
    CallAheadIn,
    TicketOut,
    checked_public_id,
    ticket_out,
)
from booking.appointments import Context, WrongState
from booking.errors import TooManyRequests
from booking.i18n import N_
from booking.pages import page_router
from booking.pages.rendering import language, page, url
from booking.settings import Settings

AnyRequest = Request[Any, Any, Any]
# How often the page asks again, in seconds; the page says so.
POLL_SECONDS = 3
FINAL = frozenset({"done", "no_show", "cancelled"})
PLACES = (1, 2, 3, 5, 10)


def _ticket_page(
    request: AnyRequest,
    ticket: TicketOut,
    *,
    email: str = "",
    problems: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "ticket/ticket.html",
        {"ticket": ticket, "final": ticket.status in FINAL, "poll": POLL_SECONDS,
         "places": PLACES, "email": email, "problems": problems or {}, "problem": problem,
         "asked": request.query_params.get("asked") == "1"},
        status=status,
        switch=(f"/t/{ticket.public_id}", []),
    )  # fmt: skip


class TicketPage(Controller):
    path = "/"
    include_in_schema = False

    @get("/{public_id:str}")
    async def show(
        self, request: AnyRequest, db: Transaction, settings: SettingsDep, clock: ClockDep,
        public_id: FromPath[str],
    ) -> Template:  # fmt: skip
        found = await queueing.ticket_status(db, clock.now(), checked_public_id(public_id))
        return _ticket_page(request, ticket_out(found, settings))

    @post("/{public_id:str}/call-ahead")
    async def call_ahead(
        self, *, request: AnyRequest, public_id: FromPath[str], uow: UnitOfWorkDep,
        settings: SettingsDep, clock: ClockDep, limiter: LimiterDep,
    ) -> Template | Redirect:  # fmt: skip
        """One mail when the turn comes close, in the page's language."""
        ticket_id = checked_public_id(public_id)
        form = await request.form()
        email = str(form.get("email", "")).strip()[:500]
        ctx = Context(settings, clock.now())
        problems: dict[str, str] = {}
        problem = None
        status = 422
        try:
            places = int(str(form.get("places", "3")))
            wish = msgspec.convert(
                {"email": email, "language": language(request), "places": places}, CallAheadIn
            ).wish()
        except (ValueError, msgspec.ValidationError):
            problems["email"] = N_(
                "Enter an email address in the correct format, like name@example.org."
            )
        else:
            try:
                await limiter.hit(CALL_AHEAD_LIMIT, client_address(request, settings))
                await uow.run(lambda conn: queueing.ask_call_ahead(conn, ctx, ticket_id, wish), ctx)
            except TooManyRequests:
                problem, status = N_("Please wait a minute, then try again."), 429
            except WrongState:
                problem, status = N_("Your number is no longer waiting."), 409
            else:
                return Redirect(url(f"/t/{ticket_id}", [("asked", "1")]), status_code=303)

        async def again(conn: Any) -> TicketOut:
            return ticket_out(await queueing.ticket_status(conn, ctx.now, ticket_id), settings)

        ticket = await uow.run(again)
        return _ticket_page(
            request, ticket, email=email, problems=problems, problem=problem, status=status
        )


def ticket_pages_router(settings: Settings) -> Router:
    """``/t``: the citizen's ticket page."""
    return page_router(settings, "/t", [TicketPage])
