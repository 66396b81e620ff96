"""Citizens' searches answered from memory for a moment, shared by the API and the pages.

When a city opens next month's appointments, thousands of citizens ask the same office the
same question within a second; computing every answer anew would spend the server on that.
An answer is kept for ``BOOKING_AVAILABILITY_CACHE_SECONDS`` in each process, far shorter
than anyone takes to fill in the booking form, and booking itself always decides on the
database's current state, so a start shown a moment too long is refused with a clear 409.

Requests that ask a question while its answer is being computed wait for that answer
instead of computing it side by side; once an answer has had its time, the next request
computes it anew while the others are still given the previous one, for at most as long
again. The number of answers kept is bounded, the least recently used going first, so a
bot asking for ever new date ranges cannot grow a process's memory.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar, cast

import asyncpg

from booking import search
from booking.db import Connection

T = TypeVar("T")
# A 93-day answer of a large office is about 250 KB: at worst some 64 MB per process.
MAX_ANSWERS = 256


@dataclass(slots=True)
class _Entry:
    value: Any
    fresh_until: float
    stale_until: float
    refreshing: bool = False


class _Abandoned(Exception):
    """The request computing an answer went away; a waiter computes it itself."""


class AnswerCache:
    """Bounded, expiring answers by key, each computed once however many ask at once."""

    def __init__(
        self,
        seconds: float,
        max_entries: int = MAX_ANSWERS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._max_entries = max_entries
        self._now = now
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        if self._seconds <= 0:
            return await compute()
        now = self._now()
        entry = self._entries.get(key)
        if entry is not None and now < entry.stale_until:
            self._entries.move_to_end(key)
            if now < entry.fresh_until or entry.refreshing:
                return cast(T, entry.value)
            entry.refreshing = True  # this request refreshes; the others keep the old answer
            try:
                return await self._compute(key, compute)
            finally:
                entry.refreshing = False
        pending = self._pending.get(key)
        if pending is not None:
            try:
                return cast(T, await asyncio.shield(pending))
            except _Abandoned:
                pass
        return await self._compute(key, compute)

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        # Nobody may be waiting: an error nobody reads must not be reported as lost.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._pending[key] = future
        try:
            value = await compute()
        except Exception as exc:
            future.set_exception(exc)  # the same question gets the same refusal
            raise
        except BaseException:
            future.set_exception(_Abandoned())
            raise
        finally:
            if self._pending.get(key) is future:
                del self._pending[key]
        future.set_result(value)
        now = self._now()
        self._entries[key] = _Entry(value, now + self._seconds, now + 2 * self._seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return value


class Searches:
    """``booking.search`` behind one process-wide cache.

    A caller inside a transaction passes its connection; one without (the API) lets a
    connection be taken from the pool only when the answer has to be computed.
    """

    def __init__(self, pool: asyncpg.Pool | None, seconds: float) -> None:
        self._pool = pool
        self._cache = AnswerCache(seconds)

    @asynccontextmanager
    async def _connection(self, conn: Connection | None) -> AsyncIterator[Connection]:
        if conn is not None:
            yield conn
        else:
            if self._pool is None:
                raise TypeError("searches without a pool need the caller's connection")
            async with self._pool.acquire() as pooled:
                yield pooled

    async def availability(
        self,
        conn: Connection | None,
        *,
        location_slug: str,
        service_slugs: list[str],
        first_day: date | None,
        last_day: date | None,
        now: datetime,
    ) -> search.LocationAvailability:
        async def compute() -> search.LocationAvailability:
            async with self._connection(conn) as db:
                return await search.availability(
                    db,
                    location_slug=location_slug,
                    service_slugs=service_slugs,
                    first_day=first_day,
                    last_day=last_day,
                    now=now,
                )

        key = ("availability", location_slug, tuple(service_slugs), first_day, last_day)
        return await self._cache.get(key, compute)

    async def earliest_starts(
        self,
        conn: Connection | None,
        service_slugs: list[str],
        location_slugs: list[str] | None,
        now: datetime,
    ) -> list[search.EarliestStart]:
        async def compute() -> list[search.EarliestStart]:
            async with self._connection(conn) as db:
                return await search.earliest_starts(db, service_slugs, location_slugs, now)

        key = ("earliest", tuple(service_slugs), tuple(location_slugs or ()))
        return await self._cache.get(key, compute)


# Computed every time on the caller's connection: for a page that must show the database's
# state, such as the other free times right after the wanted one was taken.
UNCACHED = Searches(None, 0)
