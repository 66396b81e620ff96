"""A LISTEN connection kept for as long as a process runs: reconnected with backoff, and
probed when quiet (a half-open TCP connection is silent)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from booking.db import Connection

log = logging.getLogger("booking.listener")

PROBE_SECONDS = 30.0
Callback = Callable[[Connection, int, str, object], None]


async def listen(
    url: str,
    channel: str,
    on_notify: Callback,
    *,
    on_ready: Callable[[], None],
    on_lost: Callable[[], None],
    connect_timeout: float,
) -> None:
    """Call ``on_notify`` for each notification on ``channel`` until cancelled.

    ``on_ready`` runs each time the connection listens: whatever committed while nobody
    listened is in the tables, so it is the moment to read them. ``on_lost`` runs when it
    stops listening.
    """
    backoff = 0.2
    while True:
        try:
            conn = await asyncpg.connect(url, timeout=connect_timeout)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("listener on %s cannot connect (%s); retrying", channel, type(exc).__name__)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
            continue
        try:
            await _serve(conn, channel, on_notify, on_ready, connect_timeout)
            backoff = 0.2
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("listener on %s lost its connection (%s)", channel, type(exc).__name__)
        finally:
            on_lost()
            conn.terminate()
        await asyncio.sleep(backoff)


async def _serve(
    conn: asyncpg.Connection,
    channel: str,
    on_notify: Callback,
    on_ready: Callable[[], None],
    probe_timeout: float,
) -> None:
    """Listen on ``conn`` until it is lost."""
    lost = asyncio.Event()
    conn.add_termination_listener(lambda _: lost.set())
    await conn.add_listener(channel, on_notify)
    log.info("listening on %s", channel)
    on_ready()
    while not lost.is_set():
        try:
            async with asyncio.timeout(PROBE_SECONDS):
                await lost.wait()
        except TimeoutError:
            await conn.fetchval("select 1", timeout=probe_timeout)
