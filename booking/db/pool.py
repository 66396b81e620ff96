"""The asyncpg pool, created by the app's lifespan or the worker's startup, never at import."""

from __future__ import annotations

import json
from typing import Any

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


class _BoundedWaitPool(asyncpg.Pool):
    """Waiting for a free connection is bounded like every other wait on the database.

    asyncpg waits for ever by default: at a rush with every connection busy, requests would
    pile up until clients gave up. After ``db_timeout_seconds`` the wait ends in a
    TimeoutError, which the API answers with 503 and Retry-After.
    """

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self._acquire_timeout if timeout is None else timeout)


async def create_pool(settings: Settings) -> asyncpg.Pool:
    # asyncpg.create_pool is this constructor call with these defaults; a subclass needs it
    # spelled out.
    pool = _BoundedWaitPool(
        settings.database_url,
        acquire_timeout=settings.db_timeout_seconds,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        init=_init_connection,
        reset=_reset_connection,
        loop=None,
        timeout=settings.db_timeout_seconds,
        command_timeout=settings.db_timeout_seconds * 6,
    )
    await pool
    return pool
