"""Queries for kiosk and display devices; a device token arrives as its SHA-256 only."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from booking.db import Connection


class Device(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    location_id: int
    location_slug: str
    kind: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


# Column lists are constants, never built from input; the f-strings below only join them.
_COLUMNS = """d.id, d.location_id, l.slug as location_slug, d.kind, d.name, d.created_at,
    d.revoked_at"""


def _device(row: asyncpg.Record) -> Device:
    return Device(**dict(row))


async def insert_device(
    conn: Connection, location_id: int, kind: str, name: str, token_hash: bytes
) -> Device:
    row = await conn.fetchrow(
        f"""
        with d as (
            insert into device (location_id, kind, name, token_hash) values ($1, $2, $3, $4)
            returning id, location_id, kind, name, created_at, revoked_at
        )
        select {_COLUMNS} from d join location l on l.id = d.location_id
        """,  # noqa: S608
        location_id,
        kind,
        name,
        token_hash,
    )
    assert row is not None
    return _device(row)


async def insert_device_if_missing(
    conn: Connection, location_id: int, kind: str, name: str, token_hash: bytes
) -> bool:
    """For fixed demo tokens: True when the device is new."""
    inserted: int | None = await conn.fetchval(
        """
        insert into device (location_id, kind, name, token_hash) values ($1, $2, $3, $4)
        on conflict (token_hash) do nothing
        returning id
        """,
        location_id,
        kind,
        name,
        token_hash,
    )
    return inserted is not None


async def devices_at(conn: Connection, location_id: int) -> list[Device]:
    rows = await conn.fetch(
        f"""
        select {_COLUMNS} from device d join location l on l.id = d.location_id
         where d.location_id = $1
         order by d.id
        """,  # noqa: S608
        location_id,
    )
    return [_device(row) for row in rows]


async def revoke_device(
    conn: Connection, location_id: int, device_id: int, now: datetime
) -> tuple[Device, bool] | None:
    """The device and whether this call revoked it; None when the location has no such device."""
    row = await conn.fetchrow(
        f"""
        with d as (
            update device set revoked_at = $3
             where id = $2 and location_id = $1 and revoked_at is null
            returning id, location_id, kind, name, created_at, revoked_at
        )
        select {_COLUMNS} from d join location l on l.id = d.location_id
        """,  # noqa: S608
        location_id,
        device_id,
        now,
    )
    if row is not None:
        return _device(row), True
    row = await conn.fetchrow(
        f"""
        select {_COLUMNS} from device d join location l on l.id = d.location_id
         where d.id = $2 and d.location_id = $1
        """,  # noqa: S608
        location_id,
        device_id,
    )
    return None if row is None else (_device(row), False)


async def device_by_token(conn: Connection, token_hash: bytes) -> Device | None:
    """The unrevoked device holding this token."""
    row = await conn.fetchrow(
        f"""
        select {_COLUMNS} from device d join location l on l.id = d.location_id
         where d.token_hash = $1 and d.revoked_at is null
        """,  # noqa: S608
        token_hash,
    )
    return None if row is None else _device(row)
