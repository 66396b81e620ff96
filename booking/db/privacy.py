"""Queries that erase citizens' personal data once it is no longer needed (invariant 7)."""

from __future__ import annotations

import msgspec

from booking.db import Connection


class ErasedCounts(msgspec.Struct, frozen=True):
    appointments: int
    tickets: int
    waitlist_entries: int


async def erase_personal_data_before(conn: Connection, days: int) -> ErasedCounts:
    """Blank name, email and phone of everything that ended more than ``days`` days ago."""
    appointments = await conn.fetchval(
        """
        with erased as (
            update appointment
               set citizen_name = null, email = null, phone = null,
                   personal_data_erased_at = now()
             where personal_data_erased_at is null
               and ends_at < now() - make_interval(days => $1)
            returning 1
        )
        select count(*) from erased
        """,
        days,
    )
    tickets = await conn.fetchval(
        """
        with erased as (
            update ticket
               set citizen_name = null, personal_data_erased_at = now()
             where personal_data_erased_at is null
               and issued_at < now() - make_interval(days => $1 + 1)
            returning 1
        )
        select count(*) from erased
        """,
        days,
    )
    waitlist_entries = await conn.fetchval(
        """
        with erased as (
            update waitlist_entry
               set citizen_name = null, email = null, personal_data_erased_at = now()
             where personal_data_erased_at is null
               and status in ('fulfilled', 'cancelled', 'expired')
               and latest_day < (now() - make_interval(days => $1))::date
            returning 1
        )
        select count(*) from erased
        """,
        days,
    )
    return ErasedCounts(appointments, tickets, waitlist_entries)
