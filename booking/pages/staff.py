"""The staff desk pages: choose a location and a desk, then run the queue from the desk page.

Every action is a plain HTML form posting to a page route, which runs the same use case as
the JSON API (``booking.api.staff_queue``) and redirects back to the desk page with what
happened (POST/redirect/GET). A refused action (desk busy, too early, ...) shows the desk
page at once with the reason and the API's status. ``frontend/static/staff.js`` adds the
live refresh and the keyboard shortcuts; everything works without it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Router, get, post
from litestar.di import Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template

from booking import queueing
from booking.api.appointments import Code, Slug
from booking.api.at_location import AtLocation, AtLocationDep, provide_at_location
from booking.api.dependencies import ClockDep, SettingsDep, Transaction
from booking.appointments import Context
from booking.auth.guards import CurrentStaff, requires, staff_area
from booking.auth.principals import Role, Staff
from booking.db import Connection, catalogue
from booking.db import desks as desk_q
from booking.db.tickets import QueueLocation
from booking.errors import Conflict, InvalidInput, NotFound
from booking.i18n import N_
from booking.pages import page_router
from booking.pages.errors import STAFF_EXCEPTION_HANDLERS
from booking.pages.forms import checked
from booking.pages.rendering import page, url
from booking.pages.staff_desk import DeskState, desk_state
from booking.pages.staff_login import StaffLoginPages
from booking.pages.staff_stream import StaffStream
from booking.settings import Settings

AnyRequest = Request[Any, Any, Any]

# What an action did, by the key in the redirect's ``?done=``; ``%(code)s`` is the ticket.
DONE = {
    "desk": N_("You are now at this desk."),
    "called": N_("%(code)s is called to your desk."),
    "nobody": N_("Nobody is waiting for the services of your desk."),
    "recalled": N_("%(code)s is called again."),
    "started": N_("Serving %(code)s."),
    "completed": N_("%(code)s is done."),
    "no-show": N_("%(code)s did not come and is marked as no-show."),
    "transferred": N_("%(code)s moved to another service's queue."),
    "check-in": N_("Checked in: waiting number %(code)s."),
    "walk-in": N_("Queued as a walk-in from now: waiting number %(code)s."),
}
# Why an action was refused, by the error's code.
REFUSED = {
    "desk_busy": N_(
        "Finish your current ticket first: complete it, mark it no-show or transfer it."
    ),
    "no_desk": N_("Choose your desk first."),
    "not_at_your_desk": N_("This ticket is not at your desk any more."),
    "wrong_state": N_("This is not possible in the ticket's or appointment's current state."),
    "too_early": N_("Too early: this appointment cannot check in yet."),
    "too_late": N_("Too late to check in: queue the appointment as a walk-in instead."),
    "already_checked_in": N_("This appointment has checked in already."),
    "not_served": N_("No desk serves this service at the moment."),
    "not_found": N_("This ticket or appointment no longer exists here."),
    "invalid_input": N_("Choose another service than the ticket's own."),
}
ACTIONS = {
    "recall": (queueing.recall, "recalled"),
    "start": (queueing.start, "started"),
    "complete": (queueing.complete, "completed"),
    "no-show": (queueing.no_show, "no-show"),
}


def desk_path(slug: str) -> str:
    return f"/staff/{slug}"


def _desk_id(raw: object) -> int:
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    raise InvalidInput.field("desk", "choose one of the desks")


def _done(slug: str, key: str, code: str = "") -> Redirect:
    return Redirect(url(desk_path(slug), [("done", key), ("code", code)]), status_code=303)


class StaffHome(Controller):
    """Where sign-in leads: the locations this staff member works at."""

    path = "/"
    include_in_schema = False
    guards = [staff_area(Role.DESK)]  # noqa: RUF012
    exception_handlers = STAFF_EXCEPTION_HANDLERS

    @get("/")
    async def home(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff
    ) -> Template | Redirect:
        mine = [loc for loc in await catalogue.all_locations(db) if staff.works_at(loc.slug)]
        if len(mine) == 1:
            return Redirect(desk_path(mine[0].slug), status_code=303)
        return page(request, "staff/home.html", {"staff": staff, "locations": mine})


class DeskPages(Controller):
    path = "/{slug:str}"
    include_in_schema = False
    guards = [requires(Role.DESK, location="slug")]  # noqa: RUF012
    dependencies = {"here": Provide(provide_at_location, sync_to_thread=False)}  # noqa: RUF012
    exception_handlers = STAFF_EXCEPTION_HANDLERS

    @get("/desks")
    async def desks(
        self, request: AnyRequest, db: Transaction, staff: CurrentStaff, slug: FromPath[str]
    ) -> Template:
        """Choose (or change) the desk; a desk someone else sits at changes hands."""
        location = await queueing.location_by_slug(db, slug)
        desks = [d for d in await queueing.desks(db, location) if d.active]
        mine = await desk_q.staffed_desk(db, location.id, staff.id)
        return page(
            request, "staff/desks.html",
            {"staff": staff, "location": location, "desks": desks, "mine": mine},
        )  # fmt: skip

    @post("/desks")
    async def choose(
        self, *, request: AnyRequest, db: Transaction, clock: ClockDep, staff: CurrentStaff,
        slug: FromPath[str],
    ) -> Redirect:  # fmt: skip
        form = await request.form()
        desk_id = _desk_id(form.get("desk"))
        location = await queueing.location_by_slug(db, slug)
        await queueing.choose_desk(db, location, staff, desk_id, clock.now())
        return _done(slug, "desk")

    @post("/leave")
    async def leave(self, db: Transaction, staff: CurrentStaff, slug: FromPath[str]) -> Redirect:
        await queueing.location_by_slug(db, slug)
        await queueing.leave_desk(db, staff)
        return Redirect(f"{desk_path(slug)}/desks", status_code=303)

    @get("/")
    async def desk(
        self, *, request: AnyRequest, db: Transaction, settings: SettingsDep, clock: ClockDep,
        staff: CurrentStaff, slug: FromPath[str],
    ) -> Template | Redirect:  # fmt: skip
        location = await queueing.location_by_slug(db, slug)
        state = await desk_state(db, location, staff, clock.now(), settings.check_in_late_minutes)
        if state.desk is None:
            return Redirect(f"{desk_path(slug)}/desks", status_code=303)
        params = request.query_params
        done = DONE.get(str(params.get("done", "")))
        code = str(params.get("code", ""))
        return await _desk_page(request, staff, state, db, done=done, code=code)

    @post("/call-next")
    async def call_next(
        self, *, request: AnyRequest, here: AtLocationDep, slug: FromPath[str]
    ) -> Template | Redirect:  # fmt: skip
        async def work(conn: Connection, ctx: Context, location: QueueLocation) -> Redirect:
            called = await queueing.call_next(conn, ctx, location, here.staff)
            if called is None:
                return _done(slug, "nobody")
            return _done(slug, "called", called.display_code)

        return await _act(request, here, work)

    @post("/tickets/{ticket_id:int}/{action:str}")
    async def ticket_action(
        self, *, request: AnyRequest, here: AtLocationDep, slug: FromPath[str],
        ticket_id: FromPath[int], action: FromPath[str],
    ) -> Template | Redirect:  # fmt: skip
        """Recall, start, complete, no-show or transfer the ticket at my desk."""
        form = await request.form()
        if action == "transfer":
            service: str = checked(form.get("service", ""), Slug, "service")

            async def work(conn: Connection, ctx: Context, location: QueueLocation) -> Redirect:
                moved = await queueing.transfer(
                    conn, ctx, location, here.staff, ticket_id, service_slug=service
                )
                return _done(slug, "transferred", moved.display_code)

        elif action in ACTIONS:
            use_case, key = ACTIONS[action]

            async def work(conn: Connection, ctx: Context, location: QueueLocation) -> Redirect:
                ticket = await use_case(conn, ctx, location, here.staff, ticket_id)
                return _done(slug, key, ticket.display_code)

        else:
            raise NotFound("No such action.")
        return await _act(request, here, work)

    @post("/appointments/{code:str}/{action:str}")
    async def arrive(
        self, *, request: AnyRequest, here: AtLocationDep, slug: FromPath[str],
        code: FromPath[str], action: FromPath[str],
    ) -> Template | Redirect:  # fmt: skip
        """Check in someone who asks at the counter, or queue a late arrival from now."""
        booking_code: str = checked(code, Code, "code")
        if action not in {"check-in", "walk-in"}:
            raise NotFound("No such action.")

        async def work(conn: Connection, ctx: Context, location: QueueLocation) -> Redirect:
            if action == "check-in":
                found = await queueing.check_in(conn, ctx, location, booking_code)
            else:
                found = await queueing.walk_in_for_late(
                    conn, ctx, location, here.staff.actor, booking_code
                )
            return _done(slug, action, found.ticket.display_code)

        return await _act(request, here, work)


Work = Callable[[Connection, Context, QueueLocation], Awaitable[Redirect]]


async def _act(request: AnyRequest, here: AtLocation, work: Work) -> Template | Redirect:
    """Run ``work`` as one unit of work; a refusal shows the desk page with the reason."""
    ctx, slug = here.ctx, here.slug
    try:
        done: Redirect = await here.run(work)
    except (Conflict, InvalidInput, NotFound) as exc:
        problem = REFUSED.get(exc.code, N_("That did not work."))
        status = exc.status
    else:
        return done
    late_minutes = ctx.settings.check_in_late_minutes

    async def again(conn: Connection) -> Template | Redirect:
        location = await queueing.location_by_slug(conn, slug)
        state = await desk_state(conn, location, here.staff, ctx.now, late_minutes)
        if state.desk is None:  # someone took the desk over: choose again
            return Redirect(f"{desk_path(slug)}/desks", status_code=303)
        return await _desk_page(request, here.staff, state, conn, problem=problem, status=status)

    shown: Template | Redirect = await here.uow.run(again)
    return shown


async def _desk_page(
    request: AnyRequest,
    staff: Staff,
    state: DeskState,
    conn: Connection,
    *,
    done: str | None = None,
    code: str = "",
    problem: str | None = None,
    status: int = 200,
) -> Template:
    everything = request.query_params.get("all") == "1"
    services = [s for s in await desk_q.queue_services(conn, state.location.id) if s.desks]
    return page(
        request, "staff/desk.html",
        {"staff": staff, "state": state, "queue": state.queue(everything),
         "everything": everything, "services": services, "done": done, "code": code[:10],
         "problem": problem},
        status=status, switch=(desk_path(state.location.slug), []),
    )  # fmt: skip


def staff_pages_router(settings: Settings) -> Router:
    """``/staff``: sign-in for all staff and admins, and the desk pages."""
    return page_router(settings, "/staff", [StaffLoginPages, StaffHome, DeskPages, StaffStream])
