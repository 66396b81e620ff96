"""The database as the judge after concurrency and faults: invariants 1, 3 and 4 from the rows."""

from __future__ import annotations

import asyncpg

ACTIVE = ("pending", "booked")
BOOKING_MESSAGES = ("confirmation", "confirmation_request")


async def assert_units_match_appointments(db: asyncpg.Connection) -> None:
    """Invariants 1 and 4, from the database: booked <= capacity, booked == active coverage."""
    wrong = await db.fetch(
        """
        select l.slug, s.starts_at, s.capacity, s.booked, count(a.id)::int as covering
          from slot s
          join location l on l.id = s.location_id
          left join appointment a
            on a.location_id = s.location_id and a.status = any($1::text[])
           and a.starts_at <= s.starts_at and s.starts_at < a.ends_at
         group by l.slug, s.location_id, s.starts_at, s.capacity, s.booked
        having s.booked > s.capacity or s.booked <> count(a.id)
         order by s.starts_at
        """,
        list(ACTIVE),
    )
    assert not wrong, "units whose booked count is wrong:\n" + "\n".join(
        f"{r['slug']} {r['starts_at']}: capacity {r['capacity']}, booked {r['booked']}, "
        f"covered by {r['covering']} active appointment(s)"
        for r in wrong
    )
    assert await db.fetchval("select count(*) from hold") == 0
    # The check constraint is the last line of defence; it must never have been relaxed.
    assert await db.fetchval(
        "select count(*) from pg_constraint where conname = 'slot_not_overbooked'"
    )


async def booked_emails(db: asyncpg.Connection) -> dict[str, str]:
    """Email -> code of every appointment, each asserted to carry exactly one booking message
    (invariant 3: committed together) and to be the only one of its citizen."""
    rows = await db.fetch(
        """
        select a.code, a.email, count(o.id)::int as messages
          from appointment a
          left join outbox o on o.appointment_id = a.id and o.kind = any($1::text[])
         group by a.id
        """,
        list(BOOKING_MESSAGES),
    )
    without = [r["code"] for r in rows if r["messages"] != 1]
    assert not without, f"appointments without exactly one booking message: {without}"
    emails = [r["email"] for r in rows]
    assert len(set(emails)) == len(emails), "a citizen was booked twice"
    return {r["email"]: r["code"] for r in rows}
