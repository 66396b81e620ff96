"""The asyncpg pool, created by the app's lifespan or the worker's startup, never at import."""

from __future__ import annotations

import json

import asyncpg

from booking.settings import Settings


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(settings: Settings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        timeout=settings.db_timeout_seconds,
        command_timeout=settings.db_timeout_seconds * 6,
        init=_init_connection,
    )
    assert pool is not None
    return pool
