"""Queries for delivering the outbox: lease due rows, mark them sent or failed.

Rows are leased with one conditional UPDATE, so two workers never send the same row at
once; a worker that dies mid-send leaves a lease that simply runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from booking.db import Connection


class OutboxMessage(msgspec.Struct, frozen=True):
    id: int
    kind: str
    appointment_id: int | None
    waitlist_entry_id: int | None
    ticket_id: int | None
    message_id: str
    sequence: int
    attempts: int


async def lease_due(
    conn: Connection, now: datetime, lease_for: timedelta, limit: int
) -> list[OutboxMessage]:
    """Take up to ``limit`` due rows, oldest first, for one send attempt each.

    SKIP LOCKED: relays of several workers lease side by side without waiting on each other.
    """
    rows = await conn.fetch(
        """
        update outbox set claimed_until = $1::timestamptz + $2::interval, attempts = attempts + 1
         where id in (select id from outbox
                       where sent_at is null and failed_at is null and not_before <= $1
                         and (claimed_until is null or claimed_until < $1)
                       order by not_before, id
                       limit $3
                         for update skip locked)
        returning id, kind, appointment_id, waitlist_entry_id, ticket_id, message_id,
                  coalesce((payload->>'sequence')::int, 0) as sequence, attempts
        """,
        now, lease_for, limit,
    )  # fmt: skip
    return [OutboxMessage(**dict(row)) for row in rows]


async def mark_sent_many(conn: Connection, outbox_ids: list[int], now: datetime) -> None:
    if outbox_ids:
        await conn.execute(
            """
            update outbox set sent_at = $2, claimed_until = null, last_error = null
             where id = any($1::bigint[])
            """,
            outbox_ids, now,
        )  # fmt: skip


async def mark_sent(conn: Connection, outbox_id: int, now: datetime, note: str | None) -> None:
    await conn.execute(
        "update outbox set sent_at = $2, claimed_until = null, last_error = $3 where id = $1",
        outbox_id, now, note,
    )  # fmt: skip


async def mark_failed(conn: Connection, outbox_id: int, now: datetime, reason: str) -> None:
    await conn.execute(
        "update outbox set failed_at = $2, claimed_until = null, last_error = $3 where id = $1",
        outbox_id, now, reason[:500],
    )  # fmt: skip


async def retry_later(conn: Connection, outbox_id: int, at: datetime, reason: str) -> None:
    await conn.execute(
        """
        update outbox set not_before = $2, claimed_until = null, last_error = $3 where id = $1
        """,
        outbox_id, at, reason[:500],
    )  # fmt: skip


async def create_reminders(conn: Connection, now: datetime, host: str) -> list[int]:
    """One reminder per appointment and start time once it enters its office's window.

    Appointments booked inside the window already had their confirmation moments ago.
    The partial unique index makes a second run (or a second worker) a no-op.
    """
    rows = await conn.fetch(
        """
        insert into outbox (kind, appointment_id, message_id, payload, reminder_for)
        select 'reminder', a.id, '<' || gen_random_uuid() || '@' || $2 || '>',
               jsonb_build_object('sequence', a.sequence), a.starts_at
          from appointment a join location l on l.id = a.location_id
         where a.status = 'booked' and a.email is not null and l.reminder_minutes > 0
           and a.starts_at > $1 and a.starts_at <= $1 + interval '8 days'
           and a.starts_at - make_interval(mins => l.reminder_minutes) <= $1
           and a.updated_at < a.starts_at - make_interval(mins => l.reminder_minutes)
        on conflict (appointment_id, reminder_for) where kind = 'reminder' do nothing
        returning id
        """,
        now, host,
    )  # fmt: skip
    return [row["id"] for row in rows]


async def drop_unsent_reminders(conn: Connection, appointment_id: int) -> None:
    await conn.execute(
        """
        delete from outbox
         where appointment_id = $1 and kind = 'reminder' and sent_at is null and failed_at is null
        """,
        appointment_id,
    )


class OutboxEntry(msgspec.Struct, frozen=True):
    id: int
    kind: str
    code: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    not_before: datetime
    failed_at: datetime | None


async def location_messages(
    conn: Connection, location_id: int, *, failed: bool, limit: int
) -> list[OutboxEntry]:
    """Failed or still undelivered messages of one office, newest first, for its admins."""
    rows = await conn.fetch(
        """
        select o.id, o.kind, a.code, o.attempts, o.last_error, o.created_at, o.not_before,
               o.failed_at
          from outbox o join appointment a on a.id = o.appointment_id
         where a.location_id = $1 and o.sent_at is null
           and (o.failed_at is not null) = $2
         order by o.created_at desc
         limit $3
        """,
        location_id, failed, limit,
    )  # fmt: skip
    return [OutboxEntry(**dict(row)) for row in rows]


async def retry_failed(conn: Connection, location_id: int, outbox_id: int, now: datetime) -> bool:
    """Due again at once: the relay is woken (sql/0008) and the attempt count stays."""
    status = await conn.execute(
        """
        update outbox o set failed_at = null, not_before = $3
          from appointment a
         where o.id = $2 and a.id = o.appointment_id and a.location_id = $1
           and o.failed_at is not null
        """,
        location_id, outbox_id, now,
    )  # fmt: skip
    return status.endswith(" 1")
