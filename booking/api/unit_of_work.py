"""A request's change: a retried transaction, then the waitlist matcher woken after commit.

Its outbox rows need nothing after commit: writing them woke the outbox relay (sql/0008).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from arq.connections import ArqRedis

from booking.appointments import Context
from booking.db import Connection
from booking.db.transaction import in_transaction
from booking.workers.enqueue import wake_matcher

T = TypeVar("T")


class UnitOfWork:
    def __init__(self, pool: asyncpg.Pool, queue: ArqRedis) -> None:
        self._pool = pool
        self._queue = queue

    async def run(
        self, work: Callable[[Connection], Awaitable[T]], ctx: Context | None = None
    ) -> T:
        async def attempt(conn: Connection) -> T:
            if ctx is not None:
                # A retried attempt starts over; rolled-back rows are gone.
                ctx.rematch.clear()
            return await work(conn)

        result = await in_transaction(self._pool, attempt)
        if ctx is not None and ctx.rematch:
            await wake_matcher(self._queue)
        return result
