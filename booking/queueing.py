"""Use cases of the in-office queue: tickets, check-in, desks calling, the board, call-ahead.

The order (docs/design/queue.md): a desk gets today's waiting ticket
with the earliest ``priority_at`` among the services it serves, the lower id first among
equals. A walk-in's ``priority_at`` is when it was issued, a checked-in appointment's its
booked start, and a transfer keeps it. Each use case runs inside the caller's transaction
and never commits; outbox rows it writes wake the outbox relay when the caller commits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Collection
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

import msgspec

from booking import statistics, tokens
from booking.appointments import Context, WrongState
from booking.auth.principals import Staff
from booking.calendar import zone
from booking.db import Connection
from booking.db import appointments as appointment_q
from booking.db import desks as desk_q
from booking.db import statistics as statistics_q
from booking.db import tickets as q
from booking.db.appointments import Appointment
from booking.db.audit import Actor, record
from booking.db.desks import Desk, QueueService
from booking.db.tickets import CallEvent, DayAppointment, QueueLocation, Ticket
from booking.errors import Conflict, Forbidden, InvalidInput, NotFound
from booking.settings import Settings
from booking.statistics import CurrentWait

OPEN = frozenset({"waiting", "called", "serving"})
DEFAULT_CALL_AHEAD_PLACES = 3
RECENT_CALLS = 10
# A poster code this many days old is "expired" rather than "wrong", for a clearer answer.
POSTER_MEMORY_DAYS = 7
EVENT_RETENTION = timedelta(days=7)
T = TypeVar("T")


class NotServed(Conflict):
    code = "not_served"


class TooEarly(Conflict):
    code = "too_early"


class TooLate(Conflict):
    code = "too_late"


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"


class OtherLocation(Conflict):
    code = "other_location"


class NoDesk(Conflict):
    code = "no_desk"


class DeskBusy(Conflict):
    code = "desk_busy"


class NotAtYourDesk(Conflict):
    code = "not_at_your_desk"


class PosterCodeInvalid(Forbidden):
    code = "poster_code_invalid"


class PosterCodeExpired(Forbidden):
    code = "poster_code_expired"


class CallAhead(msgspec.Struct, frozen=True, kw_only=True):
    """Write to ``email`` once the ticket is ``places`` places or about ``minutes`` away."""

    email: str
    language: str = "de"
    places: int | None = None
    minutes: int | None = None


class TicketStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A ticket as its holder follows it; ``ahead`` and ``wait`` only while it waits."""

    ticket: Ticket
    location: QueueLocation
    ahead: int | None
    wait: CurrentWait | None


# What the desk's ticket actions have in common (recall, start, complete, no-show).
DeskAction = Callable[[Connection, Context, QueueLocation, Staff, int], Awaitable["Ticket"]]


class StaffQueue(msgspec.Struct, frozen=True):
    desk: Desk | None
    tickets: list[Ticket]


class ServiceQueue(msgspec.Struct, frozen=True):
    service: QueueService
    wait: CurrentWait


class Board(msgspec.Struct, frozen=True, kw_only=True):
    """The board as of call event ``last_event_id``; the stream goes on from there."""

    location: QueueLocation
    day: date
    last_event_id: int
    calling: list[Ticket]
    recent: list[CallEvent]
    services: list[ServiceQueue]


# -- places, days and codes ----------------------------------------------------------------


async def location_by_slug(conn: Connection, slug: str) -> QueueLocation:
    return _found(await q.location_by_slug(conn, slug), "No such location.")


async def location_by_id(conn: Connection, location_id: int) -> QueueLocation:
    return _found(await q.location_by_id(conn, location_id), "No such location.")


def _found(thing: T | None, message: str) -> T:
    if thing is None:
        raise NotFound(message)
    return thing


def local_day(location: QueueLocation, now: datetime) -> date:
    """Numbers restart and queues close by the office's calendar, not the server's."""
    return now.astimezone(zone(location.time_zone)).date()


def poster_code(location: QueueLocation, day: date) -> str:
    """The code on the day's QR poster: an HMAC under the location's secret, 80 bits."""
    message = f"poster\0{location.slug}\0{day.isoformat()}".encode()
    mac = hmac.new(location.poster_secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(mac[:10]).decode().lower()


def check_poster_code(location: QueueLocation, presented: str, today: date) -> None:
    given = presented.strip().lower().encode()
    if hmac.compare_digest(given, poster_code(location, today).encode()):
        return
    for days in range(1, POSTER_MEMORY_DAYS + 1):
        if hmac.compare_digest(given, poster_code(location, today - timedelta(days)).encode()):
            raise PosterCodeExpired(
                "Dieser QR-Code ist abgelaufen; bitte scannen Sie das aktuelle Plakat. / "
                "This QR code has expired; please scan today's poster."
            )
    raise PosterCodeInvalid(
        "Dieser QR-Code gilt hier nicht. / This QR code is not valid for this office."
    )


def follow_url(settings: Settings, public_id: str) -> str:
    """The ticket's page for the phone; a printed ticket's QR code encodes it."""
    return f"{settings.public_url.rstrip('/')}/t/{public_id}"


def join_url(settings: Settings, location: QueueLocation, day: date) -> str:
    """The address on the day's QR poster (its page posts to the join route)."""
    code = poster_code(location, day)
    return f"{settings.public_url.rstrip('/')}/join/{location.slug}?code={code}"


def _clock_time(location: QueueLocation, at: datetime) -> str:
    return at.astimezone(zone(location.time_zone)).strftime("%H:%M")


# -- issuing -------------------------------------------------------------------------------


async def _service(conn: Connection, location: QueueLocation, slug: str) -> QueueService:
    return _served(await desk_q.queue_services(conn, location.id), lambda s: s.slug == slug)


def _served(services: list[QueueService], wanted: Callable[[QueueService], bool]) -> QueueService:
    match = next((s for s in services if wanted(s)), None)
    if match is None:
        raise InvalidInput.field("service", "this office does not offer this service")
    if match.desks == 0:
        raise NotServed(
            "Für dieses Anliegen ist heute kein Schalter besetzt; bitte fragen Sie am Empfang. / "
            "No desk serves this service here; please ask at reception."
        )
    return match


async def _issue(
    conn: Connection,
    ctx: Context,
    location: QueueLocation,
    service: QueueService,
    *,
    channel: str,
    priority_at: datetime,
    appointment_id: int | None = None,
    call_ahead: CallAhead | None = None,
) -> Ticket:
    day = local_day(location, ctx.now)
    number = await q.next_number(conn, location.id, day, service.queue_prefix)
    ticket = await q.insert_ticket(
        conn,
        q.NewTicket(
            public_id=secrets.token_urlsafe(16),  # 128 bits: the link is the only key
            location_id=location.id,
            service_id=service.id,
            appointment_id=appointment_id,
            day=day,
            display_code=f"{service.queue_prefix}{number:03d}",
            channel=channel,
            priority_at=priority_at,
            issued_at=ctx.now,
        ),
    )
    if call_ahead is not None:
        ticket = await _set_call_ahead(conn, ctx, location, ticket, call_ahead)
    return ticket


async def issue(
    conn: Connection,
    ctx: Context,
    location: QueueLocation,
    service_slug: str,
    *,
    channel: str,
    call_ahead: CallAhead | None = None,
) -> TicketStatus:
    """A walk-in ticket: it queues from now."""
    service = await _service(conn, location, service_slug)
    ticket = await _issue(
        conn, ctx, location, service, channel=channel, priority_at=ctx.now, call_ahead=call_ahead
    )
    return await _status(conn, location, ticket, ctx.now)


async def join_from_phone(
    conn: Connection,
    ctx: Context,
    slug: str,
    *,
    service_slug: str,
    code: str,
    call_ahead: CallAhead | None,
) -> TicketStatus:
    """A walk-in ticket without the kiosk, for someone who scanned today's poster on site."""
    location = await location_by_slug(conn, slug)
    check_poster_code(location, code, local_day(location, ctx.now))
    return await issue(conn, ctx, location, service_slug, channel="phone", call_ahead=call_ahead)


# -- appointments arriving -----------------------------------------------------------------


async def _appointment_here(conn: Connection, location: QueueLocation, code: str) -> Appointment:
    appointment = await appointment_q.appointment_by_code(
        conn, tokens.normalise_code(code), for_update=True
    )
    if appointment is None:
        raise NotFound(
            "Kein Termin mit diesem Buchungscode. / No appointment with this booking code."
        )
    if appointment.location_id != location.id:
        raise OtherLocation(
            "Dieser Termin ist an einem anderen Standort. / This appointment is at another office."
        )
    if appointment.status == "checked_in":
        raise AlreadyCheckedIn(
            "Sie sind bereits angemeldet. / You have already checked in for this appointment."
        )
    if appointment.status != "booked":
        raise WrongState(
            f"Dieser Termin kann nicht angemeldet werden ({appointment.status}). / "
            f"This appointment cannot be checked in ({appointment.status})."
        )
    return appointment


async def _appointment_service(
    conn: Connection, location: QueueLocation, appointment: Appointment
) -> QueueService:
    service_id = await q.first_service(conn, appointment.id)
    return _served(await desk_q.queue_services(conn, location.id), lambda s: s.id == service_id)


async def check_in(
    conn: Connection, ctx: Context, location: QueueLocation, code: str
) -> TicketStatus:
    """The appointment's ticket; it is called at the booked time ahead of later walk-ins."""
    appointment = await _appointment_here(conn, location, code)
    opens = appointment.starts_at - timedelta(minutes=ctx.settings.check_in_early_minutes)
    closes = appointment.starts_at + timedelta(minutes=ctx.settings.check_in_late_minutes)
    if ctx.now < opens:
        day = appointment.starts_at.astimezone(zone(location.time_zone)).date()
        when = _clock_time(location, opens)
        if day != local_day(location, ctx.now):
            when = f"{day.strftime('%d.%m.%Y')} {when}"
        raise TooEarly(
            f"Zu früh: Die Anmeldung ist ab {when} möglich. / Too early: check-in opens at {when}."
        )
    if ctx.now > closes:
        raise TooLate(
            "Zu spät für die Anmeldung; bitte wenden Sie sich an den Empfang. / "
            "Too late to check in; please ask at reception for a waiting number."
        )
    service = await _appointment_service(conn, location, appointment)
    await appointment_q.set_status(conn, appointment.id, "checked_in", bump_sequence=False)
    ticket = await _issue(
        conn,
        ctx,
        location,
        service,
        channel="check_in",
        priority_at=appointment.starts_at,
        appointment_id=appointment.id,
    )
    return await _status(conn, location, ticket, ctx.now)


async def walk_in_for_late(
    conn: Connection, ctx: Context, location: QueueLocation, actor: Actor, code: str
) -> TicketStatus:
    """Staff turn a late arrival into a walk-in: it queues from now, not from its booking."""
    appointment = await _appointment_here(conn, location, code)
    starts = appointment.starts_at
    if ctx.now <= starts + timedelta(minutes=ctx.settings.check_in_late_minutes):
        raise WrongState("This appointment is not late; check it in instead.")
    if starts.astimezone(zone(location.time_zone)).date() != local_day(location, ctx.now):
        raise WrongState("This appointment was on another day.")
    service = await _appointment_service(conn, location, appointment)
    await appointment_q.set_status(conn, appointment.id, "checked_in", bump_sequence=False)
    ticket = await _issue(
        conn,
        ctx,
        location,
        service,
        channel="staff",
        priority_at=ctx.now,
        appointment_id=appointment.id,
    )
    await record(conn, actor, "appointment.walk_in", "appointment", appointment.code, location.id)
    return await _status(conn, location, ticket, ctx.now)


async def day_appointments(
    conn: Connection, location: QueueLocation, day: date
) -> list[DayAppointment]:
    tz = zone(location.time_zone)
    since = datetime.combine(day, time(), tzinfo=tz)
    until = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    return await q.day_appointments(conn, location.id, since, until)


# -- the citizen's view --------------------------------------------------------------------


async def estimate(
    conn: Connection, location: QueueLocation, service_id: int, now: datetime, ahead: int | None
) -> CurrentWait:
    """The transparency figure for one service; with ``ahead``, for a ticket with that many
    before it rather than for someone joining now."""
    queue = await statistics_q.queue_now(
        conn,
        location.id,
        local_day(location, now),
        now,
        service_window=statistics.SERVICE_TIME_WINDOW,
        desk_window=statistics.ACTIVE_DESK_WINDOW,
        service_id=service_id,
    )
    if ahead is not None:
        queue = msgspec.structs.replace(queue, waiting=ahead)
    return statistics.estimate_wait(queue)


async def _status(
    conn: Connection, location: QueueLocation, ticket: Ticket, now: datetime
) -> TicketStatus:
    if ticket.status != "waiting":
        return TicketStatus(ticket=ticket, location=location, ahead=None, wait=None)
    ahead = await q.ahead_of(conn, ticket)
    wait = await estimate(conn, location, ticket.service_id, now, ahead)
    return TicketStatus(ticket=ticket, location=location, ahead=ahead, wait=wait)


async def ticket_status(conn: Connection, now: datetime, public_id: str) -> TicketStatus:
    ticket = _found(await q.ticket_by_public_id(conn, public_id), "No such ticket.")
    return await _status(conn, await location_by_id(conn, ticket.location_id), ticket, now)


async def ticket_by_id(conn: Connection, now: datetime, ticket_id: int) -> TicketStatus | None:
    ticket = await q.ticket_by_id(conn, ticket_id)
    if ticket is None:
        return None
    return await _status(conn, await location_by_id(conn, ticket.location_id), ticket, now)


async def ask_call_ahead(
    conn: Connection, ctx: Context, public_id: str, wanted: CallAhead
) -> TicketStatus:
    ticket = _found(
        await q.ticket_by_public_id(conn, public_id, for_update=True), "No such ticket."
    )
    if ticket.status != "waiting":
        raise WrongState("This ticket is no longer waiting.")
    location = await location_by_id(conn, ticket.location_id)
    ticket = await _set_call_ahead(conn, ctx, location, ticket, wanted)
    return await _status(conn, location, ticket, ctx.now)


async def _set_call_ahead(
    conn: Connection, ctx: Context, location: QueueLocation, ticket: Ticket, wanted: CallAhead
) -> Ticket:
    places = wanted.places
    if places is None and wanted.minutes is None:
        places = DEFAULT_CALL_AHEAD_PLACES
    changed = await q.set_call_ahead(
        conn,
        ticket.id,
        email=wanted.email,
        language=wanted.language,
        places=places,
        minutes=wanted.minutes,
    )
    # Already close enough: they asked to be told, so they are, at once.
    await _tell_when_due(conn, ctx, location, [ticket.service_id])
    return changed


async def _tell_when_due(
    conn: Connection, ctx: Context, location: QueueLocation, service_ids: list[int]
) -> None:
    """Queue the call-ahead mail of every ticket of these services that has come close.

    Run wherever tickets move up (a call, a transfer away) or a wish is registered; the
    partial unique index makes it once per ticket whoever gets there first.
    """
    due = await q.call_ahead_due(conn, location.id, local_day(location, ctx.now), service_ids)
    host = urlsplit(ctx.settings.public_url).hostname or "localhost"
    for candidate in due:
        close = candidate.notify_places is not None and candidate.ahead <= candidate.notify_places
        if not close and candidate.notify_minutes is not None:
            wait = await estimate(conn, location, candidate.service_id, ctx.now, candidate.ahead)
            close = wait.estimated_minutes <= candidate.notify_minutes
        if close:
            await q.insert_call_ahead(conn, candidate.ticket_id, host, ctx.now)


# -- desks ---------------------------------------------------------------------------------


async def _service_ids(conn: Connection, location: QueueLocation, slugs: list[str]) -> list[int]:
    offered = {s.slug: s.id for s in await desk_q.queue_services(conn, location.id)}
    unknown = sorted(set(slugs) - offered.keys())
    if unknown:
        raise InvalidInput.field("services", f"not offered here: {', '.join(unknown)}")
    return sorted({offered[slug] for slug in slugs})


async def _desk(conn: Connection, location: QueueLocation, desk_id: int) -> Desk:
    return _found(
        await desk_q.desk_at(conn, location.id, desk_id), "This location has no such desk."
    )


async def create_desk(
    conn: Connection, actor: Actor, location: QueueLocation, name: str, services: list[str]
) -> Desk:
    service_ids = await _service_ids(conn, location, services)
    desk_id = await desk_q.insert_desk(conn, location.id, name)
    await desk_q.set_desk_services(conn, desk_id, service_ids)
    await record(conn, actor, "desk.create", "desk", desk_id, location.id)
    return await _desk(conn, location, desk_id)


async def change_desk(
    conn: Connection,
    actor: Actor,
    location: QueueLocation,
    desk_id: int,
    changes: dict[str, object],
) -> Desk:
    """``changes`` holds what a PATCH sent: name, active, services."""
    desk = await _desk(conn, location, desk_id)
    name = str(changes.get("name", desk.name))
    active = bool(changes.get("active", desk.active))
    await desk_q.update_desk(conn, location.id, desk.id, name, active)
    if "services" in changes:
        slugs = changes["services"]
        assert isinstance(slugs, list)
        await desk_q.set_desk_services(conn, desk.id, await _service_ids(conn, location, slugs))
    await record(
        conn, actor, "desk.update", "desk", desk.id, location.id, {"fields": sorted(changes)}
    )
    return await _desk(conn, location, desk.id)


async def choose_desk(
    conn: Connection, location: QueueLocation, staff: Staff, desk_id: int, now: datetime
) -> Desk:
    await desk_q.leave_desks(conn, staff.id)
    if not await desk_q.sit_at(conn, location.id, desk_id, staff.id, now):
        raise NotFound("This location has no active desk with that id.")
    return await _desk(conn, location, desk_id)


async def leave_desk(conn: Connection, staff: Staff) -> None:
    await desk_q.leave_desks(conn, staff.id)


async def _my_desk(conn: Connection, location: QueueLocation, staff: Staff) -> Desk:
    desk = await desk_q.staffed_desk(conn, location.id, staff.id)
    if desk is None:
        raise NoDesk("Choose your desk first.")
    return desk


async def desks(conn: Connection, location: QueueLocation) -> list[Desk]:
    return await desk_q.desks_at(conn, location.id)


async def queue_for(
    conn: Connection, location: QueueLocation, staff: Staff, now: datetime, *, everything: bool
) -> StaffQueue:
    """Today's open tickets of the services at the staff member's desk (all without one)."""
    desk = await desk_q.staffed_desk(conn, location.id, staff.id)
    service_ids = None if desk is None or everything else desk.service_ids
    day = local_day(location, now)
    return StaffQueue(desk, await q.open_tickets(conn, location.id, day, service_ids))


# -- calling -------------------------------------------------------------------------------


async def call_next(
    conn: Connection, ctx: Context, location: QueueLocation, staff: Staff
) -> Ticket | None:
    """Invariant 2: the queue lock serialises callers of a location, the desk's current
    ticket must be finished first, and the choice is the head of the desk's queue."""
    desk = await _my_desk(conn, location, staff)
    await q.lock_queue(conn, location.id)
    if await q.desk_ticket(conn, desk.id) is not None:
        raise DeskBusy("Finish the current ticket first: complete, no-show or transfer it.")
    ticket_id = await q.next_waiting(
        conn, location.id, local_day(location, ctx.now), desk.service_ids
    )
    if ticket_id is None:
        return None
    ticket = await q.call(conn, ticket_id, desk.id, ctx.now)
    await q.insert_event(conn, ticket, "call", desk.name, ctx.now)
    await _tell_when_due(conn, ctx, location, desk.service_ids)
    return ticket


async def _at_desk(
    conn: Connection, location: QueueLocation, desk: Desk, ticket_id: int, states: Collection[str]
) -> Ticket:
    ticket = _found(await q.locked_ticket(conn, location.id, ticket_id), "No such ticket here.")
    if ticket.desk_id != desk.id or ticket.status not in OPEN - {"waiting"}:
        raise NotAtYourDesk("This ticket is not at your desk.")
    if ticket.status not in states:
        raise WrongState(f"This ticket is {ticket.status}.")
    return ticket


async def recall(
    conn: Connection, ctx: Context, location: QueueLocation, staff: Staff, ticket_id: int
) -> Ticket:
    desk = await _my_desk(conn, location, staff)
    await q.lock_queue(conn, location.id)
    ticket = await _at_desk(conn, location, desk, ticket_id, {"called"})
    ticket = await q.recall(conn, ticket.id)
    await q.insert_event(conn, ticket, "recall", desk.name, ctx.now)
    return ticket


async def start(
    conn: Connection, ctx: Context, location: QueueLocation, staff: Staff, ticket_id: int
) -> Ticket:
    desk = await _my_desk(conn, location, staff)
    ticket = await _at_desk(conn, location, desk, ticket_id, {"called"})
    return await q.start(conn, ticket.id, ctx.now)


async def complete(
    conn: Connection, ctx: Context, location: QueueLocation, staff: Staff, ticket_id: int
) -> Ticket:
    """From serving, or straight from the call (service then counts from the call)."""
    desk = await _my_desk(conn, location, staff)
    ticket = await _at_desk(conn, location, desk, ticket_id, {"called", "serving"})
    if ticket.appointment_id is not None:
        await appointment_q.set_status(
            conn, ticket.appointment_id, "completed", bump_sequence=False
        )
    return await q.finish(conn, ticket.id, "done", ctx.now)


async def no_show(
    conn: Connection, ctx: Context, location: QueueLocation, staff: Staff, ticket_id: int
) -> Ticket:
    desk = await _my_desk(conn, location, staff)
    ticket = await _at_desk(conn, location, desk, ticket_id, {"called"})
    if ticket.appointment_id is not None:
        await appointment_q.set_status(conn, ticket.appointment_id, "no_show", bump_sequence=False)
    await record(conn, staff.actor, "ticket.no_show", "ticket", ticket.id, location.id)
    return await q.finish(conn, ticket.id, "no_show", ctx.now)


async def transfer(
    conn: Connection,
    ctx: Context,
    location: QueueLocation,
    staff: Staff,
    ticket_id: int,
    *,
    service_slug: str,
) -> Ticket:
    """Into another service's queue at the place its ``priority_at`` gives it there: behind
    those who came (or were booked) before it, ahead of everyone after. A waiting ticket
    any staff member may move; a called or serving one only its desk."""
    ticket = _found(await q.locked_ticket(conn, location.id, ticket_id), "No such ticket here.")
    if ticket.status != "waiting":
        await _at_desk(conn, location, await _my_desk(conn, location, staff), ticket.id, OPEN)
    service = await _service(conn, location, service_slug)
    if service.id == ticket.service_id:
        raise InvalidInput.field("service", "the ticket is for this service already")
    moved = await q.transfer(conn, ticket.id, service.id)
    await record(conn, staff.actor, "ticket.transfer", "ticket", ticket.id, location.id,
                 {"from": ticket.service_slug, "to": service.slug})  # fmt: skip
    # Those behind it in its old queue moved up a place.
    await _tell_when_due(conn, ctx, location, [ticket.service_id])
    return moved


# -- the board and the end of the day ------------------------------------------------------


async def service_queues(
    conn: Connection, location: QueueLocation, now: datetime
) -> list[ServiceQueue]:
    """The services some desk serves, each with its queue and the wait of a newcomer."""
    return [
        ServiceQueue(service, await estimate(conn, location, service.id, now, None))
        for service in await desk_q.queue_services(conn, location.id)
        if service.desks > 0
    ]


async def board(conn: Connection, location: QueueLocation, now: datetime) -> Board:
    day = local_day(location, now)
    # Read first: events after it reach the board by its stream, none twice.
    last_event_id = await q.last_event_id(conn, location.id)
    recent = await q.recent_events(conn, location.id, RECENT_CALLS)
    services = await service_queues(conn, location, now)
    return Board(
        location=location,
        day=day,
        last_event_id=last_event_id,
        calling=[
            t for t in await q.open_tickets(conn, location.id, day, None) if t.status == "called"
        ],
        recent=[event for event in recent if event.id <= last_event_id],
        services=services,
    )


async def close_queues(conn: Connection, now: datetime, grace: timedelta) -> int:
    """Close what the day left open (see ``tickets.close_open_tickets``); forget old calls."""
    closed = await q.close_open_tickets(conn, now, grace)
    await q.delete_events_before(conn, now - EVENT_RETENTION)
    return closed
