"""Creating the target database when it does not exist yet (first starts, tests, benchmarks),
and dropping a scratch database again."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def ensure_database(url: str) -> bool:
    """Create the URL's database if it is missing; True when this call created it."""
    name = database_name(url)
    try:
        conn = await asyncpg.connect(url)
    except asyncpg.InvalidCatalogNameError:
        pass
    else:
        await conn.close()
        return False
    admin = await asyncpg.connect(with_database(url, "postgres"))
    try:
        # An identifier cannot be a query parameter; quote_ident makes the name safe.
        quoted = await admin.fetchval("select quote_ident($1)", name)
        await admin.execute(f"create database {quoted}")
    except asyncpg.DuplicateDatabaseError:
        return False  # another process created it first
    finally:
        await admin.close()
    return True


async def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` through the server at ``admin_url``, disconnecting whoever is still in it."""
    admin = await asyncpg.connect(admin_url)
    try:
        quoted = await admin.fetchval("select quote_ident($1)", name)
        await admin.execute(f"drop database if exists {quoted} with (force)")
    finally:
        await admin.close()
