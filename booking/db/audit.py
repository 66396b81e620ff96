"""The audit log: who did what to which object, when; never citizens' personal data.

``record`` writes in the caller's transaction, so an entry stands or falls with the change
it describes. Call it from any use case that staff or devices trigger::

    await record(db, staff.actor, "appointment.cancel", "appointment", code, location.id,
                 {"reason": "staff"})

Actions are ``<object>.<verb>`` ("service.update", "login.failed"); ``detail`` names what
changed (field names, kinds, reasons, counts), not values a citizen typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import msgspec

from booking.db import Connection

ActorKind = Literal["staff", "device", "system", "anonymous"]


class Actor(msgspec.Struct, frozen=True):
    kind: ActorKind
    id: int | None = None


SYSTEM = Actor("system")
# Whoever failed to sign in: not authenticated, so not an actor we can name.
ANONYMOUS = Actor("anonymous")


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """``actor_name`` is the staff member's email or the device's name, as it is now."""

    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str | None
    action: str
    object_kind: str
    object_id: str | None
    location_slug: str | None
    detail: dict[str, Any]


class AuditQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters (None: any); ``action`` "staff" also matches "staff.create" and the like."""

    action: str | None = None
    actor_kind: str | None = None
    actor_id: int | None = None
    object_kind: str | None = None
    object_id: str | None = None
    location_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 50


_detail_decoder = msgspec.json.Decoder(dict[str, Any])


async def record(  # noqa: PLR0917 - reads as a sentence: who did what to which object where
    conn: Connection,
    actor: Actor,
    action: str,
    object_kind: str,
    object_id: str | int | None,
    location_id: int | None,
    detail: Mapping[str, object] | None = None,
) -> None:
    await conn.execute(
        """
        insert into audit_log (actor_kind, actor_id, action, object_kind, object_id,
                               location_id, detail)
        values ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
        """,
        actor.kind,
        actor.id,
        action,
        object_kind,
        None if object_id is None else str(object_id),
        location_id,
        # As text, so the pool's jsonb codec and a plain connection (CLI) store the same.
        msgspec.json.encode(detail or {}).decode(),
    )


async def audit_entries(conn: Connection, query: AuditQuery) -> list[AuditEntry]:
    """Newest first; the next page starts before the last id of this one."""
    rows = await conn.fetch(
        """
        select a.id, a.at, a.actor_kind, a.actor_id,
               case a.actor_kind when 'staff' then s.email when 'device' then d.name end
                   as actor_name,
               a.action, a.object_kind, a.object_id, l.slug as location_slug,
               a.detail::text as detail
          from audit_log a
          left join staff_user s on a.actor_kind = 'staff' and s.id = a.actor_id
          left join device d on a.actor_kind = 'device' and d.id = a.actor_id
          left join location l on l.id = a.location_id
         where ($1::text is null or a.action = $1 or starts_with(a.action, $1 || '.'))
           and ($2::text is null or a.actor_kind = $2)
           and ($3::bigint is null or a.actor_id = $3)
           and ($4::text is null or a.object_kind = $4)
           and ($5::text is null or a.object_id = $5)
           and ($6::bigint is null or a.location_id = $6)
           and ($7::timestamptz is null or a.at >= $7)
           and ($8::timestamptz is null or a.at < $8)
           and ($9::bigint is null or a.id < $9)
         order by a.id desc
         limit $10
        """,
        query.action,
        query.actor_kind,
        query.actor_id,
        query.object_kind,
        query.object_id,
        query.location_id,
        query.since,
        query.until,
        query.before_id,
        query.limit,
    )
    return [
        AuditEntry(**{**dict(row), "detail": _detail_decoder.decode(row["detail"])}) for row in rows
    ]
