"""Use cases for appointments: hold, book, confirm, cancel, reschedule, expire, offer.

Each takes a connection inside the caller's transaction and never commits: a failure at any
step rolls back the units taken, the appointment and its outbox message together
(invariants 1, 3 and 4).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import msgspec

from booking import search, tokens
from booking.availability import units_needed
from booking.db import Connection, offers, outbox, quarantine
from booking.db import appointments as q
from booking.db import waitlist as wq
from booking.db.appointments import Appointment, BookedService, Hold, NewAppointment
from booking.db.offers import SetLocation
from booking.db.waitlist import Entry
from booking.errors import BookingError, Conflict, InvalidInput, NotFound
from booking.settings import Settings

ACTIVE = frozenset({"pending", "booked"})
_CODE_ATTEMPTS = 5


class Unbookable(Conflict):
    """The start cannot be booked (full, gone, too soon, too late)."""

    code = "not_available"


class LimitReached(Conflict):
    code = "limit_reached"


class DeadlinePassed(Conflict):
    code = "deadline_passed"


class WrongState(Conflict):
    code = "wrong_state"


class BookingRequest(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    services: list[str]
    start: datetime
    name: str | None
    email: str | None
    phone: str | None = None
    language: str = "de"
    hold: uuid.UUID | None = None


class Booking(msgspec.Struct, frozen=True, kw_only=True):
    """An appointment as its owner sees it, with the secrets only its owner may hold."""

    appointment: Appointment
    location: SetLocation
    services: list[BookedService]
    manage_token: str


class HoldRequest(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    services: list[str]
    start: datetime


class Context(msgspec.Struct, frozen=True):
    """What every use case needs besides the connection: the settings and the time.

    ``rematch`` collects the locations where capacity was held back for the waitlist (or the
    waitlist grew), for the caller to wake the waitlist matcher after commit. Outbox rows need
    no such list: writing them wakes the outbox relay at commit (sql/0008).
    """

    settings: Settings
    now: datetime
    rematch: list[int] = msgspec.field(default_factory=list)


class Contact(msgspec.Struct, frozen=True):
    name: str | None
    email: str | None
    phone: str | None
    language: str


# -- shared steps --------------------------------------------------------------------------


async def _location_for(conn: Connection, location: str, services: list[str]) -> SetLocation:
    """The location with the set's rules; a location found offers every service, active, so
    the services are checked only when none is, to say what is wrong."""
    sane = 0 < len(services) <= search.MAX_SERVICES
    found = await offers.locations_offering(conn, services, [location]) if sane else []
    if not found:
        await search.checked_services(conn, services)
        if not await offers.known_location_slugs(conn, [location]):
            raise InvalidInput.field("location", f"unknown location: {location}")
        raise InvalidInput.field(
            "services", "this location does not offer all of these services online"
        )
    return found[0]


class Span(msgspec.Struct, frozen=True):
    start: datetime
    end: datetime
    units: int


async def _span(conn: Connection, location: SetLocation, start: datetime, now: datetime) -> Span:
    """The unit range a start needs, checked against lead time, horizon and windows."""
    earliest, latest = search.bookable_span(location, now)
    if start < earliest:
        raise Unbookable("This time is too soon to book; please choose a later one.")
    if start >= latest:
        raise Unbookable("This time is beyond the booking horizon.")
    # Only now: a start at the calendar's edge (9999-12-31T23:59-14:00) has no UTC time.
    start = start.astimezone(now.tzinfo)
    needed = units_needed(location.total_minutes, location.grid_minutes)
    end = start + timedelta(minutes=needed * location.grid_minutes)
    units = await q.unit_spans(conn, location.id, start, end)
    fits = (
        len(units) == needed
        and units[0].starts_at == start
        and len({u.window_ends_at for u in units}) == 1
        and end <= units[0].window_ends_at
    )
    if not fits:
        raise Unbookable("This time is not offered; please choose another one.")
    return Span(start, end, needed)


async def _free(
    conn: Connection, location_id: int, since: datetime, until: datetime, now: datetime
) -> bool:
    """Give an appointment's units back: held back for the waitlist while anyone waits there.

    With nobody waiting there is no one to be fair to: the units are free at once.
    """
    if not await quarantine.anyone_waiting(conn, location_id):
        await q.release_units(conn, location_id, since, until)
        return False
    await quarantine.hold_back(conn, location_id, since, until, now)
    return True


async def _give_back(
    conn: Connection, ctx: Context, location_id: int, since: datetime, until: datetime
) -> None:
    if await _free(conn, location_id, since, until, ctx.now):
        ctx.rematch.append(location_id)


def _without(
    span: tuple[datetime, datetime], other: tuple[datetime, datetime]
) -> list[tuple[datetime, datetime]]:
    """The parts of ``span`` outside ``other``: none, one or two ranges."""
    (a, b), (c, d) = span, other
    return [(x, y) for x, y in ((a, min(b, c)), (max(a, d), b)) if x < y]


async def _take(conn: Connection, location_id: int, start: datetime, end: datetime) -> None:
    await _take_units(
        conn, location_id, start, end, len(await q.unit_spans(conn, location_id, start, end))
    )


async def _take_units(
    conn: Connection, location_id: int, start: datetime, end: datetime, needed: int
) -> None:
    """A place on each of the ``needed`` units of the range, or Unbookable."""
    if await q.take_units(conn, location_id, start, end) < needed:
        # The transaction is rolled back by the caller, so the units taken so far return.
        raise Unbookable("This time has just been taken; please choose another one.")


def message_id(settings: Settings) -> str:
    """A fresh Message-ID at the public host; kept with the outbox row for retries."""
    host = urlsplit(settings.public_url).hostname or "localhost"
    return f"<{uuid.uuid4()}@{host}>"


async def _notify(
    conn: Connection, ctx: Context, appointment_id: int, kind: str, sequence: int
) -> None:
    await q.enqueue_message(
        conn,
        kind=kind,
        appointment_id=appointment_id,
        message_id=message_id(ctx.settings),
        sequence=sequence,
    )


def _service_key(location: SetLocation) -> str:
    return ",".join(str(sid) for sid in sorted(set(location.service_ids)))


# -- holds ---------------------------------------------------------------------------------


async def place_hold(conn: Connection, ctx: Context, request: HoldRequest, client: str) -> Hold:
    """Keep a start for the citizen while they type; a client has one live hold at a time."""
    location = await _location_for(conn, request.location, request.services)
    previous = await q.delete_client_hold(conn, client)
    if previous is not None:
        await q.release_units(conn, previous.location_id, previous.starts_at, previous.ends_at)
    span = await _span(conn, location, request.start, ctx.now)
    await _take_units(conn, location.id, span.start, span.end, span.units)
    return await q.insert_hold(
        conn,
        location_id=location.id,
        starts_at=span.start,
        ends_at=span.end,
        services=location.service_ids,
        client_key=client,
        expires_at=ctx.now + timedelta(minutes=ctx.settings.hold_minutes),
    )


async def extend_hold(conn: Connection, ctx: Context, hold_id: uuid.UUID) -> Hold:
    extended = await q.extend_hold(
        conn, hold_id, ctx.now, ctx.now + timedelta(minutes=ctx.settings.hold_minutes)
    )
    if extended is None:
        raise WrongState("This hold has expired or was already extended once.")
    return extended


async def release_hold(conn: Connection, hold_id: uuid.UUID) -> None:
    hold = await q.delete_hold(conn, hold_id)
    if hold is None:
        raise NotFound("No such hold.")
    await q.release_units(conn, hold.location_id, hold.starts_at, hold.ends_at)


async def _use_hold(
    conn: Connection, hold_id: uuid.UUID, location: SetLocation, start: datetime, now: datetime
) -> bool:
    """Turn a matching live hold into the booking's units; release any other."""
    hold = await q.delete_hold(conn, hold_id)
    if hold is None:
        return False
    matches = (
        hold.location_id == location.id
        and hold.starts_at == start
        and sorted(hold.services) == location.service_ids
        and hold.expires_at > now
    )
    if not matches:
        await q.release_units(conn, hold.location_id, hold.starts_at, hold.ends_at)
    return matches


# -- booking -------------------------------------------------------------------------------


async def book(
    conn: Connection, ctx: Context, request: BookingRequest, *, by_staff: bool = False
) -> Booking:
    location = await _location_for(conn, request.location, request.services)
    span = await _span(conn, location, request.start, ctx.now)
    service_key = _service_key(location)
    if request.email and not by_staff:
        await q.lock_email(conn, request.email)
        active = await q.count_active_for_email(conn, request.email, service_key)
        if active >= ctx.settings.max_active_per_email:
            raise LimitReached(
                "This email address already has the maximum number of open appointments "
                "for these services. Cancel one first."
            )
    if request.hold is None or not await _use_hold(
        conn, request.hold, location, span.start, ctx.now
    ):
        await _take_units(conn, location.id, span.start, span.end, span.units)
    pending = location.requires_confirmation and not by_staff
    appointment = await _create(
        conn,
        ctx,
        location,
        (span.start, span.end),
        Contact(request.name, request.email, request.phone, request.language),
        pending_until=ctx.now + timedelta(minutes=ctx.settings.confirmation_minutes)
        if pending
        else None,
        booked_by="staff" if by_staff else "citizen",
    )
    if appointment.email:
        kind = "confirmation_request" if pending else "confirmation"
        await _notify(conn, ctx, appointment.id, kind, 0)
    return await _booking(conn, ctx, appointment, location)


async def offer(
    conn: Connection,
    ctx: Context,
    entry: Entry,
    location: SetLocation,
    *,
    span: tuple[datetime, datetime],
    held_before: datetime,
) -> Appointment:
    """Hold a start for a waitlist entry until it accepts (a pending appointment), and tell it.

    Quarantined places freed before ``held_before`` are taken first, free room beside them
    otherwise, with the same conditional UPDATE discipline as a booking.
    """
    needed = len(await q.unit_spans(conn, location.id, *span))
    if await quarantine.take_for_offer(conn, location.id, *span, held_before) < needed:
        raise Unbookable("This time has just been taken.")  # the caller's rollback returns them
    appointment = await _create(
        conn,
        ctx,
        location,
        span,
        Contact(entry.citizen_name, entry.email, None, entry.language),
        pending_until=ctx.now + timedelta(minutes=ctx.settings.waitlist_offer_minutes),
        booked_by="citizen",
        waitlist_entry_id=entry.id,
    )
    await _notify(conn, ctx, appointment.id, "waitlist_offer", 0)
    return appointment


async def _create(
    conn: Connection,
    ctx: Context,
    location: SetLocation,
    span: tuple[datetime, datetime],
    contact: Contact,
    *,
    pending_until: datetime | None,
    booked_by: str,
    waitlist_entry_id: int | None = None,
) -> Appointment:
    """The appointment on units already taken: pending with a confirmation secret when
    ``pending_until`` is set, booked otherwise."""
    salt = tokens.new_salt()

    def secret(purpose: tokens.Purpose, code: str) -> bytes:
        return tokens.token_hash(tokens.derive_token(ctx.settings.secret_key, purpose, code, salt))

    appointment = await _insert_with_fresh_code(
        conn,
        lambda code: NewAppointment(
            code=code,
            location_id=location.id,
            starts_at=span[0],
            ends_at=span[1],
            status="booked" if pending_until is None else "pending",
            citizen_name=contact.name,
            email=contact.email,
            phone=contact.phone,
            language=contact.language,
            manage_token_hash=secret("manage", code),
            confirm_token_hash=None if pending_until is None else secret("confirm", code),
            token_salt=salt,
            pending_until=pending_until,
            service_key=_service_key(location),
            booked_by=booked_by,
            waitlist_entry_id=waitlist_entry_id,
        ),
    )
    counts = Counter(location.service_ids)
    await q.insert_appointment_services(conn, appointment.id, sorted(counts.items()))
    return appointment


async def _insert_with_fresh_code(
    conn: Connection, make: Callable[[str], NewAppointment]
) -> Appointment:
    for _ in range(_CODE_ATTEMPTS):
        inserted = await q.insert_appointment(conn, make(tokens.new_code()))
        if inserted is not None:
            return inserted
    raise BookingError("Could not allocate a booking code; please try again.")


async def _reload(conn: Connection, code: str) -> Appointment:
    appointment = await q.appointment_by_code(conn, code)
    assert appointment is not None
    return appointment


async def _booking(
    conn: Connection, ctx: Context, appointment: Appointment, location: SetLocation
) -> Booking:
    return Booking(
        appointment=appointment,
        location=location,
        services=await q.booked_services(conn, appointment.id),
        manage_token=tokens.derive_token(
            ctx.settings.secret_key, "manage", appointment.code, appointment.token_salt
        ),
    )


# -- the owner's changes -------------------------------------------------------------------

NOT_FOUND = "No appointment with this code and token. / Kein Termin mit diesem Code und Schlüssel."


async def _owned(
    conn: Connection, code: str, token: str, *, purpose: tokens.Purpose = "manage"
) -> Appointment:
    """The appointment if the token is its own; one answer for a wrong code or token."""
    appointment = await q.appointment_by_code(conn, tokens.normalise_code(code), for_update=True)
    if appointment is None:
        tokens.token_matches(token, b"\0" * 32)  # same work either way: no timing oracle
        raise NotFound(NOT_FOUND)
    stored = (
        appointment.manage_token_hash if purpose == "manage" else appointment.confirm_token_hash
    )
    if not tokens.token_matches(token, stored):
        raise NotFound(NOT_FOUND)
    return appointment


async def _location_of(conn: Connection, appointment: Appointment) -> SetLocation:
    """The office's current rules for a booked set; its length is the booked length."""
    return await q.booked_location(conn, appointment.id)


async def read(
    conn: Connection, ctx: Context, code: str, token: str, *, purpose: tokens.Purpose = "manage"
) -> Booking:
    """The owner's view; the confirmation page reads it with the secret from the email."""
    appointment = await _owned(conn, code, token, purpose=purpose)
    return await _booking(conn, ctx, appointment, await _location_of(conn, appointment))


async def confirm(conn: Connection, ctx: Context, code: str, token: str) -> Booking:
    """Double opt-in: only the secret from the email moves a pending appointment to booked."""
    appointment = await _owned(conn, code, token, purpose="confirm")
    location = await _location_of(conn, appointment)
    if appointment.status == "booked":
        return await _booking(conn, ctx, appointment, location)  # a second click changes nothing
    if appointment.status != "pending" or (
        appointment.pending_until is not None and appointment.pending_until <= ctx.now
    ):
        raise WrongState("This confirmation link has expired; please book again.")
    sequence = await q.set_status(conn, appointment.id, "booked", bump_sequence=False)
    await _end_offer(conn, appointment, "fulfilled")  # accepting a waitlist offer
    await _notify(conn, ctx, appointment.id, "confirmation", sequence)
    return await _booking(conn, ctx, await _reload(conn, appointment.code), location)


async def _end_offer(conn: Connection, appointment: Appointment, outcome: str) -> None:
    """An offer's answer ends its waitlist entry: fulfilled, cancelled (declined) or expired.

    Only an entry still waiting for that answer moves, so a later cancellation of an
    accepted offer leaves its entry fulfilled.
    """
    if appointment.waitlist_entry_id is not None:
        await wq.end_entry(conn, appointment.waitlist_entry_id, outcome, was=("offered",))


def _check_deadline(appointment: Appointment, location: SetLocation, now: datetime) -> None:
    if appointment.status not in ACTIVE:
        raise WrongState(f"This appointment is {appointment.status} and cannot be changed.")
    deadline = appointment.starts_at - timedelta(minutes=location.cancel_deadline_minutes)
    if now > deadline:
        raise DeadlinePassed(
            "It is too late to change this appointment online; please call the office."
        )


async def cancel(conn: Connection, ctx: Context, code: str, token: str) -> Booking:
    appointment = await _owned(conn, code, token)
    location = await _location_of(conn, appointment)
    _check_deadline(appointment, location, ctx.now)
    return await _cancel_owned(conn, ctx, appointment, location)


async def cancel_by_staff(conn: Connection, ctx: Context, code: str) -> Booking:
    """Staff cancel for a citizen at the counter or on the phone, past the online deadline too."""
    appointment = await q.appointment_by_code(conn, tokens.normalise_code(code), for_update=True)
    if appointment is None:
        raise NotFound("No appointment with this code.")
    if appointment.status not in ACTIVE:
        raise WrongState(f"This appointment is {appointment.status} and cannot be changed.")
    return await _cancel_owned(conn, ctx, appointment, await _location_of(conn, appointment))


async def _cancel_owned(
    conn: Connection,
    ctx: Context,
    appointment: Appointment,
    location: SetLocation,
    *,
    notify: bool = True,
) -> Booking:
    await q.lock_units(
        conn, appointment.location_id, [(appointment.starts_at, appointment.ends_at)]
    )
    await _give_back(conn, ctx, appointment.location_id, appointment.starts_at, appointment.ends_at)
    sequence = await q.set_status(conn, appointment.id, "cancelled", bump_sequence=True)
    await outbox.drop_unsent_reminders(conn, appointment.id)
    await _end_offer(conn, appointment, "cancelled")
    if appointment.email and notify:
        await _notify(conn, ctx, appointment.id, "cancellation", sequence)
    return await _booking(conn, ctx, await _reload(conn, appointment.code), location)


async def decline_offer(conn: Connection, ctx: Context, code: str, token: str) -> Booking:
    """The citizen does not want the offered time: it goes on to the next entry, no mail."""
    appointment = await _owned(conn, code, token)
    location = await _location_of(conn, appointment)
    if appointment.waitlist_entry_id is None:
        raise WrongState("This appointment is not a waitlist offer.")
    if appointment.status == "cancelled":
        return await _booking(conn, ctx, appointment, location)  # a second click changes nothing
    if appointment.status != "pending":
        raise WrongState(f"This offer is {appointment.status} and cannot be declined.")
    return await _cancel_owned(conn, ctx, appointment, location, notify=False)


async def withdraw_offer(conn: Connection, ctx: Context, code: str) -> None:
    """The entry left the waitlist while its offer was open: the offer goes on as declined."""
    appointment = await q.appointment_by_code(conn, code, for_update=True)
    if appointment is not None and appointment.status == "pending":
        location = await _location_of(conn, appointment)
        await _cancel_owned(conn, ctx, appointment, location, notify=False)


async def reschedule(
    conn: Connection, ctx: Context, code: str, token: str, new_start: datetime
) -> Booking:
    """Take the new units and free the old ones in one transaction, or change nothing."""
    appointment = await _owned(conn, code, token)
    location = await _location_of(conn, appointment)
    _check_deadline(appointment, location, ctx.now)
    span = await _span(conn, location, new_start, ctx.now)
    start, end = span.start, span.end
    if start == appointment.starts_at:
        raise InvalidInput.field("start", "this is already the appointment's time")
    old, new = (appointment.starts_at, appointment.ends_at), (start, end)
    await q.lock_units(conn, appointment.location_id, [old, new])
    # Units both times share stay taken: freed, they could be held back for the waitlist.
    for since, until in _without(old, new):
        await _give_back(conn, ctx, appointment.location_id, since, until)
    for since, until in _without(new, old):
        await _take(conn, appointment.location_id, since, until)
    sequence = await q.move_appointment(conn, appointment.id, start, end)
    # The old time's reminder is void; the reminder job makes one for the new time.
    await outbox.drop_unsent_reminders(conn, appointment.id)
    moved = await _reload(conn, appointment.code)
    if moved.email and moved.status == "booked":
        await _notify(conn, ctx, appointment.id, "reschedule", sequence)
    return await _booking(conn, ctx, moved, location)


# -- sweeps --------------------------------------------------------------------------------


class SweepCounts(msgspec.Struct, frozen=True):
    holds: int
    pending: int


async def release_expired(conn: Connection, now: datetime, batch: int = 500) -> SweepCounts:
    """Free the capacity of expired holds and unconfirmed appointments (invariant 4).

    An unanswered waitlist offer lapses here too; its units go on to the next entry.
    """
    holds = await q.delete_expired_holds(conn, now, batch)
    for hold in holds:
        await q.release_units(conn, hold.location_id, hold.starts_at, hold.ends_at)
    expired = await q.expire_pending(conn, now, batch)
    for appointment in expired:
        await _free(conn, appointment.location_id, appointment.starts_at, appointment.ends_at, now)
        await _end_offer(conn, appointment, "expired")
    return SweepCounts(len(holds), len(expired))
