"""A past for ``booking dev``: five weeks of appointments and tickets at the demo offices.

Without it the admin statistics and the public "last month" figures of the demo are empty.
The days are simulated rather than drawn figure by figure: appointments fill part of the
online grid, walk-ins arrive with a morning peak, and the desks call the queue in its real
order (earliest ``priority_at`` first), so waits, service times and no-shows relate as they
would. Past slots are not made up (the grid starts today), so past utilisation shows no data.
Rows are written as the daily erasure leaves them, without names or addresses, and a seeded
generator makes every demo alike.
"""

from __future__ import annotations

import base64
import heapq
import random
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from booking.availability import ClosedDays, OpeningWindow, grid_units, units_needed
from booking.db import Connection, catalogue
from booking.db import demo_history as q
from booking.db import desks as desk_q
from booking.db import slots as slot_q
from booking.db.demo_history import PastAppointment, PastTicket, TicketCounter
from booking.demo import LOCATIONS, public_holidays
from booking.tokens import CODE_ALPHABET, CODE_LENGTH

# How booked appointments end, in per cent. "other" is a booking never confirmed where the
# office asks for confirmation (expired), elsewhere one nobody came for and nobody marked.
_OUTCOMES = {"completed": 80, "no_show": 8, "cancelled": 8, "other": 4}
# Relative demand per service: what people book online, and what they just come in for.
_BOOKED_MIX = {
    "personalausweis": 6, "reisepass": 3, "wohnsitz-anmelden": 5, "wohnsitz-ummelden": 3,
    "meldebescheinigung": 1, "fuehrungszeugnis": 1, "beglaubigung": 1, "ausweis-abholen": 1,
    "fahrzeug-zulassen": 3, "fahrzeug-abmelden": 1,
}  # fmt: skip
_WALK_IN_MIX = {
    "personalausweis": 1, "reisepass": 1, "wohnsitz-anmelden": 1, "wohnsitz-ummelden": 1,
    "meldebescheinigung": 3, "fuehrungszeugnis": 2, "beglaubigung": 3, "ausweis-abholen": 4,
    "fahrzeug-zulassen": 2, "fahrzeug-abmelden": 3,
}  # fmt: skip
_WEEKDAY_DEMAND = {1: 1.1, 2: 1.0, 3: 0.95, 4: 1.05, 5: 0.85, 6: 0.8, 7: 0.8}
_SECOND_SERVICE = 0.1  # share of bookings for two services (say, identity card and passport)
_WALK_IN_FILL = 0.7  # of the desk time that appointments leave free
_PEAK = timedelta(minutes=90)  # after opening, walk-ins come twice as often
_OVERTIME = timedelta(minutes=20)  # desks still call this long after closing
_GIVE_UP = timedelta(minutes=45)  # walk-ins waiting longer leave half of the time
_ERASED_AFTER = timedelta(days=2, hours=3)  # the default retention, erased by the nightly job
_TICKET_ERASED_AFTER = _ERASED_AFTER + timedelta(days=1)  # a day later: by issue, not by end


class _Service(msgspec.Struct, frozen=True):
    id: int
    slug: str
    prefix: str
    minutes: int  # at this office


class _Desk(msgspec.Struct, frozen=True):
    id: int
    services: frozenset[int]


class _Office(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    time_zone: str
    grid_minutes: int
    confirms: bool  # requires_confirmation: unconfirmed bookings expire
    windows: list[OpeningWindow]
    closures: list[ClosedDays]
    services: list[_Service]
    desks: list[_Desk]


class _Window(msgspec.Struct, frozen=True):
    opens: datetime
    closes: datetime
    desks: int


class _Visit(msgspec.Struct, kw_only=True):
    """A ticket in the making; the simulation fills in desk, times and status."""

    service: _Service
    issued_at: datetime
    priority_at: datetime
    minutes: float  # how long serving takes
    absent: bool  # not there when called
    channel: str
    language: str
    appointment: str | None = None
    desk_id: int | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    status: str = "cancelled"  # what the closing job makes of a ticket never called
    recalls: int = 0


class _Booking(msgspec.Struct, kw_only=True):
    code: str
    services: list[_Service]
    starts_at: datetime
    ends_at: datetime
    outcome: str
    language: str
    created_at: datetime
    visit: _Visit | None = None


async def seed_demo_history(
    conn: Connection, now: datetime, *, days: int = 35, seed: int = 1
) -> str:
    """The past ``days`` local days of every demo office, unless any past is there already."""
    offices = await _offices(conn, now - timedelta(days=days + 1))
    if await q.has_past(conn, [office.id for office in offices], now):
        return "history: already there"
    rng = random.Random(seed)  # noqa: S311 - the same demo every time, on purpose
    codes = _Codes(rng, await q.all_codes(conn))
    appointments: list[PastAppointment] = []
    tickets: list[PastTicket] = []
    counters: list[TicketCounter] = []
    for office in offices:
        if not (office.services and office.desks):
            continue  # nobody to serve: no past either
        today = now.astimezone(ZoneInfo(office.time_zone)).date()
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            windows = _windows(office, day)
            if not windows:
                continue
            bookings = _book(rng, office, day, windows, codes)
            visits = [b.visit for b in bookings if b.visit is not None]
            visits += _walk_ins(rng, office, windows, visits)
            visits.sort(key=lambda v: v.issued_at)
            _serve(rng, office, windows, visits)
            appointments += [_appointment(rng, office, b, now) for b in bookings]
            day_tickets, day_counters = _tickets(rng, office, day, visits, now)
            tickets += day_tickets
            counters += day_counters
    async with conn.transaction():
        await q.insert_past(conn, appointments, tickets, counters)
    return f"history: {days} days, {len(appointments):,} appointments, {len(tickets):,} tickets"


async def _offices(conn: Connection, since: datetime) -> list[_Office]:
    """The demo offices as the simulation needs them. ``seed_demo`` closes the public holidays
    from this year on; a past reaching into last year gets last year's too."""
    holidays = [
        ClosedDays(c.first_day, c.last_day)
        for year in range(since.year, since.year + 2)
        for c in public_holidays(year)
    ]
    offices = []
    for demo in LOCATIONS:
        location = await catalogue.location_by_slug(conn, demo.slug)
        if location is None:
            continue
        minutes = {
            offer.service_slug: offer.duration_minutes or offer.default_duration_minutes
            for offer in await catalogue.location_services(conn, location.id)
        }
        offices.append(
            _Office(
                id=location.id,
                time_zone=location.time_zone,
                grid_minutes=location.grid_minutes,
                confirms=location.requires_confirmation,
                windows=await slot_q.opening_windows(conn, location.id),
                closures=await slot_q.closed_days(conn, location.id) + holidays,
                services=[
                    _Service(s.id, s.slug, s.queue_prefix, minutes[s.slug])
                    for s in await desk_q.queue_services(conn, location.id)
                    if s.desks > 0
                ],
                desks=[
                    _Desk(d.id, frozenset(d.service_ids))
                    for d in await desk_q.desks_at(conn, location.id)
                    if d.active
                ],
            )
        )
    return offices


class _Codes:
    """Booking codes from the seeded generator, never one in use."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng, self.taken = rng, taken

    def new(self) -> str:
        while True:
            code = "".join(self.rng.choices(CODE_ALPHABET, k=CODE_LENGTH))
            if code not in self.taken:
                self.taken.add(code)
                return code


def _windows(office: _Office, day: date) -> list[_Window]:
    """The day's opening windows as the grid sees them (closures and validity applied)."""
    units = grid_units(
        office.windows, office.closures, office.time_zone, office.grid_minutes, day, day
    )
    found: dict[datetime, _Window] = {}
    for unit in units:
        if unit.window_ends_at not in found:
            desks = min(unit.capacity, len(office.desks))
            found[unit.window_ends_at] = _Window(unit.starts_at, unit.window_ends_at, desks)
    return list(found.values())


def _pick(rng: random.Random, office: _Office, mix: dict[str, int]) -> _Service:
    return rng.choices(office.services, [mix.get(s.slug, 1) for s in office.services])[0]


def _serving_minutes(rng: random.Random, minutes: int) -> float:
    """Around the catalogue duration, now and then much longer or quicker."""
    return min(3.0 * minutes, max(2.0, minutes * rng.lognormvariate(-0.1, 0.3)))


def _language(rng: random.Random) -> str:
    return "en" if rng.random() < 0.12 else "de"


def _book_chance(hour: int) -> float:
    """How likely a free grid start was booked: mornings first, afternoons least."""
    return 0.5 if hour < 10 else 0.42 if hour < 12 else 0.35


def _book(
    rng: random.Random, office: _Office, day: date, windows: list[_Window], codes: _Codes
) -> list[_Booking]:
    """Appointments one desk after another, each on the grid and inside its window."""
    zone = ZoneInfo(office.time_zone)
    grid = timedelta(minutes=office.grid_minutes)
    demand = _WEEKDAY_DEMAND[day.isoweekday()] * rng.uniform(0.9, 1.1)
    bookings = []
    for window in windows:
        for _ in range(window.desks):
            start = window.opens
            while start + grid <= window.closes:
                if rng.random() >= _book_chance(start.astimezone(zone).hour) * demand:
                    start += grid
                    continue
                services = [_pick(rng, office, _BOOKED_MIX)]
                if rng.random() < _SECOND_SERVICE:
                    second = _pick(rng, office, _BOOKED_MIX)
                    services += [second] if second != services[0] else []
                total = sum(s.minutes for s in services)
                end = start + units_needed(total, office.grid_minutes) * grid
                if end > window.closes:
                    break
                bookings.append(_booking(rng, services, start, end, codes.new()))
                start = end
    return bookings


def _booking(
    rng: random.Random, services: list[_Service], start: datetime, end: datetime, code: str
) -> _Booking:
    outcome = rng.choices(list(_OUTCOMES), list(_OUTCOMES.values()))[0]
    lead = timedelta(days=min(55.0, rng.expovariate(1 / 9)), hours=rng.uniform(1, 12))
    booking = _Booking(
        code=code,
        services=services,
        starts_at=start,
        ends_at=end,
        outcome=outcome,
        language=_language(rng),
        created_at=start - lead,
    )
    if outcome in {"completed", "no_show"}:
        # Check-in opens 30 minutes before the start and closes 15 after; most come early.
        booking.visit = _Visit(
            service=services[0],
            issued_at=start + timedelta(minutes=rng.triangular(-28, 12, -8)),
            priority_at=start,
            minutes=_serving_minutes(rng, sum(s.minutes for s in services)),
            absent=outcome == "no_show",
            channel="check_in",
            language=booking.language,
            appointment=code,
        )
    return booking


def _walk_ins(
    rng: random.Random, office: _Office, windows: list[_Window], booked: list[_Visit]
) -> list[_Visit]:
    """Enough walk-ins to fill part of the desk time appointments leave, peaking early."""
    desk_minutes = sum((w.closes - w.opens).total_seconds() / 60 * w.desks for w in windows)
    free = max(0.0, desk_minutes - sum(v.minutes for v in booked))
    weights = [_WALK_IN_MIX.get(s.slug, 1) for s in office.services]
    mean = sum(w * s.minutes for w, s in zip(weights, office.services, strict=True)) / sum(weights)
    # Arrival minutes of the day: none in the last ten of a window, twice as many at the peak.
    minutes = [
        window.opens + timedelta(minutes=m)
        for window in windows
        for m in range(int((window.closes - window.opens).total_seconds() // 60) - 10)
    ]
    peak = [2.0 if any(w.opens <= at < w.opens + _PEAK for w in windows) else 1.0 for at in minutes]
    count = round(_WALK_IN_FILL * free / mean * rng.uniform(0.85, 1.15))
    visits = []
    for at in rng.choices(minutes, peak, k=count) if minutes else []:
        service = _pick(rng, office, _WALK_IN_MIX)
        issued = at + timedelta(seconds=rng.uniform(0, 60))
        visits.append(
            _Visit(
                service=service,
                issued_at=issued,
                priority_at=issued,
                minutes=_serving_minutes(rng, service.minutes),
                absent=rng.random() < 0.03,
                channel=rng.choices(("kiosk", "phone", "staff"), (85, 10, 5))[0],
                language=_language(rng),
            )
        )
    return visits


def _serve(
    rng: random.Random, office: _Office, windows: list[_Window], visits: list[_Visit]
) -> None:
    """The desks of each window call the earliest ``priority_at`` among the services they
    serve, as ``call_next`` does, until a little after closing. ``visits`` is in issue order."""
    shifts = [
        (window.opens, index, number, window.closes + _OVERTIME)
        for index, window in enumerate(windows)
        for number in range(window.desks)
    ]
    heapq.heapify(shifts)
    busy_until: dict[int, datetime] = {}
    waiting: list[_Visit] = []
    issued = 0
    while shifts:
        at, index, number, until = heapq.heappop(shifts)
        desk = office.desks[number]
        at = max(at, busy_until.get(desk.id, at))
        if at > until:
            continue
        while issued < len(visits) and visits[issued].issued_at <= at:
            waiting.append(visits[issued])
            issued += 1
        mine = [v for v in waiting if v.service.id in desk.services]
        if not mine:
            later = [v.issued_at for v in visits[issued:] if v.service.id in desk.services]
            if later and later[0] <= until:
                heapq.heappush(shifts, (later[0], index, number, until))
            continue
        visit = min(mine, key=lambda v: (v.priority_at, v.issued_at))
        waiting.remove(visit)
        visit.desk_id, visit.called_at = desk.id, at
        waited = at - max(visit.issued_at, visit.priority_at)
        if visit.absent or (visit.appointment is None and waited > _GIVE_UP and rng.random() < 0.5):
            visit.status, visit.recalls = "no_show", 1
            visit.finished_at = at + timedelta(minutes=rng.uniform(2, 4))
        else:
            visit.status = "done"
            visit.started_at = at + timedelta(seconds=rng.uniform(20, 90))
            visit.finished_at = visit.started_at + timedelta(minutes=visit.minutes)
        busy_until[desk.id] = visit.finished_at + timedelta(minutes=rng.uniform(0.5, 3))
        heapq.heappush(shifts, (busy_until[desk.id], index, number, until))


def _appointment(
    rng: random.Random, office: _Office, booking: _Booking, now: datetime
) -> PastAppointment:
    visit = booking.visit
    updated = booking.created_at
    if visit is not None:
        # A ticket the day left open leaves its appointment checked in, as the closing job does.
        status = {"done": "completed", "no_show": "no_show"}.get(visit.status, "checked_in")
        updated = visit.finished_at or visit.issued_at
    elif booking.outcome == "cancelled":
        status = "cancelled"
        updated += (booking.starts_at - booking.created_at) * rng.uniform(0.1, 0.95)
    else:
        status = "expired" if office.confirms else "booked"
    return PastAppointment(
        code=booking.code,
        location_id=office.id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        status=status,
        language=booking.language,
        # Nobody will ever present a token for these: random hashes match none.
        manage_token_hash=rng.randbytes(32),
        confirm_token_hash=rng.randbytes(32) if office.confirms else None,
        token_salt=rng.randbytes(16),
        service_key=",".join(str(i) for i in sorted({s.id for s in booking.services})),
        booked_by="staff" if rng.random() < 0.08 else "citizen",
        created_at=booking.created_at,
        updated_at=updated,
        personal_data_erased_at=min(now, booking.ends_at + _ERASED_AFTER),
        service_ids=[s.id for s in booking.services],
    )


def _tickets(
    rng: random.Random, office: _Office, day: date, visits: list[_Visit], now: datetime
) -> tuple[list[PastTicket], list[TicketCounter]]:
    """Tickets numbered per prefix in issue order, and the counters those numbers leave."""
    numbers: Counter[str] = Counter()
    tickets = []
    for visit in visits:
        prefix = visit.service.prefix
        numbers[prefix] += 1
        tickets.append(
            PastTicket(
                public_id=base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode(),
                location_id=office.id,
                service_id=visit.service.id,
                appointment_code=visit.appointment,
                day=day,
                display_code=f"{prefix}{numbers[prefix]:03d}",
                status=visit.status,
                channel=visit.channel,
                language=visit.language,
                priority_at=visit.priority_at,
                desk_id=visit.desk_id,
                recalls=visit.recalls,
                issued_at=visit.issued_at,
                called_at=visit.called_at,
                started_at=visit.started_at,
                finished_at=visit.finished_at,
                personal_data_erased_at=min(now, visit.issued_at + _TICKET_ERASED_AFTER),
            )
        )
    counters = [TicketCounter(office.id, day, prefix, last) for prefix, last in numbers.items()]
    return tickets, counters
