"""The asyncpg pool, created by the app's lifespan or the worker's startup, never at import."""

from __future__ import annotations

import json

import asyncpg

from booking.settings import Settings


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Only a connection given back inside a transaction needs asyncpg's full reset.

    The default runs ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every
    release: a round trip and four statements per request. Pooled connections here never
    keep session state (no session locks, cursors, LISTEN or SET: the call listener has a
    connection of its own), so a clean transaction end leaves nothing to undo.
    """
    if conn.is_in_transaction():
        await conn.reset()


async def create_pool(settings: Settings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        timeout=settings.db_timeout_seconds,
        command_timeout=settings.db_timeout_seconds * 6,
        init=_init_connection,
        reset=_reset_connection,
    )
    assert pool is not None
    return pool
