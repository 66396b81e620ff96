"""Queries that write the demo's past (``booking.demo_history``) in bulk.

COPY, not one INSERT per row: ``booking dev`` writes a few thousand rows on its first start
and should still be up in a moment. Rows arrive as the daily erasure leaves them: no name,
email or phone, and ``personal_data_erased_at`` set.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import msgspec

from booking.db import Connection


class PastAppointment(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    location_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    language: str
    manage_token_hash: bytes
    confirm_token_hash: bytes | None
    token_salt: bytes
    service_key: str
    booked_by: str
    created_at: datetime
    updated_at: datetime
    personal_data_erased_at: datetime
    service_ids: list[int]  # in booked order: appointment_service.position


class PastTicket(msgspec.Struct, frozen=True, kw_only=True):
    public_id: str
    location_id: int
    service_id: int
    appointment_code: str | None
    day: date
    display_code: str
    status: str
    channel: str
    language: str
    priority_at: datetime
    desk_id: int | None
    recalls: int
    issued_at: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    personal_data_erased_at: datetime


class TicketCounter(msgspec.Struct, frozen=True):
    location_id: int
    day: date
    prefix: str
    last_number: int


_APPOINTMENT_COLUMNS = (
    "code", "location_id", "starts_at", "ends_at", "status", "language", "manage_token_hash",
    "confirm_token_hash", "token_salt", "service_key", "booked_by", "created_at", "updated_at",
    "personal_data_erased_at",
)  # fmt: skip
_TICKET_COLUMNS = (
    "public_id", "location_id", "service_id", "appointment_id", "day", "display_code", "status",
    "channel", "language", "priority_at", "desk_id", "recalls", "issued_at", "called_at",
    "started_at", "finished_at", "personal_data_erased_at",
)  # fmt: skip


async def has_past(conn: Connection, location_ids: Sequence[int], now: datetime) -> bool:
    """Whether any appointment or ticket of these locations lies before their local today."""
    found: bool = await conn.fetchval(
        """
        select exists (
                   select 1 from appointment a join location l on l.id = a.location_id
                    where a.location_id = any($1::bigint[])
                      and a.starts_at
                          < ($2::timestamptz at time zone l.time_zone)::date::timestamp
                            at time zone l.time_zone)
            or exists (
                   select 1 from ticket t join location l on l.id = t.location_id
                    where t.location_id = any($1::bigint[])
                      and t.day < ($2::timestamptz at time zone l.time_zone)::date)
        """,
        list(location_ids),
        now,
    )
    return found


async def all_codes(conn: Connection) -> set[str]:
    """Booking codes in use, so that made-up ones avoid them (codes are unique)."""
    return {row["code"] for row in await conn.fetch("select code from appointment")}


async def insert_past(
    conn: Connection,
    appointments: Sequence[PastAppointment],
    tickets: Sequence[PastTicket],
    counters: Sequence[TicketCounter],
) -> None:
    """Appointments with their services, then tickets (linked by booking code) and the
    daily ticket counters, in the caller's transaction."""
    await conn.copy_records_to_table(
        "appointment",
        columns=_APPOINTMENT_COLUMNS,
        records=[msgspec.structs.astuple(a)[: len(_APPOINTMENT_COLUMNS)] for a in appointments],
    )
    ids: dict[str, int] = {
        row["code"]: row["id"]
        for row in await conn.fetch(
            "select id, code from appointment where code = any($1::text[])",
            [a.code for a in appointments],
        )
    }
    await conn.copy_records_to_table(
        "appointment_service",
        columns=("appointment_id", "service_id", "position"),
        records=[
            (ids[a.code], service_id, position)
            for a in appointments
            for position, service_id in enumerate(a.service_ids)
        ],
    )
    await conn.copy_records_to_table(
        "ticket",
        columns=_TICKET_COLUMNS,
        records=[
            (t.public_id, t.location_id, t.service_id,
             None if t.appointment_code is None else ids[t.appointment_code], t.day,
             t.display_code, t.status, t.channel, t.language, t.priority_at, t.desk_id,
             t.recalls, t.issued_at, t.called_at, t.started_at, t.finished_at,
             t.personal_data_erased_at)
            for t in tickets
        ],
    )  # fmt: skip
    await conn.copy_records_to_table(
        "ticket_counter",
        columns=("location_id", "day", "prefix", "last_number"),
        records=[msgspec.structs.astuple(c) for c in counters],
    )
