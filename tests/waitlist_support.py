"""A crowded office for the waitlist tests: the demo's 'mitte' on a frozen Monday, with
Tuesday 09:00-10:00 booked out by real appointments (so that regenerating the grid, as the
worker does at start, changes nothing), and citizens waiting for it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from booking import appointments, tokens, waitlist
from booking.appointments import Booking, BookingRequest, Context
from booking.settings import Settings
from booking.waitlist import JoinRequest

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 30 November 2026, 08:00 in Berlin.
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
TUESDAY = date(2026, 12, 1)
PASS = ["personalausweis"]  # 20 minutes at mitte: two units
# Four desks, 09:00-10:00: three passport starts on each fill the hour.
FULL_STARTS = ("09:00", "09:20", "09:40")
DESKS = 4


def at(clock: str, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=BERLIN)


async def book(
    db: asyncpg.Connection, settings: Settings, now: datetime, start: str, email: str
) -> Booking:
    """A citizen's booking through the use case (no rate limits in the way of a set-up)."""
    request = BookingRequest(
        location="mitte", services=PASS, start=at(start), name="Bürgerin", email=email
    )
    async with db.transaction():
        return await appointments.book(db, Context(settings, now), request)


async def fill_the_hour(db: asyncpg.Connection, settings: Settings) -> dict[str, list[Booking]]:
    """Tuesday 09:00-10:00 booked out at mitte; the bookings by start."""
    booked: dict[str, list[Booking]] = {}
    for start in FULL_STARTS:
        for desk in range(DESKS):
            email = f"booker-{start.replace(':', '')}-{desk}@example.org"
            booked.setdefault(start, []).append(await book(db, settings, NOW, start, email))
    return booked


def wishes(**changes: Any) -> dict[str, Any]:
    """The JSON of a waitlist request for Tuesday's full hour."""
    body: dict[str, Any] = {
        "services": PASS,
        "locations": ["mitte"],
        "from": TUESDAY.isoformat(),
        "to": TUESDAY.isoformat(),
        "weekdays": [2],
        "time_from": "09:00:00",
        "time_until": "10:00:00",
        "email": "wartend@example.org",
        "name": "Wilma Wartend",
        "language": "de",
    }
    body.update(changes)
    return body


async def wait(
    db: asyncpg.Connection, settings: Settings, now: datetime, email: str, **changes: Any
) -> str:
    """A confirmed waitlist entry through the use cases; its public id."""
    body = wishes(email=email, **changes)
    request = JoinRequest(
        services=body["services"],
        locations=body["locations"],
        earliest_day=date.fromisoformat(body["from"]),
        latest_day=date.fromisoformat(body["to"]),
        weekdays=body["weekdays"],
        time_from=time.fromisoformat(body["time_from"]) if body["time_from"] else None,
        time_until=time.fromisoformat(body["time_until"]) if body["time_until"] else None,
        email=email,
        name=body["name"],
        language=body["language"],
    )
    async with db.transaction():
        joined = await waitlist.join(db, Context(settings, now), request)
    public_id = joined.entry.public_id
    async with db.transaction():
        await waitlist.confirm(
            db, Context(settings, now), public_id, confirm_token(settings, joined)
        )
    return public_id


def confirm_token(settings: Settings, joined: waitlist.EntryView) -> str:
    """What the confirmation mail carries."""
    entry = joined.entry
    return waitlist.entry_token(settings, "confirm", entry.public_id, entry.token_salt)


async def offer_token(
    db: asyncpg.Connection, settings: Settings, public_id: str, purpose: tokens.Purpose
) -> tuple[str, str]:
    """The open offer of an entry: its code and the secret the offer mail carries for
    accepting ("confirm") or declining ("manage")."""
    row = await db.fetchrow(
        """
        select a.code, a.token_salt from appointment a
          join waitlist_entry w on w.id = a.waitlist_entry_id
         where w.public_id = $1
        """,
        public_id,
    )
    assert row is not None, f"no offer for {public_id}"
    code: str = row["code"]
    return code, tokens.derive_token(settings.secret_key, purpose, code, bytes(row["token_salt"]))


async def entry_statuses(db: asyncpg.Connection) -> dict[str, str]:
    rows = await db.fetch("select public_id, status from waitlist_entry order by id")
    return {row["public_id"]: row["status"] for row in rows}


async def offers(db: asyncpg.Connection) -> list[tuple[str, datetime, str]]:
    """(entry public id, start, appointment status) of every offer, oldest first."""
    rows = await db.fetch(
        """
        select w.public_id, a.starts_at, a.status from appointment a
          join waitlist_entry w on w.id = a.waitlist_entry_id
         order by a.id
        """
    )
    return [(row["public_id"], row["starts_at"], row["status"]) for row in rows]


async def unit_state(db: asyncpg.Connection, start: str) -> tuple[int, int, int]:
    """(capacity, booked, quarantined) of mitte's unit at ``start`` on Tuesday."""
    row = await db.fetchrow(
        """
        select capacity, booked, quarantined from slot
         where location_id = (select id from location where slug = 'mitte') and starts_at = $1
        """,
        at(start),
    )
    assert row is not None
    return row["capacity"], row["booked"], row["quarantined"]


async def assert_capacity_is_exact(db: asyncpg.Connection) -> None:
    """Invariant 1 and the quarantine's bookkeeping, from the database itself."""
    wrong = await db.fetch(
        """
        select s.location_id, s.starts_at, s.capacity, s.booked, s.quarantined,
               count(a.id)::int as covering
          from slot s
          left join appointment a
            on a.location_id = s.location_id and a.status in ('pending', 'booked')
           and a.starts_at <= s.starts_at and s.starts_at < a.ends_at
         group by s.location_id, s.starts_at
        having s.booked + s.quarantined > s.capacity or s.booked <> count(a.id)
        """
    )
    assert not wrong, [dict(row) for row in wrong]
    twice = await db.fetchval(
        """
        select count(*) from (select waitlist_entry_id from appointment
                               where waitlist_entry_id is not null
                               group by waitlist_entry_id having count(*) > 1) x
        """
    )
    assert twice == 0


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
