"""Running a unit of work in a transaction that is retried when PostgreSQL aborts it.

Two changes that lock the same units in different orders can deadlock; PostgreSQL aborts
one of them. The work is then safe to run again from the start, so the client never sees it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from booking.db import Connection

T = TypeVar("T")
_ATTEMPTS = 5


async def in_transaction(pool: asyncpg.Pool, work: Callable[[Connection], Awaitable[T]]) -> T:
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            async with pool.acquire() as conn, conn.transaction():
                return await work(conn)
        except asyncpg.TransactionRollbackError:  # deadlock or serialization failure
            if attempt == _ATTEMPTS:
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter
    raise AssertionError("unreachable")
