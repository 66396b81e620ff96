"""Use cases for the waitlist: join, confirm, leave, and allocating freed capacity to it.

Freed capacity reaches the waitlist through the quarantine (``booking.db.quarantine``):
releasing an appointment where anyone waits holds its places back from the public, and
``allocate`` (the worker, every 15 s and after each release) offers them to matching entries,
first come first served or by lottery per location, before releasing what nobody wanted at a
random moment after the cooldown. See docs/design/waitlist.md.
"""

from __future__ import annotations

import logging
import random
import secrets
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from booking import appointments, search, tokens
from booking.appointments import Context, LimitReached, Unbookable, WrongState
from booking.availability import SlotState, free_starts, units_needed
from booking.db import Connection, offers, quarantine
from booking.db import appointments as aq
from booking.db import waitlist as q
from booking.db.offers import SetLocation
from booking.db.quarantine import HoldingLocation, OfferableUnit
from booking.db.transaction import in_transaction
from booking.db.waitlist import Entry, LocationWaiting, Named, NewEntry, Place
from booking.errors import Conflict, InvalidInput, NotFound
from booking.settings import Settings

log = logging.getLogger("booking.waitlist")

MAX_LOCATIONS = 10
MAX_UNCONFIRMED_PER_EMAIL = 3
# Nobody plans an office visit further ahead than this.
MAX_DAYS_AHEAD = 366
NOT_FOUND = (
    "No waitlist request with this id and token. / "
    "Keine Wartelisten-Anfrage mit dieser Kennung und diesem Schlüssel."
)


class AlreadyWaiting(Conflict):
    code = "already_waiting"


class StartsAvailable(Conflict):
    code = "starts_available"


class Wishes(Protocol):
    """When a citizen can come: local days, weekdays (ISO) and a time of day."""

    @property
    def earliest_day(self) -> date: ...
    @property
    def latest_day(self) -> date: ...
    @property
    def weekdays(self) -> list[int]: ...
    @property
    def time_from(self) -> time | None: ...
    @property
    def time_until(self) -> time | None: ...


class JoinRequest(msgspec.Struct, frozen=True, kw_only=True):
    services: list[str]
    locations: list[str]
    earliest_day: date
    latest_day: date
    weekdays: list[int]
    time_from: time | None
    time_until: time | None
    email: str
    name: str | None
    language: str


class EntryView(msgspec.Struct, frozen=True, kw_only=True):
    """An entry as its owner sees it; ``manage_token`` only in the answer that created it."""

    entry: Entry
    services: list[Named]
    locations: list[Place]
    manage_token: str | None = None


def fits(wishes: Wishes, start: datetime, end: datetime, time_zone: str) -> bool:
    """Whether an appointment from ``start`` to ``end`` suits the wishes, in local time."""
    zone = ZoneInfo(time_zone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.date()
    if not wishes.earliest_day <= day <= wishes.latest_day:
        return False
    if day.isoweekday() not in wishes.weekdays:
        return False
    if wishes.time_from is not None and local_start.time() < wishes.time_from:
        return False
    # Compared as wall times of the start's day, so an end at midnight is not 00:00.
    return wishes.time_until is None or local_end.replace(tzinfo=None) <= datetime.combine(
        day, wishes.time_until
    )


def entry_token(settings: Settings, purpose: tokens.Purpose, public_id: str, salt: bytes) -> str:
    """The secret of an entry's links, derived like an appointment's and stored only hashed."""
    # The prefix keeps an entry's secrets apart from an appointment's (codes have no colon).
    return tokens.derive_token(settings.secret_key, purpose, f"waitlist:{public_id}", salt)


# -- the citizen's side --------------------------------------------------------------------


async def join(conn: Connection, ctx: Context, request: JoinRequest) -> EntryView:
    """A pending entry and its double opt-in mail, when nothing suitable is free now."""
    await search.checked_services(conn, request.services)
    wanted = await _offering(conn, request.services, request.locations)
    first_day = _checked_days(request, wanted[0], ctx.now)
    if request.time_from and request.time_until and request.time_from >= request.time_until:
        raise InvalidInput.field("time_until", "must be later than time_from")
    email = request.email.lower()
    await aq.lock_email(conn, email)  # the per-address rules hold under races
    mine = await q.entries_of_email(conn, email)
    if mine.waiting:
        raise AlreadyWaiting(
            "This email address is on the waitlist already; leave it first to change the request."
        )
    if mine.unconfirmed >= MAX_UNCONFIRMED_PER_EMAIL:
        raise LimitReached(
            "This email address has too many unconfirmed waitlist requests; please confirm one."
        )
    public_id, salt = secrets.token_urlsafe(12), tokens.new_salt()
    manage = entry_token(ctx.settings, "manage", public_id, salt)
    new = NewEntry(
        public_id=public_id,
        email=email,
        citizen_name=request.name,
        language=request.language,
        service_ids=wanted[0].service_ids,
        location_ids=[location.id for location in wanted],
        earliest_day=first_day,
        latest_day=request.latest_day,
        weekdays=sorted(set(request.weekdays)),
        time_from=request.time_from,
        time_until=request.time_until,
        manage_token_hash=tokens.token_hash(manage),
        confirm_token_hash=tokens.token_hash(entry_token(ctx.settings, "confirm", public_id, salt)),
        token_salt=salt,
        confirm_until=ctx.now + timedelta(minutes=ctx.settings.confirmation_minutes),
    )
    for location in wanted:
        if await _free_start(conn, location, request.services, new, ctx.now):
            raise StartsAvailable(
                f"Appointments that suit this request are free at {location.slug}; "
                "please book one instead."
            )
    entry = await q.insert_entry(conn, new)
    await q.insert_message(
        conn, "waitlist_confirmation", entry.id, appointments.message_id(ctx.settings)
    )
    return msgspec.structs.replace(await view(conn, entry), manage_token=manage)


async def _offering(conn: Connection, services: list[str], slugs: list[str]) -> list[SetLocation]:
    """Each wanted location with the set's duration there, in the order asked for."""
    slugs = list(dict.fromkeys(slugs))
    found = {s.slug: s for s in await offers.locations_offering(conn, services, slugs)}
    unknown = sorted(set(slugs) - await offers.known_location_slugs(conn, slugs))
    if unknown:
        raise InvalidInput.field("locations", f"unknown location: {', '.join(unknown)}")
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise InvalidInput.field(
            "locations", f"does not offer all of these services online: {', '.join(missing)}"
        )
    return [found[slug] for slug in slugs]


def _checked_days(request: JoinRequest, location: SetLocation, now: datetime) -> date:
    """The first day worth waiting for; the range must lie ahead and be searchable."""
    today = now.astimezone(ZoneInfo(location.time_zone)).date()
    if request.latest_day < request.earliest_day:
        raise InvalidInput.field("to", "must not be before from")
    if request.latest_day < today:
        raise InvalidInput.field("to", "must not be in the past")
    if request.earliest_day > today + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput.field("from", f"must be within {MAX_DAYS_AHEAD} days from today")
    first_day = max(request.earliest_day, today)
    if (request.latest_day - first_day).days + 1 > search.MAX_RANGE_DAYS:
        raise InvalidInput.field("to", f"the range may span at most {search.MAX_RANGE_DAYS} days")
    return first_day


async def _free_start(
    conn: Connection, location: SetLocation, services: list[str], wishes: Wishes, now: datetime
) -> bool:
    """Whether a start that suits the wishes is free for anyone to book right now."""
    found = await search.availability(
        conn,
        location_slug=location.slug,
        service_slugs=services,
        first_day=wishes.earliest_day,
        last_day=wishes.latest_day,
        now=now,
    )
    length = timedelta(
        minutes=units_needed(location.total_minutes, location.grid_minutes) * location.grid_minutes
    )
    return any(
        fits(wishes, start, start + length, location.time_zone)
        for day in found.days
        for start in day.starts
    )


async def owned_entry(
    conn: Connection, settings: Settings, public_id: str, token: str, purpose: tokens.Purpose
) -> Entry:
    """The entry if the token is its own; one answer for a wrong id or token."""
    entry = await q.entry_by_public_id(conn, public_id, for_update=True)
    if entry is None:
        tokens.token_matches(token, b"\0" * 32)  # same work either way: no timing oracle
        raise NotFound(NOT_FOUND)
    stored = entry.manage_token_hash if purpose == "manage" else entry.confirm_token_hash
    if not tokens.token_matches(token, stored):
        raise NotFound(NOT_FOUND)
    return entry


async def view(conn: Connection, entry: Entry) -> EntryView:
    return EntryView(
        entry=entry,
        services=await q.services_by_ids(conn, entry.service_ids),
        locations=await q.locations_by_ids(conn, entry.location_ids),
    )


async def read(conn: Connection, ctx: Context, public_id: str, token: str) -> EntryView:
    return await view(conn, await owned_entry(conn, ctx.settings, public_id, token, "manage"))


async def confirm(conn: Connection, ctx: Context, public_id: str, token: str) -> EntryView:
    """Double opt-in: only the secret from the email puts the entry on the waitlist."""
    entry = await owned_entry(conn, ctx.settings, public_id, token, "confirm")
    if entry.status in {"active", "offered", "fulfilled"}:
        return await view(conn, entry)  # a second click changes nothing
    if (
        entry.status != "pending"
        or entry.email is None
        or (entry.confirm_until is not None and entry.confirm_until <= ctx.now)
    ):
        raise WrongState("This confirmation link has expired; please join the waitlist again.")
    await aq.lock_email(conn, entry.email)
    if (await q.entries_of_email(conn, entry.email)).waiting:
        raise AlreadyWaiting("This email address is on the waitlist already.")
    await q.set_status(conn, entry.id, "active", was="pending")
    ctx.rematch.extend(entry.location_ids)  # capacity may be waiting for it already
    return await view(conn, await _reloaded(conn, entry))


async def leave(conn: Connection, ctx: Context, public_id: str, token: str) -> None:
    """Off the list, and an open offer goes on to the next entry; leaving twice is fine."""
    entry = await owned_entry(conn, ctx.settings, public_id, token, "manage")
    if entry.status == "offered":
        code = await q.open_offer_code(conn, entry.id)
        if code is not None:
            await appointments.withdraw_offer(conn, ctx, code)
    await q.end_entry(conn, entry.id, "cancelled", was=("pending", "active", "offered"))


class LocationStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Public figures: who waits, and when held-back places go public at the earliest and
    the latest (the moment itself is drawn at random between the two)."""

    location: LocationWaiting
    held_back: int
    release_from: datetime | None
    release_until: datetime | None


async def overview(conn: Connection, settings: Settings, now: datetime) -> list[LocationStatus]:
    cooldown = timedelta(minutes=settings.waitlist_cooldown_minutes)
    window = timedelta(minutes=settings.waitlist_release_window_minutes)
    held = {h.location_id: h for h in await quarantine.held_back(conn, now)}
    found = []
    for location in await q.waiting_per_location(conn):
        h = held.get(location.id)
        first = h.first_held_at if h else None
        last = h.last_held_at if h else None
        found.append(
            LocationStatus(
                location=location,
                held_back=h.places if h else 0,
                release_from=first + cooldown if first else None,
                release_until=last + cooldown + window if last else None,
            )
        )
    return found


async def _reloaded(conn: Connection, entry: Entry) -> Entry:
    found = await q.entry_by_id(conn, entry.id)
    assert found is not None
    return found


# -- the worker's side ---------------------------------------------------------------------


class Allocation(msgspec.Struct, frozen=True):
    offers: int
    released: int
    lapsed_entries: int


Missed = Literal["gone", "taken"]


async def allocate(
    pool: asyncpg.Pool, settings: Settings, now: datetime, rng: random.Random
) -> Allocation:
    """Offer quarantined capacity to the waitlist, then release what is due to the public.

    Every offer is its own transaction; a run that dies half-way leaves consistent state,
    and the next run carries on.
    """
    async with pool.acquire() as conn:
        lapsed = await q.expire_stale(conn, now, now.date())
        holding = await quarantine.holding_locations(conn, now)
    offers = 0
    for location in holding:
        offers += await _allocate_at(pool, settings, now, location, rng)
    async with pool.acquire() as conn:
        await quarantine.draw_public_moments(
            conn,
            timedelta(minutes=settings.waitlist_cooldown_minutes),
            timedelta(minutes=settings.waitlist_release_window_minutes),
        )
        released = await quarantine.release_due(conn, now)
    if offers or released:
        log.info("waitlist: %d offer(s) made, %d unit(s) released", offers, released)
    return Allocation(offers, released, lapsed)


def order_of_turns(entries: list[Entry], mode: str, rng: random.Random) -> list[Entry]:
    """First come first served, or a lottery: a random order, so speed gives no advantage."""
    return rng.sample(entries, len(entries)) if mode == "lottery" else entries


async def _allocate_at(
    pool: asyncpg.Pool, settings: Settings, now: datetime, at: HoldingLocation, rng: random.Random
) -> int:
    """How many offers were made here."""
    # A lottery collects freed places for a while, so that no early request has an edge.
    lottery = timedelta(minutes=settings.waitlist_lottery_minutes)
    held_before = now - lottery if at.allocation_mode == "lottery" else now
    horizon = now + timedelta(days=MAX_DAYS_AHEAD + 1)
    async with pool.acquire() as conn, conn.transaction():
        if not await quarantine.take_turn(conn, at.id):
            return 0  # another worker is matching here right now
        units = await quarantine.offerable_units(conn, at.id, now, horizon, held_before)
        held = [u.starts_at for u in units if u.held_back]
        if not held:
            return 0
        zone = ZoneInfo(at.time_zone)
        entries = await q.waiting_entries(
            conn, at.id, held[0].astimezone(zone).date(), held[-1].astimezone(zone).date()
        )
        sets: dict[tuple[int, ...], SetLocation | None] = {}
        offers = 0
        for entry in order_of_turns(entries, at.allocation_mode, rng):
            if not any(u.held_back for u in units):
                break
            key = tuple(entry.service_ids)
            if key not in sets:
                sets[key] = await _set_at(conn, entry.service_ids, at.slug)
            location = sets[key]
            if location is None:
                continue  # the office no longer offers the set online
            while spans := offerable_spans(units, location, entry, now):
                outcome = await _offer(
                    pool, settings, now, entry,
                    location=location, span=spans[0], held_before=held_before,
                )  # fmt: skip
                units = await quarantine.offerable_units(conn, at.id, now, horizon, held_before)
                if outcome == "offered":
                    offers += 1
                    break
                if outcome == "gone":
                    break
    return offers


async def _set_at(conn: Connection, service_ids: list[int], slug: str) -> SetLocation | None:
    services = [s.slug for s in await q.services_by_ids(conn, service_ids)]
    found = await offers.locations_offering(conn, services, [slug])
    return found[0] if found else None


def offerable_spans(
    units: list[OfferableUnit], location: SetLocation, wishes: Wishes, now: datetime
) -> list[tuple[datetime, datetime]]:
    """Times that suit the wishes, use at least one held-back place, and can be offered now."""
    needed = units_needed(location.total_minutes, location.grid_minutes)
    step = timedelta(minutes=location.grid_minutes)
    earliest, latest = search.bookable_span(location, now)
    # Every unit given is offerable: free_starts only has to chain them within a window.
    states = [SlotState(u.starts_at, u.window_ends_at, 1, 0) for u in units]
    held = {u.starts_at for u in units if u.held_back}
    return [
        (start, start + needed * step)
        for start in free_starts(states, location.grid_minutes, needed, earliest, latest)
        if any(start + n * step in held for n in range(needed))
        and fits(wishes, start, start + needed * step, location.time_zone)
    ]


async def _offer(
    pool: asyncpg.Pool,
    settings: Settings,
    now: datetime,
    entry: Entry,
    *,
    location: SetLocation,
    span: tuple[datetime, datetime],
    held_before: datetime,
) -> Literal["offered"] | Missed:
    """Whether the offer was made, or why not: the entry is gone, or the time taken."""

    async def work(conn: Connection) -> Literal["offered"] | Missed:
        ctx = Context(settings, now)  # fresh per attempt: a retried one starts over
        if not await q.lock_waiting_entry(conn, entry.id):
            return "gone"
        await appointments.offer(conn, ctx, entry, location, span=span, held_before=held_before)
        await q.set_status(conn, entry.id, "offered", was="active")
        return "offered"

    try:
        return await in_transaction(pool, work)
    except Unbookable:
        return "taken"  # a booking or another worker was quicker; the rollback undid ours
