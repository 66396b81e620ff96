"""Queries for appointments, the units they occupy, holds, idempotency keys and the outbox.

Capacity is taken with one conditional UPDATE per range (``booked < capacity``): row locks
serialise concurrent bookers on a unit, and the ``slot_not_overbooked`` check is the last
line of defence for invariant 1.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from booking.db import Connection
from booking.db.offers import SetLocation


class UnitSpan(msgspec.Struct, frozen=True):
    starts_at: datetime
    window_ends_at: datetime


class Appointment(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    code: str
    location_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    citizen_name: str | None
    email: str | None
    phone: str | None
    language: str
    manage_token_hash: bytes
    confirm_token_hash: bytes | None
    token_salt: bytes
    pending_until: datetime | None
    sequence: int
    service_key: str
    booked_by: str
    # Set on an offer made to a waitlist entry (pending until accepted).
    waitlist_entry_id: int | None = None


class NewAppointment(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    location_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    citizen_name: str | None
    email: str | None
    phone: str | None
    language: str
    manage_token_hash: bytes
    confirm_token_hash: bytes | None
    token_salt: bytes
    pending_until: datetime | None
    service_key: str
    booked_by: str
    waitlist_entry_id: int | None = None


class BookedService(msgspec.Struct, frozen=True):
    slug: str
    name_de: str
    name_en: str
    quantity: int


class Hold(msgspec.Struct, frozen=True):
    id: uuid.UUID
    location_id: int
    starts_at: datetime
    ends_at: datetime
    services: list[int]
    expires_at: datetime
    extended: bool


class StoredAnswer(msgspec.Struct, frozen=True):
    request_hash: bytes
    status: int
    response: bytes


_APPOINTMENT_COLUMNS = """
    id, code, location_id, starts_at, ends_at, status, citizen_name, email, phone, language,
    manage_token_hash, confirm_token_hash, token_salt, pending_until, sequence, service_key,
    booked_by, waitlist_entry_id
"""


# -- units ---------------------------------------------------------------------------------


async def unit_spans(
    conn: Connection, location_id: int, since: datetime, until: datetime
) -> list[UnitSpan]:
    rows = await conn.fetch(
        """
        select starts_at, window_ends_at from slot
         where location_id = $1 and starts_at >= $2 and starts_at < $3
         order by starts_at
        """,
        location_id, since, until,
    )  # fmt: skip
    return [UnitSpan(**dict(row)) for row in rows]


async def lock_units(
    conn: Connection, location_id: int, ranges: list[tuple[datetime, datetime]]
) -> None:
    """Lock every unit a change touches in start order, so two changes never deadlock."""
    await conn.execute(
        """
        select 1 from slot s
         where s.location_id = $1
           and exists (select 1 from unnest($2::timestamptz[], $3::timestamptz[]) as r(a, b)
                        where s.starts_at >= r.a and s.starts_at < r.b)
         order by s.starts_at
           for update
        """,
        location_id, [r[0] for r in ranges], [r[1] for r in ranges],
    )  # fmt: skip


async def take_units(conn: Connection, location_id: int, since: datetime, until: datetime) -> int:
    """Book one place on each unit that has room; the caller compares the count it needed.

    Quarantined places are held back for the waitlist (``booking.db.quarantine``).
    """
    status = await conn.execute(
        """
        update slot set booked = booked + 1
         where location_id = $1 and starts_at >= $2 and starts_at < $3
           and booked + quarantined < capacity
        """,
        location_id, since, until,
    )  # fmt: skip
    return int(status.split()[-1])


async def release_units(
    conn: Connection, location_id: int, since: datetime, until: datetime
) -> None:
    """Free one place on each unit for anyone at once (holds; appointments where nobody waits)."""
    # A unit kept above its rules for a conflict shrinks back as its bookings go.
    await conn.execute(
        """
        update slot set booked = booked - 1, capacity = greatest(rule_capacity, booked - 1)
         where location_id = $1 and starts_at >= $2 and starts_at < $3 and booked > 0
        """,
        location_id, since, until,
    )  # fmt: skip


# -- appointments --------------------------------------------------------------------------


async def insert_appointment(conn: Connection, new: NewAppointment) -> Appointment | None:
    """The new appointment as stored; None when its code is taken (the caller draws another).

    ``on conflict (code)``: a clash needs no savepoint to recover from, any other violation
    still aborts the transaction.
    """
    row = await conn.fetchrow(
        f"""
        insert into appointment (code, location_id, starts_at, ends_at, status, citizen_name,
                                 email, phone, language, manage_token_hash, confirm_token_hash,
                                 token_salt, pending_until, service_key, booked_by,
                                 waitlist_entry_id)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        on conflict (code) do nothing
        returning {_APPOINTMENT_COLUMNS}
        """,  # noqa: S608 - column list is a constant
        new.code, new.location_id, new.starts_at, new.ends_at, new.status, new.citizen_name,
        new.email, new.phone, new.language, new.manage_token_hash, new.confirm_token_hash,
        new.token_salt, new.pending_until, new.service_key, new.booked_by,
        new.waitlist_entry_id,
    )  # fmt: skip
    return None if row is None else Appointment(**dict(row))


async def insert_appointment_services(
    conn: Connection, appointment_id: int, quantities: list[tuple[int, int]]
) -> None:
    await conn.executemany(
        """
        insert into appointment_service (appointment_id, service_id, position, quantity)
        values ($1, $2, $3, $4)
        """,
        [(appointment_id, sid, pos, qty) for pos, (sid, qty) in enumerate(quantities)],
    )


async def appointment_by_code(
    conn: Connection, code: str, *, for_update: bool = False
) -> Appointment | None:
    query = (
        f"select {_APPOINTMENT_COLUMNS} from appointment where code = $1 for update"  # noqa: S608
        if for_update
        else f"select {_APPOINTMENT_COLUMNS} from appointment where code = $1"  # noqa: S608
    )
    row = await conn.fetchrow(query, code)
    return None if row is None else Appointment(**dict(row))


async def appointment_by_id(conn: Connection, appointment_id: int) -> Appointment | None:
    row = await conn.fetchrow(
        f"select {_APPOINTMENT_COLUMNS} from appointment where id = $1",  # noqa: S608
        appointment_id,
    )
    return None if row is None else Appointment(**dict(row))


async def documents_to_bring(conn: Connection, appointment_id: int, language: str) -> list[str]:
    """Each document once, in the order of the services, in the citizen's language."""
    rows = await conn.fetch(
        """
        select distinct on (doc) doc, x.position, d.ord
          from appointment_service x join service s on s.id = x.service_id,
               unnest(case when $2 = 'en' then s.documents_en else s.documents_de end)
                   with ordinality as d(doc, ord)
         where x.appointment_id = $1
         order by doc, x.position, d.ord
        """,
        appointment_id, language,
    )  # fmt: skip
    return [r["doc"] for r in sorted(rows, key=lambda r: (r["position"], r["ord"]))]


async def booked_location(conn: Connection, appointment_id: int) -> SetLocation:
    row = await conn.fetchrow(
        """
        select l.id, l.slug, l.name_de, l.name_en, l.street, l.postal_code, l.city, l.email,
               l.time_zone, l.grid_minutes, l.horizon_days, l.min_lead_minutes,
               l.cancel_deadline_minutes,
               l.reminder_minutes, l.requires_confirmation,
               (extract(epoch from a.ends_at - a.starts_at) / 60)::int as total_minutes,
               (select array_agg(x.service_id order by x.service_id)
                  from appointment_service x, generate_series(1, x.quantity)
                 where x.appointment_id = a.id) as service_ids
          from appointment a join location l on l.id = a.location_id
         where a.id = $1
        """,
        appointment_id,
    )
    assert row is not None
    return SetLocation(**dict(row))


async def booked_services(conn: Connection, appointment_id: int) -> list[BookedService]:
    rows = await conn.fetch(
        """
        select s.slug, s.name_de, s.name_en, x.quantity
          from appointment_service x join service s on s.id = x.service_id
         where x.appointment_id = $1
         order by x.position
        """,
        appointment_id,
    )
    return [BookedService(**dict(row)) for row in rows]


async def lock_email(conn: Connection, email: str) -> None:
    """Serialise bookings for one address, so the per-address limit holds under races."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended(lower($1), 1))", email)


async def count_active_for_email(conn: Connection, email: str, service_key: str) -> int:
    count: int = await conn.fetchval(
        """
        select count(*) from appointment
         where lower(email) = lower($1) and service_key = $2 and status in ('pending', 'booked')
        """,
        email, service_key,
    )  # fmt: skip
    return count


async def set_status(
    conn: Connection, appointment_id: int, status: str, *, bump_sequence: bool
) -> int:
    """The new sequence number (the iCalendar SEQUENCE grows with every visible change)."""
    sequence: int = await conn.fetchval(
        """
        update appointment
           set status = $2, sequence = sequence + $3::int, updated_at = now(),
               pending_until = case when $2 = 'pending' then pending_until end
         where id = $1
        returning sequence
        """,
        appointment_id, status, 1 if bump_sequence else 0,
    )  # fmt: skip
    return sequence


async def move_appointment(
    conn: Connection, appointment_id: int, starts_at: datetime, ends_at: datetime
) -> int:
    sequence: int = await conn.fetchval(
        """
        update appointment
           set starts_at = $2, ends_at = $3, sequence = sequence + 1, updated_at = now()
         where id = $1
        returning sequence
        """,
        appointment_id, starts_at, ends_at,
    )  # fmt: skip
    return sequence


async def expire_pending(conn: Connection, now: datetime, limit: int) -> list[Appointment]:
    """Pending appointments past their confirmation window, now expired, skipping locked ones."""
    rows = await conn.fetch(
        f"""
        update appointment a set status = 'expired', pending_until = null, updated_at = now()
          from (select id from appointment
                 where status = 'pending' and pending_until < $1
                 order by pending_until limit $2
                   for update skip locked) due
         where a.id = due.id
        returning {", ".join("a." + c.strip() for c in _APPOINTMENT_COLUMNS.split(","))}
        """,  # noqa: S608 - column list is a constant
        now, limit,
    )  # fmt: skip
    return [Appointment(**dict(row)) for row in rows]


# -- holds ---------------------------------------------------------------------------------


_HOLD_COLUMNS = "id, location_id, starts_at, ends_at, services, expires_at, extended"


async def insert_hold(
    conn: Connection,
    *,
    location_id: int,
    starts_at: datetime,
    ends_at: datetime,
    services: list[int],
    client_key: str,
    expires_at: datetime,
) -> Hold:
    row = await conn.fetchrow(
        f"""
        insert into hold (location_id, starts_at, ends_at, services, client_key, expires_at)
        values ($1, $2, $3, $4, $5, $6)
        returning {_HOLD_COLUMNS}
        """,  # noqa: S608
        location_id, starts_at, ends_at, services, client_key, expires_at,
    )  # fmt: skip
    assert row is not None
    return Hold(**dict(row))


async def delete_hold(conn: Connection, hold_id: uuid.UUID) -> Hold | None:
    row = await conn.fetchrow(
        f"delete from hold where id = $1 returning {_HOLD_COLUMNS}",  # noqa: S608
        hold_id,
    )
    return None if row is None else Hold(**dict(row))


async def live_hold(conn: Connection, hold_id: uuid.UUID, now: datetime) -> Hold | None:
    row = await conn.fetchrow(
        f"select {_HOLD_COLUMNS} from hold where id = $1 and expires_at > $2",  # noqa: S608
        hold_id, now,
    )  # fmt: skip
    return None if row is None else Hold(**dict(row))


async def delete_client_hold(conn: Connection, client_key: str) -> Hold | None:
    row = await conn.fetchrow(
        f"delete from hold where client_key = $1 returning {_HOLD_COLUMNS}",  # noqa: S608
        client_key,
    )
    return None if row is None else Hold(**dict(row))


async def extend_hold(
    conn: Connection, hold_id: uuid.UUID, now: datetime, until: datetime
) -> Hold | None:
    """Extend a live hold once; None when it is gone, expired or already extended."""
    row = await conn.fetchrow(
        f"""
        update hold set expires_at = $3, extended = true
         where id = $1 and expires_at > $2 and not extended
        returning {_HOLD_COLUMNS}
        """,  # noqa: S608
        hold_id, now, until,
    )  # fmt: skip
    return None if row is None else Hold(**dict(row))


async def delete_expired_holds(conn: Connection, now: datetime, limit: int) -> list[Hold]:
    rows = await conn.fetch(
        f"""
        delete from hold h
         using (select id from hold where expires_at <= $1 order by expires_at limit $2
                   for update skip locked) due
         where h.id = due.id
        returning {", ".join("h." + c.strip() for c in _HOLD_COLUMNS.split(","))}
        """,  # noqa: S608
        now, limit,
    )  # fmt: skip
    return [Hold(**dict(row)) for row in rows]


# -- idempotency ---------------------------------------------------------------------------


async def claim_idempotency_key(conn: Connection, key: str, request_hash: bytes) -> bool:
    """True when this request is the first with the key; a concurrent twin waits here."""
    claimed = await conn.fetchval(
        """
        insert into idempotency_key (key, request_hash, status, response) values ($1, $2, 0, '')
        on conflict (key) do nothing
        returning true
        """,
        key, request_hash,
    )  # fmt: skip
    return bool(claimed)


async def stored_answer(conn: Connection, key: str) -> StoredAnswer | None:
    row = await conn.fetchrow(
        "select request_hash, status, response from idempotency_key where key = $1", key
    )
    return None if row is None else StoredAnswer(**dict(row))


async def store_answer(conn: Connection, key: str, status: int, response: bytes) -> None:
    await conn.execute(
        "update idempotency_key set status = $2, response = $3 where key = $1",
        key, status, response,
    )  # fmt: skip


async def delete_old_idempotency_keys(conn: Connection, before: datetime) -> int:
    status = await conn.execute("delete from idempotency_key where created_at < $1", before)
    return int(status.split()[-1])


# -- outbox --------------------------------------------------------------------------------


async def enqueue_message(
    conn: Connection,
    *,
    kind: str,
    appointment_id: int,
    message_id: str,
    sequence: int,
) -> None:
    await conn.execute(
        """
        insert into outbox (kind, appointment_id, message_id, payload)
        values ($1, $2, $3, jsonb_build_object('sequence', $4::int))
        """,
        kind, appointment_id, message_id, sequence,
    )  # fmt: skip
